package server_test

import (
	"html"
	"net/http"
	"net/url"
	"testing"

	"polyphony/internal/accounts"
)

// TestSignInRedirectStaysOnSite signs in through the form with next values that browsers
// would resolve to another site, and checks that every redirect stays on this one.
func TestSignInRedirectStaysOnSite(t *testing.T) {
	f := newFixture(t)
	l := f.byRole[accounts.RoleTrainee]
	for _, tc := range []struct{ next, want string }{
		{"/journal", "/journal"},
		{"/journal?tag=dialogism&module=2", "/journal?tag=dialogism&module=2"},
		{"/curriculum/tolerance-of-uncertainty", "/curriculum/tolerance-of-uncertainty"},
		{"", "/"},
		{"//evil.example/phish", "/"},
		{"///evil.example/phish", "/"},
		{"/\\evil.example/phish", "/"},
		{"\\\\evil.example/phish", "/"},
		{"/\t/evil.example/phish", "/"},
		{"/\r\n/evil.example/phish", "/"},
		{"/\n/evil.example", "/"},
		{"\t//evil.example", "/"},
		{" //evil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"/%5cevil.example", "/"},
		{"/%2F%2Fevil.example", "/"},
		{"/%2f/evil.example", "/"},
		{"/%09/evil.example", "/"},
		{"/%0d%0a/evil.example", "/"},
		{"/%0D%0ALocation:%20https://evil.example", "/"},
		{"https://evil.example/phish", "/"},
		{"https:evil.example", "/"},
		{"https:/evil.example", "/"},
		{"http:\\\\evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"JaVaScRiPt:alert(1)", "/"},
		{"data:text/html,<script>alert(1)</script>", "/"},
		{"evil.example", "/"},
		{"/@evil.example", "/@evil.example"},
		{"//user@evil.example", "/"},
		{"/\x00/evil.example", "/"},
		{"/\x7f/evil.example", "/"},
	} {
		t.Run(url.QueryEscape(tc.next), func(t *testing.T) {
			c := f.client(t)
			res, body := c.do("GET", "/signin", nil)
			m := csrfField.FindSubmatch(body)
			if res.StatusCode != http.StatusOK || m == nil {
				t.Fatalf("sign-in page: %d, token found: %v", res.StatusCode, m != nil)
			}
			form := url.Values{"csrf": {html.UnescapeString(string(m[1]))}, "email": {l.Email}, "password": {l.Password}, "next": {tc.next}}
			res, body = c.do("POST", "/signin", form)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in: %d %s", res.StatusCode, body)
			}
			if got := res.Header.Get("Location"); got != tc.want {
				t.Errorf("next=%q: Location %q, want %q", tc.next, got, tc.want)
			}
			// Whatever the answer, it resolves to this site.
			base, _ := url.Parse(f.ts.URL + "/signin")
			to, err := base.Parse(res.Header.Get("Location"))
			if err != nil || to.Host != base.Host || to.Scheme != base.Scheme {
				t.Errorf("next=%q: the redirect resolves to %v (%v), off the site", tc.next, to, err)
			}
		})
	}
}
