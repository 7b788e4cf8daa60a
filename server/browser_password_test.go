package server_test

import (
	"net/http"
	"strings"
	"testing"

	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
)

// The password pages in the browser, with their emails read from a real mail server: a
// change on Your account, a forgotten password followed through the email to a new
// password, and an invitation accepted from its email. Every page is checked with axe-core,
// and at phone width.

// onPhoneToo checks the page the tab shows at phone width, then goes back to the desktop.
func onPhoneToo(t *testing.T, b *browsertest.Browser, name string) {
	t.Helper()
	b.SetMobileViewport(375, 812)
	noHorizontalScroll(t, b)
	screenshot(b, "phone-"+name)
	b.AssertNoAxeViolations(t)
	b.ResetViewport()
}

func TestBrowserChangePassword(t *testing.T) {
	f := newFixture(t, withMailServer())
	b := browsertest.New(t)
	l := f.byRole[accounts.RoleSupervisor]
	b.Navigate(f.ts.URL + "/signin")
	signIn(b, l.Email, l.Password)
	b.ClickHeaderLink("/account")
	wantText(t, b, "#password", "Change your password")
	b.AssertNoAxeViolations(t)
	onPhoneToo(t, b, "account-password")

	// A wrong current password is named on its field.
	b.Fill("#current-password", "not my password")
	b.Fill("#new-password", "harbour-lantern-quiet-48")
	b.Fill("#confirm-password", "harbour-lantern-quiet-48")
	b.Submit("#change-password")
	if b.Status() != http.StatusBadRequest {
		t.Errorf("a wrong current password: status %d, want 400", b.Status())
	}
	wantErrorSummary(t, b, "Your current password is not right", "current-password")
	b.AssertNoAxeViolations(t)
	onPhoneToo(t, b, "account-password-error")

	b.Fill("#current-password", l.Password)
	b.Fill("#new-password", "harbour-lantern-quiet-48")
	b.Fill("#confirm-password", "harbour-lantern-quiet-48")
	b.Submit("#change-password")
	wantPath(t, b, f.ts.URL, "/account")
	wantText(t, b, ".nhsuk-inset-text", "Your password has been changed")
	wantText(t, b, ".nhsuk-inset-text", "We have emailed "+l.Email+" to say so.")
	b.AssertNoAxeViolations(t)
	f.mailTo(t, l.Email, "Your Polyphony password was changed")

	// The new password signs in; the old one no longer does.
	other := b.NewIsolatedTab()
	other.Navigate(f.ts.URL + "/signin")
	signIn(other, l.Email, l.Password)
	if other.Status() != http.StatusUnauthorized {
		t.Errorf("the old password: status %d, want 401", other.Status())
	}
	signIn(other, l.Email, "harbour-lantern-quiet-48")
	wantText(t, other, "h1", "Welcome, "+l.Name)
}

