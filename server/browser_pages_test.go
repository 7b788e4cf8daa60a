package server_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"polyphony/content"
	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
	"polyphony/server"
)

// The page-wide tests hold every page to the same rules: no link leads to a page that is not
// there, no page is wider than a 320 px window (WCAG 2.2, 1.4.10 Reflow), and no page reports
// a problem in the browser's console (browsertest fails any test that meets one). The pages
// are found as a person finds them: by following links from the home page.

// crawlLimit bounds the pages one crawl opens; the demo has far fewer for every role.
const crawlLimit = 400

// crawled is what a crawl found.
type crawled struct {
	pages  []string // the HTML pages that answered 200, in the order they were found
	broken []string // each link that answered 404 or 5xx, with the page that has it
}

// crawl opens start as c, then every same-site address that a page links to (a, area) or
// loads (link, script, img), breadth first, and follows redirects on the site. Signing out
// is a form, so it is never followed; no GET changes anything.
func crawl(t *testing.T, c *client, start string) crawled {
	t.Helper()
	base, _ := url.Parse(c.base)
	type visit struct{ path, from string }
	queue := []visit{{start, "(start)"}}
	seen := map[string]bool{start: true}
	var out crawled
	for len(queue) > 0 && len(seen) <= crawlLimit {
		v := queue[0]
		queue = queue[1:]
		res, body := c.do(http.MethodGet, v.path, nil)
		if res.StatusCode == http.StatusNotFound || res.StatusCode >= 500 {
			out.broken = append(out.broken, v.path+" answered "+res.Status+", linked from "+v.from)
			continue
		}
		var next []string
		switch {
		case res.StatusCode >= 300 && res.StatusCode < 400:
			next = []string{res.Header.Get("Location")}
		case res.StatusCode == http.StatusOK && strings.HasPrefix(res.Header.Get("Content-Type"), "text/html"):
			out.pages = append(out.pages, v.path)
			next = pageLinks(body)
		}
		for _, href := range next {
			p, ok := sitePath(base, v.path, href)
			if ok && !seen[p] {
				seen[p] = true
				queue = append(queue, visit{p, v.path})
			}
		}
	}
	if len(seen) > crawlLimit {
		t.Errorf("the crawl from %s stopped at %d addresses; raise crawlLimit if the site grew", start, crawlLimit)
	}
	return out
}

// pageLinks returns the addresses that an HTML page links to or loads.
func pageLinks(page []byte) []string {
	var out []string
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		want := map[string]string{"a": "href", "area": "href", "link": "href", "script": "src", "img": "src"}[string(name)]
		for want != "" && hasAttr {
			var k, v []byte
			k, v, hasAttr = z.TagAttr()
			if string(k) == want {
				out = append(out, string(v))
			}
		}
	}
}

// sitePath resolves href on the page at from, and returns its path and query when it is on
// the site and is not the page itself.
func sitePath(base *url.URL, from, href string) (string, bool) {
	ref, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return "", false
	}
	page := base.ResolveReference(&url.URL{Path: from})
	if i := strings.IndexByte(from, '?'); i >= 0 {
		page = base.ResolveReference(&url.URL{Path: from[:i], RawQuery: from[i+1:]})
	}
	u := page.ResolveReference(ref)
	if u.Scheme != base.Scheme || u.Host != base.Host {
		return "", false
	}
	u.Fragment = ""
	p := u.RequestURI()
	return p, p != from
}

