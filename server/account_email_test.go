package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"polyphony/internal/accounts"
	"polyphony/internal/mail"
)

// On Your account a person unticks the kinds of email they do not want; the emails always
// sent are listed apart and cannot be unticked; the queue then skips what was turned off.
func TestAccountEmailChoices(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(t, accounts.RoleTrainee)
	res, body := c.do("GET", "/account", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `href="/account/email"`) {
		t.Fatalf("GET /account: %d, no link to the email choices", res.StatusCode)
	}
	res, body = c.do("GET", "/account/email", nil)
	page := string(body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /account/email: %d", res.StatusCode)
	}
	for _, k := range mail.Kinds() {
		box := `id="email-` + string(k.Kind) + `" name="on" type="checkbox" value="` + string(k.Kind) + `" checked>`
		if k.Kind.OptIn() { // off until the person turns it on
			box = `id="email-` + string(k.Kind) + `" name="on" type="checkbox" value="` + string(k.Kind) + `">`
		}
		if k.Always {
			if strings.Contains(page, `id="email-`+string(k.Kind)+`"`) || !strings.Contains(page, "<li>"+k.Label+"</li>") {
				t.Errorf("%s is always sent: want it listed, with no box", k.Kind)
			}
		} else if !strings.Contains(page, box) || !strings.Contains(page, k.Label) {
			t.Errorf("no box for %s, ticked unless it is off until chosen", k.Kind)
		}
	}
	if !strings.Contains(page, "kept in the server's log") {
		t.Error("the page does not say emails only go to the log")
	}

	form := url.Values{"csrf": {c.csrf}, "on": {string(mail.KindEntryShared), string(mail.KindSessionTomorrow), string(mail.KindPasswordReset)}}
	res, _ = c.do("POST", "/account/email", form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /account/email: %d", res.StatusCode)
	}
	res, body = c.do("GET", res.Header.Get("Location"), nil)
	page = string(body)
	if !strings.Contains(page, "Your choice of emails is saved.") ||
		!strings.Contains(page, `value="entry-shared" checked>`) || !strings.Contains(page, `value="entry-comment">`) {
		t.Errorf("after saving, the page does not show the choice:\n%s", page)
	}

	ctx := context.Background()
	u, _ := f.accounts.Users.ByEmail(ctx, f.byRole[accounts.RoleTrainee].Email)
	p, err := f.email.Preferences(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range mail.Kinds() {
		want := k.Always || k.Kind == mail.KindEntryShared || k.Kind == mail.KindSessionTomorrow
		if p.On(k.Kind) != want {
			t.Errorf("%s on: %v, want %v", k.Kind, p.On(k.Kind), want)
		}
	}
	msg := mail.Message{Kind: mail.KindEntryComment, To: u.Email, UserID: u.ID, Name: u.Name, Link: f.ts.URL + "/journal",
		Values: mail.Values{Person: "A Facilitator"}}
	if id, err := f.email.Send(ctx, msg); err != nil || id != "" {
		t.Errorf("a comment email after unticking it: id %q, %v; want none", id, err)
	}
	msg.Kind = mail.KindPasswordChanged
	msg.Values = mail.Values{When: time.Now()}
	if id, err := f.email.Send(ctx, msg); err != nil || id == "" {
		t.Errorf("the changed-password notice: id %q, %v; want it queued", id, err)
	}

	// Another person's choice is their own.
	other := f.signedIn(t, accounts.RoleFacilitator)
	_, body = other.do("GET", "/account/email", nil)
	if !strings.Contains(string(body), `value="entry-comment" checked>`) {
		t.Error("another person's page shows the trainee's choice")
	}
}
