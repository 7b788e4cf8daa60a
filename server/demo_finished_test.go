package server_test

import (
	"context"
	"testing"
	"time"

	"polyphony/assessment"
	"polyphony/assessment/marking"
	"polyphony/courses"
	"polyphony/courses/award"
	"polyphony/courses/progress"
	"polyphony/internal/accounts"
	"polyphony/internal/demo"
)

// TestDemoFinished seeds the finished demo cohort twice through the server's own stores:
// Erin is eligible, with every rule met through the real records (the assessed piece among
// them, released as a pass); Ada is eligible and awarded by the exam board, with a
// certificate whose code verifies; Dev is deferred for his supervision; and the second run,
// and a third months later, add no account, board, decision, attempt or award.
func TestDemoFinished(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st := demo.Stores{Users: f.accounts.Users, Courses: f.courses, Journals: f.journals, Tests: f.assessments, Marking: f.marking, Boards: f.boards}
	var logins []demo.Login
	for range 2 {
		var err error
		if logins, err = demo.SeedFinished(ctx, st, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	// A run long after, when the programme's first weeks are more than the year back that a
	// log accepts, finds everything made and makes nothing.
	later := time.Now().AddDate(0, 5, 0)
	f.journals.SetClock(func() time.Time { return later })
	if _, err := demo.SeedFinished(ctx, st, later); err != nil {
		t.Errorf("a run five months later: %v", err)
	}
	f.journals.SetClock(time.Now)
	if len(logins) != 3 {
		t.Errorf("logins %+v, want the three trainees", logins)
	}
	co, err := f.courses.CohortByName(ctx, demo.FinishedCohortName)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.courses.Programme(ctx, co.ID)
	if err != nil {
		t.Fatal(err)
	}
	if last := p.Modules[len(p.Modules)-1].End; !last.Before(time.Now()) {
		t.Errorf("the finished programme ends %s, want it over", last)
	}
	admin := courses.Viewer{UserID: f.userID(t, "admin@polyphony.example"), Role: accounts.RoleAdmin}
	erin, ada, dev := f.userID(t, "eligible@polyphony.example"), f.userID(t, "awarded@polyphony.example"), f.userID(t, "deferred@polyphony.example")
	for _, id := range []string{erin, ada} {
		pr, err := f.progress.Trainee(ctx, admin, co.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if !pr.Eligible() || len(pr.Results) != len(progress.Kinds) {
			t.Errorf("%s is not eligible: %+v", id, pr.Results)
		}
		if r, _ := pr.Result(progress.KindPieces); r.Count != 1 || r.Need != 1 {
			t.Errorf("%s's assessed pieces: %+v, want the one piece passed", id, r)
		}
	}
	pr, err := f.progress.Trainee(ctx, admin, co.ID, dev)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := pr.Result(progress.KindSupervision); pr.Eligible() || r.State == progress.Met || pr.Met != len(pr.Results)-1 {
		t.Errorf("Dev: %d of %d met, supervision %+v; want everything but supervision", pr.Met, len(pr.Results), r)
	}

	boards, err := f.boards.ForCohort(ctx, admin, co.ID)
	if err != nil || len(boards) != 1 {
		t.Fatalf("boards %+v, %v; want one after two runs", boards, err)
	}
	v, err := f.boards.View(ctx, admin, boards[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{erin: "", ada: award.Awarded, dev: award.Deferred}
	for _, c := range v.Candidates {
		got := ""
		if c.Current != nil {
			got = c.Current.Outcome
		}
		if w, ok := want[c.UserID]; ok && (got != w || len(c.History) > 1) {
			t.Errorf("%s on the board: %q with %d decisions, want %q once", c.Name, got, len(c.History), w)
		}
		if c.UserID == erin && !c.Eligible {
			t.Errorf("Erin is not listed as eligible: %+v", c.Missing)
		}
	}
	awards, err := f.awards.ForUser(ctx, ada)
	if err != nil || len(awards) != 1 {
		t.Fatalf("Ada's awards %+v, %v; want one", awards, err)
	}
	if ver, err := f.awards.Verify(ctx, awards[0].Code, "demo-test"); err != nil || ver.ShownName != "Ada Awarded" {
		t.Errorf("Ada's code verifies as %+v, %v", ver, err)
	}
	if awards, _ := f.awards.ForUser(ctx, erin); len(awards) != 0 {
		t.Errorf("Erin has awards %+v before a board decides", awards)
	}

	// One attempt at the knowledge test each, and one submission of the piece, released.
	for _, id := range []string{erin, ada, dev} {
		sub, err := f.marking.Submission(ctx, marking.Actor{UserID: admin.UserID, Role: accounts.RoleAdmin}, pieceOf(t, f, co.ID), id)
		if err != nil || sub.Attempt != 1 {
			t.Errorf("%s's submission: attempt %d, %v; want one", id, sub.Attempt, err)
		}
	}
	tests, err := f.assessments.AssessmentInfos(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range tests {
		if a.CohortID != co.ID {
			continue
		}
		rs, err := f.assessments.Results(ctx, assessment.Actor{ID: admin.UserID, Role: accounts.RoleAdmin}, a.ID, assessment.PickBest)
		if err != nil || len(rs) != 3 {
			t.Fatalf("results of %s: %+v, %v; want the three trainees'", a.Title, rs, err)
		}
		for _, r := range rs {
			if r.Attempts != 1 || r.Passed == nil || !*r.Passed {
				t.Errorf("%s's attempts at %s: %d, passed %v; want one, passed", r.UserID, a.Title, r.Attempts, r.Passed)
			}
		}
	}
}

// pieceOf is the id of the cohort's one assessed piece.
func pieceOf(t *testing.T, f *fixture, cohortID string) string {
	t.Helper()
	ps, err := f.marking.Pieces(context.Background(), marking.Actor{UserID: "demo-test", Role: accounts.RoleAdmin}, cohortID)
	if err != nil || len(ps) != 1 {
		t.Fatalf("pieces %+v, %v; want one", ps, err)
	}
	return ps[0].ID
}
