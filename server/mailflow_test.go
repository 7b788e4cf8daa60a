package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"polyphony/internal/accounts"
	"polyphony/internal/mailtest"
)

// These tests send the emails to a real mail server (Mailpit, see withMailServer) and read
// them back through its HTTP API.

// mailWait is how long an email may take to reach the mail server.
const mailWait = 15 * time.Second

// mailTo waits for the first email to address whose subject holds subject, and returns it
// in full.
func (f *fixture) mailTo(t *testing.T, address, subject string) mailtest.Message {
	t.Helper()
	deadline := time.Now().Add(mailWait)
	for {
		for _, m := range f.mailpit.Messages(t) {
			if len(m.To) == 1 && m.To[0].Address == address && strings.Contains(m.Subject, subject) {
				return f.mailpit.Message(t, m.ID)
			}
		}
		if time.Now().After(deadline) {
			var got []string
			for _, m := range f.mailpit.Messages(t) {
				got = append(got, m.Subject+" to "+m.To[0].Address)
			}
			t.Fatalf("no email %q to %s after %s; received: %q", subject, address, mailWait, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mailsTo lists the subjects of every email received for address.
func (f *fixture) mailsTo(t *testing.T, address string) []string {
	t.Helper()
	var out []string
	for _, m := range f.mailpit.Messages(t) {
		for _, to := range m.To {
			if to.Address == address {
				out = append(out, m.Subject)
			}
		}
	}
	return out
}

// settle lets the queue's worker deliver what it holds: the emails an answer queued reach
// the server in about a poll, and a test then counts them.
func (f *fixture) settle() { time.Sleep(600 * time.Millisecond) }

var emailLink = regexp.MustCompile(`https?://[^\s"<>]+/password\?link=[A-Za-z0-9_%-]+`)

// passwordLink is the set-password link in the email's plain-text body, as a path on the
// fixture's server.
func passwordLink(t *testing.T, m mailtest.Message) (path, secret string) {
	t.Helper()
	raw := emailLink.FindString(m.Text)
	if raw == "" {
		t.Fatalf("the email %q holds no set-password link:\n%s", m.Subject, m.Text)
	}
	if !strings.Contains(m.HTML, strings.ReplaceAll(raw, "&", "&amp;")) {
		t.Errorf("the HTML body of %q does not hold the link %s", m.Subject, raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI(), u.Query().Get("link")
}

// A forgotten password's email reaches the mail server with a link that works once; an
// unknown address gets no email, and the page answers it as it answers a known one.
func TestForgottenPasswordEmailed(t *testing.T) {
	f := newFixture(t, withMailServer())
	l := f.byRole[accounts.RoleTrainee]
	unknown := "nobody.here@nhs.example"
	answer := func(email string) (int, string) {
		c := f.client(t)
		tok := formToken(t, c, "/signin/forgot")
		res, body := c.do("POST", "/signin/forgot", url.Values{"csrf": {tok}, "email": {email}})
		return res.StatusCode, csrfInput.ReplaceAllString(strings.ReplaceAll(string(body), email, "ADDRESS"), "")
	}
	unknownStatus, unknownPage := answer(unknown)
	knownStatus, knownPage := answer(l.Email)
	if unknownStatus != http.StatusOK || knownStatus != http.StatusOK || unknownPage != knownPage {
		t.Errorf("known address: %d, unknown: %d; the pages differ: %v", knownStatus, unknownStatus, knownPage != unknownPage)
	}

	m := f.mailTo(t, l.Email, "Reset your Polyphony password")
	for _, want := range []string{"Dear " + l.Name, "The link works once, within 30 minutes, until "} {
		if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
			t.Errorf("the reset email does not say %q:\n%s", want, m.Text)
		}
	}
	f.settle()
	if got := f.mailsTo(t, unknown); len(got) != 0 {
		t.Errorf("an address with no account was emailed: %q", got)
	}
	if got := f.mailsTo(t, l.Email); len(got) != 1 {
		t.Errorf("emails to %s: %q, want the one reset email", l.Email, got)
	}

	page, secret := passwordLink(t, m)
	c := f.client(t)
	tok := formToken(t, c, page)
	res, _ := c.do("POST", "/password", url.Values{"csrf": {tok}, "link": {secret}, "password": {"a password from the email"}, "confirm": {"a password from the email"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("set the password through the emailed link: %d", res.StatusCode)
	}
	if code := signInPage(t, f.client(t), l.Email, "a password from the email"); code != http.StatusSeeOther {
		t.Errorf("sign in with the new password: %d", code)
	}
	if res, body := f.client(t).do("GET", page, nil); res.StatusCode != http.StatusGone || !strings.Contains(string(body), "This link no longer works") {
		t.Errorf("the emailed link a second time: %d", res.StatusCode)
	}
	// Setting it through the link is a change of password, told by email too.
	changed := f.mailTo(t, l.Email, "Your Polyphony password was changed")
	if !strings.Contains(changed.Text, f.ts.URL+"/signin/forgot") {
		t.Errorf("the changed-password email does not link to the forgotten password page:\n%s", changed.Text)
	}
}

// Adding a person without a password emails them an invitation whose link sets it.
func TestInvitationEmailed(t *testing.T) {
	f := newFixture(t, withMailServer())
	admin := f.client(t)
	al := f.byRole[accounts.RoleAdmin]
	if code := signInPage(t, admin, al.Email, al.Password); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	tok := formToken(t, admin, "/admin")
	res, _ := admin.do("POST", "/admin/people", url.Values{"csrf": {tok}, "name": {"Nia Invited"}, "email": {"nia@nhs.example"}, "role": {"trainee"}})
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "invitation") {
		t.Fatalf("add a person without a password: %d %s, want a notice that the invitation was sent", res.StatusCode, loc)
	}
	res, body := admin.do("GET", res.Header.Get("Location"), nil)
	if !strings.Contains(string(body), "Sent Nia Invited an invitation at nia@nhs.example") || strings.Contains(string(body), "invitation-url") {
		t.Errorf("the admin page after emailing an invitation:\n%s", body)
	}

	m := f.mailTo(t, "nia@nhs.example", "You are invited to Polyphony")
	if !strings.Contains(m.Text, al.Name+" added you") || !strings.Contains(m.Text, "Dear Nia Invited") {
		t.Errorf("the invitation does not greet Nia or say who added her:\n%s", m.Text)
	}
	page, secret := passwordLink(t, m)
	c := f.client(t)
	res, body = c.do("GET", page, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Welcome to Polyphony, Nia Invited") {
		t.Fatalf("the invitation's page: %d\n%s", res.StatusCode, body)
	}
	tok = string(csrfInput.FindSubmatch(body)[1])
	res, _ = c.do("POST", "/password", url.Values{"csrf": {tok}, "link": {secret}, "password": {"nia's own password"}, "confirm": {"nia's own password"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept the invitation: %d", res.StatusCode)
	}
	if code := signInPage(t, f.client(t), "nia@nhs.example", "nia's own password"); code != http.StatusSeeOther {
		t.Errorf("sign in with the chosen password: %d", code)
	}
	f.settle()
	if got := f.mailsTo(t, "nia@nhs.example"); len(got) != 1 {
		t.Errorf("emails to Nia: %q, want the invitation only (choosing a first password is no change)", got)
	}
}

// Changing one's password on Your account is told by email.
func TestPasswordChangedEmailed(t *testing.T) {
	f := newFixture(t, withMailServer())
	l := f.byRole[accounts.RoleFacilitator]
	c := f.client(t)
	if code := signInPage(t, c, l.Email, l.Password); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	tok := formToken(t, c, "/account")
	res, _ := c.do("POST", "/account/password", url.Values{"csrf": {tok}, "currentPassword": {l.Password}, "newPassword": {"a fresh password"}, "confirmPassword": {"a fresh password"}})
	loc, _ := url.QueryUnescape(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "We have emailed "+l.Email+" to say so.") {
		t.Fatalf("change: %d %s", res.StatusCode, loc)
	}
	m := f.mailTo(t, l.Email, "Your Polyphony password was changed")
	for _, want := range []string{"Dear " + l.Name, "every other session of yours was signed out", f.ts.URL + "/signin/forgot"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("the changed-password email does not say %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text, "a fresh password") || strings.Contains(m.HTML, "a fresh password") {
		t.Error("the email holds the new password")
	}
}
