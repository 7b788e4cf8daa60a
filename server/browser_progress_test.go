package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
	"polyphony/internal/demo"
)

// TestBrowserProgress follows the demo's progress in the browser: Tara's own page, then the
// facilitator's grid sorted and filtered to those at risk with its form (which needs no
// JavaScript), and Pat's page from the grid; each checked with axe-core and on a phone.
func TestBrowserProgress(t *testing.T) {
	f := newFixture(t)
	if err := demo.SeedProgress(context.Background(), f.accounts.Users, f.courses, f.journals, time.Now()); err != nil {
		t.Fatal(err)
	}
	co := f.demoCohort(t)
	browser := browsertest.New(t)

	tara := browser.NewIsolatedTab().For(t)
	signInAs(t, f, tara, accounts.RoleTrainee)
	tara.ClickHeaderLink("/progress")
	wantPath(t, tara, f.ts.URL, "/progress")
	wantText(t, tara, "h1", "Your progress towards the award")
	wantText(t, tara, "#state-residential", "Not yet")
	wantText(t, tara, "#summary-residential", "present of the 18 needed")
	if !tara.Exists(`#evidence-residential a[href="/schedule#occasion-module-1-day-1"]`) {
		t.Error("the residential days' evidence does not link to the schedule")
	}
	wantText(t, tara, "#next-steps", "Residential attendance: Attend Module 3, day 1")
	checkPage(t, tara, "progress-trainee")
	fitsPhone(t, tara, f.ts.URL, phonePage{"/progress", "progress-trainee-phone"})

	fran := browser.NewIsolatedTab().For(t)
	signInAs(t, f, fran, accounts.RoleFacilitator)
	fran.Navigate(f.ts.URL + "/cohorts/" + co.ID)
	fran.ClickAndWait("#cohort-progress")
	wantPath(t, fran, f.ts.URL, "/cohorts/"+co.ID+"/progress")
	wantText(t, fran, "#grid-count", "2 of 2 trainee(s) shown")
	checkPage(t, fran, "progress-grid")
	fran.Click("#show")
	fran.Submit("#grid-form")
	if !strings.Contains(fran.URL(), "show=at-risk") {
		t.Fatalf("the filter went to %s", fran.URL())
	}
	wantText(t, fran, "#grid-count", "1 of 2 trainee(s) shown")
	wantText(t, fran, "#progress-grid", "Pat Peer")
	if strings.Contains(fran.Text("#progress-grid"), "Tara Trainee") {
		t.Error("Tara is shown among those at risk")
	}
	fitsPhone(t, fran, f.ts.URL, phonePage{"/cohorts/" + co.ID + "/progress", "progress-grid-phone"})
	fran.Navigate(f.ts.URL + "/cohorts/" + co.ID + "/progress?show=at-risk")
	fran.ClickAndWait("#progress-grid th a")
	wantText(t, fran, "h1", "Progress of Pat Peer")
	wantText(t, fran, "#state-dialogue", "At risk")
	wantText(t, fran, "#reasons-dialogue", "The last two sessions were both missed.")
	checkPage(t, fran, "progress-staff")
}
