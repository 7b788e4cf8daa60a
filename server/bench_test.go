package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/internal/accounts"
)

// BenchmarkB5API measures QUALITY.md's B5: an authenticated JSON API request through the
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
