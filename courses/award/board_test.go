package award_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"polyphony/assessment"
	"polyphony/courses"
	"polyphony/courses/award"
	"polyphony/courses/progress"
	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
	"polyphony/internal/pdftest"
)

// boardWorld is a cohort whose programme is over, with two trainees and the rule that a
// trainee is present on at least one residential day; Ada was present on the first day and
// Ben absent, so Ada is eligible and Ben is not.
type boardWorld struct {
	t        *testing.T
	store    *courses.Store
	svc      *progress.Service
	awards   *award.Store
	boards   *award.Boards
	cohort   courses.Cohort
	prog     courses.Programme
	admin    courses.Viewer
	ada, ben string
}

func newBoardWorld(t *testing.T, db *database.DB) *boardWorld {
	t.Helper()
	ctx := context.Background()
	w := &boardWorld{t: t, admin: courses.Viewer{UserID: "admin-1", Role: accounts.RoleAdmin}, ada: "ada", ben: "ben"}
	var err error
	if w.store, err = courses.NewStore(ctx, db); err != nil {
		t.Fatal(err)
	}
	pages := func(context.Context, string) (bool, error) { return true, nil }
	js, err := courses.NewJournals(ctx, db, w.store, courses.JournalOptions{PageExists: pages})
	if err != nil {
		t.Fatal(err)
	}
	tests, err := assessment.NewStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if w.svc, err = progress.New(ctx, db, w.store, js, tests, nil); err != nil {
		t.Fatal(err)
	}
	if w.awards, err = award.NewStore(ctx, db, award.Options{}); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{"ada": "Ada Lovelace", "ben": "=Ben Jonson"}
	if w.boards, err = award.NewBoards(ctx, db, w.awards, w.svc, award.BoardOptions{Names: func(_ context.Context, id string) string { return names[id] }}); err != nil {
		t.Fatal(err)
	}
	if w.cohort, w.prog, err = w.store.CreateCohortFromTemplate(ctx, courses.NewCohort{Name: fmt.Sprint("Board ", time.Now().UnixNano()), StartDate: time.Now().AddDate(0, 0, -300)}, "admin-1"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{w.ada, w.ben} {
		if _, err := w.store.Enrol(ctx, w.cohort.ID, id, accounts.RoleTrainee); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.svc.SaveRules(ctx, progress.Rules{CohortID: w.cohort.ID, Rules: []progress.Rule{{Kind: progress.KindResidential, Days: 1}}}, 0, "admin-1"); err != nil {
		t.Fatal(err)
	}
	first := w.prog.Occasions()[0]
	if err := w.store.TakeRegister(ctx, w.cohort.ID, first.ID, []courses.AttendanceEntry{{UserID: w.ada, Mark: courses.Present}, {UserID: w.ben, Mark: courses.Absent}}, "fac-1"); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *boardWorld) candidate(v award.BoardView, id string) award.Candidate {
	w.t.Helper()
	for _, c := range v.Candidates {
		if c.UserID == id {
			return c
		}
	}
	w.t.Fatalf("no candidate %s on the board: %+v", id, v.Candidates)
	return award.Candidate{}
}

func (w *boardWorld) view(id string) award.BoardView {
	w.t.Helper()
	v, err := w.boards.View(context.Background(), w.admin, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return v
}

// TestBoardDecidesEachTrainee opens a board, awards the eligible trainee, refuses to award
// the other, defers them with what is outstanding, supersedes a decision keeping the
// history, and has a later board award the deferred trainee once the register changes.
func TestBoardDecidesEachTrainee(t *testing.T) {
	ctx := context.Background()
	w := newBoardWorld(t, dbtest.New(t))
	day := time.Now().UTC()
	bd, err := w.boards.Open(ctx, w.admin, w.cohort.ID, day)
	if err != nil {
		t.Fatal(err)
	}
	if bd.RulesVersion != 1 || bd.CohortID != w.cohort.ID || bd.OpenedBy != "admin-1" {
		t.Fatalf("opened %+v", bd)
	}
	v := w.view(bd.ID)
	ada, ben := w.candidate(v, w.ada), w.candidate(v, w.ben)
	if !ada.Eligible || ben.Eligible || len(ben.Missing) != 1 || !strings.HasPrefix(ben.Missing[0], "Residential attendance") || ada.Name != "Ada Lovelace" {
		t.Fatalf("before deciding: Ada %+v, Ben %+v", ada, ben)
	}

	// Ben cannot be awarded; the form's fields are named.
	_, err = w.boards.Decide(ctx, w.admin, bd.ID, award.DecisionInput{UserID: w.ben, Outcome: award.Awarded})
	if p := failure.Invalids(err); len(p) != 1 || p[0].Field != "outcome" {
		t.Fatalf("award Ben, who misses a rule: %v", err)
	}
	_, err = w.boards.Decide(ctx, w.admin, bd.ID, award.DecisionInput{UserID: w.ben, Outcome: award.Deferred, Until: day.AddDate(0, 0, -1)})
	if got := fields(err); got != "outstanding until reason" {
		t.Fatalf("defer without the facts: %v (fields %q)", err, got)
	}
	_, err = w.boards.Decide(ctx, w.admin, bd.ID, award.DecisionInput{UserID: "nobody", Outcome: award.NotAwarded, Reason: "x"})
	if got := fields(err); got != "userId" {
		t.Fatalf("decide on someone not in the cohort: %v", err)
	}
	if _, err := w.boards.Decide(ctx, w.admin, bd.ID, award.DecisionInput{UserID: w.ben, Outcome: "maybe"}); fields(err) != "outcome" {
		t.Fatalf("an unknown outcome: %v", err)
	}

	d, err := w.boards.Decide(ctx, w.admin, bd.ID, award.DecisionInput{UserID: w.ada, Outcome: award.Awarded})
	if err != nil {
		t.Fatal(err)
	}
	a, err := w.awards.ByID(ctx, d.AwardID)
	if err != nil || a.BoardID != bd.ID || a.RulesVersion != 1 || a.UserID != w.ada || a.ShownName != "Ada Lovelace" || a.Status != award.Valid {
		t.Fatalf("Ada's award %+v %v", a, err)
	}
	if _, err := w.boards.Decide(ctx, w.admin, bd.ID, award.DecisionInput{UserID: w.ada, Outcome: award.NotAwarded, Reason: "Changed our minds"}); !errors.Is(err, failure.ErrConflict) {
		t.Fatalf("a decision after the award: %v", err)
	}
	if _, err := w.boards.Decide(ctx, w.admin, bd.ID, award.DecisionInput{UserID: w.ben, Outcome: award.NotAwarded, Reason: "Absent throughout"}); err != nil {
		t.Fatal(err)
	}
	until := day.AddDate(0, 2, 0)
	if _, err := w.boards.Decide(ctx, w.admin, bd.ID, award.DecisionInput{UserID: w.ben, Outcome: award.Deferred, Reason: "Illness, agreed", Outstanding: "A residential day", Until: until}); err != nil {
		t.Fatal(err)
	}
	v = w.view(bd.ID)
	ben = w.candidate(v, w.ben)
	if len(ben.History) != 2 || ben.History[0].Outcome != award.NotAwarded || ben.Current == nil || ben.Current.Outcome != award.Deferred ||
		ben.Current.Outstanding != "A residential day" || ben.Current.Reason != "Illness, agreed" || ben.Current.DecidedBy != "admin-1" || ben.Current.Eligible {
		t.Fatalf("Ben after two decisions: %+v", ben)
	}
	if ada = w.candidate(v, w.ada); ada.Award == nil || ada.Current.Outcome != award.Awarded || len(ada.Current.Evidence) != 1 || ada.Current.Evidence[0].State != "met" {
		t.Fatalf("Ada after the award: %+v", ada)
	}

	// Ben attends a later day; a later board awards him.
	second := w.prog.Occasions()[1]
	if err := w.store.TakeRegister(ctx, w.cohort.ID, second.ID, []courses.AttendanceEntry{{UserID: w.ben, Mark: courses.Present}}, "fac-1"); err != nil {
		t.Fatal(err)
	}
	later, err := w.boards.Open(ctx, w.admin, w.cohort.ID, day.AddDate(0, 2, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !w.candidate(w.view(later.ID), w.ben).Eligible {
		t.Fatal("Ben is not eligible at the later board")
	}
	if _, err := w.boards.Decide(ctx, w.admin, later.ID, award.DecisionInput{UserID: w.ben, Outcome: award.Awarded}); err != nil {
		t.Fatal(err)
	}
	list, err := w.boards.ForCohort(ctx, w.admin, w.cohort.ID)
	if err != nil || len(list) != 2 || list[0].ID != later.ID {
		t.Fatalf("the cohort's boards %+v %v, want the later first", list, err)
	}
	// The first board's record of Ben still says deferred.
	if c := w.candidate(w.view(bd.ID), w.ben); c.Current.Outcome != award.Deferred {
		t.Errorf("the first board's decision for Ben became %s", c.Current.Outcome)
	}

	// Rules changed after a board opened: it decides nothing more.
	if _, err := w.svc.SaveRules(ctx, progress.Rules{CohortID: w.cohort.ID, Rules: []progress.Rule{{Kind: progress.KindResidential, Days: 2}}}, 1, "admin-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.boards.Decide(ctx, w.admin, bd.ID, award.DecisionInput{UserID: w.ben, Outcome: award.NotAwarded, Reason: "x"}); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("deciding under changed rules: %v", err)
	}
}

func fields(err error) string {
	var out []string
	for _, p := range failure.Invalids(err) {
		out = append(out, p.Field)
	}
	return strings.Join(out, " ")
}

// TestBoardsAreForAdministrators: everyone else is refused every request, and a revocation
// needs a reason and keeps the award, revoked.
func TestBoardsAreForAdministrators(t *testing.T) {
	ctx := context.Background()
	w := newBoardWorld(t, dbtest.New(t))
	bd, err := w.boards.Open(ctx, w.admin, w.cohort.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.boards.Open(ctx, w.admin, w.cohort.ID, time.Time{}); fields(err) != "date" {
		t.Errorf("a board without a date: %v", err)
	}
	if _, err := w.boards.Open(ctx, w.admin, "no-such-cohort", time.Now()); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("a board for no cohort: %v", err)
	}
	for _, role := range []accounts.Role{accounts.RoleFacilitator, accounts.RoleSupervisor, accounts.RoleTrainee, accounts.RoleAssessor} {
		v := courses.Viewer{UserID: "someone", Role: role}
		if _, err := w.boards.Open(ctx, v, w.cohort.ID, time.Now()); !errors.Is(err, failure.ErrForbidden) {
			t.Errorf("%s opens a board: %v", role, err)
		}
		if _, err := w.boards.View(ctx, v, bd.ID); !errors.Is(err, failure.ErrForbidden) {
			t.Errorf("%s reads a board: %v", role, err)
		}
		if _, err := w.boards.ForCohort(ctx, v, w.cohort.ID); !errors.Is(err, failure.ErrForbidden) {
			t.Errorf("%s lists boards: %v", role, err)
		}
		if _, err := w.boards.Decide(ctx, v, bd.ID, award.DecisionInput{UserID: w.ada, Outcome: award.Awarded}); !errors.Is(err, failure.ErrForbidden) {
			t.Errorf("%s decides: %v", role, err)
		}
		if _, err := w.boards.Revoke(ctx, v, "x", "reason"); !errors.Is(err, failure.ErrForbidden) {
			t.Errorf("%s revokes: %v", role, err)
		}
	}
	d, err := w.boards.Decide(ctx, w.admin, bd.ID, award.DecisionInput{UserID: w.ada, Outcome: award.Awarded})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.boards.Revoke(ctx, w.admin, d.AwardID, " "); fields(err) != "reason" {
		t.Errorf("revoke without a reason: %v", err)
	}
	a, err := w.boards.Revoke(ctx, w.admin, d.AwardID, "Plagiarism found")
	if err != nil || a.Status != award.Revoked || a.Revoked.By != "admin-1" {
		t.Fatalf("revoked %+v %v", a, err)
	}
	if c := w.candidate(w.view(bd.ID), w.ada); c.Award == nil || c.Award.Status != award.Revoked {
		t.Errorf("the board shows Ada's award as %+v", c.Award)
	}
}

// TestBoardRequestsReadByIDOnly runs every request of the boards (opening, listing, the
// board's view, deciding each outcome, revoking) and checks that each read, update and
// delete of the boards' and awards' collections is by _id alone.
func TestBoardRequestsReadByIDOnly(t *testing.T) {
	ctx := context.Background()
	log := dbtest.NewFilterLog("exam_board", "award")
	w := newBoardWorld(t, dbtest.NewLogged(t, log))
	log.Record(true)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	bd, err := w.boards.Open(ctx, w.admin, w.cohort.ID, time.Now())
	must("open", err)
	_, err = w.boards.ForCohort(ctx, w.admin, w.cohort.ID)
	must("list", err)
	w.view(bd.ID)
	d, err := w.boards.Decide(ctx, w.admin, bd.ID, award.DecisionInput{UserID: w.ada, Outcome: award.Awarded})
	must("award", err)
	_, err = w.boards.Decide(ctx, w.admin, bd.ID, award.DecisionInput{UserID: w.ben, Outcome: award.Deferred, Reason: "r", Outstanding: "o", Until: time.Now().AddDate(0, 1, 0)})
	must("defer", err)
	_, err = w.boards.Decide(ctx, w.admin, bd.ID, award.DecisionInput{UserID: w.ben, Outcome: award.NotAwarded, Reason: "r"})
	must("not award", err)
	w.view(bd.ID)
	_, err = w.boards.Revoke(ctx, w.admin, d.AwardID, "reason")
	must("revoke", err)
	log.Check(t, "an exam board request")
}

// TestBoardRecordExports writes a board's record as CSV, guarded against formulas, and as
// the PDF of the minutes, read back with pdftotext; and a trainee's training record.
func TestBoardRecordExports(t *testing.T) {
	ctx := context.Background()
	w := newBoardWorld(t, dbtest.New(t))
	bd, err := w.boards.Open(ctx, w.admin, w.cohort.ID, time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.boards.Decide(ctx, w.admin, bd.ID, award.DecisionInput{UserID: w.ada, Outcome: award.Awarded}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []award.DecisionInput{
		{UserID: w.ben, Outcome: award.NotAwarded, Reason: "@SUM(A1) absent"},
		{UserID: w.ben, Outcome: award.Deferred, Reason: "Illness", Outstanding: "+1 residential day", Until: time.Date(2027, 9, 30, 0, 0, 0, 0, time.UTC)},
	} {
		if _, err := w.boards.Decide(ctx, w.admin, bd.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	v := w.view(bd.ID)
	var b strings.Builder
	if err := w.boards.WriteBoardCSV(ctx, &b, v); err != nil {
		t.Fatal(err)
	}
	csv := b.String()
	for _, want := range []string{"Ada Lovelace,yes,Awarded,yes,", "'=Ben Jonson,no,Not awarded,no,'@SUM(A1) absent", "'=Ben Jonson,no,Deferred,yes,Illness,'+1 residential day,2027-09-30", ",1,", "Residential attendance: met (1 day present of the 1 needed"} {
		if !strings.Contains(csv, want) {
			t.Errorf("the CSV lacks %q:\n%s", want, csv)
		}
	}
	if strings.Contains(csv, ",=Ben") || strings.Contains(csv, ",@SUM") || strings.Contains(csv, ",+1") {
		t.Errorf("a cell of the CSV starts like a formula:\n%s", csv)
	}
	pdf, err := w.boards.BoardMinutes(ctx, v, "Cohort North")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(pdftest.Text(t, pdf)), " ")
	for _, want := range []string{"Exam board: Cohort North", "Sat on 1 July 2027 under version 1 of the cohort's award rules",
		"2 trainees: 1 awarded, 1 deferred, 0 not awarded, 0 without a decision", "Ada Lovelace", "Decision: Awarded",
		"Decision: Deferred", "Reason: Illness", "Outstanding: +1 residential day, by 30 September 2027", "Superseded:",
		"Not awarded on", "Residential attendance: met", "valid"} {
		if !strings.Contains(text, want) {
			t.Errorf("the minutes lack %q:\n%s", want, text)
		}
	}

	p, err := w.svc.Trainee(ctx, w.admin, w.cohort.ID, w.ada)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := w.awards.ForUser(ctx, w.ada)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := award.TrainingRecord("Ada Lovelace", "Cohort North", p, mine)
	if err != nil {
		t.Fatal(err)
	}
	text = strings.Join(strings.Fields(pdftest.Text(t, rec)), " ")
	first := w.prog.Occasions()[0]
	for _, want := range []string{"Training record", "Trainee: Ada Lovelace", "Cohort: Cohort North", "Residential attendance",
		"Standing: met — 1 day present of the 1 needed", first.Title, "present — counts", "Awards", mine[0].Code} {
		if !strings.Contains(text, want) {
			t.Errorf("the training record lacks %q:\n%s", want, text)
		}
	}
}
