package courses_test

import (
	"context"
	"errors"
	"testing"

	"polyphony/courses"
	"polyphony/internal/failure"
)

// A marker reads the revision frozen when the entry was submitted, whatever was saved and
// submitted since; the trainee's access log says an assessor read it for marking, naming
// whom it is told to; nobody but an assessor of the cohort reads it this way.
func TestReadForMarking(t *testing.T) {
	w := newJournalWorld(t)
	ctx := context.Background()
	e := w.create(t, w.trainee, courses.Draft{Title: "For the piece", Body: "First, as submitted."})
	if _, err := w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceAssessors, true); err != nil {
		t.Fatal(err)
	}
	frozen := e.Version
	later := w.save(t, w.trainee, e, "Rewritten after submitting.")
	if _, err := w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceAssessors, false); err != nil {
		t.Fatal(err)
	}
	if _, err := w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceAssessors, true); err != nil {
		t.Fatal(err)
	}

	got, err := w.j.ReadForMarking(ctx, w.assessor, e.ID, frozen, courses.MarkingReader)
	if err != nil {
		t.Fatal(err)
	}
	if got.Body != "First, as submitted." || got.Version != frozen {
		t.Errorf("read for marking: version %d %q, want the frozen version %d", got.Version, got.Body, frozen)
	}
	if got, err := w.j.ReadForMarking(ctx, w.assessor, e.ID, later.Version, w.assessor.UserID); err != nil || got.Body != "Rewritten after submitting." {
		t.Errorf("the later submission: %q, %v", got.Body, err)
	}
	log, err := w.j.AccessLog(ctx, w.trainee)
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	for _, r := range log {
		if r.What == "entry, for marking" {
			asked = append(asked, r.ViewerID)
		}
	}
	if len(asked) != 2 || !(asked[0] == courses.MarkingReader || asked[1] == courses.MarkingReader) {
		t.Errorf("the access log names %v for the two reads, want the stand-in for one and the assessor for the other", asked)
	}
	for _, v := range []courses.Viewer{w.supervisor, w.farAssessor, w.admin, w.otherTrainee, w.trainee} {
		if _, err := w.j.ReadForMarking(ctx, v, e.ID, frozen, courses.MarkingReader); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("%s reading for marking: %v, want ErrNotFound", v.UserID, err)
		}
	}
}

// A marker finds a file the trainee submitted in the revision frozen for it, even after the
// trainee took it off the entry; the read is logged for marking; nobody else finds it.
func TestAttachmentForMarking(t *testing.T) {
	w := newJournalWorld(t)
	ctx := context.Background()
	e := w.create(t, w.trainee, courses.Draft{Title: "With a recording", Body: "Listen to the second half."})
	rec := courses.Attachment{Key: "journal/2026/recording-1", Kind: courses.MediaAudio, ContentType: "audio/ogg", Size: 1200, Name: "Ada at the network meeting.ogg"}
	e, err := w.j.AddAttachment(ctx, w.trainee, e.ID, rec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceAssessors, true); err != nil {
		t.Fatal(err)
	}
	frozen := e.Version
	if _, err := w.j.RemoveAttachment(ctx, w.trainee, e.ID, rec.Key); err != nil {
		t.Fatal(err)
	}

	got, err := w.j.AttachmentForMarking(ctx, w.assessor, e.ID, frozen, rec.Key, courses.MarkingReader)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != rec.Name || got.Size != rec.Size {
		t.Errorf("the submitted file: %+v", got)
	}
	if _, err := w.j.AttachmentForMarking(ctx, w.assessor, e.ID, frozen-1, rec.Key, courses.MarkingReader); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("a revision without the file: %v, want ErrNotFound", err)
	}
	if _, err := w.j.AttachmentForMarking(ctx, w.assessor, e.ID, frozen, "journal/2026/other", courses.MarkingReader); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("a key the entry never held: %v, want ErrNotFound", err)
	}
	for _, v := range []courses.Viewer{w.supervisor, w.farAssessor, w.admin, w.otherTrainee, w.trainee} {
		if _, err := w.j.AttachmentForMarking(ctx, v, e.ID, frozen, rec.Key, courses.MarkingReader); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("%s finding the file for marking: %v, want ErrNotFound", v.UserID, err)
		}
	}
	log, err := w.j.AccessLog(ctx, w.trainee)
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	for _, r := range log {
		if r.ViewerID == courses.MarkingReader {
			logged = append(logged, r.What)
		}
	}
	if len(logged) != 1 || logged[0] != "attachment "+rec.Name+", for marking" {
		t.Errorf("the access log says %q of the marker, want the one read of the file", logged)
	}
	// Once the trainee stops sharing the entry with the assessors, the file is gone for them too.
	if _, err := w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceAssessors, false); err != nil {
		t.Fatal(err)
	}
	if _, err := w.j.AttachmentForMarking(ctx, w.assessor, e.ID, frozen, rec.Key, courses.MarkingReader); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("after the share ended: %v, want ErrNotFound", err)
	}
}