func TestBrowserForgottenPasswordThroughEmail(t *testing.T) {
	f := newFixture(t, withMailServer())
	b := browsertest.New(t)
	l := f.byRole[accounts.RoleTrainee]
	b.Navigate(f.ts.URL + "/signin")
	b.ClickAndWait("#forgot-link")
	wantPath(t, b, f.ts.URL, "/signin/forgot")
	wantText(t, b, "h1", "Forgotten your password?")
	b.AssertNoAxeViolations(t)
	onPhoneToo(t, b, "forgot")

	b.Submit("#send-link")
	if b.Status() != http.StatusBadRequest {
		t.Errorf("no address: status %d, want 400", b.Status())
	}
	wantErrorSummary(t, b, "Enter your email address", "email")
	b.AssertNoAxeViolations(t)

	b.Fill("#email", l.Email)
	b.Submit("#send-link")
	wantText(t, b, "#reset-sent", "The link works once, for 30 minutes.")
	screenshot(b, "forgot-sent")
	b.AssertNoAxeViolations(t)
	onPhoneToo(t, b, "forgot-sent")

	m := f.mailTo(t, l.Email, "Reset your Polyphony password")
	if !strings.Contains(m.Text, "The link works once, within 30 minutes") {
		t.Errorf("the email does not say how long the link works:\n%s", m.Text)
	}
	page, _ := passwordLink(t, m)
	b.Navigate(f.ts.URL + page)
	wantText(t, b, "h1", "Set a new password")
	wantText(t, b, "main", "Choose a new password for "+l.Email)
	b.AssertNoAxeViolations(t)
	onPhoneToo(t, b, "set-password")

	b.Fill("#password", "saltmarsh-kestrel-dawn-12")
	b.Fill("#confirm", "saltmarsh-kestrel-dawn-13")
	b.Submit("#set-password")
	wantErrorSummary(t, b, "not the same", "confirm")
	b.AssertNoAxeViolations(t)

	b.Fill("#password", "saltmarsh-kestrel-dawn-12")
	b.Fill("#confirm", "saltmarsh-kestrel-dawn-12")
	b.Submit("#set-password")
	wantPath(t, b, f.ts.URL, "/signin")
	wantText(t, b, ".nhsuk-inset-text", "Your password is set. Sign in with it.")
	b.AssertNoAxeViolations(t)
	if got := b.Value("#email"); got != l.Email {
		t.Errorf("the sign-in form holds %q, want the address %s", got, l.Email)
	}
	b.Fill("#password", "saltmarsh-kestrel-dawn-12")
	b.Submit("#signin")
	wantPath(t, b, f.ts.URL, "/")
	wantText(t, b, "h1", "Welcome, "+l.Name)

	// The link from the email works once.
	again := b.NewIsolatedTab()
	again.Navigate(f.ts.URL + page)
	if again.Status() != http.StatusGone {
		t.Errorf("the link again: status %d, want 410", again.Status())
	}
	wantText(t, again, "h1", "This link no longer works")
	again.AssertNoAxeViolations(t)
}

func TestBrowserInvitationAccepted(t *testing.T) {
	f := newFixture(t, withMailServer())
	b := browsertest.New(t)
	admin := f.byRole[accounts.RoleAdmin]
	b.Navigate(f.ts.URL + "/signin?next=/admin")
	signIn(b, admin.Email, admin.Password)
	wantPath(t, b, f.ts.URL, "/admin")
	b.Fill("#person-name", "Ines Invited")
	b.Fill("#person-email", "ines.invited@polyphony.example")
	b.Fill("#person-role", string(accounts.RoleTrainee))
	b.Submit("#add-person-button")
	wantPath(t, b, f.ts.URL, "/admin")
	wantText(t, b, ".nhsuk-inset-text", "an invitation at ines.invited@polyphony.example")
	if b.Exists("#invitation-url") {
		t.Error("the link is shown although the invitation was emailed")
	}
	b.AssertNoAxeViolations(t)

	m := f.mailTo(t, "ines.invited@polyphony.example", "You are invited to Polyphony")
	page, _ := passwordLink(t, m)
	tab := b.NewIsolatedTab()
	tab.Navigate(f.ts.URL + page)
	wantText(t, tab, "h1", "Set your password")
	wantText(t, tab, "main", "Welcome to Polyphony, Ines Invited")
	tab.AssertNoAxeViolations(t)
	onPhoneToo(t, tab, "invitation")

	tab.Fill("#password", "heron-estuary-morning-7")
	tab.Fill("#confirm", "heron-estuary-morning-7")
	tab.Submit("#set-password")
	wantPath(t, tab, f.ts.URL, "/signin")
	wantText(t, tab, ".nhsuk-inset-text", "Your password is set. Sign in with it.")
	tab.Fill("#email", "ines.invited@polyphony.example")
	tab.Fill("#password", "heron-estuary-morning-7")
	tab.Submit("#signin")
	wantPath(t, tab, f.ts.URL, "/")
	wantText(t, tab, "h1", "Welcome, Ines Invited")
	tab.AssertNoAxeViolations(t)
}
