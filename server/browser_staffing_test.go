package server_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
	"polyphony/internal/demo"
)

// TestBrowserCohortStaffing staffs a new cohort on its page, as an administrator: the page
// warns that the rooms cannot open while it has fewer than two facilitators; the demo
// facilitator (who runs the demo cohort already) and a new one are added and the warning goes;
// a trainee, then a supervisor with that trainee ticked; the supervisor's trainees changed and
// a facilitator removed (the warning comes back); the demo trainee, a trainee of the demo
// cohort, is refused with the reason beside the field. The page fits a phone.
func TestBrowserCohortStaffing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	co, _, err := f.courses.CreateCohortFromTemplate(ctx, courses.NewCohort{Name: "Autumn cohort", StartDate: time.Now().AddDate(0, 2, 0)}, "test")
	if err != nil {
		t.Fatal(err)
	}
	person := func(email, name string, role accounts.Role) accounts.User {
		t.Helper()
		u, err := f.accounts.Users.Create(ctx, accounts.NewUser{Email: email, Name: name, Role: role, Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	fiona := person("fiona@nhs.example", "Fiona Facilitator", accounts.RoleFacilitator)
	tom := person("tom@nhs.example", "Tom Trainee", accounts.RoleTrainee)
	sid := person("sid@nhs.example", "Sid Supervisor", accounts.RoleSupervisor)

	b := browsertest.New(t)
	signInAs(t, f, b, accounts.RoleAdmin)
	path := "/cohorts/" + co.ID
	b.Navigate(f.ts.URL + path)
	wantText(t, b, "h1", "Autumn cohort")
	wantText(t, b, "#facilitator-warning", "This cohort has no facilitators: its dialogue rooms cannot open until it has two.")
	checkPage(t, b, "cohort-staffing-empty")

	add := func(email string) {
		t.Helper()
		b.Fill("#member-email", email)
		b.Submit("#add-member-button")
		wantPath(t, b, f.ts.URL, path)
	}
	add(f.byRole[accounts.RoleFacilitator].Email)
	wantNotice(t, b, "Added Fran Facilitator as a facilitator.")
	wantText(t, b, "#facilitator-warning", "This cohort has one facilitator: its dialogue rooms cannot open until it has two.")
	add(fiona.Email)
	wantNotice(t, b, "Added Fiona Facilitator as a facilitator.")
	if b.Exists("#facilitator-warning") {
		t.Errorf("with two facilitators the page still warns: %q", b.Text("#facilitator-warning"))
	}
	wantText(t, b, "#staff", "Fran Facilitator, Facilitator")
	wantText(t, b, "#staff", "Fiona Facilitator, Facilitator")

	add(tom.Email)
	wantNotice(t, b, "Added Tom Trainee as a trainee.")
	wantText(t, b, "#trainees", "Tom Trainee")

	// The supervisor, with Tom ticked in the add form.
	b.Fill("#member-email", sid.Email)
	b.Click(`label[for="add-supervises-` + tom.ID + `"]`)
	b.Submit("#add-member-button")
	wantNotice(t, b, "Added Sid Supervisor as a supervisor.")
	wantText(t, b, "#member-"+sid.ID, "Sid Supervisor, Supervisor: supervises Tom Trainee")
	var ticked bool
	b.Eval(`document.getElementById('supervises-`+sid.ID+`-`+tom.ID+`').checked`, &ticked)
	if !ticked {
		t.Error("Tom is not ticked in Sid's trainees")
	}
	checkPage(t, b, "cohort-staffed")

	// Tom untied from Sid, and Fiona removed: the warning is back.
	b.Click(`label[for="supervises-` + sid.ID + `-` + tom.ID + `"]`)
	b.Submit("#member-" + sid.ID + " form[action$='/members/" + sid.ID + "'] button")
	wantNotice(t, b, "Saved the trainees Sid Supervisor supervises.")
	wantText(t, b, "#member-"+sid.ID, "Sid Supervisor, Supervisor: supervises no trainee yet")
	b.Submit("#member-" + fiona.ID + " form[action$='/remove'] button")
	wantNotice(t, b, "Removed Fiona Facilitator from the cohort.")
	wantText(t, b, "#facilitator-warning", "This cohort has one facilitator")
	if b.Exists("#member-" + fiona.ID) {
		t.Error("Fiona is still listed after her removal")
	}
	// Sid supervises Tom again, from his own form.
	b.Click(`label[for="supervises-` + sid.ID + `-` + tom.ID + `"]`)
	b.Submit("#member-" + sid.ID + " form[action$='/members/" + sid.ID + "'] button")
	wantText(t, b, "#member-"+sid.ID, "supervises Tom Trainee")

	// A trainee of another cohort is refused, saying why.
	b.Fill("#member-email", f.byRole[accounts.RoleTrainee].Email)
	b.Submit("#add-member-button")
	if b.Status() != 400 {
		t.Errorf("adding a trainee of the demo cohort answered %d, want 400", b.Status())
	}
	wantErrorSummary(t, b, "This person is a trainee in "+demo.CohortName, "member-email")
	wantText(t, b, "#member-email-error", "a trainee is in one cohort at a time")
	if got := b.Value("#member-email"); got != f.byRole[accounts.RoleTrainee].Email {
		t.Errorf("the refused form shows %q, want what was typed", got)
	}
	b.AssertNoAxeViolations(t)

	// What the page did is what the store holds: Fran runs both cohorts, Sid supervises Tom.
	if ms, err := f.courses.MembershipsOf(ctx, f.userID(t, f.byRole[accounts.RoleFacilitator].Email)); err != nil || len(ms) != 2 {
		t.Errorf("Fran's memberships: %+v, %v; want the demo cohort and this one", ms, err)
	}
	if m, err := f.courses.Member(ctx, co.ID, sid.ID); err != nil || !slices.Equal(m.Supervises, []string{tom.ID}) {
		t.Errorf("Sid's membership: %+v, %v; want Tom supervised", m, err)
	}

	fitsPhone(t, b, f.ts.URL, phonePage{path, "phone-cohort-staffing"})
}
