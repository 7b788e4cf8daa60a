package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/internal/accounts"
)

// journalPageAccess is who may open each page of the journal, supervision and practice
// logs. The pages are open to anyone signed in; what each person sees on them is the
// journal domain's decision, which TestJournalPagesAccess checks.
var journalPageAccess = map[string]string{
	"GET /journal":                           "signed-in",
	"GET /journal/new":                       "signed-in",
	"POST /journal":                          "signed-in",
	"POST /journal/preview":                  "signed-in",
	"GET /journal/access-log":                "signed-in",
	"GET /journal/:id":                       "signed-in",
	"GET /journal/:id/edit":                  "signed-in",
	"POST /journal/:id":                      "signed-in",
	"GET /journal/:id/submit":                "signed-in",
	"POST /journal/:id/sharing":              "signed-in",
	"POST /journal/:id/comments":             "signed-in",
	"POST /journal/:id/attachments/remove":   "signed-in",
	"GET /journal/:id/revisions":             "signed-in",
	"GET /journal/:id/revisions/:n":          "signed-in",
	"POST /journal/:id/revisions/:n/restore": "signed-in",
	"GET /supervision":                       "signed-in",
	"POST /supervision":                      "signed-in",
	"POST /supervision/:id/confirm":          "signed-in",
	"GET /practice":                          "signed-in",
	"POST /practice":                         "signed-in",
	"POST /practice/visibility":              "signed-in",
	"GET /account/export":                    "signed-in",
	"POST /account/export":                   "signed-in",
	"GET /admin/people/:id/erase":            "admin",
	"POST /admin/people/:id/erase":           "admin",
}

func init() {
	for k, v := range journalPageAccess {
		expectedAccess[k] = v
	}
}

// pagePost posts a form as a browser without JavaScript does, with the csrf field.
func pagePost(c *client, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", c.csrf)
	res, body := c.do("POST", path, form)
	return res, string(body)
}

func pageGet(c *client, path string) (*http.Response, string) {
	c.t.Helper()
	res, body := c.do("GET", path, nil)
	return res, string(body)
}

// redirectedTo is where a 303 answer sends the browser, without its query.
func redirectedTo(t *testing.T, res *http.Response, body string) string {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303; body: %.600s", res.StatusCode, body)
	}
	loc := res.Header.Get("Location")
	if i := strings.IndexAny(loc, "?#"); i >= 0 {
		loc = loc[:i]
	}
	return loc
}

// pageText is the page's text without tags, with HTML entities decoded, for looking for
// words that markup could split.
func pageText(body string) string {
	text := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body, " "))
	return strings.Join(strings.Fields(text), " ")
}

type pagePeople struct {
	tara, pat, sam, ash, alex *client
	taraID, patID, samID      string
}

func (f *fixture) pagePeople(t *testing.T) pagePeople {
	t.Helper()
	p := pagePeople{
		tara: f.signedIn(t, accounts.RoleTrainee), sam: f.signedIn(t, accounts.RoleSupervisor),
		ash: f.signedIn(t, accounts.RoleAssessor), alex: f.signedIn(t, accounts.RoleAdmin),
	}
	p.taraID = f.userID(t, f.byRole[accounts.RoleTrainee].Email)
	p.samID = f.userID(t, f.byRole[accounts.RoleSupervisor].Email)
	pat := f.logins["peer@polyphony.example"]
	p.pat = f.signInAs(t, pat.Email, pat.Password)
	p.patID = f.userID(t, pat.Email)
	return p
}

