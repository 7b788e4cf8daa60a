package server_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
	"polyphony/internal/sso"
	"polyphony/internal/ssotest"
	"polyphony/server"
)

// The organisation sign-in against a real OpenID provider on loopback (cmd/polyphony-testop,
// started by internal/ssotest): a person signs in at the provider's own login page, and
// Polyphony either starts their session or shows a page saying why not, with no session.

// ssoDomain is the domain the provider covers; the demo accounts (polyphony.example) keep
// their passwords.
const ssoDomain = "nhs.example"

// The people at the provider. Nurse, Unverified and Gone have Polyphony accounts (Gone's is
// disabled); Stranger has none.
var (
	ssoNurse      = ssotest.User{Email: "nurse@nhs.example", Password: "nurse-at-the-trust"}
	ssoStranger   = ssotest.User{Email: "stranger@nhs.example", Password: "stranger-at-the-trust"}
	ssoUnverified = ssotest.User{Email: "unverified@nhs.example", Password: "unverified-at-the-trust", Unverified: true}
	ssoGone       = ssotest.User{Email: "gone@nhs.example", Password: "gone-from-the-trust"}
)

// ssoFixture is the application with the provider configured as opts say, passwords off for
// ssoDomain when passwordsOff, and accounts for the nurse, the unverified and the gone.
type ssoFixture struct {
	*fixture
	op *ssotest.Provider
	// nursePassword is the nurse's Polyphony password, which passwords off refuses.
	nursePassword string
}

