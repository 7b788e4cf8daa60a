package courses_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

func TestCohortsAndMemberships(t *testing.T) {
	ctx := context.Background()
	store, err := courses.NewStore(ctx, dbtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	trust, err := store.CreateTrust(ctx, "  North  Moor NHS Foundation Trust ")
	if err != nil {
		t.Fatal(err)
	}
	if trust.Name != "North Moor NHS Foundation Trust" {
		t.Errorf("trust name %q: want white space folded", trust.Name)
	}
	if _, err := store.CreateTrust(ctx, "North Moor NHS Foundation Trust"); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("duplicate trust: %v, want ErrConflict", err)
	}
	start := time.Date(2027, 1, 11, 15, 0, 0, 0, time.UTC)
	c, err := store.CreateCohort(ctx, courses.NewCohort{Name: "Cohort 2027", StartDate: start, TrustIDs: []string{trust.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if !c.StartDate.Equal(time.Date(2027, 1, 11, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("start %v: want the date only", c.StartDate)
	}
	var inv *failure.InvalidError
	if _, err := store.CreateCohort(ctx, courses.NewCohort{Name: "X", StartDate: start, TrustIDs: []string{"nope"}}); !errors.As(err, &inv) || inv.Field != "trustIds" {
		t.Errorf("unknown trust: %v, want InvalidError on trustIds", err)
	}
	if _, err := store.CreateCohort(ctx, courses.NewCohort{Name: "Y"}); !errors.As(err, &inv) || inv.Field != "startDate" {
		t.Errorf("no start date: %v, want InvalidError on startDate", err)
	}
	if _, err := store.CreateCohort(ctx, courses.NewCohort{Name: "Cohort 2027", StartDate: start}); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("duplicate cohort: %v, want ErrConflict", err)
	}
	m1, err := store.Enrol(ctx, c.ID, "user-1", accounts.RoleTrainee)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := store.Enrol(ctx, c.ID, "user-1", accounts.RoleTrainee)
	if err != nil || m2.ID != m1.ID {
		t.Errorf("second enrolment: %v, %v; want the first membership back", m2.ID, err)
	}
	if _, err := store.Enrol(ctx, "no-cohort", "user-1", accounts.RoleTrainee); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("enrol in missing cohort: %v, want ErrNotFound", err)
	}
	members, _ := store.Members(ctx, c.ID)
	mine, _ := store.MembershipsOf(ctx, "user-1")
	if len(members) != 1 || len(mine) != 1 {
		t.Errorf("members %d, memberships %d; want 1 and 1", len(members), len(mine))
	}
}
