package notify

import (
	"context"
	"testing"
	"time"

	"polyphony/assessment"
	"polyphony/courses"
	"polyphony/courses/progress"
	"polyphony/internal/accounts"
	"polyphony/internal/dbtest"
	"polyphony/internal/mail"
)

// The weekly email of trainees at risk goes once a week, from Monday at 8am, to each
// facilitator of the cohort who turned it on, and only while someone is at risk.
func TestAtRiskWeekly(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	q, err := mail.New(ctx, db, mail.Config{PublicURL: "https://polyphony.example"})
	if err != nil {
		t.Fatal(err)
	}
	users, err := accounts.NewUsers(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	store, err := courses.NewStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	journals, err := courses.NewJournals(ctx, db, store, courses.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests, err := assessment.NewStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	awards, err := progress.New(ctx, db, store, journals, tests, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(ctx, db, q, users, store, tests, Config{PublicURL: "https://polyphony.example", Audience: journals.AudienceOf, Progress: awards})
	if err != nil {
		t.Fatal(err)
	}
	co, p, err := store.CreateCohortFromTemplate(ctx, courses.NewCohort{Name: "North 2027", StartDate: time.Now().AddDate(0, 0, -7*14)}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	person := func(email string, role accounts.Role) string {
		t.Helper()
		u, err := users.Create(ctx, accounts.NewUser{Email: email, Name: email, Role: role, Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Enrol(ctx, co.ID, u.ID, role); err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	trainee := person("tara@trust.example", accounts.RoleTrainee)
	chose := person("fran@trust.example", accounts.RoleFacilitator)
	person("femi@trust.example", accounts.RoleFacilitator) // never turns it on
	if err := q.SetPreferences(ctx, chose, nil); err != nil {
		t.Fatal(err)
	}
	// Only the dialogue sessions count, so that nothing but the registers puts anyone at risk.
	if _, err := awards.SaveRules(ctx, progress.Rules{CohortID: co.ID, Rules: []progress.Rule{{Kind: progress.KindDialogue, Sessions: 2}}}, 0, "admin"); err != nil {
		t.Fatal(err)
	}
	// A Monday at 9am in the programme, and the Sunday before it.
	monday := time.Now().In(london)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, -1)
	}
	monday = time.Date(monday.Year(), monday.Month(), monday.Day(), 9, 0, 0, 0, london)
	if k, err := n.AtRiskWeekly(ctx, monday); err != nil || k != 0 {
		t.Errorf("nobody at risk: %d emails, %v", k, err)
	}
	// Two dialogue sessions in a row missed put the trainee at risk; next week's email tells.
	var held []courses.Occasion
	for _, o := range p.Occasions() {
		if o.Kind == courses.OccasionDialogue && o.Date.Before(time.Now()) {
			held = append(held, o)
		}
	}
	for _, o := range held[len(held)-2:] {
		if err := store.TakeRegister(ctx, co.ID, o.ID, []courses.AttendanceEntry{{UserID: trainee, Mark: courses.Absent}}, chose); err != nil {
			t.Fatal(err)
		}
	}
	next := monday.AddDate(0, 0, 7)
	if k, err := n.AtRiskWeekly(ctx, next.Add(-2*time.Hour)); err != nil || k != 0 {
		t.Errorf("before 8am on Monday: %d emails, %v", k, err)
	}
	if k, err := n.AtRiskWeekly(ctx, next); err != nil || k != 1 {
		t.Errorf("a trainee at risk: %d emails, %v; want 1, to the facilitator who turned it on", k, err)
	}
	// The email lists who, with the rule at risk and why.
	atRisk, err := awards.AtRisk(ctx, co.ID)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := n.atRiskLines(ctx, atRisk)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || lines[0] != "tara@trust.example: "+progress.KindDialogue.Title()+", at risk (The last two sessions were both missed)" {
		t.Errorf("the email's lines: %q; want Tara with the dialogue sessions at risk and why", lines)
	}
	if k, err := n.AtRiskWeekly(ctx, next.Add(26*time.Hour)); err != nil || k != 0 {
		t.Errorf("again in the same week: %d emails, %v", k, err)
	}
	if k, err := n.AtRiskWeekly(ctx, next.AddDate(0, 0, 7)); err != nil || k != 1 {
		t.Errorf("the week after: %d emails, %v; want 1", k, err)
	}
}
