package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"polyphony/assessment"
	"polyphony/assessment/consent"
	"polyphony/assessment/marking"
	"polyphony/content"
	"polyphony/content/curriculum"
	"polyphony/content/media"
	"polyphony/courses"
	"polyphony/courses/award"
	"polyphony/courses/progress"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/demo"
	"polyphony/internal/mail"
	"polyphony/internal/mailtest"
	"polyphony/internal/notify"
	"polyphony/realtime"
	"polyphony/server"
)

// fixture is the whole web application on a fresh database, served on a loopback port, with
// the demo trust, cohort and accounts in it.
type fixture struct {
	srv         *server.Server
	ts          *httptest.Server
	accounts    *accounts.Service
	courses     *courses.Store
	pages       *content.Pages
	media       *media.Local
	rooms       *realtime.Hub
	transcripts *realtime.Transcripts
	assessments *assessment.Store
	marking     *marking.Store
	journals    *courses.Journals
	exports     *courses.ExportJobs
	audit       *audit.Log
	email       *mail.Queue
	notify      *notify.Notifier
	consents    *consent.Store
	awards      *award.Store
	progress    *progress.Service
	boards      *award.Boards
	// mailpit is the mail server the emails reach, with withMailServer; nil otherwise.
	mailpit *mailtest.Server
	db      *database.DB
	logins  map[string]demo.Login // by email
	byRole  map[accounts.Role]demo.Login
}

func newFixture(t testing.TB, opts ...fixtureOption) *fixture {
	t.Helper()
	return newFixtureOn(t, dbtest.New(t), opts...)
}

// fixtureOption changes the services the server is built with, once its address is known.
type fixtureOption func(t testing.TB, f *fixture, deps *server.Deps)

