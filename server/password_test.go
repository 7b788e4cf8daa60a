package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"polyphony/internal/accounts"
)

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formToken is the CSRF token of the form on the page at path, with its cookie now in c.
func formToken(t *testing.T, c *client, path string) string {
	t.Helper()
	res, body := c.do("GET", path, nil)
	m := csrfInput.FindSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("GET %s: %d, no form token\n%s", path, res.StatusCode, body)
	}
	return string(m[1])
}

// signInPage signs c in through the sign-in form and reports the status.
func signInPage(t *testing.T, c *client, email, password string) int {
	t.Helper()
	tok := formToken(t, c, "/signin")
	res, _ := c.do("POST", "/signin", url.Values{"csrf": {tok}, "email": {email}, "password": {password}})
	return res.StatusCode
}

// The forgotten-password page answers an address with an account as it answers one without.
func TestForgotPasswordAnswersTheSame(t *testing.T) {
	f := newFixture(t)
	known := f.byRole[accounts.RoleTrainee].Email
	answer := func(email string) (int, string) {
		c := f.client(t)
		tok := formToken(t, c, "/signin/forgot")
		res, body := c.do("POST", "/signin/forgot", url.Values{"csrf": {tok}, "email": {email}})
		page := strings.ReplaceAll(string(body), email, "ADDRESS")
		return res.StatusCode, csrfInput.ReplaceAllString(page, "")
	}
	knownStatus, knownPage := answer(known)
	unknownStatus, unknownPage := answer("nobody.here@nhs.example")
	if knownStatus != http.StatusOK || unknownStatus != http.StatusOK || knownPage != unknownPage {
		t.Errorf("known address: %d, unknown: %d; the pages differ: %v", knownStatus, unknownStatus, knownPage != unknownPage)
	}
	if !strings.Contains(knownPage, "works once, for 30 minutes") {
		t.Errorf("the answer does not say what the link does:\n%s", knownPage)
	}

	c := f.client(t)
	for _, email := range []string{known, "nobody.here@nhs.example"} {
		res, body := c.do("POST", "/api/v1/password-resets", map[string]string{"email": email})
		if res.StatusCode != http.StatusAccepted {
			t.Errorf("API reset for %s: %d %s", email, res.StatusCode, body)
		}
	}
	// The form's own problems are in its words.
	for email, want := range map[string]string{"": "Enter your email address", "not an address": "email address"} {
		tok := formToken(t, c, "/signin/forgot")
		res, body := c.do("POST", "/signin/forgot", url.Values{"csrf": {tok}, "email": {email}})
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), want) {
			t.Errorf("email %q: %d, want 400 saying %q", email, res.StatusCode, want)
		}
	}
	if res, _ := f.client(t).do("POST", "/signin/forgot", url.Values{"csrf": {"made up"}, "email": {known}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a forged form: %d, want 403", res.StatusCode)
	}
}

