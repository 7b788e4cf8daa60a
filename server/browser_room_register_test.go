package server_test

import (
	"net/http"
	"net/url"
	"testing"

	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
)

// A facilitator whose session's room closed before the session's date reads, in a browser,
// the register the room gives and records it.
func TestBrowserRoomRegister(t *testing.T) {
	f := newFixture(t)
	cohort := f.demoCohort(t)
	session := dialogueSession(t, f, cohort.ID, false)
	path := "/rooms/" + cohort.ID + "/" + session
	facil, _, _ := openWithTrainee(t, f, path)
	if res, _ := facil.do("POST", path+"/close", url.Values{"csrf": {facil.csrf}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("close: %d", res.StatusCode)
	}

	b := browsertest.New(t).NewIsolatedTab()
	signInAs(t, f, b, accounts.RoleFacilitator)
	b.Navigate(f.ts.URL + path)
	b.Click("#room-register-link")
	wantPath(t, b, f.ts.URL, path+"/register")
	wantText(t, b, "#not-yet", "so the register was not taken when the room closed")
	wantText(t, b, "#room-register", f.byRole[accounts.RoleTrainee].Name)
	wantText(t, b, "#room-register", "In the dialogue room for")
	wantText(t, b, "#room-register", "Not in the dialogue room")
	b.AssertNoAxeViolations(t)
	screenshot(b, "room-register")
	b.Submit("#record-register")
	wantPath(t, b, f.ts.URL, "/cohorts/"+cohort.ID+"/register/"+session)
	wantText(t, b, ".nhsuk-inset-text", "The register marks 1 trainee present")
}
