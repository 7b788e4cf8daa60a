package courses_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/courses"
	"polyphony/internal/failure"
)

type awards map[string]bool

func (a awards) HasAward(_ context.Context, userID string) (bool, error) { return a[userID], nil }

// holders lists the collections with a document that contains s, with their counts.
func holders(t testing.TB, w *journalWorld, s string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, block := range strings.Split(snapshot(t, w.db), "== ")[1:] {
		name, docs, _ := strings.Cut(block, "\n")
		name, _, _ = strings.Cut(name, " ")
		if n := strings.Count(docs, s); n > 0 {
			out[name] = n
		}
	}
	return out
}

func TestEraseLeavesNothingPersonal(t *testing.T) {
	ctx := context.Background()
	w := newJournalWorld(t)

	// Everything the trainee can hold.
	e := w.create(t, w.trainee, courses.Draft{Title: "Tara's private thoughts", Body: "tara-secret-text"})
	e = w.save(t, w.trainee, e, "tara-secret-text, revised")
	for _, key := range []string{"journal/tara/a.jpg", "journal/tara/b.jpg"} {
		if _, err := w.j.AddAttachment(ctx, w.trainee, e.ID, courses.Attachment{Key: key, Kind: courses.MediaImage, ContentType: "image/jpeg", Size: 4, Name: "photo.jpg"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []courses.Audience{courses.AudienceSupervisor, courses.AudienceAssessors} {
		if _, err := w.j.SetSharing(ctx, w.trainee, e.ID, a, true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.j.ReadEntry(ctx, w.supervisor, e.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		v courses.Viewer
		a courses.Audience
	}{{w.supervisor, ""}, {w.trainee, courses.AudienceSupervisor}, {w.assessor, ""}} {
		if _, err := w.j.AddComment(ctx, c.v, e.ID, courses.NewComment{Audience: c.a, Body: "comment-about-tara", Key: newKey()}); err != nil {
			t.Fatal(err)
		}
	}
	session, err := w.j.LogSupervision(ctx, w.trainee, courses.NewSupervision{Date: time.Now(), Minutes: 60, SupervisorID: w.supervisor.UserID, Kind: courses.SupervisionIndividual, Reflection: "tara-reflection", Key: newKey()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.j.ConfirmSupervision(ctx, w.supervisor, session.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.j.LogPractice(ctx, w.trainee, courses.NewPractice{Date: time.Now(), Minutes: 10, Kind: courses.PracticeSitting, Key: newKey()}); err != nil {
		t.Fatal(err)
	}
	if err := w.j.SetPracticeVisibility(ctx, w.trainee, courses.PracticeTotalsOnly); err != nil {
		t.Fatal(err)
	}
	if _, err := w.j.PracticeSummary(ctx, w.supervisor, w.trainee.UserID, time.Now().AddDate(0, 0, -1), time.Now()); err != nil {
		t.Fatal(err)
	}

	// Another trainee's records, which must survive, with a supervisor's comment.
	other := w.create(t, w.otherTrainee, courses.Draft{Title: "Pat's", Body: "pat-text"})
	if _, err := w.j.AddAttachment(ctx, w.otherTrainee, other.ID, courses.Attachment{Key: "journal/pat/c.jpg", Kind: courses.MediaImage, ContentType: "image/jpeg", Size: 4, Name: "c.jpg"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.j.SetSharing(ctx, w.otherTrainee, other.ID, courses.AudienceSupervisor, true); err != nil {
		t.Fatal(err)
	}
	for _, v := range []courses.Viewer{w.supervisor, w.otherTrainee} {
		if _, err := w.j.AddComment(ctx, v, other.ID, courses.NewComment{Audience: courses.AudienceSupervisor, Body: "comment-for-pat", Key: newKey()}); err != nil {
			t.Fatal(err)
		}
	}

	if h := holders(t, w, w.trainee.UserID); h["journal_revisions"] == 0 || h["journal_access"] == 0 || h["practice_sessions"] == 0 {
		t.Fatalf("before erasure the trainee's id is held by %v; the check below could not fail", h)
	}
	before := snapshot(t, w.db)
	for _, v := range []courses.Viewer{w.trainee, w.supervisor, w.facilitator, w.anonymous} {
		if _, err := w.j.Erase(ctx, v, w.trainee.UserID, nil); !errors.Is(err, failure.ErrForbidden) {
			t.Errorf("erasure by %q: %v, want ErrForbidden", v.UserID, err)
		}
	}
	if snapshot(t, w.db) != before {
		t.Fatal("a refused erasure changed what is stored")
	}

	report, err := w.j.Erase(ctx, w.admin, w.trainee.UserID, awards{w.trainee.UserID: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(report.MediaKeys, []string{"journal/tara/a.jpg", "journal/tara/b.jpg"}) || !report.AwardKept {
		t.Errorf("report: media %v, award kept %v; want Tara's two objects and the award kept", report.MediaKeys, report.AwardKept)
	}
	for _, s := range []string{w.trainee.UserID, e.ID, "tara-secret-text", "comment-about-tara", "tara-reflection", session.ID} {
		for coll, n := range holders(t, w, s) {
			// The cohort's roll and its lists by person and by cohort, which the account's
			// own erasure removes.
			if coll != "memberships" && coll != "course_lists" {
				t.Errorf("after erasure, %d documents in %s still hold %q", n, coll, s)
			}
		}
	}
	if _, err := w.j.ReadEntry(ctx, w.trainee, e.ID); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("reading an erased entry: %v, want ErrNotFound", err)
	}
	if list, err := w.j.Entries(ctx, w.trainee, w.trainee.UserID); err != nil || len(list) != 0 {
		t.Errorf("listing after erasure: %d entries, %v", len(list), err)
	}
	if log, _ := w.j.AccessLog(ctx, w.trainee); len(log) != 0 {
		t.Errorf("access log after erasure: %d records", len(log))
	}

	// Pat's entry, comments and media are untouched.
	if got, err := w.j.ReadEntry(ctx, w.otherTrainee, other.ID); err != nil || got.Body != "pat-text" || len(got.Attachments) != 1 {
		t.Errorf("the other trainee's entry after erasure: %+v, %v", got, err)
	}
	if cs, _ := w.j.Comments(ctx, w.otherTrainee, other.ID); len(cs) != 2 {
		t.Errorf("the other trainee's thread has %d comments, want 2", len(cs))
	}
	if keys, _ := w.j.MediaKeys(ctx); !slices.Equal(keys, []string{"journal/pat/c.jpg"}) {
		t.Errorf("media keys still referred to: %v, want Pat's only", keys)
	}

	// Erasing the supervisor removes the comments they wrote on Pat's entry, and only those.
	if _, err := w.j.Erase(ctx, w.admin, w.supervisor.UserID, nil); err != nil {
		t.Fatal(err)
	}
	cs, err := w.j.Comments(ctx, w.otherTrainee, other.ID)
	if err != nil || len(cs) != 1 || cs[0].AuthorID != w.otherTrainee.UserID {
		t.Errorf("Pat's thread after the supervisor's erasure: %+v, %v; want Pat's own comment only", cs, err)
	}
	n, _ := w.db.Collection("journal_comments").Count(ctx, bson.M{"authorId": w.supervisor.UserID})
	if n != 0 {
		t.Errorf("%d comments by the erased supervisor remain", n)
	}
}
