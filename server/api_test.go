package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"polyphony/internal/accounts"
)

func TestSessionAPI(t *testing.T) {
	f := newFixture(t)
	l := f.byRole[accounts.RoleTrainee]
	c := f.client(t)

	res, body := c.do("POST", "/api/v1/session", map[string]string{"email": l.Email, "password": l.Password})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("sign in: %d %s", res.StatusCode, body)
	}
	var cookie *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "polyphony" {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || len(cookie.Value) < 43 {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, ≥ 256-bit value", cookie)
	}
	var me struct {
		User      accounts.User `json:"user"`
		CSRFToken string        `json:"csrfToken"`
	}
	json.Unmarshal(body, &me)
	if me.User.Email != l.Email || me.CSRFToken == "" {
		t.Errorf("sign-in answer %s", body)
	}
	if strings.Contains(string(body), "passwordHash") || strings.Contains(string(body), "argon2") {
		t.Errorf("sign-in answer leaks the password hash: %s", body)
	}
	c.csrf = me.CSRFToken

	res, body = c.do("GET", "/api/v1/me", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), l.Email) {
		t.Errorf("me: %d %s", res.StatusCode, body)
	}

	// Signing in again rotates the session: the old cookie stops working.
	old := cookie.Value
	res, _ = c.do("POST", "/api/v1/session", map[string]string{"email": l.Email, "password": l.Password})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("second sign in: %d", res.StatusCode)
	}
	stale := f.client(t)
	req, _ := http.NewRequest("GET", f.ts.URL+"/api/v1/me", nil)
	req.AddCookie(&http.Cookie{Name: "polyphony", Value: old})
	if r, _ := stale.http.Do(req); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("old session after a new sign-in: %d, want 401", r.StatusCode)
	}

	// Logout needs the CSRF token of the new session.
	_, body = c.do("GET", "/api/v1/me", nil)
	json.Unmarshal(body, &me)
	c.csrf = "wrong"
	if res, _ := c.do("DELETE", "/api/v1/session", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("logout with a wrong CSRF token: %d, want 403", res.StatusCode)
	}
	c.csrf = me.CSRFToken
	if res, _ := c.do("DELETE", "/api/v1/session", nil); res.StatusCode != http.StatusNoContent {
		t.Errorf("logout: %d, want 204", res.StatusCode)
	}
	if res, body := c.do("GET", "/api/v1/me", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("me after logout: %d %s, want 401", res.StatusCode, body)
	}
}

func TestSignInRefusals(t *testing.T) {
	f := newFixture(t)
	l := f.byRole[accounts.RoleFacilitator]
	c := f.client(t)
	_, wrong := c.do("POST", "/api/v1/session", map[string]string{"email": l.Email, "password": "not the password"})
	_, unknown := c.do("POST", "/api/v1/session", map[string]string{"email": "nobody@nhs.example", "password": "not the password"})
	if string(wrong) != string(unknown) {
		t.Errorf("wrong password %s and unknown user %s answer differently", wrong, unknown)
	}
	for _, tc := range []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"malformed JSON", `{"email": "a@b.c", "password": `, 400, ""},
		{"syntax error", `{"email" "x"}`, 400, ""},
		{"not an object", `[1,2]`, 400, ""},
		{"wrong type", `{"email": 5, "password": "x"}`, 400, "email"},
		{"unknown field", `{"email": "a@b.c", "password": "xxxxxxxx", "role": "admin"}`, 400, "role"},
		{"two objects", `{"email": "a@b.c", "password": "x"} {}`, 400, ""},
		{"empty body", ``, 400, ""},
		{"missing password", map[string]string{"email": l.Email}, 400, "password"},
		{"oversize", `{"email": "` + strings.Repeat("a", 2<<20) + `", "password": "x"}`, 413, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := c.do("POST", "/api/v1/session", tc.body)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d %s, want %d", res.StatusCode, body, tc.status)
			}
			if _, field := errorBody(t, body); field != tc.field {
				t.Errorf("field %q, want %q (%s)", field, tc.field, body)
			}
		})
	}
	req, _ := http.NewRequest("POST", f.ts.URL+"/api/v1/session", strings.NewReader("email=a&password=b"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, _ := http.DefaultClient.Do(req); res.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form-encoded sign-in: %d, want 415 (a cross-site form cannot send JSON)", res.StatusCode)
	}

	// Disabled: the right password gets a clear 403, and the person's sessions are gone.
	admin := f.signedIn(t, accounts.RoleAdmin)
	victim := f.signedIn(t, accounts.RoleSupervisor)
	sup, _ := f.accounts.Users.ByEmail(context.Background(), f.byRole[accounts.RoleSupervisor].Email)
	if res, body := admin.do("PATCH", "/api/v1/users/"+sup.ID, map[string]bool{"disabled": true}); res.StatusCode != http.StatusOK {
		t.Fatalf("disable: %d %s", res.StatusCode, body)
	}
	if res, _ := victim.do("GET", "/api/v1/me", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("session of a disabled account: %d, want 401", res.StatusCode)
	}
	sl := f.byRole[accounts.RoleSupervisor]
	res, body := f.client(t).do("POST", "/api/v1/session", map[string]string{"email": sl.Email, "password": sl.Password})
	if msg, _ := errorBody(t, body); res.StatusCode != http.StatusForbidden || !strings.Contains(msg, "disabled") {
		t.Errorf("sign in to a disabled account: %d %s", res.StatusCode, body)
	}
}

