package server_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/internal/accounts"
)

// BenchmarkB5API measures B5 (README, Performance): an authenticated JSON API request through the
// whole middleware chain (session lookup, CSRF, headers, logging) against a bare echo handler
// answering the same JSON, both in this run, in process. It reports each one's requests per
// second and their ratio; it never fails on a time.
func BenchmarkB5API(b *testing.B) {
	f := newFixture(b)
	c := f.signedIn(b, accounts.RoleTrainee)
	var cookie *http.Cookie
	for _, ck := range c.http.Jar.Cookies(mustURL(f.ts.URL)) {
		cookie = ck
	}
	app := f.srv.Handler()
	bare := echo.New()
	bare.GET("/api/v1/me", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"user": map[string]string{"id": "x", "name": "Tara Trainee"}})
	})

	run := func(h http.Handler, withCookie bool) time.Duration {
		start := time.Now()
		for range b.N {
			req := httptest.NewRequest("GET", "/api/v1/me", nil)
			if withCookie {
				req.AddCookie(cookie)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
		return time.Since(start)
	}
	b.ResetTimer()
	bareTime := run(bare, false)
	appTime := run(app, true)
	b.StopTimer()
	bareRate := float64(b.N) / bareTime.Seconds()
	appRate := float64(b.N) / appTime.Seconds()
	b.ReportMetric(bareRate, "bare-req/s")
	b.ReportMetric(appRate, "app-req/s")
	b.ReportMetric(appRate/bareRate, "ratio")
}

// BenchmarkB6CurriculumPage measures B6 (README, Performance): a released curriculum page served to a
// signed-in trainee (its HTML from the render cache after the first request) against the same
// bytes served as a static file by net/http, both in this run. It reports requests per second
// for each and their ratio.
func BenchmarkB6CurriculumPage(b *testing.B) {
	f := newFixture(b)
	c := f.signedIn(b, accounts.RoleTrainee)
	var cookie *http.Cookie
	for _, ck := range c.http.Jar.Cookies(mustURL(f.ts.URL)) {
		cookie = ck
	}
	app := f.srv.Handler()
	get := func(h http.Handler, path string, withCookie bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		if withCookie {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: status %d", path, rec.Code)
		}
		return rec
	}
	page := get(app, "/curriculum/dialogism-and-polyphony", true).Body.Bytes()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "page.html"), page, 0o600); err != nil {
		b.Fatal(err)
	}
	static := http.FileServer(http.Dir(dir))

	run := func(h http.Handler, path string, withCookie bool) time.Duration {
		start := time.Now()
		for range b.N {
			get(h, path, withCookie)
		}
		return time.Since(start)
	}
	b.ResetTimer()
	staticTime := run(static, "/page.html", false)
	appTime := run(app, "/curriculum/dialogism-and-polyphony", true)
	b.StopTimer()
	staticRate := float64(b.N) / staticTime.Seconds()
	appRate := float64(b.N) / appTime.Seconds()
	b.ReportMetric(staticRate, "static-req/s")
	b.ReportMetric(appRate, "page-req/s")
	b.ReportMetric(appRate/staticRate, "ratio")
	b.ReportMetric(float64(len(page)), "page-bytes")
}