func newSSOFixture(t *testing.T, opts ssotest.Options, passwordsOff bool) *ssoFixture {
	t.Helper()
	sf := &ssoFixture{nursePassword: "a polyphony password of the nurse"}
	if opts.Users == nil {
		opts.Users = []ssotest.User{ssoNurse, ssoStranger, ssoUnverified, ssoGone}
	}
	sf.fixture = newFixture(t, func(t testing.TB, f *fixture, deps *server.Deps) {
		opts.RedirectURI = f.ts.URL + server.SSOCallbackPath
		sf.op = ssotest.Start(t, opts)
		p, err := sso.New(context.Background(), f.db, sso.Config{Issuer: sf.op.Issuer, ClientID: sf.op.ClientID,
			ClientSecret: sf.op.ClientSecret, RedirectURL: opts.RedirectURI, Domains: []string{ssoDomain}, PasswordsOff: passwordsOff})
		if err != nil {
			t.Fatal(err)
		}
		deps.SSO = p
	})
	ctx := context.Background()
	for _, u := range []ssotest.User{ssoNurse, ssoUnverified, ssoGone} {
		acc, err := sf.accounts.Users.Create(ctx, accounts.NewUser{Email: u.Email, Name: "Staff " + strings.Split(u.Email, "@")[0],
			Role: accounts.RoleTrainee, Password: sf.nursePassword})
		if err != nil {
			t.Fatal(err)
		}
		if u == ssoGone {
			if _, err := sf.accounts.SetDisabled(ctx, acc.ID, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	return sf
}

// begin asks Polyphony to begin an organisation sign-in going on to next, and answers the
// provider's address it sends the browser to.
func (sf *ssoFixture) begin(t *testing.T, c *client, next string) string {
	t.Helper()
	res, body := c.do("GET", "/signin/sso?next="+url.QueryEscape(next), nil)
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, sf.op.Issuer+"/") {
		t.Fatalf("begin: %d to %q, want 303 to the provider: %.300s", res.StatusCode, loc, body)
	}
	return loc
}

// signInAt begins a sign-in with c, logs in at the provider as u, and brings the browser
// back to Polyphony's callback. It answers the callback's answer and its address.
func (sf *ssoFixture) signInAt(t *testing.T, c *client, u ssotest.User, next string) (*http.Response, string, string) {
	t.Helper()
	cb, err := sf.op.Login(sf.begin(t, c, next), u.Email, u.Password)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cb.String(), sf.ts.URL+server.SSOCallbackPath+"?") {
		t.Fatalf("the provider sent the browser to %s, want Polyphony's callback", cb)
	}
	res, body := c.do("GET", cb.RequestURI(), nil)
	return res, string(body), cb.RequestURI()
}

// wantSignedInAs fails unless c's session is the person with email.
func wantSignedInAs(t *testing.T, c *client, email string) {
	t.Helper()
	res, body := c.do("GET", "/api/v1/me", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"email":"`+email+`"`) {
		t.Fatalf("/api/v1/me: %d %.300s, want signed in as %s", res.StatusCode, body, email)
	}
}

// wantRefused checks a refusal page: its status, its heading and plain words, a way back to
// the sign-in page, and no session.
func wantRefused(t *testing.T, c *client, res *http.Response, body string, status int, heading, words string) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("status %d, want %d: %.400s", res.StatusCode, status, body)
	}
	if !strings.Contains(body, "<h1>"+heading+"</h1>") {
		t.Errorf("the page's heading is not %q: %.600s", heading, body)
	}
	if !strings.Contains(body, words) {
		t.Errorf("the page does not say %q: %.900s", words, body)
	}
	if !strings.Contains(body, `href="/signin"`) || !strings.Contains(body, "You have not been signed in.") {
		t.Errorf("the page does not lead back to the sign-in page")
	}
	for _, ck := range res.Cookies() {
		if ck.Name == "polyphony" && ck.Value != "" && ck.MaxAge >= 0 {
			t.Errorf("a refusal set a session cookie")
		}
	}
	if res, body := c.do("GET", "/api/v1/me", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("after a refusal /api/v1/me is %d %.200s, want 401 (no session)", res.StatusCode, body)
	}
}

func TestSSOSignIn(t *testing.T) {
	sf := newSSOFixture(t, ssotest.Options{}, false)
	// The access matrix runs without a provider, so these routes are checked here.
	for _, route := range []string{"GET /signin/sso", "GET " + server.SSOCallbackPath} {
		if got, ok := sf.srv.Routes()[route]; !ok || got != server.Public || expectedAccess[route] != "anyone" {
			t.Errorf("%s: registered %v with access %v, matrix %q; want public and listed as anyone", route, ok, got, expectedAccess[route])
		}
	}
	c := sf.client(t)
	_, page := pageGet(c, "/signin?next=/journal")
	if !strings.Contains(page, "Sign in with your organisation account") || !strings.Contains(page, `href="/signin/sso?next=%2fjournal"`) {
		t.Fatalf("the sign-in page does not offer the organisation sign-in, going on to /journal: %.2000s", page)
	}

	res, body, _ := sf.signInAt(t, c, ssoNurse, "/journal")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/journal" {
		t.Fatalf("callback: %d to %q, want 303 to /journal: %.400s", res.StatusCode, res.Header.Get("Location"), body)
	}
	wantSignedInAs(t, c, ssoNurse.Email)
	if res, _ := pageGet(c, "/journal"); res.StatusCode != http.StatusOK {
		t.Errorf("/journal after the organisation sign-in: %d", res.StatusCode)
	}

	t.Run("ends the session the browser had", func(t *testing.T) {
		// Begun signed out, then signed in with a password in the same browser before coming
		// back from the provider.
		c := sf.client(t)
		authURL := sf.begin(t, c, "/")
		l := sf.byRole[accounts.RoleTrainee]
		if res, body := c.do("POST", "/api/v1/session", map[string]string{"email": l.Email, "password": l.Password}); res.StatusCode != http.StatusOK {
			t.Fatalf("password sign-in: %d %s", res.StatusCode, body)
		}
		old := c.http.Jar.Cookies(mustURL(sf.ts.URL))
		cb, err := sf.op.Login(authURL, ssoNurse.Email, ssoNurse.Password)
		if err != nil {
			t.Fatal(err)
		}
		res, body := c.do("GET", cb.RequestURI(), nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: %d %.300s", res.StatusCode, body)
		}
		wantSignedInAs(t, c, ssoNurse.Email)
		found := false
		for _, ck := range old {
			if ck.Name == "polyphony" {
				found = true
				if _, _, err := sf.accounts.FromSession(context.Background(), ck.Value); err == nil {
					t.Errorf("the session from before the sign-in still works")
				}
			}
		}
		if !found {
			t.Fatal("the password sign-in left no session cookie to check")
		}
	})
	t.Run("next stays on this site", func(t *testing.T) {
		for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example"} {
			c := sf.client(t)
			res, body, _ := sf.signInAt(t, c, ssoNurse, next)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
				t.Errorf("next %q: %d to %q, want 303 to /: %.300s", next, res.StatusCode, res.Header.Get("Location"), body)
			}
		}
	})
	t.Run("signed in already", func(t *testing.T) {
		res, _ := pageGet(c, "/signin/sso")
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
			t.Errorf("begin while signed in: %d to %q, want 303 to /", res.StatusCode, res.Header.Get("Location"))
		}
	})
}

func TestSSORefusals(t *testing.T) {
	sf := newSSOFixture(t, ssotest.Options{}, false)

	t.Run("unknown person", func(t *testing.T) {
		c := sf.client(t)
		res, body, _ := sf.signInAt(t, c, ssoStranger, "/")
		wantRefused(t, c, res, body, http.StatusForbidden, "You are not on Polyphony yet",
			"Your organisation account (stranger@nhs.example) is not on Polyphony yet: ask your programme administrator to add you.")
	})
	t.Run("email not verified", func(t *testing.T) {
		c := sf.client(t)
		res, body, _ := sf.signInAt(t, c, ssoUnverified, "/")
		wantRefused(t, c, res, body, http.StatusForbidden, "Your email address is not confirmed",
			"Your organisation has not confirmed your email address")
	})
	t.Run("disabled account", func(t *testing.T) {
		c := sf.client(t)
		res, body, _ := sf.signInAt(t, c, ssoGone, "/")
		wantRefused(t, c, res, body, http.StatusForbidden, "Your account is disabled",
			"Your Polyphony account is disabled. Ask your programme administrator.")
	})
	t.Run("replayed state", func(t *testing.T) {
		c := sf.client(t)
		res, body, callback := sf.signInAt(t, c, ssoNurse, "/")
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("first use: %d %.300s", res.StatusCode, body)
		}
		// The same callback again, from a browser holding the state's cookie as the first one
		// did: the state is used up in the database.
		replay := sf.client(t)
		cb, _ := url.Parse(callback)
		replay.http.Jar.SetCookies(mustURL(sf.ts.URL), []*http.Cookie{{Name: "polyphony-sso", Value: cb.Query().Get("state")}})
		res2, body2 := replay.do("GET", callback, nil)
		wantRefused(t, replay, res2, string(body2), http.StatusBadRequest, "This sign-in has expired",
			"This sign-in has expired or was already used. Sign in again from the start.")
	})
	t.Run("callback in another browser", func(t *testing.T) {
		// A callback address handed to someone else's browser (login CSRF) signs nobody in,
		// and leaves the state for the browser that began.
		c := sf.client(t)
		cb, err := sf.op.Login(sf.begin(t, c, "/"), ssoNurse.Email, ssoNurse.Password)
		if err != nil {
			t.Fatal(err)
		}
		other := sf.client(t)
		res, body := other.do("GET", cb.RequestURI(), nil)
		wantRefused(t, other, res, string(body), http.StatusBadRequest, "This sign-in has expired", "was begun in another browser")
		res, body = c.do("GET", cb.RequestURI(), nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("the browser that began: %d %.300s", res.StatusCode, body)
		}
		wantSignedInAs(t, c, ssoNurse.Email)
	})
	t.Run("refused at the provider", func(t *testing.T) {
		c := sf.client(t)
		authURL := sf.begin(t, c, "/")
		u, _ := url.Parse(authURL)
		res, body := c.do("GET", server.SSOCallbackPath+"?"+url.Values{"state": {u.Query().Get("state")}, "error": {"access_denied"}}.Encode(), nil)
		wantRefused(t, c, res, string(body), http.StatusForbidden, "Your organisation did not sign you in", "access_denied")
	})
}

func TestSSOWrongAudience(t *testing.T) {
	sf := newSSOFixture(t, ssotest.Options{Audience: "another-service"}, false)
	c := sf.client(t)
	res, body, _ := sf.signInAt(t, c, ssoNurse, "/")
	wantRefused(t, c, res, body, http.StatusUnauthorized, "Your organisation&#39;s sign-in could not be checked",
		"Polyphony could not confirm that your organisation&#39;s answer was meant for it")
}

func TestSSOOtherNonce(t *testing.T) {
	sf := newSSOFixture(t, ssotest.Options{Nonce: "a-nonce-of-another-sign-in"}, false)
	c := sf.client(t)
	res, body, _ := sf.signInAt(t, c, ssoNurse, "/")
	wantRefused(t, c, res, body, http.StatusUnauthorized, "Your organisation&#39;s sign-in could not be checked",
		"Polyphony could not confirm that your organisation&#39;s answer was meant for it")
}

func TestSSOExpiredToken(t *testing.T) {
	sf := newSSOFixture(t, ssotest.Options{IDTokenLifetime: -time.Minute}, false)
	c := sf.client(t)
	res, body, _ := sf.signInAt(t, c, ssoNurse, "/")
	wantRefused(t, c, res, body, http.StatusUnauthorized, "Your organisation&#39;s sign-in had expired",
		"Your organisation&#39;s answer had expired by the time it reached Polyphony")
}

func TestSSOPasswordsOff(t *testing.T) {
	sf := newSSOFixture(t, ssotest.Options{}, true)

	// The page: refused, pointing to the organisation's sign-in.
	c := sf.client(t)
	_, page := pageGet(c, "/signin")
	csrf := between(page, `name="csrf" value="`, `"`)
	res, body := c.do("POST", "/signin", url.Values{"csrf": {csrf}, "email": {ssoNurse.Email}, "password": {sf.nursePassword}})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("password sign-in of a covered address: %d, want 403", res.StatusCode)
	}
	for _, want := range []string{"use &#34;Sign in with your organisation account&#34; instead of a password", `id="signin-sso"`, `href="/signin/sso"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the refusal does not have %q: %.3000s", want, body)
		}
	}
	if res, _ := c.do("GET", "/api/v1/me", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("after the refused password, /api/v1/me is %d, want 401", res.StatusCode)
	}

	// The API, the same.
	api := sf.client(t)
	res, body = api.do("POST", "/api/v1/session", map[string]string{"email": "NURSE@nhs.example", "password": sf.nursePassword})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "organisation account") {
		t.Errorf("API password sign-in of a covered address: %d %s, want 403 naming the organisation account", res.StatusCode, body)
	}

	// An address outside the covered domains keeps its password.
	sf.signedIn(t, accounts.RoleTrainee)

	// And the organisation sign-in works.
	res, body2, _ := sf.signInAt(t, c, ssoNurse, "/")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("organisation sign-in with passwords off: %d %.300s", res.StatusCode, body2)
	}
	wantSignedInAs(t, c, ssoNurse.Email)
}