func TestThrottleAnswers429(t *testing.T) {
	f := newFixture(t)
	l := f.byRole[accounts.RoleAssessor]
	c := f.client(t)
	var last *http.Response
	for range 20 {
		last, _ = c.do("POST", "/api/v1/session", map[string]string{"email": l.Email, "password": "wrong password"})
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("20th wrong password: %d Retry-After %q, want 429 with Retry-After", last.StatusCode, last.Header.Get("Retry-After"))
	}
	// Even the right password waits out the window.
	if res, _ := c.do("POST", "/api/v1/session", map[string]string{"email": l.Email, "password": l.Password}); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("right password while throttled: %d, want 429", res.StatusCode)
	}
	// The client address the throttle counts comes from the connection, not from a header the
	// client sets itself.
	other := f.byRole[accounts.RoleFacilitator]
	req, _ := http.NewRequest("POST", f.ts.URL+"/api/v1/session", strings.NewReader(`{"email":"`+other.Email+`","password":"`+other.Password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("sign in with a forged X-Forwarded-For: %v %v", res, err)
	}
	var secret string
	for _, ck := range res.Cookies() {
		if ck.Name == "polyphony" {
			secret = ck.Value
		}
	}
	_, sess, err := f.accounts.FromSession(context.Background(), secret)
	if err != nil || sess.IP != "127.0.0.1" {
		t.Errorf("session address %q (%v), want 127.0.0.1: a client's X-Forwarded-For must not be believed by default", sess.IP, err)
	}
}

