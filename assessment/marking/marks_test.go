package marking_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"polyphony/assessment/marking"
	"polyphony/internal/failure"
)

func levels(a, b string) marking.MarkInput {
	return marking.MarkInput{Levels: []marking.CriterionMark{{CriterionID: "a", LevelID: a, Comment: "On a: " + a}, {CriterionID: "b", LevelID: b}},
		Feedback: "Feedback " + a + b, PrivateNote: "Note " + a + b}
}

// mark saves and submits a marker's levels.
func mark(t *testing.T, f *fixture, who marking.Actor, ref, a, b string) marking.Mark {
	t.Helper()
	ctx := context.Background()
	base := 0
	if m, err := f.s.ReadMark(ctx, who, ref, who.UserID); err == nil {
		base = m.Version
	}
	m, err := f.s.SaveDraft(ctx, who, ref, base, levels(a, b))
	must(t, "draft by "+who.UserID, err)
	m, err = f.s.SubmitMark(ctx, who, ref, m.Version)
	must(t, "submit by "+who.UserID, err)
	return m
}

// submitted makes a trainee's submission of the piece allocated to the markers.
func submitted(t *testing.T, f *fixture, p marking.Piece, traineeID string, markers ...string) marking.Submission {
	t.Helper()
	ctx := context.Background()
	sub, err := f.s.Submit(ctx, trainee(traineeID), p.ID, entry("e-"+traineeID))
	must(t, "submit", err)
	sub, err = f.s.Allocate(ctx, assessor, sub.ID, markers)
	must(t, "allocate", err)
	return sub
}

func TestResult(t *testing.T) {
	r := smallRubric()
	cases := []struct {
		rule, a, b string
		total      int
		outcome    string
	}{
		{marking.RuleSum, "pass", "pass", 4, marking.OutcomePass},
		{marking.RuleSum, "merit", "refer", 3, marking.OutcomeRefer},
		{marking.RuleSum, "merit", "merit", 6, marking.OutcomePass},
		{marking.RuleAllPass, "merit", "refer", 3, marking.OutcomeRefer},
		{marking.RuleAllPass, "pass", "pass", 4, marking.OutcomePass},
		{marking.RuleAllPass, "pass", "", 2, marking.OutcomeRefer},
	}
	for _, c := range cases {
		r.Rule = c.rule
		got := marking.Result(r, marking.Mark{MarkInput: levels(c.a, c.b)})
		if got.Total != c.total || got.Outcome != c.outcome {
			t.Errorf("%s %s/%s: got %+v, want %d %s", c.rule, c.a, c.b, got, c.total, c.outcome)
		}
	}
}

func TestMarkValidation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeSingle)
	sub := submitted(t, f, p, "t1", "m1")
	cases := []struct {
		name  string
		in    marking.MarkInput
		field string
	}{
		{"level not in the rubric", marking.MarkInput{Levels: []marking.CriterionMark{{CriterionID: "a", LevelID: "distinction"}}}, "levels[0].levelId"},
		{"criterion not in the rubric", marking.MarkInput{Levels: []marking.CriterionMark{{CriterionID: "a", LevelID: "pass"}, {CriterionID: "z", LevelID: "pass"}}}, "levels[1].criterionId"},
		{"criterion twice", marking.MarkInput{Levels: []marking.CriterionMark{{CriterionID: "a", LevelID: "pass"}, {CriterionID: "a", LevelID: "merit"}}}, "levels[1].criterionId"},
		{"turns on a rubric that cites none", marking.MarkInput{Levels: []marking.CriterionMark{{CriterionID: "b", LevelID: "pass", Turns: []uint64{3}}}}, "levels[0].turns"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.s.SaveDraft(ctx, marker1, sub.ID, 0, c.in)
			wantField(t, c.name, err, c.field)
		})
	}
	m, err := f.s.SaveDraft(ctx, marker1, sub.ID, 0, marking.MarkInput{Levels: []marking.CriterionMark{{CriterionID: "a", LevelID: "pass"}}})
	must(t, "partial draft", err)
	_, err = f.s.SubmitMark(ctx, marker1, sub.ID, m.Version)
	wantField(t, "submit without a level for b", err, "levels.b")
	_, err = f.s.SaveDraft(ctx, marker2, sub.ID, 0, levels("pass", "pass"))
	wantErr(t, "a marker not allocated", err, failure.ErrForbidden)
	_, err = f.s.SaveDraft(ctx, trainee("t1"), sub.ID, 0, levels("merit", "merit"))
	wantErr(t, "the trainee marks", err, failure.ErrNotFound)
	m = mark(t, f, marker1, sub.ID, "pass", "pass")
	_, err = f.s.SaveDraft(ctx, marker1, sub.ID, m.Version, levels("merit", "merit"))
	wantField(t, "change a submitted mark", err, "submit")
}

