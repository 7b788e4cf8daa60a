package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
	"polyphony/internal/mailtest"
)

// An invitation the mail server refuses is listed for administrators with the server's
// reason and a way to send a new one; the administrators' page says there is one; dismissing
// it takes it off the list and is recorded under the person.
func TestUndeliveredEmailListedAndDismissed(t *testing.T) {
	f := newFixture(t, withMailServer(mailtest.Options{AllowedRecipients: `\.example$`}))
	admin := f.signedIn(t, accounts.RoleAdmin)
	res, body := admin.do("POST", "/api/v1/users", map[string]any{"email": "nia@refused.invalid", "name": "Nia Refused", "role": "trainee"})
	nia := decode[struct {
		ID string `json:"id"`
	}](t, res, body, http.StatusCreated)

	type failed struct {
		ID, Kind, What, To, UserID, Reason string
		Tries                              int
	}
	var list []failed
	for deadline := time.Now().Add(20 * time.Second); ; {
		res, body := admin.do("GET", "/api/v1/admin/emails/failed", nil)
		list = decode[[]failed](t, res, body, http.StatusOK)
		if len(list) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(list) != 1 {
		t.Fatalf("failed emails: %+v; want the refused invitation", list)
	}
	got := list[0]
	if got.Kind != "invitation" || got.To != "nia@refused.invalid" || got.UserID != nia.ID || !strings.Contains(got.Reason, "55") || got.Tries != 1 {
		t.Errorf("failed email: %+v; want Nia's invitation, refused once with the server's 5xx reason", got)
	}

	_, page := admin.do("GET", "/admin", nil)
	if !strings.Contains(string(page), "An email was not delivered") || !strings.Contains(string(page), `href="/admin/emails"`) {
		t.Errorf("the administrators' page does not say an email was not delivered")
	}
	_, page = admin.do("GET", "/admin/emails", nil)
	for _, want := range []string{"nia@refused.invalid", "Invitation to set a password", `href="/admin/people/` + nia.ID + `"`, "Send a new one", "after 1 try"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the page of emails not delivered lacks %q", want)
		}
	}

	res, _ = admin.do("POST", "/admin/emails/"+url.PathEscape(got.ID)+"/dismiss", url.Values{})
	back := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(back, "/admin/emails?") {
		t.Fatalf("dismissing: %d to %q; want 303 back to the list", res.StatusCode, back)
	}
	if _, page = admin.do("GET", back, nil); !strings.Contains(string(page), "Dismissed the email to nia@refused.invalid.") || !strings.Contains(string(page), `id="failed-none"`) {
		t.Errorf("after dismissing, the page lacks the notice or still lists it:\n%s", page)
	}
	if _, page = admin.do("GET", "/admin", nil); strings.Contains(string(page), "not delivered") {
		t.Errorf("the administrators' page still speaks of an email not delivered")
	}
	res, _ = admin.do("DELETE", "/api/v1/admin/emails/failed/"+url.PathEscape(got.ID), nil)
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("dismissing it again: %d, want 404", res.StatusCode)
	}
	res, body = admin.do("GET", "/api/v1/audit?subject="+nia.ID+"&action=email.dismissed", nil)
	entries := decode[struct {
		Entries []struct {
			Action, ActorName string
		}
	}](t, res, body, http.StatusOK)
	if len(entries.Entries) != 1 {
		t.Errorf("audit entries for the dismissal: %+v; want one", entries.Entries)
	}
}

// An administrator follows the warning on their page to the emails not delivered, reads why,
// and dismisses one; the page is checked with axe-core, and at phone width.
func TestBrowserUndeliveredEmails(t *testing.T) {
	f := newFixture(t, withMailServer(mailtest.Options{AllowedRecipients: `\.example$`}))
	admin := f.signedIn(t, accounts.RoleAdmin)
	res, body := admin.do("POST", "/api/v1/users", map[string]any{"email": "nia@refused.invalid", "name": "Nia Refused", "role": "trainee"})
	decode[struct{}](t, res, body, http.StatusCreated)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, body := admin.do("GET", "/api/v1/admin/emails/failed", nil)
		if strings.Contains(string(body), "nia@refused.invalid") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refused invitation is not listed after 20 s")
		}
	}

	b := browsertest.New(t)
	l := f.byRole[accounts.RoleAdmin]
	b.Navigate(f.ts.URL + "/signin")
	signIn(b, l.Email, l.Password)
	b.Navigate(f.ts.URL + "/admin")
	wantText(t, b, "#failed-emails-callout", "An email was not delivered")
	b.ClickAndWait("#failed-emails-callout a")
	wantPath(t, b, f.ts.URL, "/admin/emails")
	wantText(t, b, "#failed-emails", "nia@refused.invalid")
	wantText(t, b, "#failed-emails", "Invitation to set a password")
	b.AssertNoAxeViolations(t)
	onPhoneToo(t, b, "emails-not-delivered")
	b.ClickAndWait("#failed-emails tbody tr:first-child button")
	wantPath(t, b, f.ts.URL, "/admin/emails")
	wantText(t, b, ".nhsuk-inset-text", "Dismissed the email to nia@refused.invalid.")
	wantText(t, b, "#failed-none", "Every email has been delivered")
	b.AssertNoAxeViolations(t)
}
