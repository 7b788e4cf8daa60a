package award_test

import (
	"context"
	"testing"
	"time"

	"polyphony/courses/award"
	"polyphony/internal/dbtest"
)

// TestAwardRequestsReadByIDOnly runs every request of the award store (issuing, again and
// by another board, the settings, the shown name before and after, a person's awards,
// verifying a valid, an unknown and a malformed code with the throttle counting, revoking)
// and checks that each read, update and delete it sends is by _id alone: on embedded
// FerretDB any other filter reads every document of the collection, so a verification would
// slow down with every award ever made.
func TestAwardRequestsReadByIDOnly(t *testing.T) {
	ctx := context.Background()
	log := dbtest.NewFilterLog("award", "login_failures")
	db := dbtest.NewLogged(t, log)
	s, err := award.NewStore(ctx, db, award.Options{VerifyLimit: 3, VerifyWindow: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	log.Record(true)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, _, err = s.SetSettings(ctx, award.DefaultTitle, []string{"NHS England"}, "admin-1")
	must("settings", err)
	_, err = s.Settings(ctx)
	must("read settings", err)
	must("name before", s.SetShownName(ctx, "u1", "Zoë"))
	a, err := s.Issue(ctx, decision("u1", "board-1"))
	must("issue", err)
	_, err = s.Issue(ctx, decision("u1", "board-1"))
	must("issue again", err)
	_, err = s.Issue(ctx, decision("u1", "board-2"))
	must("issue by another board", err)
	must("name after", s.SetShownName(ctx, "u1", "Zoë Smith"))
	_, err = s.ShownName(ctx, "u1")
	must("shown name", err)
	_, err = s.ForUser(ctx, "u1")
	must("for user", err)
	_, err = s.ForUser(ctx, "nobody")
	must("for nobody", err)
	_, err = s.HasAward(ctx, "u1")
	must("has award", err)
	_, err = s.ByID(ctx, a.ID)
	must("by id", err)
	_, err = s.Verify(ctx, a.Code, "192.0.2.1")
	must("verify", err)
	unknown, _ := award.NewCode()
	s.Verify(ctx, unknown, "192.0.2.1")
	s.Verify(ctx, "malformed", "192.0.2.1")
	s.Verify(ctx, a.Code, "192.0.2.1") // throttled
	_, err = s.Revoke(ctx, a.ID, "Awarded in error", "admin-1")
	must("revoke", err)
	s.Revoke(ctx, a.ID, "Again", "admin-1")
	log.Check(t, "an award request")
}
