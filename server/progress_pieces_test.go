package server_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"polyphony/assessment/marking"
	"polyphony/courses"
	"polyphony/courses/progress"
	"polyphony/internal/accounts"
)

// markAllAt saves and submits the marker's marking of a submission with every criterion of
// the seven principles at the level.
func markAllAt(t *testing.T, st *marking.Store, marker marking.Actor, ref, level string) {
	t.Helper()
	ctx := context.Background()
	var in marking.MarkInput
	for _, c := range marking.SevenPrinciplesRubric().Criteria {
		in.Levels = append(in.Levels, marking.CriterionMark{CriterionID: c.ID, LevelID: level})
	}
	in.Feedback = "Feedback meant for the trainee"
	m, err := st.SaveDraft(ctx, marker, ref, 0, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SubmitMark(ctx, marker, ref, m.Version); err != nil {
		t.Fatal(err)
	}
}

// TestProgressReadsAssessedPieces follows the demo cohort's assessed work into its trainees'
// progress through the real stores: submitted and agreed but not released is "not yet";
// released as a pass is "met", on the trainee's page too; released as referred is "at risk";
// and a second piece past its due date and not submitted puts a trainee at risk again. The
// progress page shows the outcome and never a mark or the marker's feedback.
func TestProgressReadsAssessedPieces(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	co := f.demoCohort(t)
	taraID, patID := f.userID(t, "trainee@polyphony.example"), f.userID(t, "peer@polyphony.example")
	adminID, ashID := f.userID(t, "admin@polyphony.example"), f.userID(t, "assessor@polyphony.example")
	admin := marking.Actor{UserID: adminID, Role: accounts.RoleAdmin}
	ash := marking.Actor{UserID: ashID, Role: accounts.RoleAssessor, CohortIDs: []string{co.ID}}
	in := marking.PieceInput{Title: "Reflective account", Due: time.Now().Add(14 * 24 * time.Hour),
		Accepts: marking.Accepts{Entries: true}, RubricID: marking.SevenPrinciplesRubricID, Scheme: marking.SchemeSingle}
	p, err := f.marking.CreatePiece(ctx, admin, co.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{taraID, patID} {
		tr := marking.Actor{UserID: id, Role: accounts.RoleTrainee, CohortIDs: []string{co.ID}}
		sub, err := f.marking.Submit(ctx, tr, p.ID, marking.Items{Entries: []marking.EntryItem{{EntryID: "entry-" + id, Version: 1, Title: "A meeting"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.marking.Allocate(ctx, admin, sub.ID, []string{ashID}); err != nil {
			t.Fatal(err)
		}
	}
	result := func(id string) progress.Result {
		t.Helper()
		pr, err := f.progress.Trainee(ctx, courses.Viewer{UserID: adminID, Role: accounts.RoleAdmin}, co.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		r, ok := pr.Result(progress.KindPieces)
		if !ok {
			t.Fatal("no rule on assessed pieces")
		}
		return r
	}
	if r := result(taraID); r.State != progress.NotYet || len(r.Evidence) != 1 || r.Evidence[0].Path != "/marking/pieces/"+p.ID {
		t.Errorf("submitted, not marked: %+v, want not yet with the piece linked", r)
	}

	markAllAt(t, f.marking, ash, marking.SubmissionID(p.ID, taraID), "pass")
	markAllAt(t, f.marking, ash, marking.SubmissionID(p.ID, patID), "refer")
	if r := result(taraID); r.State != progress.NotYet || r.Count != 0 {
		t.Errorf("agreed as a pass, not released: %+v, want not yet", r)
	}
	if r := result(patID); r.State != progress.NotYet {
		t.Errorf("agreed as referred, not released: %+v, want not yet (nothing of it shows before release)", r)
	}

	if _, err := f.marking.Release(ctx, admin, p.ID, ""); err != nil {
		t.Fatal(err)
	}
	if r := result(taraID); r.State != progress.Met || r.Count != 1 {
		t.Errorf("released as a pass: %+v, want met", r)
	}
	trainee := f.signedIn(t, accounts.RoleTrainee)
	res, body := pageGet(trainee, "/progress")
	if res.StatusCode != http.StatusOK || !regexp.MustCompile(`id="state-pieces">Met<`).MatchString(body) || !strings.Contains(body, "agreed and released as a pass") {
		t.Errorf("Tara's page: %d, want the rule on assessed pieces met: %.300s", res.StatusCode, body[max(0, strings.Index(body, "state-pieces")-100):])
	}
	if strings.Contains(body, "Feedback meant for the trainee") || strings.Contains(body, "14 of 21") {
		t.Errorf("the progress page shows the marking itself")
	}
	if r := result(patID); r.State != progress.AtRisk || len(r.Reasons) != 1 || !strings.Contains(r.Reasons[0], "referred") {
		t.Errorf("released as referred: %+v, want at risk for the referral", r)
	}

	// A second piece, already past due, that Tara has not submitted.
	in.Title, in.Due = "Key elements", time.Now().Add(-24*time.Hour)
	if _, err := f.marking.CreatePiece(ctx, admin, co.ID, in); err != nil {
		t.Fatal(err)
	}
	if r := result(taraID); r.State != progress.AtRisk || r.Count != 1 || len(r.Reasons) != 1 || !strings.Contains(r.Reasons[0], "past due") {
		t.Errorf("a piece past due and not submitted: %+v, want at risk", r)
	}
}