// seedPages gives every kind of page something to show: a journal entry shared with the
// supervisor and submitted to the assessors, a supervision session, a fortnight of practice,
// a question bank and an assessment that the trainee has sat.
func seedPages(t *testing.T, f *fixture) {
	t.Helper()
	jc := f.journalCast(t)
	e := createEntry(t, jc.trainee, "After the network meeting", "We sat in a circle.\n\n| Who | Said |\n|---|---|\n| Tara | A long line of what was said in the meeting, which must wrap rather than widen the page |", "dialogism")
	for _, audience := range []string{"supervisor", "assessors"} {
		res, body := jc.trainee.send("PUT", "/api/v1/journal/entries/"+e.ID+"/sharing/"+audience, map[string]any{"shared": true}, nil)
		wantStatus(t, "share with "+audience, res, body, http.StatusOK)
	}
	res, body := jc.supervisor.send("POST", "/api/v1/journal/entries/"+e.ID+"/comments", map[string]any{"body": "Thank you for sharing this."}, idem("seed-comment"))
	if res.StatusCode >= 300 {
		t.Fatalf("comment: %d %s", res.StatusCode, body)
	}
	today := time.Now().In(time.UTC)
	res, body = jc.trainee.send("POST", "/api/v1/supervision", map[string]any{"date": today.Format("2006-01-02"), "minutes": 60, "supervisorId": jc.supervisorID, "kind": "individual", "reflection": "Useful."}, idem("seed-supervision"))
	if res.StatusCode >= 300 {
		t.Fatalf("supervision: %d %s", res.StatusCode, body)
	}
	for d := range 14 {
		day := today.AddDate(0, 0, -d).Format("2006-01-02")
		res, body := jc.trainee.send("POST", "/api/v1/practice", map[string]any{"date": day, "minutes": 10 + d, "kind": "sitting"}, idem("seed-practice-"+day))
		if res.StatusCode >= 300 {
			t.Fatalf("practice on %s: %d %s", day, res.StatusCode, body)
		}
	}
	assessor := f.signedIn(t, accounts.RoleAssessor)
	res, body = assessor.do("POST", "/api/v1/banks", map[string]string{"name": "Module 1"})
	wantStatus(t, "create a bank", res, body, http.StatusCreated)
	bank := decodeAs[struct {
		ID string `json:"id"`
	}](t, body).ID
	if res, body := assessor.sendText("/api/v1/banks/"+bank+"/import?format=aiken", moodleAiken); res.StatusCode != http.StatusOK {
		t.Fatalf("import questions: %d %s", res.StatusCode, body)
	}
	res, body = assessor.do("GET", "/api/v1/banks/"+bank+"/questions", nil)
	qs := decode[[]questionAnswer](t, res, body, http.StatusOK)
	res, body = assessor.do("POST", "/api/v1/assessments", map[string]any{
		"title": "Module 1 check", "bankId": bank, "cohortId": f.demoCohort(t).ID, "questions": []string{qs[0].ID, qs[1].ID},
		"passMark": 50, "reviewAfterAttempt": "feedback", "reviewAfterClose": "feedback",
	})
	assessment := decode[struct {
		ID string `json:"id"`
	}](t, res, body, http.StatusCreated).ID
	res, body = jc.trainee.do("POST", "/api/v1/assessments/"+assessment+"/attempts", nil)
	at := decode[attemptAnswer](t, res, body, http.StatusCreated)
	for q, o := range []int{3, 1} {
		res, body := jc.trainee.do("PUT", "/api/v1/attempts/"+at.ID+"/answers/"+[]string{"0", "1"}[q], map[string]int{"option": o})
		decode[map[string]any](t, res, body, http.StatusOK)
	}
	res, body = jc.trainee.do("POST", "/api/v1/attempts/"+at.ID+"/submit", nil)
	decode[attemptAnswer](t, res, body, http.StatusOK)
}

// TestNoLinkLeadsToAMissingPage signs in as each role, follows every link from the home
// page, and finds no link to a page that answers 404 or an error: a trainee is never sent to
// a curriculum page that is not released to them yet.
func TestNoLinkLeadsToAMissingPage(t *testing.T) {
	f := newFixture(t)
	seedPages(t, f)
	for _, role := range browserRoles {
		t.Run(string(role), func(t *testing.T) {
			got := crawl(t, f.signedIn(t, role), "/")
			for _, b := range got.broken {
				t.Errorf("%s: %s", role, b)
			}
			for _, want := range []string{"/", "/programme", "/modules/1", "/curriculum", "/account"} {
				if !contains(got.pages, want) {
					t.Errorf("the crawl as %s never reached %s; it reached %v", role, want, got.pages)
				}
			}
			t.Logf("%s: %d pages", role, len(got.pages))
		})
	}
}

