package server_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
	"polyphony/internal/demo"
)

// The programme browser tests follow a trainee, a facilitator and the curriculum editors
// through the nine months: the timeline, module pages, the curriculum and its release
// dates, the schedule and calendar address, registers, module dates, and writing pages
// with the live preview, conflicting saves and revisions. Every page is checked with
// axe-core, and again at the width of a phone for sideways scrolling.

// phoneWidth and phoneHeight are the viewport of the phone checks: an iPhone's 375×812.
const phoneWidth, phoneHeight = 375, 812

// signInAs signs the tab in as the demo account of role and waits for the home page.
func signInAs(t *testing.T, f *fixture, b *browsertest.Browser, role accounts.Role) {
	t.Helper()
	l := f.byRole[role]
	b.Navigate(f.ts.URL + "/signin")
	signIn(b, l.Email, l.Password)
	wantPath(t, b, f.ts.URL, "/")
}

// checkPage takes the screenshot name (when not empty) and runs axe-core on the page.
func checkPage(t *testing.T, b *browsertest.Browser, shot string) {
	t.Helper()
	if shot != "" {
		screenshot(b, shot)
	}
	b.AssertNoAxeViolations(t)
}

// phonePage is a page to look at on a phone, and the name of its screenshot ("" for none).
type phonePage struct{ path, shot string }

// fitsPhone loads each page at the width of a phone and fails the test for any that scrolls
// sideways or breaks an accessibility rule there. The tab goes back to its window size after.
func fitsPhone(t *testing.T, b *browsertest.Browser, base string, pages ...phonePage) {
	t.Helper()
	b.SetMobileViewport(phoneWidth, phoneHeight)
	defer b.ResetViewport()
	for _, p := range pages {
		b.Navigate(base + p.path)
		if b.Status() != http.StatusOK {
			t.Errorf("phone: %s answered %d", p.path, b.Status())
		}
		noHorizontalScroll(t, b)
		if p.shot != "" {
			screenshot(b, p.shot)
		}
		b.AssertNoAxeViolations(t)
	}
}

