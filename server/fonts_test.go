package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"polyphony/server"
)

// fontServer serves the application's static files with the fonts setting given.
func fontServer(t *testing.T, fonts string) *httptest.Server {
	t.Helper()
	srv, err := server.New(server.Config{PublicURL: mustURL("http://127.0.0.1:8080"), Fonts: fonts}, server.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// getText fetches path and returns the answer and its body.
func getText(t *testing.T, base, path string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

var (
	fontFaceRule = regexp.MustCompile(`@font-face\s*\{[^}]*\}`)
	cssURL       = regexp.MustCompile(`url\(["']?([^)"']+)["']?\)`)
	fontSrc      = regexp.MustCompile(`(?:^|;)\s*font-src ([^;]*)`)
)

// fontFaceURLs returns the addresses that the style sheet's @font-face rules load.
func fontFaceURLs(css string) []string {
	var out []string
	for _, rule := range fontFaceRule.FindAllString(css, -1) {
		for _, m := range cssURL.FindAllStringSubmatch(rule, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// TestFontsSettingAndPolicyAgree checks that the NHS.UK frontend's style sheet, as the site
// serves it, asks for fonts only where the Content-Security-Policy allows them: nowhere but
// this site with no font source, the NHS.UK font's own address by default, and a folder of
// the trust's own when one is set.
func TestFontsSettingAndPolicyAgree(t *testing.T) {
	for _, tc := range []struct {
		name, fonts string
		wantSrc     string // font-src of the policy
		wantPrefix  string // of every font address, "" for no @font-face at all
	}{
		{"none", "", "'self'", ""},
		{"nhsuk", server.NHSUKFonts, "'self' https://assets.nhs.uk", "https://assets.nhs.uk/fonts/"},
		{"own folder", "https://fonts.trust.example/nhs", "'self' https://fonts.trust.example", "https://fonts.trust.example/nhs/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := fontServer(t, tc.fonts)
			res, css := getText(t, ts.URL, "/static/nhsuk/nhsuk-frontend.min.css")
			if res.StatusCode != http.StatusOK || len(css) < 10000 {
				t.Fatalf("the NHS.UK style sheet: status %d, %d bytes (run `make assets`)", res.StatusCode, len(css))
			}
			m := fontSrc.FindStringSubmatch(res.Header.Get("Content-Security-Policy"))
			if m == nil || strings.TrimSpace(m[1]) != tc.wantSrc {
				t.Errorf("CSP %q: font-src = %v, want %q", res.Header.Get("Content-Security-Policy"), m, tc.wantSrc)
			}
			urls := fontFaceURLs(css)
			switch {
			case tc.wantPrefix == "" && (len(urls) != 0 || strings.Contains(css, "@font-face")):
				t.Errorf("with no font source the style sheet still has @font-face rules loading %v", urls)
			case tc.wantPrefix != "" && len(urls) < 2:
				t.Errorf("the style sheet loads fonts from %v, want the regular and bold NHS.UK font", urls)
			}
			for _, u := range urls {
				if !strings.HasPrefix(u, tc.wantPrefix) {
					t.Errorf("the style sheet loads a font from %s, want it under %s", u, tc.wantPrefix)
				}
			}
			if tc.wantPrefix == "" && strings.Contains(css, "assets.nhs.uk") {
				t.Errorf("with no font source the style sheet still names assets.nhs.uk")
			}
			// Everything else the style sheet names is on this site, and there.
			for _, m := range cssURL.FindAllStringSubmatch(fontFaceRule.ReplaceAllString(css, ""), -1) {
				u := m[1]
				if strings.HasPrefix(u, "data:") {
					continue
				}
				if !strings.HasPrefix(u, "/static/") {
					t.Errorf("the style sheet names %s, which is not under /static/", u)
					continue
				}
				if res, _ := getText(t, ts.URL, u); res.StatusCode != http.StatusOK {
					t.Errorf("the style sheet names %s, which answers %d", u, res.StatusCode)
				}
			}
		})
	}

	if _, err := server.New(server.Config{Fonts: "assets.nhs.uk/fonts"}, server.Deps{}); err == nil {
		t.Errorf("a font source that is not an address was accepted")
	}
}
