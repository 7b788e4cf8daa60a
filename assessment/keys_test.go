package assessment_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"polyphony/assessment"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
	"polyphony/internal/testclock"
)

// assessmentCollections are the prefixes of the collections the store keeps, and of the
// stamps its caches read.
var assessmentCollections = []string{
	"banks", "question_revisions", "assessment_", "papers", "attempt", "open_attempts", "angoff_", "stamps",
}

// TestAssessmentRequestsReadByIDOnly runs every request of the assessment package, as staff
// and trainees make them (banks, questions, import and export, settings, starting,
// answering, submitting, reviewing, results with an overdue attempt, item analysis and
// standard setting), and checks that each read, update and delete it sends to the database
// is by _id alone: on embedded FerretDB any other filter reads every document of the
// collection, so the request would slow down with everything stored.
func TestAssessmentRequestsReadByIDOnly(t *testing.T) {
	bothWays(t, testAssessmentRequestsReadByIDOnly)
}

func testAssessmentRequestsReadByIDOnly(t *testing.T, opts ...assessment.StoreOption) {
	ctx := context.Background()
	log := dbtest.NewFilterLog(assessmentCollections...)
	db := dbtest.NewLogged(t, log)
	clock := testclock.New(t0)
	s, err := assessment.NewStore(ctx, db, append(opts, assessment.WithClock(clock.Now))...)
	if err != nil {
		t.Fatal(err)
	}
	log.Record(true)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	want := func(what string, err, target error) {
		t.Helper()
		if !errors.Is(err, target) {
			t.Fatalf("%s: %v, want %v", what, err, target)
		}
	}

	b, err := s.CreateBank(ctx, assessor, "Keys")
	must("create bank", err)
	_, err = s.CreateBank(ctx, assessor, "Keys")
	want("bank of the same name", err, failure.ErrConflict)
	_, err = s.Bank(ctx, assessor, b.ID)
	must("bank", err)
	_, err = s.Bank(ctx, assessor, "doesnotexist")
	want("missing bank", err, failure.ErrNotFound)
	var qs []assessment.Question
	for i, tag := range []string{"module:1", "module:1", "module:2", "module:2"} {
		q, err := s.AddQuestion(ctx, assessor, b.ID, question("Q"+string(rune('A'+i)), i%5, tag))
		must("add question", err)
		qs = append(qs, q)
	}
	_, err = s.ReviseQuestion(ctx, assessor, qs[0].ID, 1, question("QA revised", 0, "module:1"))
	must("revise", err)
	_, err = s.ReviseQuestion(ctx, assessor, qs[0].ID, 1, question("QA stale", 0, "module:1"))
	want("stale revision", err, failure.ErrConflict)
	_, err = s.Question(ctx, assessor, qs[0].ID)
	must("question", err)
	_, err = s.QuestionRevision(ctx, assessor, qs[0].ID, 1)
	must("revision", err)
	_, err = s.QuestionHistory(ctx, assessor, qs[0].ID)
	must("history", err)
	_, err = s.Questions(ctx, assessor, b.ID)
	must("questions", err)
	aiken := "What helps?\nA. Listening\nB. Hurrying\nANSWER: A\n"
	res, err := s.Import(ctx, assessor, b.ID, assessment.FormatAiken, []byte(aiken), assessment.ImportOptions{})
	must("import", err)
	if res.Imported != 1 {
		t.Fatalf("imported %d, want 1", res.Imported)
	}
	res, err = s.Import(ctx, assessor, b.ID, assessment.FormatAiken, []byte("No options\nANSWER: A\n"), assessment.ImportOptions{})
	must("import with errors", err)
	if res.Imported != 0 || len(res.Errors) == 0 {
		t.Fatalf("a file of errors: %+v", res)
	}
	must("export", s.Export(ctx, assessor, b.ID, assessment.FormatMarkdown, io.Discard))
	banks, err := s.Banks(ctx, assessor)
	must("banks", err)
	if len(banks) != 1 || banks[0].ID != b.ID {
		t.Fatalf("banks: %+v, want the one made", banks)
	}

	in := settings(b.ID, []string{qs[0].ID, qs[1].ID})
	in.Draws = []assessment.Draw{{Tag: "module:2", Count: 1}}
	in.AttemptsAllowed = 3
	must("check settings", s.CheckSettings(ctx, assessor, in))
	a, err := s.CreateAssessment(ctx, assessor, in)
	must("create assessment", err)
	in.Title = "Keys, second version"
	a, err = s.UpdateAssessment(ctx, assessor, a.ID, a.Version, in)
	must("update assessment", err)
	_, err = s.UpdateAssessment(ctx, assessor, a.ID, 1, in)
	want("stale update", err, failure.ErrConflict)
	_, err = s.Assessment(ctx, assessor, a.ID)
	must("assessment", err)
	_, err = s.Assessment(ctx, assessor, "doesnotexist")
	want("missing assessment", err, failure.ErrNotFound)
	as, err := s.Assessments(ctx, assessor)
	must("assessments", err)
	if len(as) != 1 || as[0].Version != 2 {
		t.Fatalf("assessments: %+v, want one at version 2", as)
	}
	_, err = s.AssessmentInfo(ctx, a.ID)
	must("info", err)
	_, err = s.AssessmentInfos(ctx)
	must("infos", err)

	me := trainee(1)
	v, began, err := s.StartOrResume(ctx, me, a.ID)
	must("start", err)
	if !began {
		t.Fatal("the first start did not begin the attempt")
	}
	again, err := s.Start(ctx, me, a.ID)
	must("start again", err)
	if again.ID != v.ID {
		t.Fatalf("a second start gave %s, want the open %s", again.ID, v.ID)
	}
	_, err = s.SaveAnswer(ctx, me, v.ID, 0, 1)
	must("answer", err)
	_, err = s.SaveAnswer(ctx, me, v.ID, 1, 2)
	must("answer", err)
	_, err = s.AttemptView(ctx, me, v.ID)
	must("view", err)
	_, err = s.AttemptView(ctx, me, "doesnotexist")
	want("missing attempt", err, failure.ErrNotFound)
	_, err = s.MyAttempts(ctx, me, a.ID)
	must("my attempts", err)
	_, err = s.AttemptRecord(ctx, assessor, v.ID)
	must("record of an open attempt", err)
	_, err = s.Submit(ctx, me, v.ID)
	must("submit", err)
	_, err = s.Submit(ctx, me, v.ID)
	must("submit again", err)
	_, err = s.SaveAnswer(ctx, me, v.ID, 2, 0)
	want("answer after submitting", err, assessment.ErrAttemptClosed)
	_, err = s.AttemptRecord(ctx, assessor, v.ID)
	must("record", err)
	_, err = s.MyAttempts(ctx, me, a.ID)
	must("my attempts, closed", err)

	late := trainee(2)
	lv, err := s.Start(ctx, late, a.ID)
	must("start the overdue attempt", err)
	_, err = s.SaveAnswer(ctx, late, lv.ID, 0, 0)
	must("answer the overdue attempt", err)
	deadline := time.Duration(in.TimeLimitSeconds+in.GraceSeconds) * time.Second
	clock.Set(t0.Add(deadline - time.Minute))
	_, err = s.Start(ctx, trainee(3), a.ID) // still within its time when results are read
	must("start an attempt left open", err)
	clock.Set(t0.Add(deadline + time.Second))
	rs, err := s.Results(ctx, assessor, a.ID, assessment.PickFirst)
	must("results", err)
	if len(rs) != 2 || rs[1].UserID != late.ID || rs[1].ClosedBy != assessment.ClosedTimeout {
		t.Fatalf("results: %+v, want two, the overdue attempt closed by its deadline", rs)
	}
	_, err = s.Results(ctx, assessor, a.ID, assessment.PickBest)
	must("results again", err)
	an, err := s.Analysis(ctx, assessor, a.ID, assessment.PickFirst)
	must("analysis", err)
	if an.N != 2 {
		t.Fatalf("analysis of %d attempts, want 2", an.N)
	}

	p, err := s.StandardSetting(ctx, assessor, a.ID)
	must("empty panel", err)
	estimates := map[string]float64{}
	for _, id := range p.Questions {
		estimates[id] = 0.6
	}
	for _, judge := range []assessment.Actor{assessor, admin} {
		_, err = s.SaveEstimates(ctx, judge, a.ID, estimates)
		must("estimates", err)
	}
	_, err = s.SaveEstimates(ctx, assessor, a.ID, estimates) // changed again
	must("estimates again", err)
	p, err = s.StandardSetting(ctx, assessor, a.ID)
	must("panel", err)
	if len(p.Judges) != 2 || p.Complete != 2 {
		t.Fatalf("panel: %+v, want two judges who estimated everything", p)
	}
	_, err = s.AdoptPassMark(ctx, admin, a.ID)
	must("adopt", err)
	log.Check(t, "an assessment request")
}

