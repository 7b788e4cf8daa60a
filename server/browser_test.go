package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
	"polyphony/internal/demo"
)

// The browser tests drive the real pages in headless Chromium: signing in as each role,
// the forms and their error states, API tokens, the phone layout and the error page. Every
// page they reach is checked with axe-core against WCAG 2.2 A and AA.
//
// When POLYPHONY_SCREENSHOTS names a folder, full-page screenshots of the main pages are
// written there, for a person to look at.

// browserRoles are the demo roles in the order the tests sign in as them.
var browserRoles = []accounts.Role{
	accounts.RoleAdmin, accounts.RoleFacilitator, accounts.RoleSupervisor, accounts.RoleAssessor, accounts.RoleTrainee,
}

// screenshot writes a full-page PNG of the tab to POLYPHONY_SCREENSHOTS/name.png, when the
// variable is set.
func screenshot(b *browsertest.Browser, name string) {
	dir := os.Getenv("POLYPHONY_SCREENSHOTS")
	if dir == "" {
		return
	}
	b.Screenshot(filepath.Join(dir, name+".png"))
}

// signIn fills the sign-in form, which the tab must be showing, and submits it.
func signIn(b *browsertest.Browser, email, password string) {
	b.Fill("#email", email)
	b.Fill("#password", password)
	b.Submit("#signin")
}

// wantPath fails the test unless the tab is on path (the query is ignored).
func wantPath(t *testing.T, b *browsertest.Browser, base, path string) {
	t.Helper()
	u := strings.TrimPrefix(b.URL(), base)
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if u != path {
		t.Fatalf("on %s, want %s", b.URL(), base+path)
	}
}

// wantText fails the test unless the element that selector finds contains want.
func wantText(t *testing.T, b *browsertest.Browser, selector, want string) {
	t.Helper()
	if got := b.Text(selector); !strings.Contains(got, want) {
		t.Errorf("%s on %s = %q, want it to contain %q", selector, b.URL(), got, want)
	}
}

// wantErrorSummary checks the NHS error summary: its heading, a message containing msg, a
// link to the field, and that following the link puts the focus on the field.
func wantErrorSummary(t *testing.T, b *browsertest.Browser, msg, field string) {
	t.Helper()
	b.WaitVisible(".nhsuk-error-summary")
	wantText(t, b, ".nhsuk-error-summary__heading", "There is a problem")
	wantText(t, b, ".nhsuk-error-summary__list", msg)
	link := ".nhsuk-error-summary__list a[href='#" + field + "']"
	if !b.Exists(link) {
		t.Fatalf("the error summary has no link to #%s", field)
	}
	if !strings.HasPrefix(b.Title(), "Error: ") {
		t.Errorf("title = %q, want it to start with \"Error: \"", b.Title())
	}
	// The NHS error summary takes the focus when the page loads, so a screen reader reads it.
	var focused bool
	b.Eval(`document.activeElement.closest('.nhsuk-error-summary') !== null`, &focused)
	if !focused {
		t.Errorf("the error summary does not have the focus")
	}
	b.Click(link)
	var active string
	b.Eval(`document.activeElement.id`, &active)
	if active != field {
		t.Errorf("after following the error link, the focus is on #%q, want #%s", active, field)
	}
	if !b.Exists("#" + field + "-error") {
		t.Errorf("the field #%s shows no error message", field)
	}
	var described string
	b.Eval(`document.getElementById(`+jsString(field)+`).getAttribute('aria-describedby') || ''`, &described)
	if !strings.Contains(described, field+"-error") {
		t.Errorf("#%s aria-describedby = %q, want it to name %s-error", field, described, field)
	}
}

// jsString quotes s as a JavaScript string literal of plain characters.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// selectByLabel chooses the option whose text is label in the select that selector finds.
func selectByLabel(t *testing.T, b *browsertest.Browser, selector, label string) {
	t.Helper()
	var value *string
	b.Eval(`[...document.querySelector(`+jsString(selector)+`).options].find(o => o.text.trim() === `+jsString(label)+`)?.value ?? null`, &value)
	if value == nil {
		t.Fatalf("%s has no option %q", selector, label)
	}
	b.Fill(selector, *value)
}

