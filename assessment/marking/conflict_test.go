package marking_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"polyphony/assessment/marking"
	"polyphony/internal/failure"
)

// wantSupervisorRefused fails unless err refuses the marker because they supervise the
// trainee, in words that say so.
func wantSupervisorRefused(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, failure.ErrForbidden) || !strings.Contains(err.Error(), "you supervise this trainee") {
		t.Fatalf("%s: got %v, want a refusal because the marker supervises the trainee", what, err)
	}
}

// A marker who becomes the trainee's supervisor after allocation can neither read the work
// as its marker, nor save, nor submit their marking, for as long as they supervise; the
// other marker goes on, and once the supervision ends the marker may go on too.
func TestMarkerWhoNowSupervisesIsRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeDoubleBlind)
	sub := submitted(t, f, p, "t1", "m1", "m2")
	m, err := f.s.SaveDraft(ctx, marker1, sub.ID, 0, levels("pass", "pass"))
	must(t, "first draft", err)

	f.supervisors["m1"] = []string{"t1"}
	_, err = f.s.MarkerView(ctx, marker1, sub.ID)
	wantSupervisorRefused(t, "marker's view", err)
	_, err = f.s.SaveDraft(ctx, marker1, sub.ID, m.Version, levels("merit", "pass"))
	wantSupervisorRefused(t, "save", err)
	_, err = f.s.SubmitMark(ctx, marker1, sub.ID, m.Version)
	wantSupervisorRefused(t, "submit", err)
	stored, err := f.s.ReadMark(ctx, marker1, sub.ID, "m1")
	must(t, "read the draft", err)
	if stored.Version != m.Version || stored.Submitted {
		t.Errorf("the refused saves changed the draft: %+v", stored)
	}

	// The other marker is not concerned.
	if _, err := f.s.MarkerView(ctx, marker2, sub.ID); err != nil {
		t.Errorf("the other marker's view: %v", err)
	}
	mark(t, f, marker2, sub.ID, "pass", "pass")

	// Once they no longer supervise the trainee, the marker finishes their marking.
	delete(f.supervisors, "m1")
	if _, err := f.s.MarkerView(ctx, marker1, sub.ID); err != nil {
		t.Errorf("the marker's view once the supervision ended: %v", err)
	}
	m, err = f.s.SaveDraft(ctx, marker1, sub.ID, m.Version, levels("merit", "pass"))
	must(t, "save once the supervision ended", err)
	_, err = f.s.SubmitMark(ctx, marker1, sub.ID, m.Version)
	must(t, "submit once the supervision ended", err)
}

// A supervisor assigned before a marker's first save stops the marking starting: the
// trainee may still withdraw the submission.
func TestSupervisorRefusedBeforeMarkingStarts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeSingle)
	sub := submitted(t, f, p, "t1", "m1")
	f.supervisors["m1"] = []string{"t1"}
	_, err := f.s.SaveDraft(ctx, marker1, sub.ID, 0, levels("pass", "pass"))
	wantSupervisorRefused(t, "first save", err)
	if _, err := f.s.ReadMark(ctx, marker1, sub.ID, "m1"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("a refused first save left a mark: %v", err)
	}
	v, err := f.s.MarkerView(ctx, assessor, sub.ID)
	must(t, "a moderator's view", err)
	if v.State != marking.Submitted {
		t.Errorf("after the refused save the state is %s, want %s", v.State, marking.Submitted)
	}
}
