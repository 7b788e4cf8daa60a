package marking_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"polyphony/assessment/marking"
	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
	"polyphony/internal/testclock"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const cohort = "cohort1"

var (
	admin    = marking.Actor{UserID: "admin1", Role: accounts.RoleAdmin}
	assessor = marking.Actor{UserID: "ass1", Role: accounts.RoleAssessor, CohortIDs: []string{cohort}}
	marker1  = marking.Actor{UserID: "m1", Role: accounts.RoleAssessor, CohortIDs: []string{cohort}}
	marker2  = marking.Actor{UserID: "m2", Role: accounts.RoleAssessor, CohortIDs: []string{cohort}}
	marker3  = marking.Actor{UserID: "m3", Role: accounts.RoleAssessor, CohortIDs: []string{cohort}}
	outsider = marking.Actor{UserID: "ass9", Role: accounts.RoleAssessor, CohortIDs: []string{"other"}}
)

func trainee(id string) marking.Actor {
	return marking.Actor{UserID: id, Role: accounts.RoleTrainee, CohortIDs: []string{cohort}}
}

// fixture is a store on a fresh database with a clock and the test's collaborators.
type fixture struct {
	s       *marking.Store
	clock   *testclock.Clock
	consent *memConsent
	// supervisors maps a supervisor to the trainees they supervise.
	supervisors map[string][]string
}

func newFixture(t *testing.T, opts ...func(*marking.Options)) *fixture {
	t.Helper()
	return newFixtureOn(t, dbtest.New(t), opts...)
}

func newFixtureOn(t *testing.T, db *database.DB, opts ...func(*marking.Options)) *fixture {
	t.Helper()
	f := &fixture{clock: testclock.New(t0), consent: newMemConsent(), supervisors: map[string][]string{}}
	o := marking.Options{
		Now:     f.clock.Now,
		Consent: f.consent,
		Supervises: func(_ context.Context, sup, tr string) (bool, error) {
			for _, x := range f.supervisors[sup] {
				if x == tr {
					return true, nil
				}
			}
			return false, nil
		},
	}
	for _, fn := range opts {
		fn(&o)
	}
	s, err := marking.NewStore(context.Background(), db, o)
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	return f
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got %v, want %v", what, err, target)
	}
}

// wantField fails unless err is a problem naming field.
func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	for _, p := range failure.Invalids(err) {
		if p.Field == field {
			return
		}
	}
	t.Fatalf("%s: got %v, want a problem with %q", what, err, field)
}