// TestCitedTurns: on the key-elements rubric a marker cites turns, but not one whose
// speaker withheld it.
func TestCitedTurns(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	must(t, "examples", f.s.EnsureExamples(ctx))
	p, err := f.s.CreatePiece(ctx, assessor, cohort, marking.PieceInput{
		Title: "Dialogue", Due: t0.Add(24 * 60 * 60 * 1e9), Accepts: marking.Accepts{Transcript: true},
		RubricID: marking.KeyElementsRubricID, Scheme: marking.SchemeSingle, Tolerance: 3,
	})
	must(t, "piece", err)
	sub, err := f.s.Submit(ctx, trainee("t1"), p.ID, marking.Items{Transcript: &marking.TranscriptItem{CohortID: cohort, RoomID: "r1", Title: "Room"}})
	must(t, "submit", err)
	_, err = f.s.Allocate(ctx, assessor, sub.ID, []string{"m1"})
	must(t, "allocate", err)
	f.consent.withhold(sub.ID, 7)
	_, err = f.s.SaveDraft(ctx, marker1, sub.ID, 0, marking.MarkInput{Levels: []marking.CriterionMark{{CriterionID: "open-questions", LevelID: "2", Turns: []uint64{3, 7}}}})
	wantField(t, "cite a withheld turn", err, "levels[0].turns")
	m, err := f.s.SaveDraft(ctx, marker1, sub.ID, 0, marking.MarkInput{Levels: []marking.CriterionMark{{CriterionID: "open-questions", LevelID: "2", Turns: []uint64{3, 4}}}})
	must(t, "cite turns", err)
	if got := m.Levels[0].Turns; len(got) != 2 || got[1] != 4 {
		t.Errorf("turns stored %v", got)
	}
	v, err := f.s.MarkerView(ctx, marker1, sub.ID)
	must(t, "marker view", err)
	if !v.WithheldTurns[7] || v.WithheldTurns[3] {
		t.Errorf("withheld turns in the view %v, want 7 only", v.WithheldTurns)
	}
}