// waitTrue waits until the JavaScript expression js is true in the page, for at most ten
// seconds, and fails the test with what when it never is.
func waitTrue(t *testing.T, b *browsertest.Browser, js, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ok bool
		b.Eval(`!!(`+js+`)`, &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("on %s, still not true after 10s: %s", b.URL(), what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// typeAtEnd puts the caret at the end of the text area and types text there key by key, as
// a person adding to a page would. A "\n" presses Enter.
func typeAtEnd(t *testing.T, b *browsertest.Browser, selector, text string) {
	t.Helper()
	b.Eval(`(() => { const el = document.querySelector(`+jsString(selector)+`); el.focus(); el.setSelectionRange(el.value.length, el.value.length); return true; })()`, nil)
	ctx, cancel := context.WithTimeout(b.Context(), 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.KeyEvent(text)); err != nil {
		t.Fatalf("typing into %s on %s: %v", selector, b.URL(), err)
	}
}

// notice returns the text of the page's notice (the status message after a change).
func notice(t *testing.T, b *browsertest.Browser) string {
	t.Helper()
	if !b.Exists("main [role=status]") {
		t.Errorf("%s shows no notice", b.URL())
		return ""
	}
	return b.Text("main [role=status]")
}

// wantNotice fails the test unless the page's notice contains want.
func wantNotice(t *testing.T, b *browsertest.Browser, want string) {
	t.Helper()
	if got := notice(t, b); !strings.Contains(got, want) {
		t.Errorf("the notice on %s is %q, want it to contain %q", b.URL(), got, want)
	}
}

// hrefs lists the href attributes of the elements that selector finds.
func hrefs(b *browsertest.Browser, selector string) []string {
	var out []string
	b.Eval(`[...document.querySelectorAll(`+jsString(selector)+`)].map(a => a.getAttribute('href'))`, &out)
	return out
}

// fetchStatus fetches path from the page, with the tab's cookies, and returns the status.
func fetchStatus(b *browsertest.Browser, path string) int {
	var status int
	b.Eval(`fetch(`+jsString(path)+`, {credentials: 'same-origin', redirect: 'manual'}).then(r => r.status)`, &status)
	return status
}

// day writes a date as the pages do.
func day(d time.Time) string { return d.Format("2 January 2006") }

// demoProgramme returns the demo cohort and its programme as stored.
func demoProgramme(t *testing.T, f *fixture) (courses.Cohort, courses.Programme) {
	t.Helper()
	c := f.demoCohort(t)
	p, err := f.courses.Programme(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

// timelineDrawn checks the geometry of the programme's timeline as drawn on the screen: the
// bars side by side in order across the whole chart, each as wide as its share of the nine
// months, and today's line in the period between modules 2 and 3.
func timelineDrawn(t *testing.T, b *browsertest.Browser, p courses.Programme) {
	t.Helper()
	type box struct{ Left, Right, Width, Height float64 }
	var g struct {
		Chart box
		Bars  []box
		Now   *box
	}
	b.Eval(`(() => {
		const r = (e) => { const b = e.getBoundingClientRect(); return {Left: b.left, Right: b.right, Width: b.width, Height: b.height}; };
		const svg = document.querySelector('svg.timeline__chart');
		const now = svg.querySelector('.timeline__now');
		return {Chart: r(svg), Bars: [...svg.querySelectorAll('rect')].map(r), Now: now ? r(now) : null};
	})()`, &g)
	if g.Chart.Width < 300 || g.Chart.Height < 24 {
		t.Fatalf("the timeline is drawn %v×%v pixels", g.Chart.Width, g.Chart.Height)
	}
	if len(g.Bars) != 2*len(p.Modules)-1 {
		t.Fatalf("the timeline has %d bars, want %d", len(g.Bars), 2*len(p.Modules)-1)
	}
	first, end := p.Modules[0].Start, p.Modules[len(p.Modules)-1].End.AddDate(0, 0, 1)
	span := end.Sub(first).Hours()
	near := func(a, b float64) bool { return a-b < 1.5 && b-a < 1.5 }
	for i, m := range p.Modules {
		bar := g.Bars[2*i]
		wantLeft := g.Chart.Left + g.Chart.Width*m.Start.Sub(first).Hours()/span
		wantWidth := g.Chart.Width * m.End.AddDate(0, 0, 1).Sub(m.Start).Hours() / span
		if !near(bar.Left, wantLeft) || !near(bar.Width, wantWidth) || bar.Height < 8 {
			t.Errorf("module %d is drawn from x=%.1f, %.1f wide and %.1f high; want x=%.1f, %.1f wide", m.Number, bar.Left, bar.Width, bar.Height, wantLeft, wantWidth)
		}
	}
	for i := 1; i < len(g.Bars); i++ {
		if !near(g.Bars[i].Left, g.Bars[i-1].Right) {
			t.Errorf("bar %d starts at x=%.1f, not where bar %d ends (%.1f)", i+1, g.Bars[i].Left, i, g.Bars[i-1].Right)
		}
	}
	if last := g.Bars[len(g.Bars)-1]; !near(g.Bars[0].Left, g.Chart.Left) || !near(last.Right, g.Chart.Right) {
		t.Errorf("the bars run from x=%.1f to %.1f, want the whole chart, %.1f to %.1f", g.Bars[0].Left, last.Right, g.Chart.Left, g.Chart.Right)
	}
	// The demo cohort is between modules 2 and 3: the fourth bar.
	if between := g.Bars[3]; g.Now == nil {
		t.Errorf("the timeline does not mark today")
	} else if mid := (g.Now.Left + g.Now.Right) / 2; mid < between.Left || mid > between.Right {
		t.Errorf("today's line is at x=%.1f, outside the period between modules 2 and 3 (%.1f to %.1f)", mid, between.Left, between.Right)
	}
}

func TestBrowserProgrammeTrainee(t *testing.T) {
	f := newFixture(t)
	_, p := demoProgramme(t, f)
	b := browsertest.New(t)
	signInAs(t, f, b, accounts.RoleTrainee)

	// The programme: where the cohort is, the timeline and the four modules.
	b.ClickHeaderLink("/programme")
	wantPath(t, b, f.ts.URL, "/programme")
	wantText(t, b, "h1", "Your nine months")
	wantText(t, b, "#position", "between residential modules 2 and 3")
	if n := b.Count("svg.timeline__chart rect.timeline__module"); n != 4 {
		t.Errorf("the timeline draws %d modules, want 4", n)
	}
	if n := b.Count("svg.timeline__chart rect.timeline__period"); n != 3 {
		t.Errorf("the timeline draws %d periods between modules, want 3", n)
	}
	if !b.Exists("svg.timeline__chart line.timeline__now") {
		t.Errorf("the timeline does not mark today")
	}
	if role, _ := b.Attr("svg.timeline__chart", "role"); role != "img" {
		t.Errorf("the timeline's role is %q, want img", role)
	}
	timelineDrawn(t, b, p)
	if n := b.Count(".timeline__list li"); n != 7 {
		t.Errorf("the timeline's text list has %d items, want 7 (4 modules, 3 periods)", n)
	}
	m1 := p.Modules[0]
	wantText(t, b, ".timeline__list", "Module 1: "+day(m1.Start)+" to "+day(m1.End))
	wantText(t, b, ".timeline__list", "Between modules 2 and 3")
	if n := b.Count(".nhsuk-card-group .nhsuk-card"); n != 4 {
		t.Errorf("%d module cards, want 4", n)
	}
	for _, m := range p.Modules {
		wantText(t, b, `.nhsuk-card-group`, "Module "+strconv.Itoa(m.Number)+": "+m.Title)
	}
	if !b.Exists(".activity-list .activity") {
		t.Errorf("the programme page lists nothing to do between modules")
	}
	checkPage(t, b, "programme")

	// Module 1: dates, venue, the timetable day by day and its pages.
	b.ClickAndWait(`.nhsuk-card__link[href="/modules/1"]`)
	wantPath(t, b, f.ts.URL, "/modules/1")
	wantText(t, b, "h1", m1.Title)
	wantText(t, b, ".nhsuk-summary-list", day(m1.Start)+" to "+day(m1.End))
	wantText(t, b, ".nhsuk-summary-list", m1.Venue)
	if n := b.Count("main table"); n != len(m1.Days) || n == 0 {
		t.Errorf("%d timetable tables, want one for each of the %d days", n, len(m1.Days))
	}
	for i, d := range m1.Days {
		sel := "main table:nth-of-type(" + strconv.Itoa(i+1) + ")"
		if !b.Exists(sel) {
			break
		}
		wantText(t, b, sel+" caption", day(d.Date))
		if n := b.Count(sel + " tbody tr"); n != len(d.Slots) {
			t.Errorf("day %d: %d rows, want %d", i+1, n, len(d.Slots))
		}
		if len(d.Slots) > 0 {
			wantText(t, b, sel+" tbody", d.Slots[0].Start+" to "+d.Slots[0].End)
			wantText(t, b, sel+" tbody", d.Slots[0].Title)
		}
	}
	if pages := hrefs(b, `main a[href^="/curriculum/"]`); !slices.Contains(pages, "/curriculum/immediate-help") {
		t.Errorf("module 1 lists the pages %v, want immediate-help among them", pages)
	}
	checkPage(t, b, "module")

	// The curriculum lists exactly the released pages.
	ctx := context.Background()
	all, err := f.pages.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, pg := range all {
		if pg.Released(time.Now(), p.ModuleEnd) {
			want = append(want, "/curriculum/"+pg.Slug)
		}
	}
	if slices.Contains(want, "/curriculum/risk-and-governance") {
		t.Fatalf("risk-and-governance is released already; the demo cohort is meant to be before module 3")
	}
	b.ClickHeaderLink("/curriculum")
	wantText(t, b, "h1", "Curriculum")
	got := hrefs(b, `main a[href^="/curriculum/"]`)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the curriculum links %v, want the released pages %v", got, want)
	}
	if strings.Contains(b.Text("main"), "Risk and governance") || b.Exists(".nhsuk-tag--grey") {
		t.Errorf("the trainee's curriculum names an unreleased page")
	}
	if b.Exists(`a[href="/curriculum/new"]`) {
		t.Errorf("a trainee is offered to write a page")
	}
	checkPage(t, b, "curriculum")

	// A page with its contents list and links to other pages.
	b.ClickAndWait(`main a[href="/curriculum/dialogism-and-polyphony"]`)
	wantText(t, b, "h1", "Dialogism and polyphony")
	var contents []struct{ Href, Text, Target, TargetText string }
	b.Eval(`[...document.querySelectorAll('.nhsuk-contents-list__link')].map(a => {
		const h = document.getElementById(decodeURIComponent(a.getAttribute('href').slice(1)));
		return {Href: a.getAttribute('href'), Text: a.textContent.trim(), Target: h ? h.tagName : '', TargetText: h ? h.textContent.trim() : ''};
	})`, &contents)
	if len(contents) < 3 {
		t.Errorf("the contents list has %d entries: %v", len(contents), contents)
	}
	for _, c := range contents {
		if !strings.HasPrefix(c.Href, "#") || c.Target != "H2" || c.TargetText != c.Text {
			t.Errorf("contents entry %q (%s) leads to <%s> %q, want the h2 of that name", c.Text, c.Href, c.Target, c.TargetText)
		}
	}
	if len(contents) > 1 {
		// The second heading is well down the page, with more of the page below it.
		c := contents[1]
		b.Click(`.nhsuk-contents-list__link[href="` + c.Href + `"]`)
		waitTrue(t, b, `location.hash === `+jsString(c.Href), "the address ends "+c.Href)
		waitTrue(t, b, `window.scrollY > 0 && (() => { const top = document.getElementById(`+jsString(c.Href[1:])+`).getBoundingClientRect().top; return top >= -1 && top < 120; })()`,
			"the heading "+c.Text+" is scrolled to the top of the window")
	}
	links := hrefs(b, `.curriculum-body a[href^="/curriculum/"]`)
	if len(links) < 3 {
		t.Errorf("the page links %v, want its links to other pages rewritten to their addresses", links)
	}
	if raw := hrefs(b, `.curriculum-body a[href*=".md"]`); len(raw) > 0 {
		t.Errorf("links left as Markdown file names: %v", raw)
	}
	for _, href := range links {
		path, frag, _ := strings.Cut(href, "#")
		status := fetchStatus(b, path)
		if !slices.Contains(want, path) {
			t.Errorf("the page links %s (answering %d), which this trainee cannot open yet", href, status)
			continue
		}
		if status != http.StatusOK {
			t.Errorf("the link to %s answers %d", href, status)
		}
		if frag != "" {
			var found bool
			b.Eval(`fetch(`+jsString(path)+`).then(r => r.text()).then(s => new DOMParser().parseFromString(s, 'text/html').getElementById(`+jsString(frag)+`) !== null)`, &found)
			if !found {
				t.Errorf("the link to %s: the page has no #%s", href, frag)
			}
		}
	}
	screenshot(b, "curriculum-page")
	b.AssertNoAxeViolations(t)
	b.ClickAndWait(`.curriculum-body a[href="/curriculum/tolerance-of-uncertainty"]`)
	wantText(t, b, "h1", "Tolerance of uncertainty")

	// An unreleased page does not exist for a trainee, even at its address.
	b.Navigate(f.ts.URL + "/curriculum/risk-and-governance")
	if b.Status() != http.StatusNotFound {
		t.Errorf("unreleased page: status %d, want 404", b.Status())
	}
	wantText(t, b, "h1", "Page not found")
	if strings.Contains(b.Text("main"), "Risk and governance") {
		t.Errorf("the 404 page names the unreleased page")
	}
	b.AssertNoAxeViolations(t)

	// The reading list.
	b.ClickHeaderLink("/reading-list")
	wantText(t, b, "h1", "Reading list")
	wantText(t, b, "main", "Between modules 1 and 2")
	if !b.Exists("main cite") {
		t.Errorf("the reading list cites nothing")
	}
	checkPage(t, b, "reading-list")

	// The schedule, and a new private calendar address.
	b.ClickHeaderLink("/schedule")
	wantText(t, b, "h1", "Your schedule")
	if n := b.Count("#schedule tbody tr"); n != len(p.Occasions()) {
		t.Errorf("the schedule has %d rows, want %d", n, len(p.Occasions()))
	}
	wantText(t, b, "#schedule", "Not recorded")
	wantText(t, b, "#schedule", "Not yet")
	old := b.Value("#calendar-url")
	if !strings.HasPrefix(old, f.ts.URL+"/calendar/") || !strings.HasSuffix(old, ".ics") {
		t.Errorf("calendar address %q", old)
	}
	checkPage(t, b, "schedule")
	b.Submit("#rotate-calendar")
	wantPath(t, b, f.ts.URL, "/schedule")
	wantNotice(t, b, "Your calendar has a new address")
	fresh := b.Value("#calendar-url")
	if fresh == old || !strings.HasPrefix(fresh, f.ts.URL+"/calendar/") {
		t.Errorf("after the rotation the address is %q (was %q)", fresh, old)
	}
	for u, wantStatus := range map[string]int{old: http.StatusNotFound, fresh: http.StatusOK} {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != wantStatus {
			t.Errorf("GET %s: %d, want %d", u, res.StatusCode, wantStatus)
		}
	}
	b.AssertNoAxeViolations(t)

	fitsPhone(t, b, f.ts.URL,
		phonePage{"/programme", "phone-programme"},
		phonePage{"/modules/1", "phone-module"},
		phonePage{"/curriculum", ""},
		phonePage{"/curriculum/dialogism-and-polyphony", "phone-curriculum-page"},
		phonePage{"/reading-list", ""},
		phonePage{"/schedule", "phone-schedule"},
	)
}

func TestBrowserProgrammeFacilitator(t *testing.T) {
	f := newFixture(t)
	cohort, p := demoProgramme(t, f)
	b := browsertest.New(t)
	signInAs(t, f, b, accounts.RoleFacilitator)
	cohortPath := "/cohorts/" + cohort.ID

	// From the programme to the cohort: members, module dates and registers.
	b.ClickHeaderLink("/programme")
	b.ClickAndWait(`main a[href="` + cohortPath + `"]`)
	wantPath(t, b, f.ts.URL, cohortPath)
	wantText(t, b, "h1", demo.CohortName)
	for _, name := range []string{"Tara Trainee", "Pat Peer (peer support worker)", "Fran Facilitator, Facilitator", "Femi Facilitator"} {
		wantText(t, b, "main", name)
	}
	for _, m := range p.Modules {
		n := strconv.Itoa(m.Number)
		if got := b.Value("#start" + n); got != m.Start.Format("2006-01-02") {
			t.Errorf("module %s first day %q, want %s", n, got, m.Start.Format("2006-01-02"))
		}
		if got := b.Value("#end" + n); got != m.End.Format("2006-01-02") {
			t.Errorf("module %s last day %q", n, got)
		}
		if got := b.Value("#venue" + n); got != m.Venue {
			t.Errorf("module %s venue %q, want %q", n, got, m.Venue)
		}
	}
	occasions := p.Occasions()
	if n := b.Count("#occasions tbody tr"); n != len(occasions) {
		t.Errorf("%d registers listed, want %d", n, len(occasions))
	}
	checkPage(t, b, "cohort")

	// The register of the first residential day: the trainee was there, a little late.
	first := occasions[0]
	if first.Kind != courses.OccasionResidential {
		t.Fatalf("the first occasion is %v, want a residential day", first)
	}
	b.ClickAndWait(`#occasions a[href="` + cohortPath + `/register/` + first.ID + `"]`)
	wantText(t, b, "h1", "Register: "+first.Title)
	wantText(t, b, "main", day(first.Date))
	var who string
	b.Eval(`[...document.querySelectorAll('main legend')].find(l => l.textContent.trim() === 'Tara Trainee')?.id ?? ''`, &who)
	i := strings.TrimPrefix(who, "who-")
	if who == "" {
		t.Fatalf("the register has no row for Tara Trainee")
	}
	b.Click(`label[for="mark-` + i + `-present"]`)
	var checked bool
	b.Eval(`document.getElementById('mark-`+i+`-present').checked`, &checked)
	if !checked {
		t.Errorf("clicking the label Present did not choose it")
	}
	const note = "Arrived at 10:15 after a train delay"
	b.Fill("#note-"+i, note)
	checkPage(t, b, "register")
	b.Submit("#save-register")
	wantPath(t, b, f.ts.URL, cohortPath+"/register/"+first.ID)
	wantNotice(t, b, "Saved the register (1 marked).")
	b.Eval(`document.getElementById('mark-`+i+`-present').checked`, &checked)
	if !checked || b.Value("#note-"+i) != note {
		t.Errorf("after saving, the register does not show the mark and note")
	}
	b.AssertNoAxeViolations(t)

	// The trainee sees it on their schedule.
	tr := b.NewIsolatedTab().For(t)
	signInAs(t, f, tr, accounts.RoleTrainee)
	tr.ClickHeaderLink("/schedule")
	wantText(t, tr, "#occasion-"+first.ID, "Present")
	wantText(t, tr, "#occasion-"+first.ID, note)

	// A new venue for module 2 reaches the trainee's module page.
	const venue = "Hebden Bridge Town Hall, St George's Street"
	b.Navigate(f.ts.URL + cohortPath)
	b.Fill("#venue2", venue)
	b.Submit("#save-modules")
	wantPath(t, b, f.ts.URL, cohortPath)
	wantNotice(t, b, "Saved the module dates.")
	if got := b.Value("#venue2"); got != venue {
		t.Errorf("after saving, module 2's venue is %q", got)
	}
	b.AssertNoAxeViolations(t)
	tr.Navigate(f.ts.URL + "/modules/2")
	wantText(t, tr, ".nhsuk-summary-list", venue)
	tr.Navigate(f.ts.URL + "/programme")
	wantText(t, tr, `.nhsuk-card-group`, venue)

	fitsPhone(t, b, f.ts.URL,
		phonePage{cohortPath, "phone-cohort"},
		phonePage{cohortPath + "/register/" + first.ID, "phone-register"},
		phonePage{"/programme", ""},
	)
}

func TestBrowserProgrammeEditors(t *testing.T) {
	f := newFixture(t)
	b := browsertest.New(t)
	signInAs(t, f, b, accounts.RoleFacilitator)
	const page = "/curriculum/immediate-help"

	// Typing updates the live preview; saving makes revision 2.
	b.Navigate(f.ts.URL + page)
	b.ClickAndWait(`a[href="` + page + `/edit"]`)
	wantText(t, b, "h1", "Edit a curriculum page")
	if got := b.Value("#page-title"); got != "Immediate help" {
		t.Errorf("title field %q", got)
	}
	waitTrue(t, b, `document.querySelector('#page-preview h2')`, "the preview shows the page as it loads")
	typeAtEnd(t, b, "#page-body", "\n\n## Typed in the browser\n\nA line typed key by key.")
	waitTrue(t, b, `[...document.querySelectorAll('#page-preview h2')].some(h => h.textContent.trim() === 'Typed in the browser')`, "the preview shows the typed heading")
	wantText(t, b, "#page-preview", "A line typed key by key.")
	// Writing at the end of a long page, the preview shows the end too.
	waitTrue(t, b, `(() => {
		const box = document.getElementById('page-preview').getBoundingClientRect();
		const h = [...document.querySelectorAll('#page-preview h2')].find(h => h.textContent.trim() === 'Typed in the browser').getBoundingClientRect();
		return h.top >= box.top && h.bottom <= box.bottom;
	})()`, "the typed heading is scrolled into view in the preview")
	checkPage(t, b, "curriculum-edit")
	b.Submit("#save-page")
	wantPath(t, b, f.ts.URL, page)
	wantNotice(t, b, "Saved revision 2.")
	wantText(t, b, ".curriculum-body", "A line typed key by key.")
	wantText(t, b, ".nhsuk-contents-list", "Typed in the browser")
	wantText(t, b, "main", "revision 2")
	b.AssertNoAxeViolations(t)

	// The administrator opens the editor, then the facilitator saves again first.
	admin := b.NewIsolatedTab().For(t)
	signInAs(t, f, admin, accounts.RoleAdmin)
	admin.Navigate(f.ts.URL + page + "/edit")
	if got := admin.Value(`input[name=baseRevision]`); got != "2" {
		t.Errorf("the administrator's form is based on revision %q, want 2", got)
	}
	b.ClickAndWait(`a[href="` + page + `/edit"]`)
	const theirs = "A second thought from the facilitator."
	typeAtEnd(t, b, "#page-body", "\n\n"+theirs)
	b.Submit("#save-page")
	wantNotice(t, b, "Saved revision 3.")

	// The administrator's save is refused, with both texts on the page.
	const mine = "An addition from the administrator."
	typeAtEnd(t, admin, "#page-body", "\n\n"+mine)
	admin.Submit("#save-page")
	if admin.Status() != http.StatusConflict {
		t.Errorf("stale save: status %d, want 409", admin.Status())
	}
	wantErrorSummary(t, admin, "While you were editing, Fran Facilitator saved revision 3", "page-body")
	if got := admin.Value("#page-body"); !strings.Contains(got, mine) || strings.Contains(got, theirs) {
		t.Errorf("after the conflict the editor holds %q, want the administrator's own text", got)
	}
	if got := admin.Value("#their-text"); !strings.Contains(got, theirs) {
		t.Errorf("the other person's text is not shown: %q", got)
	}
	wantText(t, admin, "#their-version", "Revision 3")
	if got := admin.Value(`input[name=baseRevision]`); got != "3" {
		t.Errorf("after the conflict the form is based on revision %q, want 3", got)
	}
	checkPage(t, admin, "curriculum-conflict")

	// Merged by hand, it saves.
	typeAtEnd(t, admin, "#page-body", "\n\n"+theirs)
	admin.Submit("#save-page")
	wantPath(t, admin, f.ts.URL, page)
	wantNotice(t, admin, "Saved revision 4.")
	wantText(t, admin, ".curriculum-body", mine)
	wantText(t, admin, ".curriculum-body", theirs)

	// The revisions, and restoring the first.
	admin.ClickAndWait(`main a[href="` + page + `/revisions"]`)
	wantText(t, admin, "h1", "Revisions")
	if n := admin.Count("#revisions tbody tr"); n != 4 {
		t.Errorf("%d revisions listed, want 4", n)
	}
	wantText(t, admin, "#revisions tbody tr:first-child", "(current)")
	wantText(t, admin, "#revisions", "Fran Facilitator")
	wantText(t, admin, "#revisions", "Alex Admin")
	checkPage(t, admin, "curriculum-revisions")
	admin.ClickAndWait(`#revisions a[href="` + page + `/revisions/1"]`)
	wantText(t, admin, ".nhsuk-warning-callout", "This is revision 1")
	if strings.Contains(admin.Text(".curriculum-body"), "Typed in the browser") {
		t.Errorf("revision 1 shows later text")
	}
	admin.AssertNoAxeViolations(t)
	admin.Back()
	admin.Submit(`form[action="` + page + `/revisions/1/restore"] button`)
	wantPath(t, admin, f.ts.URL, page)
	wantNotice(t, admin, "Restored revision 1 as revision 5.")
	if body := admin.Text(".curriculum-body"); strings.Contains(body, mine) || strings.Contains(body, "Typed in the browser") {
		t.Errorf("after restoring revision 1 the page still has later text")
	}
	wantText(t, admin, "main", "revision 5")
	admin.AssertNoAxeViolations(t)

	fitsPhone(t, b, f.ts.URL,
		phonePage{page + "/edit", "phone-curriculum-edit"},
		phonePage{page + "/revisions", "phone-curriculum-revisions"},
	)
}

func TestBrowserProgrammeNewPage(t *testing.T) {
	f := newFixture(t)
	b := browsertest.New(t)
	signInAs(t, f, b, accounts.RoleFacilitator)

	b.ClickHeaderLink("/curriculum")
	b.ClickAndWait(`main a[href="/curriculum/new"]`)
	wantText(t, b, "h1", "Write a new page")
	b.AssertNoAxeViolations(t)
	b.Fill("#page-title", "Listening in network meetings")
	b.Fill("#page-slug", "listening-in-network-meetings")
	selectByLabel(t, b, "#page-module", "Module 2")
	b.Fill("#page-order", "9")
	b.Fill("#page-release", "immediately")
	b.Fill("#page-body", "## Before the meeting\n\nRead [x](no-such-page.md) first.")
	b.Submit("#save-page")
	if b.Status() != http.StatusBadRequest {
		t.Errorf("broken link: status %d, want 400", b.Status())
	}
	wantErrorSummary(t, b, "no-such-page.md", "page-body")
	wantText(t, b, "#page-body-error", "no-such-page.md")
	for sel, want := range map[string]string{"#page-title": "Listening in network meetings", "#page-slug": "listening-in-network-meetings", "#page-module": "2"} {
		if got := b.Value(sel); got != want {
			t.Errorf("after the error %s holds %q, want %q", sel, got, want)
		}
	}
	if got := b.Value("#page-body"); !strings.Contains(got, "no-such-page.md") {
		t.Errorf("after the error the text is %q, want what was typed", got)
	}
	checkPage(t, b, "curriculum-new-error")

	b.Fill("#page-body", "## Before the meeting\n\nRead [immediate help](immediate-help.md) first.")
	b.Submit("#save-page")
	wantPath(t, b, f.ts.URL, "/curriculum/listening-in-network-meetings")
	wantNotice(t, b, "Saved revision 1.")
	wantText(t, b, "h1", "Listening in network meetings")
	wantText(t, b, ".nhsuk-caption-l", "Module 2")
	b.AssertNoAxeViolations(t)
	b.ClickAndWait(`.curriculum-body a[href="/curriculum/immediate-help"]`)
	wantText(t, b, "h1", "Immediate help")

	b.Navigate(f.ts.URL + "/curriculum")
	wantText(t, b, "#module-2 + .curriculum-list", "Listening in network meetings")
	fitsPhone(t, b, f.ts.URL, phonePage{"/curriculum/new", "phone-curriculum-new"})
}