// TestAssessmentOpensEarlierLayout takes records written before the lists existed (a
// database without assessment_lists) and checks that a store opened on them shows every
// bank, question, assessment, result, analysis and judge as before, finds the overdue
// attempt among them, says in the log that it brought the records over, and does so once.
func TestAssessmentOpensEarlierLayout(t *testing.T) {
	ctx := context.Background()
	s, clock, db := openStoreDB(t)
	b, qs := fillBank(t, s, 4)
	if _, err := s.ReviseQuestion(ctx, assessor, qs[0].ID, 1, question("Q00 revised", 0, "module:1")); err != nil {
		t.Fatal(err)
	}
	in := settings(b.ID, ids(qs))
	a := createAssessment(t, s, in)
	in.Title = "Changed"
	if _, err := s.UpdateAssessment(ctx, assessor, a.ID, 1, in); err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 3; n++ {
		v := mustStart(t, s, trainee(n), a.ID)
		mustSave(t, s, trainee(n), v.ID, 0, n%5)
		if n < 3 { // the third is left open, to run out of time after the upgrade
			if _, err := s.Submit(ctx, trainee(n), v.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.SaveEstimates(ctx, assessor, a.ID, map[string]float64{qs[0].ID: 0.5}); err != nil {
		t.Fatal(err)
	}
	type state struct {
		banks     []assessment.Bank
		questions []assessment.Question
		all       []assessment.Assessment
		results   []assessment.TraineeResult
		analysis  assessment.Analysis
		panel     assessment.Panel
	}
	read := func(s *assessment.Store) state {
		t.Helper()
		var st state
		var err error
		if st.banks, err = s.Banks(ctx, assessor); err != nil {
			t.Fatal(err)
		}
		if st.questions, err = s.Questions(ctx, assessor, b.ID); err != nil {
			t.Fatal(err)
		}
		if st.all, err = s.Assessments(ctx, assessor); err != nil {
			t.Fatal(err)
		}
		if st.results, err = s.Results(ctx, assessor, a.ID, assessment.PickFirst); err != nil {
			t.Fatal(err)
		}
		if st.analysis, err = s.Analysis(ctx, assessor, a.ID, assessment.PickFirst); err != nil {
			t.Fatal(err)
		}
		if st.panel, err = s.StandardSetting(ctx, assessor, a.ID); err != nil {
			t.Fatal(err)
		}
		return st
	}
	before := read(s)
	if len(before.banks) != 1 || len(before.questions) != 4 || before.questions[0].Revision != 2 ||
		len(before.all) != 1 || before.all[0].Version != 2 || len(before.results) != 2 || len(before.panel.Judges) != 1 {
		t.Fatalf("before: %+v", before)
	}

	// Back to the earlier layout.
	if err := db.Collection("assessment_lists").Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureCollections(ctx); err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	open := func() *assessment.Store {
		t.Helper()
		s, err := assessment.NewStore(ctx, db, assessment.WithClock(clock.Now), assessment.WithLogger(logger))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	after := open()
	if got := read(after); !reflect.DeepEqual(got, before) {
		t.Errorf("after opening the earlier layout:\n%+v\nwant\n%+v", got, before)
	}
	for _, w := range []string{"assessment records brought to the layout read by id", "banks=1", "revisions=5", "versions=2", "attempts=3", "estimates=1"} {
		if !strings.Contains(logged.String(), w) {
			t.Errorf("log: %q, want a line saying the records were brought over, with %q", logged.String(), w)
		}
	}
	clock.Set(t0.Add(time.Duration(in.TimeLimitSeconds+in.GraceSeconds+1) * time.Second))
	rs, err := after.Results(ctx, assessor, a.ID, assessment.PickFirst)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || rs[2].UserID != trainee(3).ID || rs[2].ClosedBy != assessment.ClosedTimeout {
		t.Errorf("results past the deadline: %+v, want the third attempt closed by its deadline", rs)
	}

	logged.Reset()
	open()
	if logged.Len() != 0 {
		t.Errorf("a second start logged %q; the records were brought over once", logged.String())
	}
}
