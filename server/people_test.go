package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"polyphony/internal/accounts"
)

// An administrator edits a person on their page, disables the account with a reason, and
// finds both in the log of changes, with the values before and after.
func TestEditPersonAndReadTheAuditLog(t *testing.T) {
	f := newFixture(t)
	admin := f.client(t)
	al := f.byRole[accounts.RoleAdmin]
	if code := signInPage(t, admin, al.Email, al.Password); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	trainee := f.byRole[accounts.RoleTrainee]
	u, err := f.accounts.Users.ByEmail(t.Context(), trainee.Email)
	if err != nil {
		t.Fatal(err)
	}
	page := "/admin/people/" + u.ID
	tok := formToken(t, admin, page)
	post := func(path string, v url.Values) (*http.Response, string) {
		v.Set("csrf", tok)
		res, body := admin.do("POST", path, v)
		return res, string(body)
	}
	// Another account's address is refused in the form's words.
	taken := f.byRole[accounts.RoleFacilitator].Email
	res, body := post(page, url.Values{"name": {u.Name}, "email": {taken}, "role": {"trainee"}, "version": {"0"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Another account has the email address") {
		t.Errorf("a taken address: %d", res.StatusCode)
	}
	res, _ = post(page, url.Values{"name": {"Renamed Trainee"}, "email": {"renamed@nhs.example"}, "role": {"trainee"}, "peerWorker": {"yes"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", res.StatusCode)
	}
	if code := signInPage(t, f.client(t), "renamed@nhs.example", trainee.Password); code != http.StatusSeeOther {
		t.Errorf("sign in with the new address: %d", code)
	}
	res, _ = post(page+"/disable", url.Values{"from": {"person"}, "reason": {"On leave until May"}})
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, page+"?done=") {
		t.Fatalf("disable from the person's page: %d %s", res.StatusCode, loc)
	}
	_, pageBody := admin.do("GET", page, nil)
	for _, want := range []string{"Disabled: On leave until May", "Renamed Trainee", "Changes to this person", "Account disabled", "Person edited"} {
		if !strings.Contains(string(pageBody), want) {
			t.Errorf("the person's page does not show %q", want)
		}
	}

	// The log, filtered by the person, then by kind.
	_, logBody := admin.do("GET", "/admin/audit?subject="+u.ID, nil)
	for _, want := range []string{"renamed@nhs.example", trainee.Email, "Renamed Trainee", "On leave until May", al.Name} {
		if !strings.Contains(string(logBody), want) {
			t.Errorf("the log for the person does not show %q", want)
		}
	}
	api := f.signedIn(t, accounts.RoleAdmin)
	res, raw := api.do("GET", "/api/v1/audit?subject="+url.QueryEscape(u.ID)+"&action=person.disabled", nil)
	var got struct {
		Entries []struct {
			Action, Reason, ActorName string
			Changes                   []struct{ Field, Before, After string }
		}
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &got) != nil || len(got.Entries) != 1 ||
		got.Entries[0].Reason != "On leave until May" || got.Entries[0].ActorName != al.Name {
		t.Fatalf("GET /api/v1/audit: %d %s", res.StatusCode, raw)
	}

	// The API edits too, refusing a stale version.
	res, raw = api.do("PATCH", "/api/v1/users/"+u.ID, map[string]any{"name": "Stale Edit", "version": 1})
	if res.StatusCode != http.StatusConflict {
		t.Errorf("an edit of version 1: %d %s", res.StatusCode, raw)
	}
	cur, _ := f.accounts.Users.ByID(t.Context(), u.ID)
	res, raw = api.do("PATCH", "/api/v1/users/"+u.ID, map[string]any{"role": "supervisor", "disabled": false, "version": cur.Version})
	var after accounts.User
	if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &after) != nil || after.Role != accounts.RoleSupervisor || after.Disabled || after.PeerWorker {
		t.Errorf("PATCH role and enable: %d %s", res.StatusCode, raw)
	}
	res, raw = api.do("GET", "/api/v1/audit?action=person.edited", nil)
	if !strings.Contains(string(raw), `"before":"trainee","after":"supervisor"`) {
		t.Errorf("the role change is not logged with its values: %s", raw)
	}
}

// A person chooses their emails through the API: a kind turned off stays off, and a kind
// always sent cannot be.
func TestEmailChoicesThroughTheAPI(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(t, accounts.RoleTrainee)
	res, raw := c.do("PUT", "/api/v1/me/emails", map[string]any{"off": []string{"entry-comment"}})
	var kinds []struct {
		Kind       string
		On, Always bool
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &kinds) != nil {
		t.Fatalf("PUT: %d %s", res.StatusCode, raw)
	}
	on := map[string]bool{}
	for _, k := range kinds {
		on[k.Kind] = k.On
	}
	if on["entry-comment"] || !on["entry-shared"] || !on["password-reset"] {
		t.Errorf("after turning off comments: %s", raw)
	}
	res, raw = c.do("PUT", "/api/v1/me/emails", map[string]any{"off": []string{"password-changed"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), "always sent") {
		t.Errorf("turning off a security email: %d %s", res.StatusCode, raw)
	}
	// What is read back is what was saved, with the refused change left out.
	res, raw = c.do("GET", "/api/v1/me/emails", nil)
	kinds = nil
	if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &kinds) != nil || len(kinds) == 0 {
		t.Fatalf("GET: %d %s", res.StatusCode, raw)
	}
	for _, k := range kinds {
		if want := k.Kind != "entry-comment"; k.On != want || k.Always != (k.Kind == "invitation" || k.Kind == "password-reset" || k.Kind == "password-changed") {
			t.Errorf("GET: %s on=%v always=%v", k.Kind, k.On, k.Always)
		}
	}
}