func TestUsersAPI(t *testing.T) {
	f := newFixture(t)
	admin := f.signedIn(t, accounts.RoleAdmin)
	cohorts, _ := f.courses.Cohorts(context.Background())

	res, body := admin.do("POST", "/api/v1/users", map[string]any{
		"email": "Nia@NHS.example", "name": "Nia Nurse", "role": "trainee", "password": "a good long password",
		"cohortId": cohorts[0].ID, "peerWorker": true,
	})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	var u accounts.User
	json.Unmarshal(body, &u)
	if u.Email != "nia@nhs.example" || u.Role != accounts.RoleTrainee || !u.PeerWorker {
		t.Errorf("created %+v", u)
	}
	members, _ := f.courses.Members(context.Background(), cohorts[0].ID)
	found := false
	for _, m := range members {
		found = found || m.UserID == u.ID
	}
	if !found {
		t.Error("the new account is not enrolled in the cohort named")
	}

	before, _ := f.accounts.Users.Count(context.Background())
	for _, tc := range []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"duplicate email", map[string]any{"email": "nia@nhs.example", "name": "X", "role": "trainee", "password": "another good password"}, 409, ""},
		{"unknown role", map[string]any{"email": "r@nhs.example", "name": "X", "role": "superuser", "password": "another good password"}, 400, "role"},
		{"bad email", map[string]any{"email": "not-an-email", "name": "X", "role": "trainee", "password": "another good password"}, 400, "email"},
		{"short password", map[string]any{"email": "s@nhs.example", "name": "X", "role": "trainee", "password": "short"}, 400, "password"},
		{"common password", map[string]any{"email": "s@nhs.example", "name": "X", "role": "trainee", "password": "password123"}, 400, "password"},
		{"unknown cohort", map[string]any{"email": "s@nhs.example", "name": "X", "role": "trainee", "password": "another good password", "cohortId": "nope"}, 400, "cohortId"},
		{"mass assignment of version", map[string]any{"email": "s@nhs.example", "name": "X", "role": "trainee", "password": "another good password", "version": 9}, 400, "version"},
		{"mass assignment of id", map[string]any{"email": "s@nhs.example", "name": "X", "role": "trainee", "password": "another good password", "id": "mine"}, 400, "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := admin.do("POST", "/api/v1/users", tc.body)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d %s, want %d", res.StatusCode, body, tc.status)
			}
			if _, field := errorBody(t, body); field != tc.field {
				t.Errorf("field %q, want %q", field, tc.field)
			}
		})
	}
	if after, _ := f.accounts.Users.Count(context.Background()); after != before {
		t.Errorf("refused requests changed the accounts: %d → %d", before, after)
	}

	// An administrator may change a role; a role that is not one, or a field that is not an
	// account's, is refused.
	res, body = admin.do("PATCH", "/api/v1/users/"+u.ID, map[string]any{"role": "chief"})
	if _, field := errorBody(t, body); res.StatusCode != http.StatusBadRequest || field != "role" {
		t.Errorf("PATCH an unknown role: %d %s, want 400 on role", res.StatusCode, body)
	}
	res, body = admin.do("PATCH", "/api/v1/users/"+u.ID, map[string]any{"passwordHash": "x"})
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("PATCH passwordHash: %d %s, want 400 (not a field of the request)", res.StatusCode, body)
	}
	res, body = admin.do("PATCH", "/api/v1/users/"+u.ID, map[string]any{"role": "admin"})
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"role":"admin"`) {
		t.Errorf("PATCH role: %d %s, want 200", res.StatusCode, body)
	}
	me, _ := f.accounts.Users.ByEmail(context.Background(), f.byRole[accounts.RoleAdmin].Email)
	if res, _ := admin.do("PATCH", "/api/v1/users/"+me.ID, map[string]any{"disabled": true}); res.StatusCode != http.StatusBadRequest {
		t.Errorf("admin disabling self: %d, want 400", res.StatusCode)
	}
	if res, _ := admin.do("GET", "/api/v1/users/nope", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown user: %d, want 404", res.StatusCode)
	}
	if res, body := admin.do("GET", "/api/v1/users", nil); res.StatusCode != http.StatusOK || strings.Contains(string(body), "argon2") {
		t.Errorf("list: %d (hashes must never be listed)", res.StatusCode)
	}
}

func TestCohortsAPI(t *testing.T) {
	f := newFixture(t)
	admin := f.signedIn(t, accounts.RoleAdmin)
	res, body := admin.do("POST", "/api/v1/trusts", map[string]string{"name": "Riverside NHS Trust"})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("trust: %d %s", res.StatusCode, body)
	}
	var trust struct{ ID string }
	json.Unmarshal(body, &trust)
	if res, _ := admin.do("POST", "/api/v1/trusts", map[string]string{"name": "Riverside NHS Trust"}); res.StatusCode != http.StatusConflict {
		t.Errorf("duplicate trust: %d, want 409", res.StatusCode)
	}
	res, body = admin.do("POST", "/api/v1/cohorts", map[string]any{"name": "Riverside 2027", "startDate": "2027-03-01", "trustIds": []string{trust.ID}})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("cohort: %d %s", res.StatusCode, body)
	}
	var cohort struct{ ID string }
	json.Unmarshal(body, &cohort)
	if res, body := admin.do("POST", "/api/v1/cohorts", map[string]any{"name": "Bad date", "startDate": "01/03/2027"}); res.StatusCode != 400 {
		t.Errorf("bad date: %d %s", res.StatusCode, body)
	} else if _, field := errorBody(t, body); field != "startDate" {
		t.Errorf("bad date names %q", field)
	}
	// The demo facilitator runs a second cohort; the demo trainee, a trainee of the demo
	// cohort, cannot be one of this one too.
	fac, _ := f.accounts.Users.ByEmail(context.Background(), f.byRole[accounts.RoleFacilitator].Email)
	if res, body := admin.do("POST", "/api/v1/cohorts/"+cohort.ID+"/members", map[string]string{"userId": fac.ID}); res.StatusCode != http.StatusCreated {
		t.Errorf("add member: %d %s", res.StatusCode, body)
	}
	res, body = admin.do("GET", "/api/v1/cohorts/"+cohort.ID+"/members", nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), fac.ID) {
		t.Errorf("members: %d %s", res.StatusCode, body)
	}
	trainee, _ := f.accounts.Users.ByEmail(context.Background(), f.byRole[accounts.RoleTrainee].Email)
	if res, body := admin.do("POST", "/api/v1/cohorts/"+cohort.ID+"/members", map[string]string{"userId": trainee.ID}); res.StatusCode != 400 {
		t.Errorf("a trainee of another cohort: %d %s, want 400", res.StatusCode, body)
	} else if msg, field := errorBody(t, body); field != "userId" || !strings.Contains(msg, "a trainee in "+f.demoCohort(t).Name) {
		t.Errorf("a trainee of another cohort: %q about %q", msg, field)
	}
	if res, _ := admin.do("GET", "/api/v1/cohorts/nope/members", nil); res.StatusCode != 404 {
		t.Errorf("members of unknown cohort: %d", res.StatusCode)
	}
}

func TestAPITokens(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(t, accounts.RoleFacilitator)
	res, body := c.do("POST", "/api/v1/tokens", map[string]any{"name": "attendance script", "expiresInDays": 30})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create token: %d %s", res.StatusCode, body)
	}
	var created struct {
		Token  struct{ ID string } `json:"token"`
		Secret string              `json:"secret"`
	}
	json.Unmarshal(body, &created)

	script := f.client(t)
	script.token = created.Secret
	if res, body := script.do("GET", "/api/v1/me", nil); res.StatusCode != 200 || !strings.Contains(string(body), f.byRole[accounts.RoleFacilitator].Email) {
		t.Errorf("me with token: %d %s", res.StatusCode, body)
	}
	// A token carries no ambient authority: state changes need no CSRF token.
	if res, body := script.do("POST", "/api/v1/tokens", map[string]any{"name": "second"}); res.StatusCode != http.StatusCreated {
		t.Errorf("token-authenticated POST: %d %s", res.StatusCode, body)
	}
	if res, body := c.do("GET", "/api/v1/tokens", nil); res.StatusCode != 200 || strings.Contains(string(body), created.Secret) {
		t.Errorf("list tokens: %d (must not contain secrets)", res.StatusCode)
	}
	if res, _ := c.do("DELETE", "/api/v1/tokens/"+created.Token.ID, nil); res.StatusCode != http.StatusNoContent {
		t.Errorf("revoke: %d", res.StatusCode)
	}
	if res, _ := script.do("GET", "/api/v1/me", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", res.StatusCode)
	}
	bad := f.client(t)
	bad.token = "pph_madeup"
	if res, _ := bad.do("GET", "/api/v1/me", nil); res.StatusCode != 401 {
		t.Errorf("made-up token: %d", res.StatusCode)
	}
	req, _ := http.NewRequest("GET", f.ts.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Basic YTpi")
	if res, _ := http.DefaultClient.Do(req); res.StatusCode != 400 {
		t.Errorf("Basic auth header: %d, want 400", res.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/signin", "/api/v1/openapi.json", "/healthz", "/no-such-page", "/static/app.css"} {
		res, _ := f.client(t).do("GET", path, nil)
		h := res.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: nosniff %q, Referrer-Policy %q", path, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain HTTP", path)
		}
	}
}

// Under an https public URL the cookie is Secure with the __Host- prefix, and HSTS is sent.
func TestSecureCookiesUnderTLS(t *testing.T) {
	f := newFixture(t)
	srv := f.tlsServer(t)
	l := f.byRole[accounts.RoleTrainee]
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/session", strings.NewReader(`{"email":"`+l.Email+`","password":"`+l.Password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ck *http.Cookie
	for _, c := range res.Cookies() {
		ck = c
	}
	if ck == nil || ck.Name != "__Host-polyphony" || !ck.Secure || ck.Path != "/" || ck.Domain != "" {
		t.Errorf("cookie %+v: want __Host-polyphony, Secure, Path=/, no Domain", ck)
	}
	if res.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS under TLS")
	}
}

