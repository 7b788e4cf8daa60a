package progress_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"polyphony/assessment"
	"polyphony/courses"
	"polyphony/courses/progress"
	"polyphony/internal/accounts"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

var assessor = assessment.Actor{ID: "ash-assessor", Role: accounts.RoleAssessor}

// knowledgeTest sets a test of five questions for the cohort, passed at 60% (3 of 5), with
// the attempts allowed.
func (w *world) knowledgeTest(title string, attempts int, closes time.Time) assessment.Assessment {
	w.t.Helper()
	ctx := context.Background()
	b, err := w.tests.CreateBank(ctx, assessor, "Bank "+title)
	if err != nil {
		w.t.Fatal(err)
	}
	var qs []string
	for i := range 5 {
		in := assessment.QuestionInput{Name: fmt.Sprintf("Q%d", i), Stem: "Stem", Tags: []string{}}
		for j := range 4 {
			in.Options = append(in.Options, assessment.Option{Text: fmt.Sprintf("Option %d", j), Right: j == 0})
		}
		q, err := w.tests.AddQuestion(ctx, assessor, b.ID, in)
		if err != nil {
			w.t.Fatal(err)
		}
		qs = append(qs, q.ID)
	}
	a, err := w.tests.CreateAssessment(ctx, assessor, assessment.AssessmentInput{
		Title: title, BankID: b.ID, CohortID: w.cohort.ID, Questions: qs, Closes: closes, AttemptsAllowed: attempts,
		PassMark: 60, ReviewAfterAttempt: assessment.ReviewScore, ReviewAfterClose: assessment.ReviewScore,
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

// sit makes an attempt at the test as the trainee with right answers right, and submits it.
func (w *world) sit(tr courses.Viewer, a assessment.Assessment, right int) {
	w.t.Helper()
	ctx := context.Background()
	actor := assessment.Actor{ID: tr.UserID, Role: accounts.RoleTrainee}
	at, err := w.tests.Start(ctx, actor, a.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	rec, err := w.tests.AttemptRecord(ctx, assessor, at.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	for i, q := range rec.Questions {
		choice := *q.RightOption
		if i >= right {
			choice = (choice + 1) % len(q.Options)
		}
		if _, err := w.tests.SaveAnswer(ctx, actor, at.ID, q.Index, choice); err != nil {
			w.t.Fatal(err)
		}
	}
	if _, err := w.tests.Submit(ctx, actor, at.ID); err != nil {
		w.t.Fatal(err)
	}
}

// A knowledge test at its pass mark: 2, 3 and 4 of 5 right when 3 pass; the best attempt
// stands, so a pass at a second attempt is a pass.
func TestKnowledgeTestAtThePassMark(t *testing.T) {
	w := newWorld(t, 4)
	closes := time.Now().Add(48 * time.Hour)
	a := w.knowledgeTest("Module 1 knowledge test", 2, closes)
	w.sit(w.trainees[0], a, 2)
	w.sit(w.trainees[1], a, 3)
	w.sit(w.trainees[2], a, 4)
	w.sit(w.trainees[3], a, 4)
	w.sit(w.trainees[3], a, 1) // a weaker second attempt does not undo the pass
	w.at(time.Now())
	r := w.result(0, progress.KindTests)
	wantState(t, "2 of 5", r, progress.AtRisk, 0)
	if r.Next != "Sit Module 1 knowledge test again" || !r.NextBy.Equal(a.Closes) {
		t.Errorf("next %q by %s", r.Next, r.NextBy)
	}
	wantState(t, "3 of 5", w.result(1, progress.KindTests), progress.Met, 1)
	wantState(t, "4 of 5", w.result(2, progress.KindTests), progress.Met, 1)
	r = w.result(3, progress.KindTests)
	wantState(t, "4 then 1 of 5", r, progress.Met, 1)
	if e := r.Evidence[0]; !e.Counts || !strings.Contains(e.Detail, "attempt 1") || !strings.HasPrefix(e.Path, "/attempts/") || e.StaffPath != "/assessments/"+a.ID+"/results" {
		t.Errorf("evidence %+v, want the first attempt, linked", e)
	}
	// The second attempt fails too: no attempt is left, so the rule cannot be met.
	w.sit(w.trainees[0], a, 2)
	wantState(t, "2 of 5 twice, of two attempts", w.result(0, progress.KindTests), progress.NotMet, 0)
	// Not sat, and the test closed: not met; still open: not yet.
	w.at(closes.Add(time.Hour))
	b := w.knowledgeTest("Module 2 knowledge test", 0, time.Time{})
	wantState(t, "a second test not sat", w.result(1, progress.KindTests), progress.NotYet, 1)
	w.rules(progress.Rule{Kind: progress.KindTests, AssessmentIDs: []string{b.ID}})
	wantState(t, "only the second test named", w.result(2, progress.KindTests), progress.NotYet, 0)
	w.sit(w.trainees[2], b, 3)
	wantState(t, "the named test passed", w.result(2, progress.KindTests), progress.Met, 1)
}

// Assessed pieces, from hand-built records: released as a pass counts; referred, or past due
// and not submitted, is at risk; none set is not yet.
func TestAssessedPieces(t *testing.T) {
	now := time.Date(2027, 5, 10, 12, 0, 0, 0, time.UTC)
	rules := progress.Rules{Rules: []progress.Rule{{Kind: progress.KindPieces}}}
	piece := func(id string, due time.Time, outcome string, released, submitted bool) progress.PieceResult {
		return progress.PieceResult{PieceID: id, Title: "Piece " + id, Due: due, Outcome: outcome, Released: released, Submitted: submitted, Path: "/work/" + id}
	}
	past, later := now.AddDate(0, 0, -1), now.AddDate(0, 0, 14)
	for _, tc := range []struct {
		name   string
		pieces []progress.PieceResult
		state  progress.State
		count  float64
	}{
		{"none set", nil, progress.NotYet, 0},
		{"one of two passed, the other due later", []progress.PieceResult{piece("a", past, "pass", true, true), piece("b", later, "", false, false)}, progress.NotYet, 1},
		{"both passed", []progress.PieceResult{piece("a", past, "pass", true, true), piece("b", later, "pass", true, true)}, progress.Met, 2},
		{"a pass agreed but not released", []progress.PieceResult{piece("a", past, "pass", false, true)}, progress.NotYet, 0},
		{"referred", []progress.PieceResult{piece("a", past, "refer", true, true)}, progress.AtRisk, 0},
		{"past due, not submitted", []progress.PieceResult{piece("a", past, "", false, false)}, progress.AtRisk, 0},
	} {
		r, _ := progress.Evaluate(rules, progress.Records{Pieces: tc.pieces}, now).Result(progress.KindPieces)
		wantState(t, tc.name, r, tc.state, tc.count)
		if len(r.Evidence) != len(tc.pieces) {
			t.Errorf("%s: %d evidence for %d pieces", tc.name, len(r.Evidence), len(tc.pieces))
		}
	}
}

// Award rules are versioned: each save is a new version on the one it was made from; a save
// on a stale version is refused, and every version stays readable.
func TestRulesVersions(t *testing.T) {
	w := newWorld(t, 0)
	ctx := context.Background()
	std, err := w.svc.Rules(ctx, w.cohort.ID)
	if err != nil || std.Version != 0 || len(std.Rules) != len(progress.Kinds) {
		t.Fatalf("standard rules %+v, %v; want version 0 with a rule of each kind", std, err)
	}
	v1, err := w.svc.SaveRules(ctx, progress.Rules{CohortID: w.cohort.ID, Rules: []progress.Rule{{Kind: progress.KindSupervision, Hours: 20}, {Kind: progress.KindResidential, Days: 16}}}, 0, "alex-admin")
	if err != nil || v1.Version != 1 || v1.Rules[0].Kind != progress.KindResidential {
		t.Fatalf("save on 0: %+v, %v; want version 1 in the pages' order", v1, err)
	}
	if _, err := w.svc.SaveRules(ctx, progress.Rules{CohortID: w.cohort.ID, Rules: std.Rules}, 0, "other-admin"); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("a second save on version 0: %v, want a conflict", err)
	}
	if _, err := w.svc.SaveRules(ctx, progress.Rules{CohortID: w.cohort.ID, Rules: std.Rules}, 1, "alex-admin"); err != nil {
		t.Fatal(err)
	}
	latest, err := w.svc.Rules(ctx, w.cohort.ID)
	if err != nil || latest.Version != 2 {
		t.Fatalf("latest %+v, %v; want version 2", latest, err)
	}
	old, err := w.svc.RulesVersion(ctx, w.cohort.ID, 1)
	if err != nil || old.Rules[1].Hours != 20 {
		t.Errorf("version 1 read back as %+v, %v", old, err)
	}
	for _, bad := range []progress.Rule{
		{Kind: "attendance"},
		{Kind: progress.KindResidential, Days: 21},
		{Kind: progress.KindSupervision, Hours: -1},
		{Kind: progress.KindPractice, Weeks: 60},
	} {
		_, err := w.svc.SaveRules(ctx, progress.Rules{CohortID: w.cohort.ID, Rules: []progress.Rule{bad}}, 2, "alex-admin")
		if len(failure.Invalids(err)) == 0 {
			t.Errorf("rule %+v: %v, want refused as invalid", bad, err)
		}
	}
	twice := []progress.Rule{{Kind: progress.KindDialogue, Sessions: 1}, {Kind: progress.KindDialogue, Sessions: 2}}
	if _, err := w.svc.SaveRules(ctx, progress.Rules{CohortID: w.cohort.ID, Rules: twice}, 2, "alex-admin"); len(failure.Invalids(err)) == 0 {
		t.Errorf("a kind twice: %v, want refused", err)
	}
}

// A trainee's progress and the cohort's grid read every record by _id.
func TestProgressReadsByIDOnly(t *testing.T) {
	log := dbtest.NewFilterLog()
	w := newWorldOn(t, dbtest.NewLogged(t, log), 2)
	ctx := context.Background()
	w.attend(w.occasions(courses.OccasionResidential)[:3], 3, 2)
	w.supervise(w.trainees[0], w.programme.Modules[1].Start, 60, true)
	w.share(w.trainees[0], courses.PracticeTotalsOnly)
	w.practise(w.trainees[0], w.programme.Modules[1].Start)
	a := w.knowledgeTest("Module 1 knowledge test", 0, time.Time{})
	w.sit(w.trainees[0], a, 4)
	if _, err := w.svc.SaveRules(ctx, progress.Rules{CohortID: w.cohort.ID, Rules: progress.DefaultRules(w.programme).Rules}, 0, "alex-admin"); err != nil {
		t.Fatal(err)
	}
	log.Reset()
	log.Record(true)
	if _, err := w.svc.Trainee(ctx, w.trainees[0], w.cohort.ID, w.trainees[0].UserID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Cohort(ctx, w.facilitator, w.cohort.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Rules(ctx, w.cohort.ID); err != nil {
		t.Fatal(err)
	}
	log.Check(t, "progress")
}

// The grid's CSV puts an apostrophe before a name that a spreadsheet would take for a formula.
func TestGridCSV(t *testing.T) {
	w := newWorld(t, 2)
	g, err := w.svc.Cohort(context.Background(), w.facilitator, w.cohort.ID)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	names := map[string]string{w.trainees[0].UserID: "=HYPERLINK(\"http://x\")", w.trainees[1].UserID: "@Sam, -Jo"}
	if err := progress.WriteCSV(&b, g, names); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "Trainee,Rules met,At risk,Residential attendance,") {
		t.Fatalf("CSV:\n%s", b.String())
	}
	if !strings.HasPrefix(lines[1], `"'=HYPERLINK(""http://x"")",0 of 6,`) || !strings.HasPrefix(lines[2], `"'@Sam, -Jo",0 of 6,`) {
		t.Errorf("names not guarded:\n%s", b.String())
	}
}
