package courses_test

import (
	"context"
	"errors"
	"testing"

	"polyphony/courses"
	"polyphony/internal/failure"
)

func TestSharingRevokeStopsReadsAtOnce(t *testing.T) {
	inBothModes(t, testSharingRevokeStopsReadsAtOnce)
}

func testSharingRevokeStopsReadsAtOnce(t *testing.T, w *journalWorld) {
	ctx := context.Background()
	e := w.create(t, w.trainee, courses.Draft{Title: "For supervision", Body: "the meeting on Tuesday"})

	if _, err := w.j.ReadEntry(ctx, w.supervisor, e.ID); !errors.Is(err, failure.ErrNotFound) {
		t.Fatalf("supervisor reading a private entry: %v, want ErrNotFound", err)
	}
	s, err := w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceSupervisor, true)
	if err != nil || !s.Supervisor || s.Assessors {
		t.Fatalf("share with supervisor: %+v, %v", s, err)
	}
	view, err := w.j.ReadEntry(ctx, w.supervisor, e.ID)
	if err != nil || view.As != courses.AccessSupervisor || view.Body != e.Body || view.Sharing != nil {
		t.Fatalf("supervisor reading a shared entry: %+v, %v", view, err)
	}
	later := w.save(t, w.trainee, e, "the meeting on Tuesday, and after")
	if view, _ := w.j.ReadEntry(ctx, w.supervisor, e.ID); view.Version != later.Version {
		t.Errorf("supervisor reads version %d, want the latest %d while shared", view.Version, later.Version)
	}
	if _, err := w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceSupervisor, false); err != nil {
		t.Fatal(err)
	}
	for _, read := range []func() error{
		func() error { _, err := w.j.ReadEntry(ctx, w.supervisor, e.ID); return err },
		func() error { _, err := w.j.Comments(ctx, w.supervisor, e.ID); return err },
		func() error {
			list, err := w.j.Entries(ctx, w.supervisor, w.trainee.UserID)
			if err == nil && len(list) > 0 {
				return errors.New("listed")
			}
			return failure.ErrNotFound
		},
	} {
		if err := read(); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("a read after the share was revoked: %v, want ErrNotFound", err)
		}
	}
	log, err := w.j.AccessLog(ctx, w.trainee)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 {
		t.Fatalf("access log has %d records, want the supervisor's 2 reads: %+v", len(log), log)
	}
	for _, r := range log {
		if r.ViewerID != w.supervisor.UserID || r.As != courses.AccessSupervisor || r.EntryID != e.ID || r.What != "entry" {
			t.Errorf("access record %+v, want the supervisor reading entry %s", r, e.ID)
		}
	}
	if log[0].Version != later.Version || log[1].Version != e.Version {
		t.Errorf("logged versions %d then %d, want %d (newest first) then %d", log[0].Version, log[1].Version, later.Version, e.Version)
	}
	if other, _ := w.j.AccessLog(ctx, w.supervisor); len(other) != 0 {
		t.Errorf("the supervisor's own access log lists %d records of someone else's entry", len(other))
	}
}

func TestSharingSubmissionFreezesTheRevision(t *testing.T) {
	inBothModes(t, testSharingSubmissionFreezesTheRevision)
}

func testSharingSubmissionFreezesTheRevision(t *testing.T, w *journalWorld) {
	ctx := context.Background()
	e := w.create(t, w.trainee, courses.Draft{Title: "Case study", Body: "as submitted"})
	s, err := w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceAssessors, true)
	if err != nil || !s.Assessors || s.SubmittedVersion != 1 || s.SubmittedAt.IsZero() {
		t.Fatalf("submit: %+v, %v; want version 1 submitted", s, err)
	}
	if again, err := w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceAssessors, true); err != nil || again != s {
		t.Errorf("submitting again: %+v, %v; want the first submission unchanged", again, err)
	}
	edited := w.save(t, w.trainee, e, "rewritten after submitting")
	if _, err := w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceSupervisor, true); err != nil {
		t.Fatal(err)
	}
	view, err := w.j.ReadEntry(ctx, w.assessor, e.ID)
	if err != nil || view.Version != 1 || view.Body != "as submitted" || view.As != courses.AccessAssessor {
		t.Errorf("assessor reads version %d %q (%v), want the submitted version 1", view.Version, view.Body, err)
	}
	if view, _ := w.j.ReadEntry(ctx, w.supervisor, e.ID); view.Version != edited.Version {
		t.Errorf("supervisor reads version %d, want the latest %d", view.Version, edited.Version)
	}
	if list, _ := w.j.Entries(ctx, w.assessor, w.trainee.UserID); len(list) != 1 || list[0].Version != 1 || list[0].Sharing != nil {
		t.Errorf("assessor's list: %+v, want the submitted version 1 and no sharing details", list)
	}
	if _, err := w.j.ReadEntry(ctx, w.farAssessor, e.ID); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("assessor of another cohort: %v, want ErrNotFound", err)
	}
	if _, err := w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceAssessors, false); err != nil {
		t.Fatal(err)
	}
	if _, err := w.j.ReadEntry(ctx, w.assessor, e.ID); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("assessor after the submission was withdrawn: %v, want ErrNotFound", err)
	}
	s, err = w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceAssessors, true)
	if err != nil || s.SubmittedVersion != edited.Version {
		t.Errorf("submitting again after withdrawing: %+v, %v; want version %d", s, err, edited.Version)
	}
	if _, err := w.j.SetSharing(ctx, w.supervisor, e.ID, courses.AudienceSupervisor, false); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("supervisor changing the sharing: %v, want ErrNotFound", err)
	}
	if _, err := w.j.SetSharing(ctx, w.trainee, e.ID, "everyone", true); err == nil {
		t.Error("an unknown audience was accepted")
	}
}

// Two instances on one database, as behind a load balancer: a share revoked through one
// stops reads through the other on the next request.
func TestSharingRevokeSeenByAnotherInstance(t *testing.T) {
	ctx := context.Background()
	w := newJournalWorld(t)
	other, err := courses.NewJournals(ctx, w.db, w.store, courses.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := w.create(t, w.trainee, courses.Draft{Title: "Across instances", Body: "text"})
	if _, err := w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceSupervisor, true); err != nil {
		t.Fatal(err)
	}
	if _, err := other.ReadEntry(ctx, w.supervisor, e.ID); err != nil {
		t.Fatalf("read through the other instance while shared: %v", err)
	}
	later := w.save(t, w.trainee, e, "saved through the first instance")
	if view, err := other.ReadEntry(ctx, w.supervisor, e.ID); err != nil || view.Version != later.Version {
		t.Errorf("the other instance reads version %d (%v), want the latest %d", view.Version, err, later.Version)
	}
	if _, err := w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceSupervisor, false); err != nil {
		t.Fatal(err)
	}
	if _, err := other.ReadEntry(ctx, w.supervisor, e.ID); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("read through the other instance after revoking: %v, want ErrNotFound", err)
	}
	// A save through the other instance, based on what it has seen, clashes correctly.
	if _, err := other.Save(ctx, w.trainee, e.ID, courses.Draft{Title: "stale"}, e.Version, newKey()); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("stale save through the other instance: %v, want a conflict", err)
	}
}
