package marking_test

import (
	"context"
	"sync"
	"testing"

	"polyphony/assessment/marking"
	"polyphony/internal/failure"
)

func TestModeration(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeDoubleBlind)
	sub := submitted(t, f, p, "t1", "m1", "m2")
	mark(t, f, marker1, sub.ID, "pass", "pass")
	mark(t, f, marker2, sub.ID, "merit", "merit")

	good := marking.AgreedResult{Total: 5, Outcome: marking.OutcomePass, Reason: "Read both; the account is sound", Feedback: "Agreed feedback"}
	_, err := f.s.Moderate(ctx, marker1, sub.ID, good)
	wantErr(t, "a marker moderates", err, failure.ErrForbidden)
	_, err = f.s.Moderate(ctx, outsider, sub.ID, good)
	wantErr(t, "an assessor of another cohort moderates", err, failure.ErrNotFound)
	for _, c := range []struct {
		name  string
		edit  func(r *marking.AgreedResult)
		field string
	}{
		{"total above the maximum", func(r *marking.AgreedResult) { r.Total = 7 }, "total"},
		{"negative total", func(r *marking.AgreedResult) { r.Total = -1 }, "total"},
		{"outcome against the pass mark", func(r *marking.AgreedResult) { r.Outcome = marking.OutcomeRefer }, "outcome"},
		{"unknown outcome", func(r *marking.AgreedResult) { r.Outcome = "merit" }, "outcome"},
		{"no reason", func(r *marking.AgreedResult) { r.Reason = " " }, "reason"},
		{"level not in the rubric", func(r *marking.AgreedResult) {
			r.Levels = []marking.CriterionMark{{CriterionID: "a", LevelID: "gold"}}
		}, "levels[0].levelId"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := good
			c.edit(&r)
			_, err := f.s.Moderate(ctx, marker3, sub.ID, r)
			wantField(t, c.name, err, c.field)
		})
	}
	res, err := f.s.Moderate(ctx, marker3, sub.ID, good)
	must(t, "moderate", err)
	if res.By != "m3" {
		t.Errorf("moderated by %q", res.By)
	}
	st, err := f.s.State(ctx, admin, sub.ID)
	must(t, "state", err)
	if st != marking.Agreed {
		t.Fatalf("after moderation the state is %s", st)
	}
	_, err = f.s.Moderate(ctx, marker3, sub.ID, good)
	wantField(t, "moderate an agreed result", err, "state")

	// An agreed result within tolerance can be opened, with a reason, and then moderated.
	sub2 := submitted(t, f, p, "t2", "m1", "m2")
	mark(t, f, marker1, sub2.ID, "pass", "pass")
	mark(t, f, marker2, sub2.ID, "merit", "pass")
	wantField(t, "open without a reason", f.s.OpenModeration(ctx, marker3, sub2.ID, ""), "reason")
	wantErr(t, "a marker opens", f.s.OpenModeration(ctx, marker2, sub2.ID, "Mine"), failure.ErrForbidden)
	must(t, "open", f.s.OpenModeration(ctx, marker3, sub2.ID, "Sampled: the comments disagree"))
	st, err = f.s.State(ctx, admin, sub2.ID)
	must(t, "state", err)
	if st != marking.InModeration {
		t.Fatalf("opened: state %s, want in moderation", st)
	}
	wantField(t, "open twice", f.s.OpenModeration(ctx, marker3, sub2.ID, "Again"), "state")
	_, err = f.s.Moderate(ctx, marker3, sub2.ID, marking.AgreedResult{Total: 4, Outcome: marking.OutcomePass, Reason: "Lower is fairer"})
	must(t, "moderate the opened one", err)
}