// noHorizontalScroll fails the test when the page is wider than the viewport. A phone
// browser that meets a page too wide for it zooms out, and window.innerWidth then grows to
// the width of the page; the width of the layout viewport (clientWidth of the root element)
// stays that of the screen, so the page is held to the narrower of the two.
func noHorizontalScroll(t *testing.T, b *browsertest.Browser) {
	t.Helper()
	var w struct{ Scroll, Inner, Client int }
	b.Eval(`({Scroll: document.documentElement.scrollWidth, Inner: window.innerWidth, Client: document.documentElement.clientWidth})`, &w)
	if w.Scroll > w.Inner || w.Scroll > w.Client {
		var wide []string
		b.Eval(`[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5).slice(0, 8).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\s+/).join('.') : ''))`, &wide)
		t.Errorf("%s scrolls sideways: scrollWidth %d, innerWidth %d, clientWidth %d; elements past the edge: %v", b.URL(), w.Scroll, w.Inner, w.Client, wide)
	}
}

func TestBrowserSignInEachRole(t *testing.T) {
	f := newFixture(t)
	browser := browsertest.New(t)
	for _, role := range browserRoles {
		t.Run(string(role), func(t *testing.T) {
			l := f.byRole[role]
			b := browser.NewIsolatedTab().For(t)

			b.Navigate(f.ts.URL + "/")
			wantPath(t, b, f.ts.URL, "/signin")
			wantText(t, b, "h1", "Sign in to Polyphony")
			if role == accounts.RoleAdmin {
				screenshot(b, "signin")
			}
			b.AssertNoAxeViolations(t)

			signIn(b, l.Email, l.Password)
			wantPath(t, b, f.ts.URL, "/")
			if b.Status() != http.StatusOK {
				t.Errorf("home page status %d", b.Status())
			}
			wantText(t, b, "h1", "Welcome, "+l.Name)
			if got := b.Text("[data-testid=role]"); got != role.Label() {
				t.Errorf("role label = %q, want %q", got, role.Label())
			}
			if role != accounts.RoleAdmin {
				wantText(t, b, "main", demo.CohortName)
			}
			screenshot(b, "home-"+string(role))
			b.AssertNoAxeViolations(t)

			if role == accounts.RoleAdmin {
				b.ClickHeaderLink("/admin")
				wantPath(t, b, f.ts.URL, "/admin")
				wantText(t, b, "h1", "People and cohorts")
				wantText(t, b, "#people-table", l.Email)
				screenshot(b, "admin")
				b.AssertNoAxeViolations(t)
			} else if b.Exists(`a[href="/admin"]`) {
				t.Errorf("a %s sees a link to the admin page", role)
			}

			b.ClickHeaderLink("/account")
			wantPath(t, b, f.ts.URL, "/account")
			wantText(t, b, "h1", "Your account")
			wantText(t, b, ".nhsuk-summary-list", l.Email)
			wantText(t, b, ".nhsuk-summary-list", role.Label())
			if role == accounts.RoleTrainee {
				screenshot(b, "account")
			}
			b.AssertNoAxeViolations(t)

			b.ClickAndWait("#signout")
			wantPath(t, b, f.ts.URL, "/signin")
			wantText(t, b, ".nhsuk-inset-text", "You have signed out")
			if b.Exists("#signout") {
				t.Errorf("the signed-out page still offers to sign out")
			}
			b.AssertNoAxeViolations(t)

			b.Navigate(f.ts.URL + "/")
			wantPath(t, b, f.ts.URL, "/signin")
		})
	}
}

