package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"polyphony/content"
	"polyphony/content/media"
	"polyphony/courses"
	"polyphony/internal/testclock"
	"polyphony/server"
)

// instance serves the fixture's application as another instance would: its own server on
// its own loopback port, with its own journal store and export workers over the same
// database and media store.
func (f *fixture) instance(t *testing.T, opts courses.ExportJobOptions) (*fixture, *courses.ExportJobs) {
	t.Helper()
	journals, err := courses.NewJournals(context.Background(), f.db, f.courses, courses.JournalOptions{PageExists: f.pages.Exists})
	if err != nil {
		t.Fatal(err)
	}
	exports := newExports(t, journals, f.media, opts)
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL)
	srv, err := server.New(server.Config{PublicURL: u}, server.Deps{Accounts: f.accounts, Courses: f.courses, Pages: f.pages, Renderer: content.NewRenderer(),
		Media: f.media, Rooms: f.rooms, Transcripts: f.transcripts, Assessments: f.assessments, Journals: journals, Exports: exports})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	g := *f
	g.srv, g.ts, g.journals, g.exports = srv, ts, journals, exports
	return &g, exports
}

// on is the same signed-in client speaking to another instance.
func (c *client) on(g *fixture) *client {
	d := *c
	d.base = g.ts.URL
	jar := c.http.Jar
	from, _ := url.Parse(c.base)
	to, _ := url.Parse(g.ts.URL)
	jar.SetCookies(to, jar.Cookies(from))
	return &d
}

// exportState asks c for the state of export id.
func exportState(t *testing.T, c *client, id string) (int, string) {
	t.Helper()
	res, body := c.send("GET", "/api/v1/me/exports/"+id, nil, nil)
	if res.StatusCode != http.StatusOK {
		return res.StatusCode, ""
	}
	return res.StatusCode, decodeAs[struct {
		State string `json:"state"`
	}](t, body).State
}

// waitExport waits, as c, for export id to leave the running state and returns the state.
func waitExport(t *testing.T, c *client, id string) string {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		code, st := exportState(t, c, id)
		if code != http.StatusOK {
			t.Fatalf("export %s: %d", id, code)
		}
		if st != courses.ExportRunning || time.Now().After(deadline) {
			return st
		}
	}
}

func startExport(t *testing.T, c *client) string {
	t.Helper()
	res, body := c.send("POST", "/api/v1/me/exports", nil, nil)
	wantStatus(t, "start export", res, body, http.StatusAccepted)
	return decodeAs[struct {
		ID string `json:"id"`
	}](t, body).ID
}

// TestExportOnAnyInstance starts an export on one instance and follows its progress and
// downloads it from another that shares only the database and the media store.
func TestExportOnAnyInstance(t *testing.T) {
	f := newFixture(t)
	jc := f.journalCast(t)
	createEntry(t, jc.trainee, "Written on the first", "EXPORTED-ANYWHERE is in the zip.")
	g, _ := f.instance(t, courses.ExportJobOptions{})

	id := startExport(t, jc.trainee)
	there := jc.trainee.on(g)
	if st := waitExport(t, there, id); st != courses.ExportReady {
		t.Fatalf("export state on the second instance: %q, want ready", st)
	}
	res, body := there.send("GET", "/api/v1/me/exports/"+id+"/download", nil, nil)
	wantStatus(t, "download from the second instance", res, body, http.StatusOK)
	if !strings.Contains(unzipAll(t, body), "EXPORTED-ANYWHERE") {
		t.Errorf("the zip from the second instance lacks the entry")
	}
	// Asking again on the second instance while nothing runs starts afresh there, and the
	// first answers for that one too.
	again := startExport(t, there)
	if again == id {
		t.Fatalf("a finished export was answered again")
	}
	if st := waitExport(t, jc.trainee, again); st != courses.ExportReady {
		t.Errorf("the second export on the first instance: %q", st)
	}
	if code, _ := exportState(t, jc.trainee, id); code != http.StatusNotFound {
		t.Errorf("the first export after a new one: %d, want 404", code)
	}
	// Nobody else reaches it on either instance.
	for _, c := range []*client{jc.peer, jc.peer.on(g), jc.admin.on(g)} {
		if res, _ := c.send("GET", "/api/v1/me/exports/"+again+"/download", nil, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("someone else's download: %d, want 404", res.StatusCode)
		}
	}
}

