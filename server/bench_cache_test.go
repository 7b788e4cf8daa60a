package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/content"
	"polyphony/internal/accounts"
	"polyphony/internal/benchpair"
	"polyphony/server"
)

// The benchmarks here serve B5's and B6's requests (bench_test.go) with each cache that
// serves them and without it, in the same run, against the same bare handler, so that each
// cache is judged by what it saves on the request (see internal/benchpair):
//
//	go test -run '^$' -bench Cache ./server/

// variant is the fixture's application served by another server over the same stores,
// with accounts and renderer in place of the fixture's.
func (f *fixture) variant(b *testing.B, acc *accounts.Service, renderer *content.Renderer) *server.Server {
	b.Helper()
	u := mustURL(f.ts.URL)
	srv, err := server.New(server.Config{PublicURL: u}, server.Deps{Accounts: acc, Courses: f.courses, Pages: f.pages, Renderer: renderer, Media: f.media, DB: f.db,
		Rooms: f.rooms, Transcripts: f.transcripts, Assessments: f.assessments, Journals: f.journals, Exports: f.exports})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// uncachedAccounts is an accounts service over the fixture's database that asks the
// database for every session.
func (f *fixture) uncachedAccounts(b *testing.B) *accounts.Service {
	b.Helper()
	acc, err := accounts.NewService(context.Background(), f.db, accounts.Config{
		Session:  accounts.SessionConfig{Idle: 30 * time.Minute, Absolute: 12 * time.Hour},
		Throttle: accounts.DefaultThrottle,
		CacheFor: -1,
	})
	if err != nil {
		b.Fatal(err)
	}
	return acc
}

// serve returns a call that serves GET path by h, with the cookie when not nil, and checks
// it answers 200.
func serve(b *testing.B, h http.Handler, path string, cookie *http.Cookie) func() {
	return func() {
		req := httptest.NewRequest("GET", path, nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: status %d: %.300s", path, rec.Code, rec.Body)
		}
	}
}

func sessionCookie(f *fixture, c *client) *http.Cookie {
	var cookie *http.Cookie
	for _, ck := range c.http.Jar.Cookies(mustURL(f.ts.URL)) {
		cookie = ck
	}
	return cookie
}

// BenchmarkCacheSessionB5 serves B5's request (a signed-in GET /api/v1/me) with the session
// cache and without, beside the bare handler of B5.
func BenchmarkCacheSessionB5(b *testing.B) {
	f := newFixture(b)
	cookie := sessionCookie(f, f.signedIn(b, accounts.RoleTrainee))
	bare := echo.New()
	bare.GET("/api/v1/me", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"user": map[string]string{"id": "x", "name": "Tara Trainee"}})
	})
	uncached := f.variant(b, f.uncachedAccounts(b), content.NewRenderer())
	benchpair.CompareWithBaseline(b, serve(b, bare, "/api/v1/me", nil),
		serve(b, uncached.Handler(), "/api/v1/me", cookie), serve(b, f.srv.Handler(), "/api/v1/me", cookie))
}

// curriculumB6 is B6's request and its baseline: the page served to a signed-in trainee,
// and the same bytes served as a static file by net/http.
func curriculumB6(b *testing.B, f *fixture) (cookie *http.Cookie, path string, static func()) {
	b.Helper()
	cookie = sessionCookie(f, f.signedIn(b, accounts.RoleTrainee))
	path = "/curriculum/dialogism-and-polyphony"
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", path, nil)
	req.AddCookie(cookie)
	f.srv.Handler().ServeHTTP(rec, req)
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "page.html"), rec.Body.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	return cookie, path, serve(b, http.FileServer(http.Dir(dir)), "/page.html", nil)
}

// BenchmarkCachePageB6 serves B6's request with the page cache and without.
func BenchmarkCachePageB6(b *testing.B) {
	f := newFixture(b)
	cookie, path, static := curriculumB6(b, f)
	without := f.variant(b, f.accounts, content.NewRenderer())
	server.KeepPages(without, 0)
	benchpair.CompareWithBaseline(b, static, serve(b, without.Handler(), path, cookie), serve(b, f.srv.Handler(), path, cookie))
}

// BenchmarkCacheSessionB6 serves B6's request with the session cache and without.
func BenchmarkCacheSessionB6(b *testing.B) {
	f := newFixture(b)
	cookie, path, static := curriculumB6(b, f)
	uncached := f.variant(b, f.uncachedAccounts(b), content.NewRenderer())
	benchpair.CompareWithBaseline(b, static, serve(b, uncached.Handler(), path, cookie), serve(b, f.srv.Handler(), path, cookie))
}

// BenchmarkCacheRenderB6 serves B6's request with the render cache and without (the page
// cache compares the page's HTML on every hit, so without the render cache every request
// renders the page).
func BenchmarkCacheRenderB6(b *testing.B) {
	f := newFixture(b)
	cookie, path, static := curriculumB6(b, f)
	uncached := f.variant(b, f.accounts, content.NewRendererKeeping(0))
	benchpair.CompareWithBaseline(b, static, serve(b, uncached.Handler(), path, cookie), serve(b, f.srv.Handler(), path, cookie))
}