func TestCSRFOnPages(t *testing.T) {
	f := newFixture(t)
	admin := f.signedIn(t, accounts.RoleAdmin)
	csrf := admin.csrf
	form := url.Values{"name": {"Forged Trust"}}
	admin.csrf = ""
	if res, _ := admin.do("POST", "/admin/trusts", form); res.StatusCode != http.StatusForbidden {
		t.Errorf("form post without CSRF token: %d, want 403", res.StatusCode)
	}
	form.Set("csrf", csrf)
	req, _ := http.NewRequest("POST", f.ts.URL+"/admin/trusts", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res, _ := admin.http.Do(req); res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post with the token: %d, want 403", res.StatusCode)
	}
	req, _ = http.NewRequest("POST", f.ts.URL+"/admin/trusts", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if res, _ := admin.http.Do(req); res.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Origin: %d, want 403", res.StatusCode)
	}
	huge := url.Values{"csrf": {csrf}, "name": {strings.Repeat("x", 2<<20)}}
	if res, _ := admin.do("POST", "/admin/trusts", huge); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB form: %d, want 413", res.StatusCode)
	}
	if res, body := admin.do("POST", "/admin/trusts", form); res.StatusCode != http.StatusSeeOther {
		t.Errorf("form post with the token: %d %s, want 303", res.StatusCode, body)
	}
	if ts, _ := f.courses.Trusts(context.Background()); len(ts) != 2 {
		t.Errorf("trusts: %d, want the demo trust and one added", len(ts))
	}

	// The sign-in form carries its own double-submit token.
	c := f.client(t)
	l := f.byRole[accounts.RoleTrainee]
	if res, _ := c.do("POST", "/signin", url.Values{"email": {l.Email}, "password": {l.Password}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in form without its token: %d, want 403", res.StatusCode)
	}
}