func TestBrowserWrongPassword(t *testing.T) {
	f := newFixture(t)
	b := browsertest.New(t)
	l := f.byRole[accounts.RoleTrainee]

	b.Navigate(f.ts.URL + "/signin")
	signIn(b, l.Email, l.Password+"-wrong")
	if b.Status() != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", b.Status())
	}
	wantPath(t, b, f.ts.URL, "/signin")
	wantErrorSummary(t, b, "The email address or password is not right", "email")
	if got := b.Value("#email"); got != l.Email {
		t.Errorf("the email field holds %q, want the typed %q", got, l.Email)
	}
	if got := b.Value("#password"); got != "" {
		t.Errorf("the password field was filled back in")
	}
	screenshot(b, "signin-error")
	b.AssertNoAxeViolations(t)

	// An empty form names both fields.
	b.Fill("#email", "")
	b.Submit("#signin")
	if b.Status() != http.StatusBadRequest {
		t.Errorf("empty form: status %d, want 400", b.Status())
	}
	wantErrorSummary(t, b, "Enter your email address", "email")
	wantText(t, b, ".nhsuk-error-summary__list", "Enter your password")
	b.AssertNoAxeViolations(t)

	// The right password still works after a mistake.
	signIn(b, l.Email, l.Password)
	wantPath(t, b, f.ts.URL, "/")
	wantText(t, b, "h1", "Welcome, "+l.Name)
}

func TestBrowserAdminForms(t *testing.T) {
	f := newFixture(t)
	b := browsertest.New(t)
	admin := f.byRole[accounts.RoleAdmin]
	b.Navigate(f.ts.URL + "/signin?next=/admin")
	signIn(b, admin.Email, admin.Password)
	wantPath(t, b, f.ts.URL, "/admin")

	// A trust, then a cohort that it takes part in.
	b.Fill("#trust-name", "Westfell Partnership NHS Trust")
	b.Submit("#add-trust-button")
	wantPath(t, b, f.ts.URL, "/admin")
	wantText(t, b, ".nhsuk-inset-text", "Added the trust Westfell Partnership NHS Trust.")
	wantText(t, b, "#trusts + .nhsuk-list", "Westfell Partnership NHS Trust")

	b.Fill("#cohort-name", "Westfell 2027")
	b.Fill("#cohort-start", "2027-03-01")
	var trustBox string
	b.Eval(`[...document.querySelectorAll('#cohort-trusts .nhsuk-checkboxes__item')].find(i => i.textContent.includes('Westfell')).querySelector('input').id`, &trustBox)
	b.Click("#" + trustBox)
	b.Submit("#add-cohort-button")
	wantText(t, b, ".nhsuk-inset-text", "Set up the cohort Westfell 2027.")
	wantText(t, b, "#cohorts + .nhsuk-list", "Westfell 2027, starting 1 March 2027")
	b.AssertNoAxeViolations(t)

	// A cohort without a name is refused with the NHS error pattern.
	b.Fill("#cohort-start", "2027-04-01")
	b.Submit("#add-cohort-button")
	if b.Status() != http.StatusBadRequest {
		t.Errorf("cohort without a name: status %d, want 400", b.Status())
	}
	wantErrorSummary(t, b, "", "cohort-name")
	if got := b.Value("#cohort-start"); got != "2027-04-01" {
		t.Errorf("the start date was not kept: %q", got)
	}
	b.AssertNoAxeViolations(t)

	// A person, put straight into the new cohort.
	b.Navigate(f.ts.URL + "/admin")
	b.Fill("#person-name", "Morgan Newcomer")
	b.Fill("#person-email", "morgan.newcomer@polyphony.example")
	b.Fill("#person-role", string(accounts.RoleSupervisor))
	selectByLabel(t, b, "#person-cohort", "Westfell 2027")
	selectByLabel(t, b, "#person-trust", "Westfell Partnership NHS Trust")
	b.Fill("#person-password", "lantern-harbour-quiet-47")
	b.Submit("#add-person-button")
	wantPath(t, b, f.ts.URL, "/admin")
	wantText(t, b, ".nhsuk-inset-text", "Added Morgan Newcomer (Supervisor). They can sign in with morgan.newcomer@polyphony.example and the password you set.")
	var row string
	b.Eval(`[...document.querySelectorAll('#people-table tbody tr')].map(r => r.innerText).find(t => t.includes('morgan.newcomer@polyphony.example')) || ''`, &row)
	for _, want := range []string{"Morgan Newcomer", "Supervisor", "Westfell 2027"} {
		if !strings.Contains(row, want) {
			t.Errorf("the people table row %q lacks %q", row, want)
		}
	}

	// The same email again: the clash is named and the form keeps what was typed.
	b.Fill("#person-name", "Morgan Again")
	b.Fill("#person-email", "morgan.newcomer@polyphony.example")
	b.Fill("#person-role", string(accounts.RoleTrainee))
	b.Fill("#person-password", "lantern-harbour-quiet-48")
	b.Submit("#add-person-button")
	if b.Status() != http.StatusBadRequest {
		t.Errorf("duplicate email: status %d, want 400", b.Status())
	}
	wantErrorSummary(t, b, "An account with the email morgan.newcomer@polyphony.example already exists", "person-email")
	if got := b.Value("#person-name"); got != "Morgan Again" {
		t.Errorf("the name field holds %q, want the typed name", got)
	}
	if got := b.Value("#person-role"); got != string(accounts.RoleTrainee) {
		t.Errorf("the role select holds %q, want trainee", got)
	}
	if got := b.Value("#person-password"); got != "" {
		t.Errorf("the password was filled back in")
	}
	screenshot(b, "admin-error")
	b.AssertNoAxeViolations(t)

	// The new person can sign in and sees their cohort.
	other := b.NewIsolatedTab()
	other.Navigate(f.ts.URL + "/")
	signIn(other, "morgan.newcomer@polyphony.example", "lantern-harbour-quiet-47")
	wantText(t, other, "h1", "Welcome, Morgan Newcomer")
	wantText(t, other, "main", "Westfell 2027")
	other.AssertNoAxeViolations(t)
}