// TestReleaseOnceAndWhole: only agreed results are released; a release of all reports what
// it released and what was not ready; releasing again releases nothing twice, even when two
// releases race; the trainee sees nothing before release and the agreed result after.
func TestReleaseOnceAndWhole(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeDoubleBlind)
	agreed := submitted(t, f, p, "t1", "m1", "m2")
	mark(t, f, marker1, agreed.ID, "pass", "pass")
	mark(t, f, marker2, agreed.ID, "merit", "pass")
	pending := submitted(t, f, p, "t2", "m1", "m2")
	mark(t, f, marker1, pending.ID, "pass", "pass")

	v, err := f.s.TraineeView(ctx, trainee("t1"), p.ID, "t1")
	must(t, "trainee view before release", err)
	if v.Result != nil || v.State != marking.Submitted {
		t.Fatalf("before release the trainee sees state %s and result %+v", v.State, v.Result)
	}
	_, err = f.s.TraineeView(ctx, trainee("t2"), p.ID, "t1")
	wantErr(t, "another trainee's view", err, failure.ErrNotFound)
	_, err = f.s.Release(ctx, assessor, p.ID, "")
	wantErr(t, "an assessor releases", err, failure.ErrForbidden)

	reports := make([]marking.ReleaseReport, 4)
	var wg sync.WaitGroup
	for i := range reports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			reports[i], err = f.s.Release(ctx, admin, p.ID, "")
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	released := 0
	for _, r := range reports {
		released += len(r.Released)
		if len(r.NotReady) != 1 || r.NotReady[0] != "t2" {
			t.Errorf("not ready %v, want t2", r.NotReady)
		}
		if len(r.Released)+len(r.AlreadyReleased) != 1 {
			t.Errorf("report %+v", r)
		}
	}
	if released != 1 {
		t.Fatalf("t1's result was released %d times, want once", released)
	}
	trail, err := f.s.Trail(ctx, admin, agreed.ID)
	must(t, "trail", err)
	n := 0
	for _, e := range trail {
		if e.Action == "released" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the trail records %d releases, want 1", n)
	}

	v, err = f.s.TraineeView(ctx, trainee("t1"), p.ID, "t1")
	must(t, "trainee view after release", err)
	if v.State != marking.Released || v.Result == nil || v.Result.Total != 5 || v.Result.Outcome != marking.OutcomePass {
		t.Fatalf("after release: state %s result %+v", v.State, v.Result)
	}
	if len(v.Result.MarkerIDs) != 0 {
		t.Errorf("the trainee sees the markers %v on a piece that does not show them", v.Result.MarkerIDs)
	}
	if len(v.Result.Feedback) != 2 || len(v.Result.Criteria) != 2 || len(v.Result.Criteria[0].Levels) != 2 {
		t.Errorf("released feedback %v and criteria %+v", v.Result.Feedback, v.Result.Criteria)
	}
	for _, fb := range v.Result.Feedback {
		if fb == levels("pass", "pass").PrivateNote {
			t.Error("a private note reached the trainee")
		}
	}

	// One trainee's release; then a mark changes only by re-moderation, recorded.
	mark(t, f, marker2, pending.ID, "pass", "merit")
	rep, err := f.s.Release(ctx, admin, p.ID, "t2")
	must(t, "release one", err)
	if len(rep.Released) != 1 || rep.Released[0] != "t2" {
		t.Fatalf("release of t2: %+v", rep)
	}
	_, err = f.s.Moderate(ctx, marker3, agreed.ID, marking.AgreedResult{Total: 6, Outcome: marking.OutcomePass, Reason: "x"})
	wantField(t, "moderate after release", err, "state")
	_, err = f.s.Remoderate(ctx, marker3, agreed.ID, marking.AgreedResult{Total: 6, Outcome: marking.OutcomePass})
	wantField(t, "remoderate without a reason", err, "reason")
	_, err = f.s.Remoderate(ctx, marker3, agreed.ID, marking.AgreedResult{Total: 6, Outcome: marking.OutcomePass, Reason: "Appeal upheld", Feedback: "On appeal"})
	must(t, "remoderate", err)
	v, err = f.s.TraineeView(ctx, trainee("t1"), p.ID, "t1")
	must(t, "trainee view after re-moderation", err)
	if v.Result.Total != 6 || v.Result.Revision != 1 || v.Result.Feedback[len(v.Result.Feedback)-1] != "On appeal" {
		t.Errorf("after re-moderation the trainee sees %+v", v.Result)
	}
	if v.Result.Reason != "" || v.Result.By != "" {
		t.Errorf("the trainee sees the moderator's reason %q or name %q", v.Result.Reason, v.Result.By)
	}
	trail, err = f.s.Trail(ctx, admin, agreed.ID)
	must(t, "trail", err)
	last := trail[len(trail)-1]
	if last.Action != "remoderated" || last.ActorID != "m3" {
		t.Errorf("last trail entry %+v", last)
	}
}

func TestTraineeSeesMarkersOnlyWhenShown(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeSingle, func(in *marking.PieceInput) { in.ShowMarkers = true })
	sub := submitted(t, f, p, "t1", "m1")
	mark(t, f, marker1, sub.ID, "pass", "merit")
	_, err := f.s.Release(ctx, admin, p.ID, "t1")
	must(t, "release", err)
	v, err := f.s.TraineeView(ctx, trainee("t1"), p.ID, "t1")
	must(t, "view", err)
	if len(v.Result.MarkerIDs) != 1 || v.Result.MarkerIDs[0] != "m1" {
		t.Errorf("markers shown %v, want m1", v.Result.MarkerIDs)
	}
	if got := v.Result.Criteria[1].Levels; len(got) != 1 || got[0].ID != "merit" {
		t.Errorf("criterion b shows %+v, want the single marker's merit", got)
	}
}

func TestTrailReaders(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeDoubleBlind)
	sub := submitted(t, f, p, "t1", "m1", "m2")
	mark(t, f, marker1, sub.ID, "pass", "pass")
	trail, err := f.s.Trail(ctx, marker3, sub.ID)
	must(t, "moderator reads", err)
	var actions []string
	for i, e := range trail {
		if e.Seq != i+1 {
			t.Errorf("entry %d has seq %d", i, e.Seq)
		}
		actions = append(actions, e.Action)
	}
	want := []string{"submitted", "allocated", "marking started", "draft saved", "marking submitted"}
	if len(actions) != len(want) {
		t.Fatalf("trail %v, want %v", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Fatalf("trail %v, want %v", actions, want)
		}
	}
	_, err = f.s.Trail(ctx, marker2, sub.ID)
	wantErr(t, "a marker reads the trail", err, failure.ErrForbidden)
	_, err = f.s.Trail(ctx, trainee("t1"), sub.ID)
	wantErr(t, "the trainee reads the trail", err, failure.ErrNotFound)
}