func TestErrorPagesAndHealth(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(t, accounts.RoleTrainee)
	res, body := c.do("GET", "/no-such-page", nil)
	if res.StatusCode != 404 || !bytes.Contains(body, []byte("nhsuk-header")) || !bytes.Contains(body, []byte("nothing at this address")) {
		t.Errorf("404 page: %d", res.StatusCode)
	}
	res, body = c.do("GET", "/api/v1/nothing", nil)
	if res.StatusCode != 404 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("API 404: %d %s", res.StatusCode, body)
	}
	if res, _ := c.do("GET", "/admin", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("trainee on /admin: %d, want 403", res.StatusCode)
	}
	anon := f.client(t)
	if res, _ := anon.do("GET", "/admin?x=1", nil); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin?next=%2Fadmin%3Fx%3D1" {
		t.Errorf("anonymous page: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, body := anon.do("GET", "/healthz", nil); res.StatusCode != 200 {
		t.Errorf("healthz: %d %s", res.StatusCode, body)
	}
	if res, body := anon.do("GET", "/readyz", nil); res.StatusCode != 200 || !strings.Contains(string(body), `"database":"ok"`) || !strings.Contains(string(body), `"media":"ok"`) {
		t.Errorf("readyz: %d %s", res.StatusCode, body)
	}
	if res, _ := anon.do("GET", "/static/../server.go", nil); res.StatusCode != 404 {
		t.Errorf("static path escape: %d", res.StatusCode)
	}
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	f := newFixture(t)
	res, body := f.client(t).do("GET", "/api/v1/openapi.json", nil)
	if res.StatusCode != 200 {
		t.Fatalf("openapi: %d", res.StatusCode)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not an OpenAPI 3 document: %v", err)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	// Every API route is described; so is the room's websocket, which is not under /api/.
	routed := map[string]bool{}
	for route := range f.srv.Routes() {
		method, path, _ := strings.Cut(route, " ")
		key := method + " " + openAPIPath(path)
		routed[key] = true
		if !strings.HasPrefix(path, "/api/") {
			continue
		}
		if !documented[key] {
			t.Errorf("route %s is not in openapi.json", key)
		}
	}
	for key := range documented {
		if !routed[key] {
			t.Errorf("openapi.json describes %s, which has no route", key)
		}
	}
}

// openAPIPath turns echo's :param into OpenAPI's {param}.
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}
