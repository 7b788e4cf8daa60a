package server_test

import (
	"crypto/tls"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"polyphony/internal/accounts"
)

// TestOriginMustMatchSchemeHostAndPort sends writes and websocket upgrades with Origin
// headers that differ from the site in only the scheme, the host or the port.
func TestOriginMustMatchSchemeHostAndPort(t *testing.T) {
	f := newFixture(t)
	cohort := f.demoCohort(t)
	site := mustURL(f.ts.URL) // http://127.0.0.1:port
	l := f.byRole[accounts.RoleFacilitator]
	signIn := map[string]string{"email": l.Email, "password": l.Password}
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"http://" + site.Host, true},
		{"HTTP://" + site.Host, true},
		{"https://" + site.Host, false},
		{"ws://" + site.Host, false},
		{"http://" + site.Hostname(), false},
		{"http://" + site.Hostname() + ":1", false},
		{"http://localhost:" + site.Port(), false},
		{"http://evil.example", false},
		{"http://" + site.Host + ".evil.example", false},
	} {
		c := f.client(t)
		res, body := c.doWith("POST", "/api/v1/session", signIn, map[string]string{"Origin": tc.origin})
		if got := res.StatusCode == http.StatusOK; got != tc.ok {
			t.Errorf("sign-in with Origin %s: %d %s, want accepted %v", tc.origin, res.StatusCode, body, tc.ok)
		}
		facil := f.signedIn(t, accounts.RoleFacilitator)
		conn, res, err := facil.dialRoom("/rooms/"+cohort.ID+"/cohort/ws", tc.origin)
		if conn != nil {
			conn.Close()
		}
		if got := err == nil; got != tc.ok {
			status := 0
			if res != nil {
				status = res.StatusCode
			}
			t.Errorf("room websocket with Origin %s: %v (%d), want upgraded %v", tc.origin, err, status, tc.ok)
		} else if !tc.ok && (res == nil || res.StatusCode != http.StatusForbidden) {
			t.Errorf("room websocket with Origin %s: %v, want 403", tc.origin, res)
		}
	}

	// On an https site an http page is another origin.
	ts := f.tlsServer(t)
	secure := mustURL(ts.URL)
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"https://" + secure.Host, true},
		{"http://" + secure.Host, false},
		{"http://" + secure.Hostname() + ":80", false},
	} {
		jar, _ := cookiejar.New(nil)
		c := &client{t: t, base: ts.URL, http: &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}}
		res, body := c.doWith("POST", "/api/v1/session", signIn, map[string]string{"Origin": tc.origin})
		if got := res.StatusCode == http.StatusOK; got != tc.ok {
			t.Errorf("https site, sign-in with Origin %s: %d %s, want accepted %v", tc.origin, res.StatusCode, strings.TrimSpace(string(body)), tc.ok)
		}
	}
}
