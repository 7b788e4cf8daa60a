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