// newFixtureOn is newFixture on the given database.
func newFixtureOn(t testing.TB, db *database.DB, opts ...fixtureOption) *fixture {
	t.Helper()
	ctx := context.Background()
	acc, err := accounts.NewService(ctx, db, accounts.Config{
		Session:  accounts.SessionConfig{Idle: 30 * time.Minute, Absolute: 12 * time.Hour},
		Throttle: accounts.DefaultThrottle,
	})
	if err != nil {
		t.Fatal(err)
	}
	store, err := courses.NewStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := content.NewPages(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	pack, err := content.LoadPack(curriculum.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pages.Import(ctx, pack, "test"); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, accounts: acc, courses: store, pages: pages, logins: map[string]demo.Login{}, byRole: map[accounts.Role]demo.Login{}}
	// The server's address is known only once it listens; the media store needs it for URLs.
	f.ts = httptest.NewUnstartedServer(nil)
	f.ts.Start()
	t.Cleanup(f.ts.Close)
	f.media, err = media.NewLocal(t.TempDir(), []byte("0123456789abcdef0123456789abcdef"), f.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(f.ts.URL)
	f.transcripts, err = realtime.NewTranscripts(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	f.rooms = realtime.NewHub(f.transcripts, realtime.Options{Inactive: acc.Users.Inactive})
	acc.OnUserEnded = f.rooms.DisconnectUser
	t.Cleanup(func() { f.rooms.Shutdown(context.Background()) })
	f.assessments, err = assessment.NewStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	// Consent asks through whichever notifier the options leave the server with.
	var deps server.Deps
	f.consents, err = consent.New(ctx, db, f.transcripts, consent.Config{Asked: func(ctx context.Context, r consent.Request) error {
		if deps.Notify == nil {
			return nil
		}
		return deps.Notify.ConsentAsked(ctx, r.ID, r.SpeakerID, r.OwnerID, r.AskedAt)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if f.marking, err = marking.NewStore(ctx, db, marking.Options{Supervises: server.MarkingSupervises(store), Consent: f.consents}); err != nil {
		t.Fatal(err)
	}
	if err := f.marking.EnsureExamples(ctx); err != nil {
		t.Fatal(err)
	}
	f.journals, err = courses.NewJournals(ctx, db, store, courses.JournalOptions{PageExists: pages.Exists, SoleWriter: db.Embedded()})
	if err != nil {
		t.Fatal(err)
	}
	f.exports = newExports(t, f.journals, f.media, courses.ExportJobOptions{})
	if f.audit, err = audit.New(ctx, db); err != nil {
		t.Fatal(err)
	}
	// No SMTP host: emails queued are written to the log once a worker runs.
	if f.email, err = mail.New(ctx, db, mail.Config{PublicURL: f.ts.URL}); err != nil {
		t.Fatal(err)
	}
	if f.notify, err = notify.New(ctx, db, f.email, acc.Users, store, f.assessments, notify.Config{PublicURL: f.ts.URL, Audience: f.journals.AudienceOf}); err != nil {
		t.Fatal(err)
	}
	if f.awards, err = award.NewStore(ctx, db, award.Options{}); err != nil {
		t.Fatal(err)
	}
	if f.progress, err = progress.New(ctx, db, store, f.journals, f.assessments, server.ProgressPieces(f.marking)); err != nil {
		t.Fatal(err)
	}
	if f.boards, err = award.NewBoards(ctx, db, f.awards, f.progress, award.BoardOptions{Names: server.AccountNames(acc)}); err != nil {
		t.Fatal(err)
	}
	deps = server.Deps{Accounts: acc, Courses: store, Pages: pages, Renderer: content.NewRenderer(), Media: f.media, DB: db,
		Rooms: f.rooms, Transcripts: f.transcripts, Assessments: f.assessments, Journals: f.journals, Exports: f.exports, Marking: f.marking,
		Email: f.email, Mail: f.email.Accounts(), Audit: f.audit, Notify: f.notify, Awards: f.awards, Progress: f.progress, Boards: f.boards}
	for _, o := range opts {
		o(t, f, &deps)
	}
	deps.Consent = f.consents
	f.srv, err = server.New(server.Config{PublicURL: u}, deps)
	if err != nil {
		t.Fatal(err)
	}
	f.ts.Config.Handler = f.srv.Handler()
	logins, err := demo.Seed(ctx, acc.Users, store, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range logins {
		f.logins[l.Email] = l
		if _, ok := f.byRole[l.Role]; !ok {
			f.byRole[l.Role] = l
		}
	}
	return f
}

// withMailServer sends the fixture's emails to a Mailpit of the test's own (f.mailpit),
// through a queue whose worker runs until the test ends, retrying quickly.
func withMailServer(opts ...mailtest.Options) fixtureOption {
	return func(t testing.TB, f *fixture, deps *server.Deps) {
		t.Helper()
		ctx := context.Background()
		f.mailpit = mailtest.Start(t, opts...)
		q, err := mail.New(ctx, f.db, mail.Config{Host: f.mailpit.Host(), Port: f.mailpit.SMTPPort(), TLS: mail.NoTLS,
			From: "Polyphony <polyphony@trust.example>", PublicURL: f.ts.URL,
			Poll: 50 * time.Millisecond, Timeout: 5 * time.Second, Lease: 15 * time.Second,
			RetryBase: 50 * time.Millisecond, RetryCap: 400 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		n, err := notify.New(ctx, f.db, q, f.accounts.Users, f.courses, f.assessments, notify.Config{PublicURL: f.ts.URL, Audience: f.journals.AudienceOf})
		if err != nil {
			t.Fatal(err)
		}
		f.email, f.notify = q, n
		deps.Email, deps.Mail, deps.Notify = q, q.Accounts(), n
		// Stopped before the mail server and the database (cleanups run last first).
		run, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			q.Run(run)
		}()
		t.Cleanup(func() {
			cancel()
			<-done
		})
	}
}

// newExports is the export jobs of one instance, writing zips to store, stopped when the
// test ends.
func newExports(t testing.TB, journals *courses.Journals, store media.Store, opts courses.ExportJobOptions) *courses.ExportJobs {
	t.Helper()
	if opts.OnError == nil {
		opts.OnError = func(msg string, err error) { t.Logf("%s: %v", msg, err) }
	}
	x, err := courses.NewExportJobs(context.Background(), journals, server.MediaArchives(store), server.MediaOpener(store), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Close)
	return x
}

// client is one API caller with its own cookies and, once signed in, its CSRF token.
type client struct {
	t     testing.TB
	base  string
	http  *http.Client
	csrf  string
	token string
}

func (f *fixture) client(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: f.ts.URL, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// signedIn returns a client signed in through the API as the demo account of role.
func (f *fixture) signedIn(t testing.TB, role accounts.Role) *client {
	t.Helper()
	l := f.byRole[role]
	c := f.client(t)
	res, body := c.do("POST", "/api/v1/session", map[string]string{"email": l.Email, "password": l.Password})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("sign in as %s: %d %s", role, res.StatusCode, body)
	}
	var me struct {
		CSRFToken string `json:"csrfToken"`
	}
	json.Unmarshal(body, &me)
	c.csrf = me.CSRFToken
	return c
}

// do sends a request; a non-nil body that is not a string or []byte is sent as JSON.
func (c *client) do(method, path string, body any) (*http.Response, []byte) {
	c.t.Helper()
	return c.doWith(method, path, body, nil)
}

// doWith is do with more headers; a Content-Type among them replaces the body's own.
func (c *client) doWith(method, path string, body any, headers map[string]string) (*http.Response, []byte) {
	c.t.Helper()
	var r io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		r, ctype = strings.NewReader(b), "application/json"
	case []byte:
		r, ctype = bytes.NewReader(b), "application/json"
	case url.Values:
		r, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		j, _ := json.Marshal(b)
		r, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res, out
}

// errorBody decodes an API error answer.
func errorBody(t *testing.T, b []byte) (msg, field string) {
	t.Helper()
	var e struct {
		Error string `json:"error"`
		Field string `json:"field"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
		t.Fatalf("not an API error body: %s", b)
	}
	return e.Error, e.Field
}

// tlsServer serves the same application over HTTPS with an https public URL.
func (f *fixture) tlsServer(t *testing.T) *httptest.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL)
	srv, err := server.New(server.Config{PublicURL: u}, server.Deps{Accounts: f.accounts, Courses: f.courses, Pages: f.pages, Renderer: content.NewRenderer(), Media: f.media})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	return ts
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
