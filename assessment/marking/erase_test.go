package marking_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/assessment/marking"
	"polyphony/internal/database"
	"polyphony/internal/dbtest"
)

// Erasing a trainee removes their assessed work, marked, sampled and released, down to the
// last document that names them, and leaves another trainee's work of the same piece as it
// was; the erased trainee's candidate number is not given to anyone else.
func TestEraseRemovesATraineesAssessedWork(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	f := newFixtureOn(t, db)
	p := newPiece(t, f, marking.SchemeDoubleBlind)
	subs := map[string]marking.Submission{}
	for _, id := range []string{"t1", "t2"} {
		subs[id] = submitted(t, f, p, id, "m1", "m2")
		mark(t, f, marker1, subs[id].ID, "pass", "pass")
		mark(t, f, marker2, subs[id].ID, "pass", "pass")
	}
	_, err := f.s.DrawSample(ctx, assessor, p.ID, 7)
	must(t, "draw the sample", err)
	rep, err := f.s.Release(ctx, admin, p.ID, "")
	must(t, "release", err)
	if len(rep.Released) != 2 {
		t.Fatalf("released %+v, want both", rep)
	}
	before, err := f.s.TraineeView(ctx, trainee("t2"), p.ID, "t2")
	must(t, "t2's result", err)

	deleted, err := f.s.Erase(ctx, "t1")
	must(t, "erase t1", err)
	for coll, atLeast := range map[string]int64{"marking_submissions": 1, "marking_marks": 2, "marking_releases": 1, "marking_trail": 4, "marking_candidates": 1} {
		if deleted[coll] < atLeast {
			t.Errorf("erasure removed %d from %s, want at least %d (%v)", deleted[coll], coll, atLeast, deleted)
		}
	}

	// Nothing that names t1 is left in the marking collections.
	names, err := db.CollectionNames(ctx)
	must(t, "collections", err)
	for _, name := range names {
		if !strings.HasPrefix(name, "marking_") {
			continue
		}
		var docs []bson.M
		must(t, "scan "+name, db.Collection(name).ScanAll(ctx, bson.M{}, database.Scan{}, &docs))
		for _, d := range docs {
			b, _ := json.Marshal(d)
			if strings.Contains(string(b), `"t1"`) || strings.Contains(string(b), `/t1"`) || strings.Contains(string(b), `/t1/`) {
				t.Errorf("%s still holds %s", name, b)
			}
		}
	}

	// What anyone reads of the piece no longer has t1's work; t2's is as it was.
	v, err := f.s.TraineeView(ctx, trainee("t1"), p.ID, "t1")
	must(t, "t1's view", err)
	if v.State != marking.NotSubmitted || v.Result != nil {
		t.Errorf("t1's view after erasure: %+v", v)
	}
	after, err := f.s.TraineeView(ctx, trainee("t2"), p.ID, "t2")
	must(t, "t2's result", err)
	if after.State != marking.Released || after.Result == nil || after.Result.Total != before.Result.Total {
		t.Errorf("t2's result changed: %+v, was %+v", after, before)
	}
	rows, err := f.s.Overview(ctx, admin, p.ID)
	must(t, "overview", err)
	for _, r := range rows {
		if r.TraineeID == "t1" {
			t.Errorf("the overview still lists t1: %+v", r)
		}
	}
	for _, m := range []marking.Actor{marker1, marker2} {
		q, err := f.s.Queue(ctx, m, m.UserID)
		must(t, "queue", err)
		for _, it := range q {
			if it.Ref == subs["t1"].ID {
				t.Errorf("%s's queue still holds t1's submission", m.UserID)
			}
		}
	}
	sm, err := f.s.ReadSample(ctx, assessor, p.ID)
	must(t, "sample", err)
	for _, it := range sm.Items {
		if it.SubmissionID == subs["t1"].ID {
			t.Errorf("the sample still holds t1's submission")
		}
	}

	// A new trainee gets the next number, not t1's.
	sub3, err := f.s.Submit(ctx, trainee("t3"), p.ID, entry("e-t3"))
	must(t, "t3 submits", err)
	if sub3.CandidateNumber == subs["t1"].CandidateNumber || sub3.CandidateNumber == subs["t2"].CandidateNumber {
		t.Errorf("t3 got %s, a number given before (t1 %s, t2 %s)", sub3.CandidateNumber, subs["t1"].CandidateNumber, subs["t2"].CandidateNumber)
	}
}