// A reset link opens a page that sets a new password once and signs the person out
// everywhere.
func TestSetPasswordThroughLink(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	l := f.byRole[accounts.RoleTrainee]
	before := f.signedIn(t, accounts.RoleTrainee)
	secret, _, err := f.accounts.RequestReset(ctx, l.Email, "192.0.2.10")
	if err != nil || secret == "" {
		t.Fatalf("reset: %q %v", secret, err)
	}
	page := "/password?link=" + url.QueryEscape(secret)
	c := f.client(t)
	tok := formToken(t, c, page)
	res, body := c.do("POST", "/password", url.Values{"csrf": {tok}, "link": {secret}, "password": {"a new good password"}, "confirm": {"another one"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "not the same") {
		t.Errorf("passwords that differ: %d", res.StatusCode)
	}
	// Each answer carries a fresh form token.
	tok = string(csrfInput.FindSubmatch(body)[1])
	res, _ = c.do("POST", "/password", url.Values{"csrf": {tok}, "link": {secret}, "password": {"a new good password"}, "confirm": {"a new good password"}})
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin?password=set") {
		t.Fatalf("set the password: %d %s", res.StatusCode, loc)
	}
	if res, _ := before.do("GET", "/api/v1/me", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a session from before the reset: %d, want 401", res.StatusCode)
	}
	if code := signInPage(t, f.client(t), l.Email, l.Password); code != http.StatusUnauthorized {
		t.Errorf("the old password: %d, want 401", code)
	}
	if code := signInPage(t, f.client(t), l.Email, "a new good password"); code != http.StatusSeeOther {
		t.Errorf("the new password: %d, want 303", code)
	}
	res, body = c.do("GET", page, nil)
	if res.StatusCode != http.StatusGone || !strings.Contains(string(body), "This link no longer works") {
		t.Errorf("the link again: %d", res.StatusCode)
	}
}

func TestChangePasswordOnAccountPage(t *testing.T) {
	f := newFixture(t)
	l := f.byRole[accounts.RoleFacilitator]
	other := f.signedIn(t, accounts.RoleFacilitator)
	c := f.client(t)
	if code := signInPage(t, c, l.Email, l.Password); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	tok := formToken(t, c, "/account")
	res, body := c.do("POST", "/account/password", url.Values{"csrf": {tok}, "currentPassword": {"wrong"}, "newPassword": {"a fresh password"}, "confirmPassword": {"a fresh password"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "Your current password is not right") {
		t.Errorf("a wrong current password: %d", res.StatusCode)
	}
	res, _ = c.do("POST", "/account/password", url.Values{"csrf": {tok}, "currentPassword": {l.Password}, "newPassword": {"a fresh password"}, "confirmPassword": {"a fresh password"}})
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/account?done=") {
		t.Fatalf("change: %d %s", res.StatusCode, loc)
	}
	if res, _ := c.do("GET", "/account", nil); res.StatusCode != http.StatusOK {
		t.Errorf("the session that changed it: %d, want it still signed in", res.StatusCode)
	}
	if res, _ := other.do("GET", "/api/v1/me", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("another session: %d, want 401", res.StatusCode)
	}
	// Through the API, back again.
	api := f.client(t)
	res, body = api.do("POST", "/api/v1/session", map[string]string{"email": l.Email, "password": "a fresh password"})
	var me struct{ CSRFToken string }
	json.Unmarshal(body, &me)
	api.csrf = me.CSRFToken
	res, body = api.do("POST", "/api/v1/me/password", map[string]string{"currentPassword": "a fresh password", "newPassword": l.Password})
	if res.StatusCode != http.StatusNoContent {
		t.Errorf("API change: %d %s", res.StatusCode, body)
	}
}

// A person added without a password gets an invitation; with no email set up, the
// administrator is shown its link once, and the link lets the person choose a password.
func TestInvitationFromAdminPage(t *testing.T) {
	f := newFixture(t)
	admin := f.client(t)
	al := f.byRole[accounts.RoleAdmin]
	if code := signInPage(t, admin, al.Email, al.Password); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	tok := formToken(t, admin, "/admin")
	res, body := admin.do("POST", "/admin/people", url.Values{"csrf": {tok}, "name": {"Nia Invited"}, "email": {"nia@nhs.example"}, "role": {"trainee"}})
	link := regexp.MustCompile(`<code id="invitation-url">([^<]+)</code>`).FindSubmatch(body)
	if res.StatusCode != http.StatusOK || link == nil {
		t.Fatalf("add a person without a password: %d, no link shown\n%s", res.StatusCode, body)
	}
	u, err := url.Parse(strings.ReplaceAll(string(link[1]), "&amp;", "&"))
	if err != nil {
		t.Fatal(err)
	}
	if code := signInPage(t, f.client(t), "nia@nhs.example", "anything long"); code != http.StatusUnauthorized {
		t.Errorf("sign-in before accepting: %d", code)
	}
	c := f.client(t)
	page := u.RequestURI()
	res, body = c.do("GET", page, nil)
	tok = string(csrfInput.FindSubmatch(body)[1])
	if !strings.Contains(string(body), "Welcome to Polyphony, Nia Invited") {
		t.Errorf("the invitation page does not greet the person:\n%s", body)
	}
	res, _ = c.do("POST", "/password", url.Values{"csrf": {tok}, "link": {u.Query().Get("link")}, "password": {"nia's own password"}, "confirm": {"nia's own password"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d", res.StatusCode)
	}
	if code := signInPage(t, f.client(t), "nia@nhs.example", "nia's own password"); code != http.StatusSeeOther {
		t.Errorf("sign in with the chosen password: %d", code)
	}

	// The API: a person made without a password comes back with the invitation's link.
	api := f.signedIn(t, accounts.RoleAdmin)
	res, body = api.do("POST", "/api/v1/users", map[string]string{"email": "omar@nhs.example", "name": "Omar Invited", "role": "supervisor"})
	var made struct {
		ID         string
		Invitation struct {
			Link    string
			Emailed bool
		}
	}
	if res.StatusCode != http.StatusCreated || json.Unmarshal(body, &made) != nil || made.Invitation.Link == "" || made.Invitation.Emailed {
		t.Fatalf("POST /api/v1/users without a password: %d %s", res.StatusCode, body)
	}
	again, body := api.do("POST", "/api/v1/users/"+made.ID+"/invitations", nil)
	if again.StatusCode != http.StatusCreated || !strings.Contains(string(body), "/password?link=ppl_") {
		t.Errorf("invite again: %d %s", again.StatusCode, body)
	}
	lu, _ := url.Parse(made.Invitation.Link)
	res, body = f.client(t).do("POST", "/api/v1/password-links", map[string]string{"link": lu.Query().Get("link"), "password": "omar's own password"})
	if res.StatusCode != http.StatusNoContent {
		t.Errorf("use the link through the API: %d %s", res.StatusCode, body)
	}
	res, body = f.client(t).do("POST", "/api/v1/password-links", map[string]string{"link": lu.Query().Get("link"), "password": "another password"})
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("use it again: %d %s", res.StatusCode, body)
	}
}