// TestUnreleasedPagesAreNamedNotLinked checks how the programme names a reading that is not
// released to trainees yet (the evidence base opens after module 3; the demo cohort is in
// its second period): to a trainee in plain words with when it opens, to staff as a link.
func TestUnreleasedPagesAreNamedNotLinked(t *testing.T) {
	f := newFixture(t)
	const link = `href="/curriculum/evidence-base"`
	trainee := f.signedIn(t, accounts.RoleTrainee)
	for _, p := range []string{"/programme", "/modules/3"} {
		res, body := trainee.do("GET", p, nil)
		wantStatus(t, "trainee "+p, res, body, http.StatusOK)
		if bytes.Contains(body, []byte(link)) {
			t.Errorf("%s links a trainee to the evidence base, which opens after module 3", p)
		}
		if p == "/modules/3" && !bytes.Contains(body, []byte("Available after module 3")) {
			t.Errorf("%s does not say when the evidence base opens", p)
		}
	}
	facilitator := f.signedIn(t, accounts.RoleFacilitator)
	res, body := facilitator.do("GET", "/modules/3", nil)
	wantStatus(t, "facilitator /modules/3", res, body, http.StatusOK)
	if !bytes.Contains(body, []byte(link)) || bytes.Contains(body, []byte("Available after module")) {
		t.Errorf("/modules/3 does not link a facilitator to the evidence base")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// reflowWidth is the width at which every page must still fit: 1280 px at 400% zoom.
const reflowWidth = 320

// TestBrowserEveryPageFitsAt320 opens every page that each role reaches in a window 320 px
// wide and checks that the page itself never scrolls sideways: a wide table or chart may
// scroll inside its own box, the page may not. The browser fails the test on any console
// error, refused resource or uncaught exception on the way.
func TestBrowserEveryPageFitsAt320(t *testing.T) {
	f := newFixture(t)
	seedPages(t, f)
	browser := browsertest.New(t)
	// A curriculum page reads the same to every role, so each is checked once; of the pages
	// that differ only in an id, or the curriculum's edit and revision pages, which show the
	// same form or text for every page, a few are checked for each role.
	curriculumChecked := map[string]bool{}
	for _, role := range browserRoles {
		t.Run(string(role), func(t *testing.T) {
			var pages []string
			perShape := map[string]int{}
			for _, p := range crawl(t, f.signedIn(t, role), "/").pages {
				shape := pageShape(p)
				switch {
				case shape == "/curriculum/*":
					if curriculumChecked[p] {
						continue
					}
					curriculumChecked[p] = true
				case perShape[shape] >= 3:
					continue
				}
				perShape[shape]++
				pages = append(pages, p)
			}
			sort.Strings(pages)
			t.Logf("%d pages", len(pages))
			l := f.byRole[role]
			b := browser.NewIsolatedTab().For(t)
			b.Navigate(f.ts.URL + "/signin")
			signIn(b, l.Email, l.Password)
			b.SetViewport(reflowWidth, 800)
			for _, p := range pages {
				b.Navigate(f.ts.URL + p)
				if b.Status() != http.StatusOK {
					t.Errorf("%s answered %d in the browser", p, b.Status())
					continue
				}
				noHorizontalScroll(t, b)
			}
		})
	}
}

// pageShape is the route of a page: its path with ids, numbers, curriculum slugs, rooms and
// register occasions as *.
func pageShape(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range segs {
		named := segs[0] == "curriculum" && i == 1 || segs[0] == "rooms" && i <= 2 || i > 0 && segs[i-1] == "register"
		number := strings.Trim(s, "0123456789") == ""
		id := len(s) >= 16 && strings.Trim(s, "0123456789abcdef") == ""
		if i > 0 && (named || number || id) {
			segs[i] = "*"
		}
	}
	return "/" + strings.Join(segs, "/")
}

// TestBrowserHeaderLinksAtEveryWidth follows every header link, as the administrator (who
// has the most), at widths where the header holds all of them, some, or none on its line.
// How many fit depends on the machine's fonts, which the test must not: ClickHeaderLink opens
// the More menu when a link has moved into it.
func TestBrowserHeaderLinksAtEveryWidth(t *testing.T) {
	f := newFixture(t)
	b := browsertest.New(t)
	l := f.byRole[accounts.RoleAdmin]
	b.Navigate(f.ts.URL + "/signin")
	signIn(b, l.Email, l.Password)
	var links []string
	b.Eval(`[...document.querySelectorAll('.nhsuk-header__navigation-link[href]')].map(a => a.getAttribute('href'))`, &links)
	if len(links) < 6 {
		t.Fatalf("the administrator's header has the links %v", links)
	}
	for _, w := range []int{reflowWidth, 640, 1000, browsertest.WindowWidth} {
		b.SetViewport(w, 800)
		var inMenu int
		for _, href := range links {
			b.ClickHeaderLink(href)
			wantPath(t, b, f.ts.URL, href)
			inMenu += b.Count(".nhsuk-header__menu-list .nhsuk-header__navigation-link")
		}
		t.Logf("at %d px: %d of %d links were in the More menu, page by page", w, inMenu, len(links)*len(links))
		if w == reflowWidth && inMenu == 0 {
			t.Errorf("at %d px no header link was in the More menu: the test did not try the menu", w)
		}
	}
}

// TestBrowserNHSUKFontAllowedByPolicy serves the pages with the NHS.UK font, as a service on
// the internet does by default, and checks that the browser asks assets.nhs.uk for the font
// rather than refusing it under the Content-Security-Policy. This machine reaches no other
// site, so the request itself fails: that failure, and nothing else, is all the page reports.
func TestBrowserNHSUKFontAllowedByPolicy(t *testing.T) {
	f := newFixture(t)
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	srv, err := server.New(server.Config{PublicURL: mustURL(ts.URL), Fonts: server.NHSUKFonts},
		server.Deps{Accounts: f.accounts, Courses: f.courses, Pages: f.pages, Renderer: content.NewRenderer(), Media: f.media})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()

	b := browsertest.New(t)
	b.Navigate(ts.URL + "/signin")
	var failed bool
	b.Eval(`document.fonts.ready.then(() => [...document.fonts].some(f => f.family.includes('Frutiger') && f.status === 'error'))`, &failed)
	if !failed {
		t.Fatalf("the page did not try the NHS.UK font")
	}
	var asked bool
	for _, p := range b.Problems() {
		switch {
		case p.Kind == "network" && strings.HasPrefix(p.URL, server.NHSUKFonts):
			asked = true
		default:
			t.Errorf("the page reported %s", p)
		}
	}
	if !asked {
		t.Errorf("the browser never asked %s for the font", server.NHSUKFonts)
	}
}
