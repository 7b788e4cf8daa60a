package marking_test

import (
	"context"
	"testing"
	"time"

	"polyphony/assessment/marking"
	"polyphony/internal/failure"
)

// setup stores the small rubric and returns a piece's input marked with it.
func setup(t *testing.T, f *fixture, scheme string) marking.PieceInput {
	t.Helper()
	r, err := f.s.SaveRubric(context.Background(), assessor, smallRubric())
	must(t, "rubric", err)
	return marking.PieceInput{
		Title: "Reflective account", Guidance: "Write *about* a meeting.", Due: t0.Add(7 * 24 * time.Hour),
		Accepts: marking.Accepts{Entries: true, Files: true, Transcript: true}, RubricID: r.ID,
		Scheme: scheme, Tolerance: 1, SamplePercent: 10, Borderline: 1,
	}
}

func TestPieceValidation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	good := setup(t, f, marking.SchemeSingle)
	cases := []struct {
		name  string
		edit  func(in *marking.PieceInput)
		field string
	}{
		{"no title", func(in *marking.PieceInput) { in.Title = "  " }, "title"},
		{"no due date", func(in *marking.PieceInput) { in.Due = time.Time{} }, "due"},
		{"accepts nothing", func(in *marking.PieceInput) { in.Accepts = marking.Accepts{} }, "accepts"},
		{"unknown scheme", func(in *marking.PieceInput) { in.Scheme = "triple" }, "scheme"},
		{"negative tolerance", func(in *marking.PieceInput) { in.Tolerance = -1 }, "tolerance"},
		{"tolerance above the maximum", func(in *marking.PieceInput) { in.Tolerance = 7 }, "tolerance"},
		{"unknown agreement rule", func(in *marking.PieceInput) { in.Agreed = "median" }, "agreed"},
		{"sample over 100", func(in *marking.PieceInput) { in.SamplePercent = 101 }, "samplePercent"},
		{"negative borderline", func(in *marking.PieceInput) { in.Borderline = -2 }, "borderline"},
		{"no rubric", func(in *marking.PieceInput) { in.RubricID = "" }, "rubricId"},
		{"missing rubric", func(in *marking.PieceInput) { in.RubricID = "nope" }, "rubricId"},
		{"missing rubric version", func(in *marking.PieceInput) { in.RubricVersion = 9 }, "rubricId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := good
			c.edit(&in)
			_, err := f.s.CreatePiece(ctx, assessor, cohort, in)
			wantField(t, c.name, err, c.field)
		})
	}
}

func TestPieceCreateEditList(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	in := setup(t, f, marking.SchemeDoubleBlind)
	p, err := f.s.CreatePiece(ctx, assessor, cohort, in)
	must(t, "create", err)
	if p.RubricVersion != 1 || p.Agreed != marking.AgreedMean || p.Version != 1 || p.CreatedBy != assessor.UserID {
		t.Errorf("created %+v", p)
	}
	_, err = f.s.CreatePiece(ctx, outsider, cohort, in)
	wantErr(t, "assessor of another cohort", err, failure.ErrNotFound)
	_, err = f.s.CreatePiece(ctx, trainee("t1"), cohort, in)
	wantErr(t, "trainee", err, failure.ErrNotFound)

	in.Title = "Reflective account (revised)"
	p2, err := f.s.EditPiece(ctx, admin, p.ID, 1, in)
	must(t, "edit", err)
	if p2.Version != 2 {
		t.Errorf("version %d after an edit, want 2", p2.Version)
	}
	_, err = f.s.EditPiece(ctx, assessor, p.ID, 1, in)
	wantErr(t, "edit on a stale version", err, failure.ErrConflict)
	got, err := f.s.Piece(ctx, trainee("t1"), p.ID)
	must(t, "trainee reads the piece", err)
	if got.Title != in.Title || got.Version != 2 {
		t.Errorf("read %q version %d", got.Title, got.Version)
	}
	_, err = f.s.Piece(ctx, marking.Actor{UserID: "t9", Role: "trainee", CohortIDs: []string{"other"}}, p.ID)
	wantErr(t, "trainee of another cohort", err, failure.ErrNotFound)
	sub := submitted(t, f, p2, "t1", "m1", "m2")
	_, err = f.s.SaveDraft(ctx, marker1, sub.ID, 0, levels("pass", ""))
	must(t, "draft", err)
	changed := in
	changed.Scheme = marking.SchemeSingle
	_, err = f.s.EditPiece(ctx, admin, p.ID, 2, changed)
	wantField(t, "change the scheme once marking started", err, "scheme")
	changed = in
	changed.Anonymous = true
	_, err = f.s.EditPiece(ctx, admin, p.ID, 2, changed)
	wantField(t, "make anonymous once marking started", err, "anonymous")
	in.Guidance = "Clearer guidance"
	_, err = f.s.EditPiece(ctx, admin, p.ID, 2, in)
	must(t, "change the guidance once marking started", err)
	list, err := f.s.Pieces(ctx, assessor, cohort)
	must(t, "pieces", err)
	if len(list) != 1 || list[0].ID != p.ID {
		t.Errorf("listed %v", list)
	}
}

func TestUKTime(t *testing.T) {
	summer, err := marking.UKTime("2026-07-01", "17:00")
	must(t, "summer", err)
	if want := time.Date(2026, 7, 1, 16, 0, 0, 0, time.UTC); !summer.Equal(want) || summer.Location() != time.UTC {
		t.Errorf("17:00 BST is %v, want %v in UTC", summer, want)
	}
	winter, err := marking.UKTime("2026-01-15", "17:00")
	must(t, "winter", err)
	if want := time.Date(2026, 1, 15, 17, 0, 0, 0, time.UTC); !winter.Equal(want) {
		t.Errorf("17:00 GMT is %v, want %v", winter, want)
	}
	_, err = marking.UKTime("15/01/2026", "5pm")
	wantField(t, "bad date", err, "due")
	if got := marking.InUK(summer).Hour(); got != 17 {
		t.Errorf("shown in UK at %d o'clock, want 17", got)
	}
}
