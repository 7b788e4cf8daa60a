package main

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"polyphony/internal/ssotest"
)

// polyphony serve with the organisation sign-in settings, against a real OpenID provider:
// a person an administrator added signs in through it; with passwords off, their password
// is refused.
func TestServeSignsInThroughTheOrganisation(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // serve listens here; the provider must know the callback first
	base := "http://" + addr
	const nurse, password = "nurse@nhs.example", "nurse-long-passphrase"
	op := ssotest.Start(t, ssotest.Options{RedirectURI: base + "/signin/sso/callback",
		Users: []ssotest.User{{Email: nurse, Password: "at-the-provider"}}})

	data := t.TempDir()
	srv, got := startServe(t, data, "--addr", addr, "--sso-issuer", op.Issuer, "--sso-client-id", op.ClientID,
		"--sso-client-secret", op.ClientSecret, "--sso-domains", "nhs.example", "--sso-passwords-off", "true")
	if got != base {
		t.Fatalf("serve opened %s, want %s", got, base)
	}
	r := runBinary(t, password+"\n", "user", "add", "--data", data, "--email", nurse, "--name", "Nina Nurse", "--role", "trainee", "--password-stdin")
	if r.code != 0 {
		t.Fatalf("user add: %v", r)
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := browser.Get(base + "/signin/sso?next=/journal")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("begin: %d", res.StatusCode)
	}
	cb, err := op.Login(res.Header.Get("Location"), nurse, "at-the-provider")
	if err != nil {
		t.Fatal(err)
	}
	res, err = browser.Get(cb.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/journal" {
		t.Fatalf("callback: %d to %q: %.400s\n--- stderr\n%s", res.StatusCode, res.Header.Get("Location"), body, srv.stderr)
	}
	res, err = browser.Get(base + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), nurse) {
		t.Errorf("/api/v1/me after the organisation sign-in: %d %s", res.StatusCode, body)
	}

	if res := signIn(t, base, nurse, password); res.StatusCode != http.StatusForbidden {
		t.Errorf("password sign-in with passwords off: %d, want 403", res.StatusCode)
	}
}
