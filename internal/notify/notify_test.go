package notify

import (
	"context"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/dbtest"
	"polyphony/internal/mail"
	"polyphony/internal/testclock"
)

// The record of an email keeps its event from being told again until the sweep removes it,
// 30 days on; those of assessments opening are kept.
func TestSweepRemovesOldRecords(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	clock := testclock.New(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	q, err := mail.New(ctx, db, mail.Config{PublicURL: "https://polyphony.example", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	users, err := accounts.NewUsers(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	store, err := courses.NewStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	journals, err := courses.NewJournals(ctx, db, store, courses.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(ctx, db, q, users, store, nil, Config{PublicURL: "https://polyphony.example", Now: clock.Now, Audience: journals.AudienceOf})
	if err != nil {
		t.Fatal(err)
	}
	author, err := users.Create(ctx, accounts.NewUser{Email: "tara@trust.example", Name: "Tara", Role: accounts.RoleTrainee, Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := users.Create(ctx, accounts.NewUser{Email: "sam@trust.example", Name: "Sam", Role: accounts.RoleSupervisor, Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	c := courses.Comment{ID: "je1/c/1", EntryID: "je1", OwnerID: author.ID, AuthorID: other.ID}
	opening := mail.Message{Kind: mail.KindAssessmentOpen, Link: "https://polyphony.example/assessments/a1", Values: mail.Values{Assessment: "Module 1"}}
	tell := func() (comment, assessment bool) {
		t.Helper()
		before, err := n.sent.Count(ctx, map[string]any{})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Comment(ctx, c); err != nil {
			t.Fatal(err)
		}
		mid, _ := n.sent.Count(ctx, map[string]any{})
		ok, err := n.once(ctx, "a1/open", author.ID, opening)
		if err != nil {
			t.Fatal(err)
		}
		return mid > before, ok
	}
	if comment, opened := tell(); !comment || !opened {
		t.Fatalf("first time: comment told %v, opening told %v; want both", comment, opened)
	}
	if comment, opened := tell(); comment || opened {
		t.Errorf("again: comment told %v, opening told %v; want neither", comment, opened)
	}
	clock.Advance(29 * 24 * time.Hour)
	if k, err := n.Sweep(ctx, clock.Now()); err != nil || k != 0 {
		t.Errorf("sweep after 29 days: %d removed, %v; want none", k, err)
	}
	clock.Advance(2 * 24 * time.Hour)
	if k, err := n.Sweep(ctx, clock.Now()); err != nil || k != 1 {
		t.Errorf("sweep after 31 days: %d removed, %v; want the comment's record", k, err)
	}
	if comment, opened := tell(); !comment || opened {
		t.Errorf("after the sweep: comment told %v, opening told %v; want the comment only", comment, opened)
	}
}

// A released result is told to its trainee once, whoever releases it again, and only to the
// trainees named.
func TestMarksReleasedToldOnce(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	q, err := mail.New(ctx, db, mail.Config{PublicURL: "https://polyphony.example"})
	if err != nil {
		t.Fatal(err)
	}
	users, err := accounts.NewUsers(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	store, err := courses.NewStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	journals, err := courses.NewJournals(ctx, db, store, courses.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(ctx, db, q, users, store, nil, Config{PublicURL: "https://polyphony.example", Audience: journals.AudienceOf})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, email := range []string{"tara@trust.example", "theo@trust.example"} {
		u, err := users.Create(ctx, accounts.NewUser{Email: email, Name: email, Role: accounts.RoleTrainee, Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	if k, err := n.MarksReleased(ctx, "p1", "Reflective account", "/assessed/p1", ids[:1]); err != nil || k != 1 {
		t.Fatalf("first release: %d emails, %v; want 1", k, err)
	}
	if k, err := n.MarksReleased(ctx, "p1", "Reflective account", "/assessed/p1", ids); err != nil || k != 1 {
		t.Errorf("releasing the rest: %d emails, %v; want 1, to the trainee not told yet", k, err)
	}
	if k, err := n.MarksReleased(ctx, "p2", "Key elements", "/assessed/p2", ids[:1]); err != nil || k != 1 {
		t.Errorf("another piece: %d emails, %v; want 1", k, err)
	}
}