// TestExportResumedAfterRestart leaves an export to a process that stops before it has
// written it, and checks that a worker started afterwards finishes it, and that the zip is
// then served by every instance.
func TestExportResumedAfterRestart(t *testing.T) {
	f := newFixture(t)
	jc := f.journalCast(t)
	e := createEntry(t, jc.trainee, "Before the restart", "RESUMED-EXPORT is in the zip.")
	res, body := upload(jc.trainee, e.ID, "garden.png", pngWithExif(t))
	wantStatus(t, "upload", res, body, http.StatusCreated)

	// The first instance's workers stop, as a process being stopped or killed: the job is
	// recorded, and nothing runs it.
	f.exports.Close()
	id := startExport(t, jc.trainee)
	if _, st := exportState(t, jc.trainee, id); st != courses.ExportRunning {
		t.Fatalf("the orphaned export: %q, want running", st)
	}

	// A new process starts; by its clock the stopped worker's lease has run out.
	clock := testclock.New(time.Now().Add(2 * time.Minute))
	g, exports := f.instance(t, courses.ExportJobOptions{Now: clock.Now})
	if err := exports.Tend(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{jc.trainee.on(g), jc.trainee} {
		if st := waitExport(t, c, id); st != courses.ExportReady {
			t.Fatalf("the resumed export: %q, want ready", st)
		}
	}
	res, body = jc.trainee.send("GET", "/api/v1/me/exports/"+id+"/download", nil, nil)
	wantStatus(t, "download", res, body, http.StatusOK)
	zipped := unzipAll(t, body)
	if !strings.Contains(zipped, "RESUMED-EXPORT") || !strings.Contains(zipped, "garden.png") {
		t.Errorf("the resumed export lacks the entry or its picture:\n%.500s", zipped)
	}
}

// TestExportExpires checks that an export and its zip are removed once their hour is up, and
// that a zip no job owns is removed once it is older than any job could be.
func TestExportExpires(t *testing.T) {
	f := newFixture(t)
	jc := f.journalCast(t)
	createEntry(t, jc.trainee, "Kept for an hour", "Only for an hour.")
	clock := testclock.New(time.Now())
	g, exports := f.instance(t, courses.ExportJobOptions{Now: clock.Now})
	there := jc.trainee.on(g)
	id := startExport(t, there)
	if st := waitExport(t, there, id); st != courses.ExportReady {
		t.Fatalf("export: %q", st)
	}
	var keys []string
	for info, err := range f.media.List(context.Background(), "exports/") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, info.Key)
	}
	if len(keys) != 1 {
		t.Fatalf("zips in the media store: %v, want one", keys)
	}
	// A zip whose worker died as it wrote it, or wrote it after its job went: no job has it.
	const stray = "exports/0123456789abcdef/1.zip"
	if _, err := f.media.Put(context.Background(), stray, strings.NewReader("PK half a zip"), -1, "application/zip"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour + time.Second)
	if err := exports.Tend(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, _ := exportState(t, there, id); code != http.StatusNotFound {
		t.Errorf("an expired export answers %d, want 404", code)
	}
	if _, err := f.media.Stat(context.Background(), keys[0]); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("the expired export's zip: %v, want removed", err)
	}
	if _, err := f.media.Stat(context.Background(), stray); err != nil {
		t.Errorf("a zip younger than any job could be is gone: %v", err)
	}
	// The stray zip was written by the real clock, some seconds after the test's clock began
	// (more on a busy machine): five minutes past twice the hour leaves room for that.
	clock.Advance(time.Hour + 5*time.Minute)
	if err := exports.Tend(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.media.Stat(context.Background(), stray); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("a zip older than any job could be: %v, want removed", err)
	}
}

// TestExportErasedWithAccount checks that erasing an account removes its exports and their
// zips, on the API and on the page: a zip holds everything the person wrote.
func TestExportErasedWithAccount(t *testing.T) {
	f := newFixture(t)
	jc := f.journalCast(t)
	for _, byPage := range []bool{false, true} {
		c, userID := jc.trainee, jc.traineeID
		if byPage {
			c, userID = jc.peer, jc.peerID
		}
		createEntry(t, c, "To be erased", "ERASED-WITH-ACCOUNT")
		id := startExport(t, c)
		if st := waitExport(t, c, id); st != courses.ExportReady {
			t.Fatalf("export: %q", st)
		}
		if n := countZips(t, f); n != 1 {
			t.Fatalf("zips before erasure: %d, want 1", n)
		}
		u, err := f.accounts.Users.ByID(context.Background(), userID)
		if err != nil {
			t.Fatal(err)
		}
		email := u.Email
		if byPage {
			res, body := pagePost(jc.admin, "/admin/people/"+userID+"/erase", url.Values{"confirm": {email}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("erase page: %d %.300s", res.StatusCode, body)
			}
		} else {
			res, body := jc.admin.send("POST", "/api/v1/users/"+userID+"/erase", map[string]any{"confirm": email}, nil)
			wantStatus(t, "erase", res, body, http.StatusOK)
		}
		if n := countZips(t, f); n != 0 {
			t.Errorf("zips after erasure (page %v): %d, want none", byPage, n)
		}
	}
}

// countZips counts the export zips in the fixture's media store.
func countZips(t *testing.T, f *fixture) int {
	t.Helper()
	n := 0
	for _, err := range f.media.List(context.Background(), "exports/") {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}