// TestDraftsNeverLoseWork: two markers saving at once both keep their work; one marker
// saving from two tabs on the same version keeps one save, and the other is told of the
// conflict with the stored text, so nothing is lost.
func TestDraftsNeverLoseWork(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeDoubleBlind)
	sub := submitted(t, f, p, "t1", "m1", "m2")
	var wg sync.WaitGroup
	for _, who := range []marking.Actor{marker1, marker2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := 0
			for i := range 5 {
				in := levels("pass", "pass")
				in.Feedback = who.UserID + " save " + string(rune('0'+i))
				m, err := f.s.SaveDraft(ctx, who, sub.ID, base, in)
				if err != nil {
					t.Error(err)
					return
				}
				base = m.Version
			}
		}()
	}
	wg.Wait()
	for _, who := range []marking.Actor{marker1, marker2} {
		m, err := f.s.ReadMark(ctx, who, sub.ID, who.UserID)
		must(t, "read own", err)
		if m.Version != 5 || m.Feedback != who.UserID+" save 4" {
			t.Errorf("%s: version %d %q, want version 5 with the last save", who.UserID, m.Version, m.Feedback)
		}
	}

	results := make([]error, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := levels("merit", "pass")
			in.Feedback = "tab " + string(rune('A'+i))
			_, results[i] = f.s.SaveDraft(ctx, marker1, sub.ID, 5, in)
		}()
	}
	wg.Wait()
	won, lost := -1, -1
	for i, err := range results {
		if err == nil {
			won = i
		} else {
			lost = i
		}
	}
	if won < 0 || lost < 0 {
		t.Fatalf("two saves on one version: %v", results)
	}
	var conflict *marking.MarkConflictError
	if !errors.As(results[lost], &conflict) || !errors.Is(results[lost], failure.ErrConflict) {
		t.Fatalf("the losing save got %v, want a conflict", results[lost])
	}
	if want := "tab " + string(rune('A'+won)); conflict.Stored.Feedback != want || conflict.Stored.Version != 6 {
		t.Errorf("conflict carries %q version %d, want %q version 6", conflict.Stored.Feedback, conflict.Stored.Version, want)
	}
}

// TestBlindDoubleMarking: neither marker reads the other's mark (nor sees it in the view)
// until their own is submitted; drafts are never shown to anyone but their author; the
// moderator reads submitted marks; the trainee reads none.
func TestBlindDoubleMarking(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeDoubleBlind)
	sub := submitted(t, f, p, "t1", "m1", "m2")
	mark(t, f, marker1, sub.ID, "pass", "pass")
	d, err := f.s.SaveDraft(ctx, marker2, sub.ID, 0, levels("merit", "pass"))
	must(t, "second marker's draft", err)

	_, err = f.s.ReadMark(ctx, marker2, sub.ID, "m1")
	wantErr(t, "second marker reads the first before submitting", err, failure.ErrNotFound)
	v, err := f.s.MarkerView(ctx, marker2, sub.ID)
	must(t, "second marker's view", err)
	if len(v.Marks) != 1 || v.Marks[0].MarkerID != "m2" || v.Agreed != nil {
		t.Errorf("second marker's view shows %d marks (agreed %v) before submitting", len(v.Marks), v.Agreed)
	}
	_, err = f.s.ReadMark(ctx, marker1, sub.ID, "m2")
	wantErr(t, "first marker reads the second's draft", err, failure.ErrNotFound)
	_, err = f.s.ReadMark(ctx, marker3, sub.ID, "m2")
	wantErr(t, "moderator reads a draft", err, failure.ErrNotFound)
	m1, err := f.s.ReadMark(ctx, marker3, sub.ID, "m1")
	must(t, "moderator reads a submitted mark", err)
	if m1.PrivateNote == "" {
		t.Error("the moderator does not see the private note")
	}
	_, err = f.s.ReadMark(ctx, trainee("t1"), sub.ID, "m1")
	wantErr(t, "trainee reads a mark", err, failure.ErrNotFound)

	_, err = f.s.SubmitMark(ctx, marker2, sub.ID, d.Version)
	must(t, "second submits", err)
	_, err = f.s.ReadMark(ctx, marker2, sub.ID, "m1")
	must(t, "second marker reads the first after submitting", err)
	v, err = f.s.MarkerView(ctx, marker1, sub.ID)
	must(t, "first marker's view", err)
	if len(v.Marks) != 2 {
		t.Errorf("after both submitted the view shows %d marks, want 2", len(v.Marks))
	}
}

