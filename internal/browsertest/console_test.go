package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// problemServer serves pages that report problems, each in one way, and a clean one.
func problemServer(t *testing.T) *httptest.Server {
	t.Helper()
	// Another origin, which the policy of /font does not allow fonts from. Nothing answers
	// there: the browser must refuse the font before it asks.
	elsewhere := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(elsewhere.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /favicon.ico", pixel)
	mux.HandleFunc("GET /clean", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", strictCSP)
		page(w, http.StatusOK, "Clean", `<h1>Nothing wrong here</h1>`)
	})
	mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		page(w, http.StatusOK, "Console", `<h1>Console</h1><script src="/console.js"></script>`)
	})
	mux.HandleFunc("GET /console.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `console.error('the autosave lost its place');`)
	})
	mux.HandleFunc("GET /throw", func(w http.ResponseWriter, r *http.Request) {
		page(w, http.StatusOK, "Throw", `<h1>Throw</h1><script src="/throw.js"></script>`)
	})
	mux.HandleFunc("GET /throw.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `throw new Error('nobody caught this');`)
	})
	mux.HandleFunc("GET /font", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; font-src 'self'; style-src 'self'")
		page(w, http.StatusOK, "Font", `<link rel="stylesheet" href="/font.css"><h1 class="branded">A heading in a web font</h1>`)
	})
	mux.HandleFunc("GET /font.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprintf(w, `@font-face{font-family:Branded;src:url(%s/fonts/branded.woff2) format("woff2")}
.branded{font-family:Branded,sans-serif}`, elsewhere.URL)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		page(w, http.StatusNotFound, "Not found", `<h1>Page not found</h1>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestProblemsFailTheTest checks that an error in the console, an uncaught exception and a
// font that the Content-Security-Policy refuses each fail the test that met them, naming the
// page; and that a clean page, and a page that answers 404 on purpose, fail nothing.
func TestProblemsFailTheTest(t *testing.T) {
	srv := problemServer(t)
	b := New(t)

	b.Navigate(srv.URL + "/clean")
	b.Navigate(srv.URL + "/no/such/page")
	if got := b.Status(); got != http.StatusNotFound {
		t.Fatalf("Status() = %d, want 404", got)
	}
	b.settle()
	if ps := b.Problems(); len(ps) != 0 {
		t.Errorf("a clean page and a 404 page reported %v", ps)
	}

	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/console", []string{"console:", "the autosave lost its place", "/console"}},
		{"/throw", []string{"exception:", "nobody caught this", "/throw"}},
		{"/font", []string{"branded.woff2", "Content Security Policy", "/font"}},
	} {
		t.Run(strings.TrimPrefix(tc.path, "/"), func(t *testing.T) {
			rec := record(t, func(tb testing.TB) {
				v := b.For(tb)
				v.Navigate(srv.URL + tc.path)
				v.WaitVisible("h1")
				v.settle()
				v.reportProblems(tb)
			})
			if !rec.failed {
				t.Fatalf("%s reported no problem", tc.path)
			}
			for _, w := range tc.want {
				if !strings.Contains(rec.msg, w) {
					t.Errorf("the report lacks %q:\n%s", w, rec.msg)
				}
			}
		})
	}

	// An allowed message does not fail the test.
	b.AllowConsoleError("the autosave lost its place")
	b.Navigate(srv.URL + "/console")
	b.settle()
	if ps := b.Problems(); len(ps) != 0 {
		t.Errorf("an allowed message was reported: %v", ps)
	}
}