func TestBrowserAPIToken(t *testing.T) {
	f := newFixture(t)
	b := browsertest.New(t)
	l := f.byRole[accounts.RoleTrainee]
	b.Navigate(f.ts.URL + "/signin")
	signIn(b, l.Email, l.Password)
	b.ClickAndWait(`a[href="/account"]`)
	wantText(t, b, "main", "You have no API tokens.")

	b.Fill("#token-name", "Weekly journal export")
	b.Fill("#token-days", "30")
	b.Submit("#create-token")
	if b.Status() != http.StatusCreated {
		t.Errorf("create token: status %d, want 201", b.Status())
	}
	secret := b.Text("#new-token-secret")
	if !strings.HasPrefix(secret, "pph_") || len(secret) < 20 {
		t.Errorf("the new token is %q, want a long secret starting pph_", secret)
	}
	wantText(t, b, "#new-token", "it will not be shown again")
	wantText(t, b, "#token-table", "Weekly journal export")
	screenshot(b, "account-token")
	b.AssertNoAxeViolations(t)

	// The secret works against the API, and is not on the page a second time.
	c := f.client(t)
	c.token = secret
	if res, body := c.do("GET", "/api/v1/me", nil); res.StatusCode != http.StatusOK {
		t.Errorf("the new token is refused: %d %s", res.StatusCode, body)
	}
	b.Navigate(f.ts.URL + "/account")
	if b.Exists("#new-token-secret") {
		t.Errorf("the secret is shown again on the account page")
	}
	if strings.Contains(b.Text("main"), secret) {
		t.Errorf("the account page still holds the secret")
	}

	b.Submit("#token-table form button")
	wantPath(t, b, f.ts.URL, "/account")
	wantText(t, b, ".nhsuk-inset-text", "The token was revoked.")
	wantText(t, b, "main", "You have no API tokens.")
	b.AssertNoAxeViolations(t)
	if res, _ := c.do("GET", "/api/v1/me", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the revoked token: status %d, want 401", res.StatusCode)
	}

	// A token without a name is refused with the error summary.
	b.Submit("#create-token")
	if b.Status() != http.StatusBadRequest {
		t.Errorf("token without a name: status %d, want 400", b.Status())
	}
	wantErrorSummary(t, b, "", "token-name")
	b.AssertNoAxeViolations(t)
}

