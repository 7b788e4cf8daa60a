package marking_test

import (
	"bytes"
	"context"
	"testing"

	"polyphony/assessment/marking"
	"polyphony/internal/dbtest"
)

// TestMarkingRequestsReadByIDOnly runs the requests of the marking workflow, from setting up
// a piece to releasing and re-moderating its results, exporting them and reading the ratings,
// and checks that each read, update and delete sent to the database is by _id alone: on
// embedded FerretDB any other filter reads every document of the collection, so the request
// would slow down with everything stored.
func TestMarkingRequestsReadByIDOnly(t *testing.T) {
	ctx := context.Background()
	log := dbtest.NewFilterLog("marking_")
	f := newFixtureOn(t, dbtest.NewLogged(t, log))
	log.Record(true)

	must(t, "examples", f.s.EnsureExamples(ctx))
	r, err := f.s.SaveRubric(ctx, assessor, smallRubric())
	must(t, "rubric", err)
	r.Title = "Revised"
	_, err = f.s.SaveRubric(ctx, assessor, r)
	must(t, "revise rubric", err)
	_, err = f.s.Rubrics(ctx, assessor)
	must(t, "rubrics", err)
	in := setup(t, f, marking.SchemeDoubleBlind)
	in.Anonymous = true
	p, err := f.s.CreatePiece(ctx, assessor, cohort, in)
	must(t, "piece", err)
	p, err = f.s.EditPiece(ctx, assessor, p.ID, p.Version, in)
	must(t, "edit piece", err)
	_, err = f.s.Pieces(ctx, trainee("t1"), cohort)
	must(t, "pieces", err)
	_, err = f.s.Submit(ctx, trainee("t1"), p.ID, marking.Items{Transcript: &marking.TranscriptItem{CohortID: cohort, RoomID: "r"}})
	must(t, "submit", err)
	_, err = f.s.Withdraw(ctx, trainee("t1"), p.ID)
	must(t, "withdraw", err)
	_, err = f.s.Submit(ctx, trainee("t1"), p.ID, entry("e"))
	must(t, "submit again", err)
	_, err = f.s.GrantExtension(ctx, admin, p.ID, "t2", p.Due.Add(3600e9), "Illness")
	must(t, "extension", err)
	_, err = f.s.Submit(ctx, trainee("t2"), p.ID, entry("e2"))
	must(t, "submit t2", err)
	rep, err := f.s.SpreadEvenly(ctx, assessor, p.ID, []string{"m1", "m2"})
	must(t, "spread", err)
	ref1, ref2 := rep.Allocated[0].Ref, rep.Allocated[1].Ref
	_, err = f.s.Allocate(ctx, assessor, ref2, []string{"m1", "m2"})
	must(t, "allocate", err)
	_, err = f.s.Queue(ctx, marker1, "m1")
	must(t, "queue", err)
	_, err = f.s.MarkerView(ctx, marker1, ref1)
	must(t, "marker view", err)
	mark(t, f, marker1, ref1, "pass", "pass")
	mark(t, f, marker2, ref1, "merit", "pass")
	mark(t, f, marker1, ref2, "pass", "pass")
	mark(t, f, marker2, ref2, "merit", "merit")
	_, err = f.s.ReadMark(ctx, marker1, ref1, "m2")
	must(t, "read mark", err)
	_, err = f.s.State(ctx, assessor, ref1)
	must(t, "state", err)
	_, err = f.s.Moderate(ctx, marker3, ref2, marking.AgreedResult{Total: 5, Outcome: marking.OutcomePass, Reason: "Settled"})
	must(t, "moderate", err)
	must(t, "open", f.s.OpenModeration(ctx, marker3, ref1, "Sampled"))
	_, err = f.s.Moderate(ctx, marker3, ref1, marking.AgreedResult{Total: 4, Outcome: marking.OutcomePass, Reason: "Settled"})
	must(t, "moderate opened", err)
	_, err = f.s.DrawSample(ctx, assessor, p.ID, 7)
	must(t, "draw sample", err)
	_, err = f.s.ConfirmSample(ctx, marker3, p.ID, "Consistent")
	must(t, "confirm sample", err)
	_, err = f.s.ReadSample(ctx, assessor, p.ID)
	must(t, "read sample", err)
	_, err = f.s.Overview(ctx, assessor, p.ID)
	must(t, "overview", err)
	_, err = f.s.Release(ctx, admin, p.ID, "")
	must(t, "release", err)
	_, err = f.s.Release(ctx, admin, p.ID, "t1")
	must(t, "release one", err)
	_, err = f.s.TraineeView(ctx, trainee("t1"), p.ID, "t1")
	must(t, "trainee view", err)
	_, err = f.s.Submission(ctx, trainee("t1"), p.ID, "t1")
	must(t, "submission", err)
	_, err = f.s.Standings(ctx, cohort, "t1")
	must(t, "standings", err)
	_, err = f.s.Remoderate(ctx, marker3, ref1, marking.AgreedResult{Total: 5, Outcome: marking.OutcomePass, Reason: "Appeal"})
	must(t, "remoderate", err)
	_, err = f.s.Trail(ctx, admin, ref1)
	must(t, "trail", err)
	var buf bytes.Buffer
	must(t, "results", f.s.ResultsCSV(ctx, admin, p.ID, func(string) string { return "" }, &buf))
	must(t, "agreement", f.s.AgreementCSV(ctx, admin, p.ID, &buf))
	_, err = f.s.Ratings(ctx, assessor, cohort)
	must(t, "ratings", err)
	log.Check(t, "the marking requests")
}