// TestJournalPagesAccess opens every page that shows an entry as each kind of person, over
// a private entry, then shared with the supervisor, then revoked: only the author, and the
// supervisor while it is shared, ever get its text.
func TestJournalPagesAccess(t *testing.T) {
	f := newFixture(t)
	p := f.pagePeople(t)
	const marker = "PRIVATE-MARKER-7731"
	res, body := pagePost(p.tara, "/journal", url.Values{"title": {"A private matter " + marker}, "body": {marker + " is what I wrote."}, "key": {"page-access-1"}})
	id := strings.TrimPrefix(redirectedTo(t, res, body), "/journal/")

	paths := []string{"/journal/" + id, "/journal/" + id + "/edit", "/journal/" + id + "/revisions", "/journal/" + id + "/revisions/1"}
	check := func(who string, c *client, wantRead bool, readable ...string) {
		t.Helper()
		for _, path := range paths {
			res, body := pageGet(c, path)
			mayRead := wantRead && (len(readable) == 0 || slicesContains(readable, path))
			switch {
			case mayRead && (res.StatusCode != http.StatusOK || !strings.Contains(body, marker)):
				t.Errorf("%s GET %s: %d, want 200 with the text", who, path, res.StatusCode)
			case !mayRead && strings.Contains(body, marker):
				t.Errorf("%s GET %s: %d shows the private text", who, path, res.StatusCode)
			case !mayRead && res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusSeeOther:
				t.Errorf("%s GET %s: %d, want 404 (or the sign-in page)", who, path, res.StatusCode)
			}
		}
		res, body := pageGet(c, "/journal")
		if wantRead != strings.Contains(body, "A private matter") && c != p.tara {
			t.Errorf("%s: the journal list shows the title = %v, want %v", who, !wantRead, wantRead)
		}
		_ = res
	}
	check("the author", p.tara, true)
	check("another trainee", p.pat, false)
	check("the admin", p.alex, false)
	check("the supervisor, not shared", p.sam, false)
	check("the assessor", p.ash, false)
	check("anonymous", f.client(t), false)

	res, body = pagePost(p.tara, "/journal/"+id+"/sharing", url.Values{"audience": {"supervisor"}, "shared": {"true"}})
	if got := redirectedTo(t, res, body); got != "/journal/"+id {
		t.Fatalf("sharing redirected to %s", got)
	}
	// Shared, the supervisor reads the entry, but not its editor or its history.
	check("the supervisor, shared", p.sam, true, "/journal/"+id)
	check("another trainee, shared with the supervisor", p.pat, false)
	check("the admin, shared with the supervisor", p.alex, false)
	check("the assessor, shared with the supervisor", p.ash, false)
	// Nobody but the author changes the entry or its sharing.
	for _, c := range []*client{p.sam, p.pat, p.alex} {
		res, _ := pagePost(c, "/journal/"+id, url.Values{"title": {"taken"}, "body": {"overwritten"}, "baseVersion": {"1"}, "key": {"intruder"}})
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("a save by someone else: %d, want 404", res.StatusCode)
		}
		res, _ = pagePost(c, "/journal/"+id+"/sharing", url.Values{"audience": {"assessors"}, "shared": {"true"}})
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("sharing by someone else: %d, want 404", res.StatusCode)
		}
	}

	res, body = pagePost(p.tara, "/journal/"+id+"/sharing", url.Values{"audience": {"supervisor"}, "shared": {"false"}})
	redirectedTo(t, res, body)
	check("the supervisor, revoked", p.sam, false)
}

func slicesContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestJournalPagesNoScript writes, saves, shares and comments through the forms alone,
// as a browser without JavaScript does.
func TestJournalPagesNoScript(t *testing.T) {
	f := newFixture(t)
	p := f.pagePeople(t)

	t.Run("create once per key", func(t *testing.T) {
		form := url.Values{"title": {"Twice posted"}, "body": {"Body"}, "tags": {"dialogism", "module-1"}, "key": {"double-click-1"}}
		res, body := pagePost(p.tara, "/journal", form)
		first := redirectedTo(t, res, body)
		res, body = pagePost(p.tara, "/journal", form)
		if again := redirectedTo(t, res, body); again != first {
			t.Errorf("the same form posted twice made %s and %s", first, again)
		}
		entries, err := f.journals.Entries(context.Background(), courses.Viewer{UserID: p.taraID, Role: accounts.RoleTrainee}, p.taraID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range entries {
			if e.Title == "Twice posted" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d entries titled %q, want 1", n, "Twice posted")
		}
	})

	res, body := pagePost(p.tara, "/journal", url.Values{"title": {"On the first day"}, "body": {"I *listened*.\n\n<script>alert(1)</script>"}, "tags": {"tolerance-of-uncertainty"}, "key": {"nojs-1"}})
	id := strings.TrimPrefix(redirectedTo(t, res, body), "/journal/")

	t.Run("view renders Markdown safely", func(t *testing.T) {
		res, body := pageGet(p.tara, "/journal/"+id)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
		if !strings.Contains(body, "<em>listened</em>") {
			t.Errorf("the body is not rendered: %.400s", body)
		}
		if strings.Contains(body, "<script>alert(1)</script>") {
			t.Errorf("raw HTML from the entry reached the page")
		}
		if !strings.Contains(body, "Tolerance of uncertainty") {
			t.Errorf("the tag's label is missing")
		}
	})

	t.Run("save and stale save", func(t *testing.T) {
		res, body := pageGet(p.tara, "/journal/"+id+"/edit")
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `name="baseVersion" value="1"`) {
			t.Fatalf("editor: %d, no baseVersion 1: %.300s", res.StatusCode, body)
		}
		res, body = pagePost(p.tara, "/journal/"+id, url.Values{"title": {"On the first day"}, "body": {"Second thoughts"}, "baseVersion": {"1"}, "key": {"nojs-save-1"}})
		redirectedTo(t, res, body)
		// A second window still at version 1.
		res, body = pagePost(p.tara, "/journal/"+id, url.Values{"title": {"Other window"}, "body": {"Typed in the other window"}, "baseVersion": {"1"}, "key": {"nojs-save-2"}})
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("stale save: %d, want 409", res.StatusCode)
		}
		text := pageText(body)
		for _, want := range []string{"Typed in the other window", "Second thoughts", "saved somewhere else", "Keep mine", "Use the server's"} {
			if !strings.Contains(text, want) {
				t.Errorf("the stale save's page lacks %q", want)
			}
		}
		if !strings.Contains(body, `name="baseVersion" value="2"`) {
			t.Errorf("the form is not based on the saved version 2 now")
		}
		// Keep mine: the form posted again, now on version 2.
		res, body = pagePost(p.tara, "/journal/"+id, url.Values{"title": {"Other window"}, "body": {"Typed in the other window"}, "baseVersion": {"2"}, "key": {"nojs-save-3"}})
		redirectedTo(t, res, body)
		view, err := f.journals.ReadEntry(context.Background(), courses.Viewer{UserID: p.taraID, Role: accounts.RoleTrainee}, id)
		if err != nil {
			t.Fatal(err)
		}
		if view.Version != 3 || view.Body != "Typed in the other window" {
			t.Errorf("after keeping mine: version %d %q", view.Version, view.Body)
		}
	})

	t.Run("unknown tag", func(t *testing.T) {
		res, body := pagePost(p.tara, "/journal/"+id, url.Values{"title": {"x"}, "body": {"y"}, "tags": {"not-a-tag"}, "baseVersion": {"3"}, "key": {"nojs-bad-tag"}})
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(pageText(body), "not-a-tag") || !strings.Contains(body, "nhsuk-error-summary") {
			t.Errorf("unknown tag: %d, want 400 naming it in the error summary", res.StatusCode)
		}
	})

	t.Run("history and restore", func(t *testing.T) {
		res, body := pageGet(p.tara, "/journal/"+id+"/revisions")
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "Version 3") || !strings.Contains(body, "Version 1") {
			t.Fatalf("history: %d", res.StatusCode)
		}
		res, body = pageGet(p.tara, "/journal/"+id+"/revisions/1")
		if !strings.Contains(body, "<em>listened</em>") || !strings.Contains(body, "Restore this revision") {
			t.Fatalf("revision 1 page lacks its text or the restore button")
		}
		res, body = pagePost(p.tara, "/journal/"+id+"/revisions/1/restore", url.Values{"baseVersion": {"3"}, "key": {"restore-1"}})
		redirectedTo(t, res, body)
		// A stale restore changes nothing.
		res, body = pagePost(p.tara, "/journal/"+id+"/revisions/2/restore", url.Values{"baseVersion": {"3"}, "key": {"restore-2"}})
		if got := redirectedTo(t, res, body); got != "/journal/"+id+"/revisions" {
			t.Errorf("a stale restore went to %s", got)
		}
		view, _ := f.journals.ReadEntry(context.Background(), courses.Viewer{UserID: p.taraID, Role: accounts.RoleTrainee}, id)
		if view.Version != 4 || !strings.Contains(view.Body, "*listened*") {
			t.Errorf("after restoring version 1: version %d %q", view.Version, view.Body)
		}
	})

	t.Run("share, comment, notify, log", func(t *testing.T) {
		res, body := pagePost(p.pat, "/journal/"+id+"/comments", url.Values{"body": {"sneaking"}, "audience": {"supervisor"}, "key": {"pat-1"}})
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("a comment by another trainee: %d", res.StatusCode)
		}
		res, body = pagePost(p.tara, "/journal/"+id+"/comments", url.Values{"body": {"Before sharing"}, "audience": {"supervisor"}, "key": {"tara-0"}})
		redirectedTo(t, res, body)
		if loc := res.Header.Get("Location"); !strings.Contains(loc, "not+added") {
			t.Errorf("a comment on an unshared entry was not refused: %s", loc)
		}
		res, body = pagePost(p.tara, "/journal/"+id+"/sharing", url.Values{"audience": {"supervisor"}, "shared": {"true"}})
		redirectedTo(t, res, body)

		res, body = pageGet(p.sam, "/journal")
		if !strings.Contains(body, "On the first day") || !strings.Contains(body, "Tara Trainee") {
			t.Errorf("the supervisor's journal list lacks the shared entry")
		}
		if res, body := pageGet(p.sam, "/journal/"+id); res.StatusCode != http.StatusOK || !strings.Contains(body, "<em>listened</em>") {
			t.Fatalf("the supervisor cannot read the shared entry: %d", res.StatusCode)
		}
		form := url.Values{"body": {"Thank you for **sharing** this."}, "audience": {"supervisor"}, "key": {"sam-1"}}
		res, body = pagePost(p.sam, "/journal/"+id+"/comments", form)
		redirectedTo(t, res, body)
		pagePost(p.sam, "/journal/"+id+"/comments", form) // posted twice: one comment

		_, home := pageGet(p.tara, "/")
		if !strings.Contains(pageText(home), "Sam Supervisor commented on your entry “On the first day”") {
			t.Errorf("the home page lacks the notification: %.1500s", pageText(home))
		}
		_, view := pageGet(p.tara, "/journal/"+id)
		if n := strings.Count(view, "<strong>sharing</strong>"); n != 1 {
			t.Errorf("the comment shows %d times, want once", n)
		}
		_, home = pageGet(p.tara, "/")
		if strings.Contains(home, `id="notifications"`) {
			t.Errorf("the notification is still there after reading the entry")
		}
		_, log := pageGet(p.tara, "/journal/access-log")
		if !strings.Contains(log, "Sam Supervisor") || !strings.Contains(pageText(log), "entry of On the first day") {
			t.Errorf("the access log lacks the supervisor's read: %.1200s", pageText(log))
		}
		_, log = pageGet(p.sam, "/journal/access-log")
		if strings.Contains(log, "On the first day") {
			t.Errorf("the supervisor sees the trainee's access log")
		}
	})

	t.Run("submission freezes", func(t *testing.T) {
		res, body := pagePost(p.tara, "/journal/"+id+"/sharing", url.Values{"audience": {"assessors"}, "shared": {"true"}})
		redirectedTo(t, res, body)
		res, body = pagePost(p.tara, "/journal/"+id, url.Values{"title": {"Changed later"}, "body": {"After submitting"}, "baseVersion": {"4"}, "key": {"after-submit"}})
		redirectedTo(t, res, body)
		_, view := pageGet(p.ash, "/journal/"+id)
		if !strings.Contains(view, "On the first day") || strings.Contains(view, "After submitting") {
			t.Errorf("the assessor does not read the submitted version")
		}
	})

	t.Run("links and attachments", func(t *testing.T) {
		_, editor := pageGet(p.tara, "/journal/"+id+"/edit")
		m := regexp.MustCompile(`<select[^>]*id="entry-link-page"[\s\S]*?<option value="([a-z0-9-]+)"`).FindStringSubmatch(editor)
		if m == nil {
			t.Fatalf("the editor offers no curriculum page to link")
		}
		view, err := f.journals.ReadEntry(context.Background(), courses.Viewer{UserID: p.taraID, Role: accounts.RoleTrainee}, id)
		if err != nil {
			t.Fatal(err)
		}
		res, body := pagePost(p.tara, "/journal/"+id, url.Values{"title": {view.Title}, "body": {view.Body}, "linkPage": {m[1]},
			"baseVersion": {fmt.Sprint(view.Version)}, "key": {"nojs-link"}})
		redirectedTo(t, res, body)
		_, page := pageGet(p.tara, "/journal/"+id)
		if !strings.Contains(page, `href="/curriculum/`+m[1]+`"`) {
			t.Errorf("the entry view lacks the link to %s", m[1])
		}
		v := courses.Viewer{UserID: p.taraID, Role: accounts.RoleTrainee}
		a := courses.Attachment{Key: "journal/test/pic.png", Kind: courses.MediaImage, ContentType: "image/png", Size: 1234, Name: "pic.png"}
		if _, err := f.journals.AddAttachment(context.Background(), v, id, a); err != nil {
			t.Fatal(err)
		}
		_, editor = pageGet(p.tara, "/journal/"+id+"/edit")
		if !strings.Contains(editor, "pic.png") || !strings.Contains(editor, `action="/journal/`+id+`/attachments/remove"`) {
			t.Fatalf("the editor does not list the attachment with a remove button")
		}
		if res, _ := pagePost(p.pat, "/journal/"+id+"/attachments/remove", url.Values{"key": {a.Key}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("another trainee removed an attachment: %d", res.StatusCode)
		}
		res, body = pagePost(p.tara, "/journal/"+id+"/attachments/remove", url.Values{"key": {a.Key}})
		redirectedTo(t, res, body)
		after, _ := f.journals.ReadEntry(context.Background(), v, id)
		if len(after.Attachments) != 0 {
			t.Errorf("the attachment is still on the entry")
		}
	})

	t.Run("list filters", func(t *testing.T) {
		for _, c := range []struct {
			query     string
			want, not string
		}{
			{"module=1", "Twice posted", "Changed later"},
			{"tag=dialogism", "Twice posted", "Changed later"},
			{"shared=supervisor", "Changed later", "Twice posted"},
			{"shared=private", "Twice posted", "Changed later"},
			{"tag=not-a-tag", "Changed later", ""},
		} {
			res, body := pageGet(p.tara, "/journal?"+c.query)
			list := body
			if i := strings.Index(body, `id="my-entry-list"`); i >= 0 {
				list = body[i:]
			}
			if res.StatusCode != http.StatusOK || !strings.Contains(list, c.want) || (c.not != "" && strings.Contains(list, c.not)) {
				t.Errorf("/journal?%s: %d; want %q listed and %q not", c.query, res.StatusCode, c.want, c.not)
			}
		}
	})

	t.Run("preview", func(t *testing.T) {
		res, body := pagePost(p.tara, "/journal/preview", url.Values{"body": {"**bold** <img src=x onerror=alert(1)> [x](javascript:alert(1))"}})
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "<strong>bold</strong>") {
			t.Fatalf("preview: %d %s", res.StatusCode, body)
		}
		if strings.Contains(body, "onerror") || strings.Contains(body, "javascript:") {
			t.Errorf("the preview is not safe: %s", body)
		}
	})
}

