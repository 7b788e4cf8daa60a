package courses_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// Two administrators enrolling one person as a trainee of two cohorts at the same moment:
// exactly one of them succeeds, and the person ends up a trainee of one cohort. Without the
// seat both read a list naming neither cohort and both succeeded.
func TestTraineeEnrolledIntoTwoCohortsAtOnceJoinsOne(t *testing.T) {
	w := newStaffWorld(t)
	ctx := context.Background()
	for i := range 12 {
		user := fmt.Sprintf("racer-%d", i)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for k, c := range []string{w.a.ID, w.b.ID} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[k] = w.s.Enrol(ctx, c, user, accounts.RoleTrainee)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case len(failure.Invalids(err)) == 0 && !errors.Is(err, failure.ErrConflict):
				t.Fatalf("%s: %v", user, err)
			}
		}
		ms, err := w.s.MembershipsOf(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		if ok != 1 || len(ms) != 1 {
			t.Errorf("%s: %d enrolments succeeded and %d memberships stored (%v, %v); want one of each", user, ok, len(ms), errs, ms)
		}
	}
}

// The seat is given back when the person stops being the cohort's trainee, by removal or by
// a change of role, so that they can then be enrolled elsewhere; and enrolling again where
// they already are changes nothing.
func TestTraineeSeatIsGivenBack(t *testing.T) {
	w := newStaffWorld(t)
	ctx := context.Background()
	w.enrol(t, w.a, "tess", accounts.RoleTrainee)
	w.enrol(t, w.a, "tess", accounts.RoleTrainee)
	if _, err := w.s.Enrol(ctx, w.b.ID, "tess", accounts.RoleTrainee); len(failure.Invalids(err)) == 0 {
		t.Fatalf("enrolling a trainee of Cohort A into Cohort B: %v, want a refusal", err)
	}
	if _, err := w.s.RemoveMember(ctx, w.a.ID, "tess"); err != nil {
		t.Fatal(err)
	}
	w.enrol(t, w.b, "tess", accounts.RoleTrainee)
	if _, err := w.s.Enrol(ctx, w.a.ID, "tess", accounts.RoleTrainee); len(failure.Invalids(err)) == 0 {
		t.Fatalf("enrolling a trainee of Cohort B back into Cohort A: %v, want a refusal", err)
	}

	w.enrol(t, w.a, "sam", accounts.RoleSupervisor)
	if _, err := w.s.Enrol(ctx, w.b.ID, "sam", accounts.RoleTrainee); err != nil {
		t.Fatalf("a supervisor of Cohort A enrolled as a trainee of Cohort B: %v", err)
	}
	if _, _, err := w.s.ChangeMember(ctx, w.b.ID, "sam", courses.MemberChange{Role: accounts.RoleSupervisor}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.s.ChangeMember(ctx, w.a.ID, "sam", courses.MemberChange{Role: accounts.RoleTrainee}); err != nil {
		t.Fatalf("once no longer Cohort B's trainee, becoming Cohort A's: %v", err)
	}
	if _, err := w.s.Enrol(ctx, w.b.ID, "sam", accounts.RoleTrainee); len(failure.Invalids(err)) == 0 {
		t.Fatalf("enrolling Cohort A's new trainee into Cohort B: %v, want a refusal", err)
	}
}