func TestStatesAndAgreement(t *testing.T) {
	ctx := context.Background()
	state := func(t *testing.T, f *fixture, ref string, want marking.State) {
		t.Helper()
		got, err := f.s.State(ctx, assessor, ref)
		must(t, "state", err)
		if got != want {
			t.Fatalf("state %s, want %s", got, want)
		}
	}
	t.Run("double within tolerance is agreed at the mean rounded half up", func(t *testing.T) {
		f := newFixture(t)
		p := newPiece(t, f, marking.SchemeDoubleBlind)
		sub, err := f.s.Submit(ctx, trainee("t1"), p.ID, entry("e"))
		must(t, "submit", err)
		state(t, f, sub.ID, marking.Submitted)
		_, err = f.s.Allocate(ctx, assessor, sub.ID, []string{"m1", "m2"})
		must(t, "allocate", err)
		state(t, f, sub.ID, marking.Submitted)
		d, err := f.s.SaveDraft(ctx, marker1, sub.ID, 0, levels("pass", "pass"))
		must(t, "draft", err)
		state(t, f, sub.ID, marking.InMarking)
		_, err = f.s.SubmitMark(ctx, marker1, sub.ID, d.Version)
		must(t, "submit mark", err)
		state(t, f, sub.ID, marking.Marked)
		d, err = f.s.SaveDraft(ctx, marker2, sub.ID, 0, levels("merit", "pass"))
		must(t, "second draft", err)
		state(t, f, sub.ID, marking.SecondMarking)
		_, err = f.s.SubmitMark(ctx, marker2, sub.ID, d.Version)
		must(t, "second submit", err)
		state(t, f, sub.ID, marking.Agreed)
		v, err := f.s.MarkerView(ctx, admin, sub.ID)
		must(t, "view", err)
		if v.Agreed == nil || v.Agreed.Total != 5 || v.Agreed.Outcome != marking.OutcomePass {
			t.Errorf("agreed %+v, want 5 (the mean of 4 and 5, rounded half up) and pass", v.Agreed)
		}
		if marking.InModeration.Label() != "In moderation" {
			t.Errorf("label %q", marking.InModeration.Label())
		}
	})
	for _, c := range []struct {
		rule string
		want int
	}{{marking.AgreedHigher, 5}, {marking.AgreedLower, 4}} {
		t.Run("rule "+c.rule, func(t *testing.T) {
			f := newFixture(t)
			p := newPiece(t, f, marking.SchemeDoubleBlind, func(in *marking.PieceInput) { in.Agreed = c.rule })
			sub := submitted(t, f, p, "t1", "m1", "m2")
			mark(t, f, marker1, sub.ID, "pass", "pass")
			mark(t, f, marker2, sub.ID, "merit", "pass")
			v, err := f.s.MarkerView(ctx, admin, sub.ID)
			must(t, "view", err)
			if v.Agreed == nil || v.Agreed.Total != c.want {
				t.Errorf("agreed %+v, want %d", v.Agreed, c.want)
			}
		})
	}
	t.Run("beyond tolerance goes to moderation", func(t *testing.T) {
		f := newFixture(t)
		p := newPiece(t, f, marking.SchemeDoubleBlind)
		sub := submitted(t, f, p, "t1", "m1", "m2")
		mark(t, f, marker1, sub.ID, "pass", "pass")   // 4
		mark(t, f, marker2, sub.ID, "merit", "merit") // 6
		state(t, f, sub.ID, marking.InModeration)
	})
	t.Run("one passes and one refers within tolerance goes to moderation", func(t *testing.T) {
		f := newFixture(t)
		p := newPiece(t, f, marking.SchemeDoubleBlind)
		sub := submitted(t, f, p, "t1", "m1", "m2")
		mark(t, f, marker1, sub.ID, "pass", "pass")   // 4, pass
		mark(t, f, marker2, sub.ID, "merit", "refer") // 3, refer
		state(t, f, sub.ID, marking.InModeration)
	})
	t.Run("single marked is agreed when submitted", func(t *testing.T) {
		f := newFixture(t)
		p := newPiece(t, f, marking.SchemeSingle)
		sub := submitted(t, f, p, "t1", "m1")
		mark(t, f, marker1, sub.ID, "merit", "refer")
		state(t, f, sub.ID, marking.Agreed)
		_, err := f.s.Withdraw(ctx, trainee("t2"), p.ID)
		wantField(t, "withdraw with nothing submitted", err, "withdraw")
	})
}
