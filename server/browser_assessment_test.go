package server_test

import (
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"polyphony/internal/browsertest"
)

// The MCQ assessment in real browsers: an assessor sets up a bank from Moodle's Aiken
// example and a timed assessment through the pages; a trainee, on a phone, sits it with the
// timer running, her answers saved as she chooses them, kept through a reload and through a
// dropped connection, checks the summary and submits; a second trainee sits it through the
// API; the assessor reads the results and the item analysis. Every page is checked with axe.

// fetchSpyJS runs before each page of a tab: while window.__offline is true, fetch fails as
// it does when the connection has dropped.
const fetchSpyJS = `(() => {
	const native = window.fetch.bind(window);
	window.__offline = false;
	window.fetch = (...args) => window.__offline ? Promise.reject(new TypeError("Failed to fetch")) : native(...args);
})();`

func TestBrowserAssessment(t *testing.T) {
	f := newFixture(t)
	browser := browsertest.New(t)
	ash, tara := f.logins["assessor@polyphony.example"], f.logins["trainee@polyphony.example"]

	// Ash sets up the bank and the assessment.
	a := browser.NewIsolatedTab()
	a.Navigate(f.ts.URL + "/signin?next=/assessments")
	signIn(a, ash.Email, ash.Password)
	wantPath(t, a, f.ts.URL, "/assessments")
	wantText(t, a, "h1", "Assessments")
	a.AssertNoAxeViolations(t)

	a.Fill("#bank-name", "Open Dialogue principles")
	a.Submit("#create-bank")
	wantText(t, a, ".nhsuk-inset-text", "Created the question bank Open Dialogue principles.")
	a.AssertNoAxeViolations(t)
	bankPath := strings.SplitN(strings.TrimPrefix(a.URL(), f.ts.URL), "?", 2)[0]
	aiken, err := filepath.Abs("../assessment/testdata/moodle-aiken.txt")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(a.Context(), 10*time.Second)
	_, err = chromedp.Run(ctx, chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{aiken}))
	cancel()
	if err != nil {
		t.Fatalf("choose the file: %v", err)
	}
	a.Click("#import-format-aiken")
	a.Submit("#import-button")
	wantText(t, a, ".nhsuk-inset-text", "Imported 2 question(s) from moodle-aiken.txt.")
	wantText(t, a, "#question-list", "What is the correct answer to this question?")
	wantText(t, a, "#question-list", "Which LMS has the most quiz import formats?")
	a.AssertNoAxeViolations(t)
	a.ClickAndWait("#question-list a")
	questionPath := strings.TrimPrefix(a.URL(), f.ts.URL)
	wantText(t, a, "#question-preview", "Must be this one!")
	wantText(t, a, "#history-list", "Revision 1, saved by Ash Assessor")
	a.AssertNoAxeViolations(t)

	a.Navigate(f.ts.URL + "/assessments/new")
	a.AssertNoAxeViolations(t)
	a.Submit("#choose-bank")
	a.Fill("#assessment-title", "Principles check")
	selectByLabel(t, a, "#assessment-cohort", "The trainees of Demo cohort")
	a.Click("#question-0")
	a.Click("#question-1")
	a.Fill("#assessment-time-limit", "10")
	a.Fill("#assessment-grace", "30")
	a.Fill("#assessment-attempts", "1")
	a.Fill("#assessment-pass-mark", "50")
	a.Fill("#review-after-attempt", "answers")
	a.Fill("#review-after-close", "feedback")
	a.AssertNoAxeViolations(t)
	a.Submit("#save-assessment")
	wantText(t, a, ".nhsuk-inset-text", "Set up the assessment Principles check.")
	wantText(t, a, "#assessment-settings", "10 minutes")
	a.AssertNoAxeViolations(t)
	id := strings.TrimPrefix(strings.SplitN(strings.TrimPrefix(a.URL(), f.ts.URL), "?", 2)[0], "/assessments/")

	// Tara sits it on her phone.
	b := browser.NewIsolatedTab()
	b.SetMobileViewport(375, 812)
	ctx, cancel = context.WithTimeout(b.Context(), 10*time.Second)
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: fetchSpyJS})
	cancel()
	if err != nil {
		t.Fatalf("install the fetch spy: %v", err)
	}
	checkPage := func(what string) {
		t.Helper()
		noHorizontalScroll(t, b)
		screenshot(b, "assessment-"+what)
		b.AssertNoAxeViolations(t)
	}
	b.Navigate(f.ts.URL + "/signin?next=/assessments")
	signIn(b, tara.Email, tara.Password)
	wantText(t, b, "#assessment-"+id, "Principles check")
	wantText(t, b, "#assessment-"+id, "10 minutes")
	checkPage("list")
	b.ClickAndWait(`#assessment-` + id + ` a[href="/assessments/` + id + `"]`)
	wantText(t, b, "h1", "Principles check")
	checkPage("start")
	b.ClickAndWait("#start-attempt")
	if !strings.HasPrefix(strings.TrimPrefix(b.URL(), f.ts.URL), "/attempts/") {
		t.Fatalf("the start went to %s", b.URL())
	}
	attemptURL := strings.SplitN(b.URL(), "?", 2)[0]
	wantText(t, b, "h1", "Principles check")
	wantText(t, b, "legend", "Question 1 of 2")
	waitJS(t, b, "the timer counts down", `/^\d+:\d\d$/.test(document.getElementById('timer-value').textContent)`)
	var left string
	b.Eval(`document.getElementById('timer-value').textContent`, &left)
	if m := regexp.MustCompile(`^(\d+):(\d\d)$`).FindStringSubmatch(left); m == nil || !(m[1] == "9" || m[1] == "10" && m[2] == "00") {
		t.Errorf("the timer shows %q, want just under 10:00", left)
	}
	checkPage("question")

	savedJS := func(q, option string) string {
		return `document.getElementById('saved-` + q + `').textContent === 'Saved' && document.getElementById('answer-` + q + `-` + option + `').checked`
	}
	b.Click("#answer-0-3") // D: right
	waitJS(t, b, "the first answer is saved", savedJS("0", "3"))
	wantText(t, b, "#save-status", "All your answers are saved")
	b.ClickAndWait("#next-question")
	wantText(t, b, "legend", "Question 2 of 2")
	b.Click("#answer-1-1") // B: wrong, for now
	waitJS(t, b, "the second answer is saved", savedJS("1", "1"))

	// The connection drops: the answer is kept on the device, and sent when it returns.
	b.Eval(`window.__offline = true`, nil)
	b.Click("#answer-1-2")
	waitJS(t, b, "the page says the answer is not saved yet", `document.getElementById('save-status').textContent.includes('kept on this device')`)
	wantText(t, b, "#saved-1", "Not saved yet")
	checkPage("offline")
	b.Eval(`window.__offline = false; window.dispatchEvent(new Event('online'))`, nil)
	waitJS(t, b, "the kept answer is sent when the connection returns", savedJS("1", "2"))
	// Dropped again, and the page reloaded before it returns: the answer comes back from
	// the device and is sent.
	b.Eval(`window.__offline = true`, nil)
	b.Click("#answer-1-0") // A: right
	waitJS(t, b, "the answer is kept on the device", `(localStorage.getItem('polyphony-attempt-' + document.getElementById('attempt-form').dataset.attempt) || '').includes('"1":0')`)
	b.Reload()
	waitJS(t, b, "the kept answer is sent after the reload", savedJS("1", "0")+` && !localStorage.getItem('polyphony-attempt-' + document.getElementById('attempt-form').dataset.attempt)`)

	// A plain reload: the answers come back from the server.
	b.Eval(`localStorage.clear()`, nil)
	b.Reload()
	var checked bool
	b.Eval(`document.getElementById('answer-1-0').checked`, &checked)
	if !checked {
		t.Errorf("after a reload the second answer is not checked")
	}
	b.Navigate(attemptURL + "?q=1")
	b.Eval(`document.getElementById('answer-0-3').checked`, &checked)
	if !checked {
		t.Errorf("after a reload the first answer is not checked")
	}
	b.ClickAndWait("#toggle-view")
	if n := b.Count(".attempt-question"); n != 2 {
		t.Errorf("all on one page shows %d questions", n)
	}
	checkPage("all")

	b.ClickAndWait("#check-answers")
	wantText(t, b, "h1", "Check your answers")
	wantText(t, b, "#answered-count", "You have answered 2 of 2 questions.")
	checkPage("summary")
	b.ClickAndWait("#submit-attempt")
	wantText(t, b, ".nhsuk-inset-text", "Your answers have been submitted.")
	wantText(t, b, "#attempt-score", "2 of 2 (100%)")
	wantText(t, b, "#attempt-result", "Passed")
	if n := b.Count(".review-question"); n != 2 {
		t.Errorf("the review shows %d questions, want 2", n)
	}
	wantText(t, b, "#review-0", "Right answer")
	wantText(t, b, "#review-0", "Your answer")
	if b.Exists(".question-html__feedback, .question-html__explanation") {
		t.Errorf("the review shows feedback, which the review options keep until the assessment closes")
	}
	checkPage("review")

	// Pat sits it through the API, getting the first question wrong.
	pat := f.client(t)
	res, body := pat.do("POST", "/api/v1/session", map[string]string{"email": f.logins["peer@polyphony.example"].Email, "password": f.logins["peer@polyphony.example"].Password})
	pat.csrf = decode[struct {
		CSRF string `json:"csrfToken"`
	}](t, res, body, http.StatusOK).CSRF
	res, body = pat.do("POST", "/api/v1/assessments/"+id+"/attempts", nil)
	patAttempt := decode[attemptAnswer](t, res, body, http.StatusCreated)
	pat.do("PUT", "/api/v1/attempts/"+patAttempt.ID+"/answers/0", map[string]int{"option": 0})
	pat.do("PUT", "/api/v1/attempts/"+patAttempt.ID+"/answers/1", map[string]int{"option": 0})
	res, body = pat.do("POST", "/api/v1/attempts/"+patAttempt.ID+"/submit", nil)
	decode[attemptAnswer](t, res, body, http.StatusOK)

	// Ash reads the results and the analysis.
	a.Navigate(f.ts.URL + "/assessments/" + id + "/results")
	wantText(t, a, "#results-count", "2 trainee(s) with a closed attempt; 2 passed")
	wantText(t, a, "#results-table", "Tara Trainee")
	wantText(t, a, "#results-table", "Pat Peer")
	a.AssertNoAxeViolations(t)
	a.Navigate(f.ts.URL + "/assessments/" + id + "/analysis")
	wantText(t, a, "#stat-n", "2")
	wantText(t, a, "#stat-mean", "1.50 of 2")
	wantText(t, a, "#stat-sd", "0.50")
	wantText(t, a, "#item-table", "0.50")
	wantText(t, a, "#item-table", "1.00")
	if n := a.Count(`main svg[role="img"] > title`); n != 3 {
		t.Errorf("%d charts with a title, want 3", n)
	}
	if n := a.Count("#chart-facility rect"); n != 2 {
		t.Errorf("the facility chart has %d bars, want 2", n)
	}
	var facility []string
	a.Eval(`[...document.querySelectorAll('#chart-facility text')].map(t => t.textContent)`, &facility)
	if got := strings.Join(facility, " "); !strings.Contains(got, "0.50") || !strings.Contains(got, "1.00") {
		t.Errorf("the facility chart reads %q", got)
	}
	screenshot(a, "assessment-analysis")
	a.AssertNoAxeViolations(t)
	// The assessor's pages fit a phone too.
	a.SetMobileViewport(375, 812)
	for _, p := range []string{"/assessments/" + id + "/analysis", "/assessments/" + id + "/results", "/assessments", bankPath, questionPath,
		"/assessments/new?bank=" + strings.TrimPrefix(bankPath, "/banks/"), "/assessments/" + id, "/assessments/" + id + "/angoff"} {
		a.Navigate(f.ts.URL + p)
		if a.Status() != http.StatusOK {
			t.Errorf("%s: status %d", p, a.Status())
		}
		noHorizontalScroll(t, a)
		a.AssertNoAxeViolations(t)
	}
}