func TestSupervisionAndPracticePages(t *testing.T) {
	f := newFixture(t)
	p := f.pagePeople(t)
	today := time.Now().In(mustLondon(t)).Format(time.DateOnly)

	res, body := pageGet(p.tara, "/supervision")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `<option value="`+p.samID+`"`) {
		t.Fatalf("supervision page: %d, no Sam Supervisor to choose", res.StatusCode)
	}
	res, body = pagePost(p.tara, "/supervision", url.Values{"date": {today}, "minutes": {"soon"}, "supervisorId": {p.samID}, "kind": {"individual"}, "key": {"sv-1"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `href="#sv-minutes"`) {
		t.Errorf("minutes that are not a number: %d, want 400 linking to the field", res.StatusCode)
	}
	res, body = pagePost(p.tara, "/supervision", url.Values{"date": {today}, "minutes": {"50"}, "supervisorId": {p.samID}, "peerWorker": {"Pat Peer"}, "kind": {"group"}, "reflection": {"We talked about pauses."}, "key": {"sv-1"}})
	redirectedTo(t, res, body)
	_, body = pageGet(p.tara, "/supervision")
	for _, want := range []string{`role="img"`, "<title id=\"sv-chart-title\">", "50 minutes", "Waiting"} {
		if !strings.Contains(body, want) {
			t.Errorf("the trainee's supervision page lacks %q", want)
		}
	}

	_, body = pageGet(p.sam, "/supervision")
	m := regexp.MustCompile(`action="/supervision/([^/"]+)/confirm"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the supervisor has nothing to confirm: %.1500s", pageText(body))
	}
	if res, _ := pagePost(p.pat, "/supervision/"+m[1]+"/confirm", nil); res.StatusCode < 400 {
		t.Errorf("another trainee confirmed the session: %d", res.StatusCode)
	}
	res, body = pagePost(p.sam, "/supervision/"+m[1]+"/confirm", nil)
	redirectedTo(t, res, body)
	_, body = pageGet(p.tara, "/supervision")
	if !strings.Contains(body, ">Confirmed</strong>") {
		t.Errorf("the session is not shown as confirmed")
	}

	res, body = pagePost(p.tara, "/practice", url.Values{"date": {today}, "minutes": {"20"}, "kind": {"sitting"}, "key": {"pr-1"}})
	redirectedTo(t, res, body)
	_, body = pageGet(p.tara, "/practice")
	day, _ := time.Parse(time.DateOnly, today)
	label := day.Format("2 January 2006") + ": 20 minutes"
	if !strings.Contains(body, label) || !strings.Contains(body, "heat__cell--2") {
		t.Errorf("the calendar lacks today's square %q", label)
	}
	if !strings.Contains(body, `id="streak-current">1 day`) {
		t.Errorf("the current streak is not 1 day")
	}

	_, body = pageGet(p.sam, "/practice")
	if !strings.Contains(body, "Not shared with you") || strings.Contains(body, "20 minutes") {
		t.Errorf("the supervisor sees practice the trainee has not shared")
	}
	res, body = pagePost(p.tara, "/practice/visibility", url.Values{"visibility": {"totals"}})
	redirectedTo(t, res, body)
	_, body = pageGet(p.sam, "/practice")
	if !strings.Contains(body, "20 minutes in 1 session") {
		t.Errorf("the supervisor does not see the totals the trainee shared")
	}
	if strings.Contains(body, label) {
		t.Errorf("the supervisor sees the trainee's days, not only totals")
	}
}

func mustLondon(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestExportAndErasePages(t *testing.T) {
	f := newFixture(t)
	p := f.pagePeople(t)
	res, body := pagePost(p.pat, "/journal", url.Values{"title": {"Pat's thoughts"}, "body": {"PAT-MARKER"}, "key": {"pat-entry"}})
	patEntry := strings.TrimPrefix(redirectedTo(t, res, body), "/journal/")

	res, raw := p.pat.do("POST", "/account/export", url.Values{"csrf": {p.pat.csrf}})
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatalf("the export is not a zip: %v", err)
	}
	found := false
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		found = found || strings.Contains(b.String(), "PAT-MARKER")
	}
	if !found {
		t.Errorf("the export lacks the entry's text")
	}

	erase := fmt.Sprintf("/admin/people/%s/erase", p.patID)
	if res, _ := pageGet(p.tara, erase); res.StatusCode != http.StatusForbidden {
		t.Errorf("a trainee opened the erase page: %d", res.StatusCode)
	}
	res, body = pageGet(p.alex, erase)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "peer@polyphony.example") {
		t.Fatalf("erase page: %d", res.StatusCode)
	}
	res, body = pagePost(p.alex, erase, url.Values{"confirm": {"someone@else.example"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `href="#erase-confirm"`) {
		t.Errorf("a wrong confirmation: %d, want 400 linking to the field", res.StatusCode)
	}
	if _, err := f.journals.ReadRevision(context.Background(), courses.Viewer{UserID: p.patID, Role: accounts.RoleTrainee}, patEntry, 1); err != nil {
		t.Fatalf("a refused erasure removed the entry: %v", err)
	}
	consentErased := consentBeforeErasure(t, f, p.patID, f.logins["peer@polyphony.example"].Name, patEntry, p.taraID)
	res, body = pagePost(p.alex, erase, url.Values{"confirm": {"Peer@Polyphony.example"}})
	if got := redirectedTo(t, res, body); got != "/admin" {
		t.Errorf("erasure went to %s", got)
	}
	if _, err := f.journals.ReadRevision(context.Background(), courses.Viewer{UserID: p.patID, Role: accounts.RoleTrainee}, patEntry, 1); err == nil {
		t.Errorf("the entry is still there after erasure")
	}
	u, err := f.accounts.Users.ByID(context.Background(), p.patID)
	if err != nil || !u.Disabled {
		t.Errorf("the erased account is not disabled: %v", err)
	}
	consentErased()
}