// between is the text of s after the first start, up to end.
func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, end)
	return v
}

func TestBrowserSSOSignIn(t *testing.T) {
	sf := newSSOFixture(t, ssotest.Options{}, false)
	browser := browsertest.New(t)

	t.Run("signs in", func(t *testing.T) {
		b := browser.NewIsolatedTab().For(t)
		b.Navigate(sf.ts.URL + "/journal")
		wantPath(t, b, sf.ts.URL, "/signin")
		wantText(t, b, "#signin-sso", "Sign in with your organisation account")
		screenshot(b, "signin-sso")
		b.AssertNoAxeViolations(t)

		b.ClickAndWait("#signin-sso")
		if !strings.HasPrefix(b.URL(), sf.op.Issuer+"/login/") {
			t.Fatalf("after the button, on %s, want the provider's login page", b.URL())
		}
		b.Fill("#username", ssoNurse.Email)
		b.Fill("#password", ssoNurse.Password)
		b.Submit("#password")
		wantPath(t, b, sf.ts.URL, "/journal")
		if b.Status() != http.StatusOK {
			t.Errorf("/journal after the organisation sign-in: status %d", b.Status())
		}
		b.Navigate(sf.ts.URL + "/account")
		wantText(t, b, ".nhsuk-summary-list", ssoNurse.Email)
		if c := b.Cookie("polyphony-sso"); c != nil {
			t.Errorf("the sign-in's state cookie is still there: %+v", c)
		}
	})
	t.Run("unknown person", func(t *testing.T) {
		b := browser.NewIsolatedTab().For(t)
		b.Navigate(sf.ts.URL + "/signin")
		b.ClickAndWait("#signin-sso")
		b.Fill("#username", ssoStranger.Email)
		b.Fill("#password", ssoStranger.Password)
		b.Submit("#password")
		wantPath(t, b, sf.ts.URL, server.SSOCallbackPath)
		wantText(t, b, "h1", "You are not on Polyphony yet")
		wantText(t, b, "#refusal", "Your organisation account (stranger@nhs.example) is not on Polyphony yet: ask your programme administrator to add you.")
		screenshot(b, "signin-sso-refused")
		b.AssertNoAxeViolations(t)
		b.ClickAndWait(`main a[href="/signin"]`)
		wantPath(t, b, sf.ts.URL, "/signin")
		b.Navigate(sf.ts.URL + "/")
		wantPath(t, b, sf.ts.URL, "/signin")
	})
}

// A provider that cannot be reached: Polyphony still starts, and the button leads to a page
// saying so instead of an error.
func TestSSOProviderUnreachable(t *testing.T) {
	f := newFixture(t, func(t testing.TB, f *fixture, deps *server.Deps) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		issuer := "http://" + ln.Addr().String()
		ln.Close() // nothing answers there now
		p, err := sso.New(context.Background(), f.db, sso.Config{Issuer: issuer, ClientID: "polyphony", ClientSecret: "s",
			RedirectURL: f.ts.URL + server.SSOCallbackPath})
		if err != nil {
			t.Fatal(err)
		}
		deps.SSO = p
	})
	c := f.client(t)
	res, body := pageGet(c, "/signin/sso")
	wantRefused(t, c, res, body, http.StatusServiceUnavailable, "Your organisation&#39;s sign-in cannot be reached",
		"Polyphony cannot reach your organisation&#39;s sign-in just now. Try again in a few minutes")
	for _, ck := range res.Cookies() {
		if ck.Name == "polyphony-sso" {
			t.Errorf("a sign-in that could not begin set the state cookie")
		}
	}
}