func TestBrowserPhone(t *testing.T) {
	f := newFixture(t)
	b := browsertest.New(t)
	b.SetMobileViewport(375, 812)

	b.Navigate(f.ts.URL + "/signin")
	noHorizontalScroll(t, b)
	screenshot(b, "phone-signin")
	b.AssertNoAxeViolations(t)

	// The error state of the form, with the error summary, fits too.
	signIn(b, "nobody.with.a.long.address@polyphony.example", "not-the-password")
	b.WaitVisible(".nhsuk-error-summary")
	noHorizontalScroll(t, b)
	b.AssertNoAxeViolations(t)

	for _, role := range []accounts.Role{accounts.RoleAdmin, accounts.RoleTrainee} {
		t.Run(string(role), func(t *testing.T) {
			l := f.byRole[role]
			b := b.NewIsolatedTab().For(t)
			b.SetMobileViewport(375, 812)
			b.Navigate(f.ts.URL + "/signin")
			signIn(b, l.Email, l.Password)
			wantText(t, b, "h1", "Welcome, "+l.Name)
			noHorizontalScroll(t, b)
			screenshot(b, "phone-home-"+string(role))
			b.AssertNoAxeViolations(t)

			paths := []string{"/account"}
			if role == accounts.RoleAdmin {
				paths = append(paths, "/admin")
			}
			for _, p := range paths {
				b.Navigate(f.ts.URL + p)
				noHorizontalScroll(t, b)
				screenshot(b, "phone-"+strings.TrimPrefix(p, "/"))
				b.AssertNoAxeViolations(t)
			}
			if role == accounts.RoleAdmin {
				// A long email address, in the people table and in the error of a second try.
				for range 2 {
					b.Fill("#person-name", "Bartholomew Longname-Fairweather")
					b.Fill("#person-email", "bartholomew.longname-fairweather@polyphony.example")
					b.Fill("#person-password", "lantern-harbour-quiet-47")
					b.Submit("#add-person-button")
					wantText(t, b, "#people-table", "bartholomew.longname-fairweather@polyphony.example")
					noHorizontalScroll(t, b)
				}
				wantText(t, b, ".nhsuk-error-summary", "already exists")
				screenshot(b, "phone-admin-error")
				b.AssertNoAxeViolations(t)
			}
			if role == accounts.RoleTrainee {
				// The token table and the long secret must fit the phone too.
				b.Navigate(f.ts.URL + "/account")
				b.Fill("#token-name", "Attendance spreadsheet on my phone")
				b.Submit("#create-token")
				b.WaitVisible("#new-token-secret")
				noHorizontalScroll(t, b)
				screenshot(b, "phone-account-token")
				b.AssertNoAxeViolations(t)
			}
		})
	}
}

func TestBrowserNotFound(t *testing.T) {
	f := newFixture(t)
	b := browsertest.New(t)
	l := f.byRole[accounts.RoleFacilitator]
	b.Navigate(f.ts.URL + "/signin")
	signIn(b, l.Email, l.Password)

	b.Navigate(f.ts.URL + "/no-such-page")
	if b.Status() != http.StatusNotFound {
		t.Errorf("status %d, want 404", b.Status())
	}
	wantText(t, b, "h1", "Page not found")
	wantText(t, b, "main", "There is nothing at this address.")
	if !b.Exists(".nhsuk-header") || !b.Exists(".nhsuk-footer") {
		t.Errorf("the 404 page lacks the NHS header or footer")
	}
	if got := b.Text("[data-testid=role]"); got != accounts.RoleFacilitator.Label() {
		t.Errorf("the 404 page header shows role %q", got)
	}
	var linked bool
	b.Eval(`document.querySelector('main a[href="/"]') !== null`, &linked)
	if !linked {
		t.Errorf("the 404 page has no link home")
	}
	screenshot(b, "not-found")
	b.AssertNoAxeViolations(t)

	// Signed out, the same address asks to sign in first.
	b.ClickAndWait("#signout")
	b.Navigate(f.ts.URL + "/no-such-page")
	if b.Status() != http.StatusNotFound {
		t.Errorf("signed out: status %d, want 404", b.Status())
	}
	wantText(t, b, "main a[href='/signin']", "Sign in")
	b.AssertNoAxeViolations(t)
}
