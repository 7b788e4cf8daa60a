package server_test

import (
	"encoding/json"
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

// summaryLinks is every link of a page's error summary: field id to message.
func summaryLinks(t *testing.T, page string) map[string]string {
	t.Helper()
	i := strings.Index(page, `class="nhsuk-error-summary"`)
	if i < 0 {
		t.Fatalf("no error summary: %.3000s", page)
	}
	summary := page[i:]
	summary = summary[:strings.Index(summary, "</ul>")]
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`<a href="#([^"]+)">([^<]*)</a>`).FindAllStringSubmatch(summary, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// wantProblems checks that the page's error summary links each field to its message, and
// that the message is also beside the field.
func wantProblems(t *testing.T, page string, want map[string]string) {
	t.Helper()
	got := summaryLinks(t, page)
	for id, msg := range want {
		if !strings.Contains(got[id], msg) {
			t.Errorf("the error summary links #%s to %q, want %q (summary %q)", id, got[id], msg, got)
		}
		beside := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `-error"><span class="nhsuk-u-visually-hidden">Error: </span>([^<]*)<`).FindStringSubmatch(page)
		if beside == nil || !strings.Contains(html.UnescapeString(beside[1]), msg) {
			t.Errorf("no message %q beside #%s", msg, id)
		}
	}
	if len(got) != len(want) {
		t.Errorf("the error summary lists %d problems, want %d: %q", len(got), len(want), got)
	}
}

// apiProblems reads the problems of an API error answer.
func apiProblems(t *testing.T, body []byte) (string, map[string]string) {
	t.Helper()
	var e struct {
		Error    string `json:"error"`
		Problems []struct {
			Field string `json:"field"`
			Error string `json:"error"`
		} `json:"problems"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("not an API error: %s", body)
	}
	out := map[string]string{}
	for _, p := range e.Problems {
		out[p.Field] = p.Error
	}
	return e.Error, out
}

// moduleForm is the cohort page's module dates form with the programme's dates and venues.
func moduleForm(p courses.Programme) url.Values {
	form := url.Values{}
	for i, m := range p.Modules {
		n := string(rune('1' + i))
		form.Set("start"+n, m.Start.Format(time.DateOnly))
		form.Set("end"+n, m.End.Format(time.DateOnly))
		form.Set("venue"+n, m.Venue)
	}
	return form
}

func TestModuleDatesFormListsEveryProblem(t *testing.T) {
	f := newFixture(t)
	cohort := f.demoCohort(t)
	facil := f.signedIn(t, accounts.RoleFacilitator)
	p, err := f.courses.Programme(t.Context(), cohort.ID)
	if err != nil {
		t.Fatal(err)
	}
	form := moduleForm(p)
	form.Set("start1", "")
	form.Set("end3", p.Modules[2].Start.AddDate(0, 0, 20).Format(time.DateOnly))
	page, _ := postForm(t, facil, "/cohorts/"+cohort.ID+"/modules", form, http.StatusBadRequest)
	wantProblems(t, page, map[string]string{
		"start1": "Enter the first day of module 1",
		"end3":   "Module 3 must end within 7 days of its start",
	})
	if strings.Contains(page, "modules[") || strings.Contains(page, "Modules[") {
		t.Errorf("the page shows field names from the code: %.3000s", page)
	}
	// What was typed comes back in the form.
	if !strings.Contains(page, `value="`+form.Get("end3")+`"`) {
		t.Errorf("the last day typed for module 3 is not kept")
	}

	// Through the API the same messages, with the fields as JSON spells them.
	res, body := facil.do("GET", "/api/v1/cohorts/"+cohort.ID+"/programme", nil)
	var got struct {
		Programme courses.Programme `json:"programme"`
	}
	json.Unmarshal(body, &got)
	mods := got.Programme.Modules
	mods[0].End = mods[0].Start.AddDate(0, 0, -1)
	mods[2].End = mods[2].Start.AddDate(0, 0, 20)
	res, body = facil.putIfMatch("/api/v1/cohorts/"+cohort.ID+"/programme", res.Header.Get("ETag"), map[string]any{"modules": mods, "periods": got.Programme.Periods})
	msg, problems := apiProblems(t, body)
	if res.StatusCode != http.StatusBadRequest || !strings.HasPrefix(msg, "Module 1's last day must be on or after its first day") {
		t.Errorf("API: %d %q", res.StatusCode, msg)
	}
	if !strings.HasPrefix(problems["modules[0].end"], "Module 1's last day") || !strings.HasPrefix(problems["modules[2].end"], "Module 3 must end within 7 days of its start") || len(problems) != 2 {
		t.Errorf("API problems: %q", problems)
	}
}

// Changing only a module's first day moves the module: its last day follows, keeping its
// length, rather than making a module weeks long.
func TestModuleFirstDayMovesTheModule(t *testing.T) {
	f := newFixture(t)
	cohort := f.demoCohort(t)
	facil := f.signedIn(t, accounts.RoleFacilitator)
	p, err := f.courses.Programme(t.Context(), cohort.ID)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Modules[3]
	form := moduleForm(p)
	form.Set("start4", m.Start.AddDate(0, 0, 7).Format(time.DateOnly))
	postForm(t, facil, "/cohorts/"+cohort.ID+"/modules", form, http.StatusSeeOther)
	after, err := f.courses.Programme(t.Context(), cohort.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := after.Modules[3]
	if !got.Start.Equal(m.Start.AddDate(0, 0, 7)) || !got.End.Equal(m.End.AddDate(0, 0, 7)) {
		t.Errorf("module 4 is now %s to %s, want %s to %s", got.Start.Format(time.DateOnly), got.End.Format(time.DateOnly),
			m.Start.AddDate(0, 0, 7).Format(time.DateOnly), m.End.AddDate(0, 0, 7).Format(time.DateOnly))
	}
}

func TestAddPersonListsEveryProblem(t *testing.T) {
	f := newFixture(t)
	admin := f.signedIn(t, accounts.RoleAdmin)
	page, _ := postForm(t, admin, "/admin/people", url.Values{"name": {""}, "email": {"not an address"}, "role": {"trainee"}, "password": {"short"}}, http.StatusBadRequest)
	wantProblems(t, page, map[string]string{
		"person-name":     "Enter the person's full name",
		"person-email":    "Enter an email address in the correct format, like name@example.com",
		"person-password": "Password must be 8 characters or more",
	})
	res, body := admin.do("POST", "/api/v1/users", map[string]any{"name": "Ana", "email": "", "role": "boss", "password": "a fine long password"})
	msg, problems := apiProblems(t, body)
	if res.StatusCode != http.StatusBadRequest || msg != "Enter an email address" {
		t.Errorf("API: %d %q, want 400 %q", res.StatusCode, msg, "Enter an email address")
	}
	if problems["email"] != "Enter an email address" || !strings.HasPrefix(problems["role"], "Select a role") || len(problems) != 2 {
		t.Errorf("API problems: %q", problems)
	}
}

func TestAddCohortListsEveryProblem(t *testing.T) {
	f := newFixture(t)
	admin := f.signedIn(t, accounts.RoleAdmin)
	page, _ := postForm(t, admin, "/admin/cohorts", url.Values{"name": {"  "}, "startDate": {""}}, http.StatusBadRequest)
	wantProblems(t, page, map[string]string{
		"cohort-name":  "Enter the cohort's name",
		"cohort-start": "Enter the start date",
	})
}

func TestLogFormsListEveryProblem(t *testing.T) {
	f := newFixture(t)
	trainee := f.signedIn(t, accounts.RoleTrainee)
	page, _ := postForm(t, trainee, "/practice", url.Values{"date": {""}, "minutes": {"lots"}, "kind": {"sitting"}, "key": {"k1"}}, http.StatusBadRequest)
	wantProblems(t, page, map[string]string{
		"pr-date":    "Enter the date",
		"pr-minutes": "Minutes must be a whole number of minutes, like 45",
	})
	future := time.Now().AddDate(0, 0, 3).Format(time.DateOnly)
	page, _ = postForm(t, trainee, "/supervision", url.Values{"date": {future}, "minutes": {"0"}, "supervisorId": {""}, "kind": {"individual"}, "key": {"k2"}}, http.StatusBadRequest)
	wantProblems(t, page, map[string]string{
		"sv-date":       "The date must be today or in the past",
		"sv-minutes":    "The session's length must be from 1 to",
		"sv-supervisor": "Select your supervisor",
	})
}

func TestJournalEntryFormListsEveryProblem(t *testing.T) {
	f := newFixture(t)
	trainee := f.signedIn(t, accounts.RoleTrainee)
	form := url.Values{"title": {strings.Repeat("t", courses.MaxJournalTitle+1)}, "body": {strings.Repeat("b", courses.MaxJournalBody+1)}, "key": {"entry-1"}}
	page, _ := postForm(t, trainee, "/journal", form, http.StatusBadRequest)
	got := summaryLinks(t, page)
	if !strings.HasPrefix(got["entry-title"], "The title must be 200 characters or fewer") || !strings.HasPrefix(got["entry-body"], "The entry must be 100000 characters or fewer") || len(got) != 2 {
		t.Errorf("the error summary: %q", got)
	}
}

func TestQuestionAndSetupFormsListEveryProblem(t *testing.T) {
	f := newFixture(t)
	assessor := f.signedIn(t, accounts.RoleAssessor)
	bank := newBank(t, assessor, "Principles")
	q := url.Values{"stem": {""}, "option0": {"Immediate help"}, "option1": {""}, "option2": {"Immediate help"}, "rows": {"3"}, "action": {"save"}}
	page, _ := postForm(t, assessor, "/banks/"+bank+"/questions", q, http.StatusBadRequest)
	// The empty row is dropped, so the repeated option is B, and the form letters it B.
	wantProblems(t, page, map[string]string{
		"question-stem": "Enter the stem: the question trainees answer",
		"option-1-text": "Option B must differ from option A",
		"option-0-text": "Choose which option is the best answer",
	})
	if !regexp.MustCompile(`<label class="nhsuk-label" for="option-1-text">Option B</label>`).MatchString(page) || !strings.Contains(page, `name="option1"`) {
		t.Errorf("the repeated option is not the row labelled B")
	}

	settings := url.Values{"bankId": {bank}, "title": {""}, "cohortId": {f.demoCohort(t).ID}, "opens": {"next week"},
		"graceSeconds": {"7200"}, "attemptsAllowed": {"1"}, "passMark": {"60"}, "reviewAfterAttempt": {"score"}, "reviewAfterClose": {"feedback"}}
	page, _ = postForm(t, assessor, "/assessments", settings, http.StatusBadRequest)
	wantProblems(t, page, map[string]string{
		"assessment-title": "Enter a title for the assessment",
		"assessment-opens": "Enter the opening time as a real date and time",
		"assessment-grace": "The grace must be from 0 to 3600 seconds",
		"draw-0-tag":       "Choose at least one question, or draw some by tag",
	})
	res, body := assessor.do("POST", "/api/v1/assessments", map[string]any{"title": "", "bankId": bank, "passMark": 150})
	msg, problems := apiProblems(t, body)
	if res.StatusCode != http.StatusBadRequest || msg != "Enter a title for the assessment" || problems["passMark"] != "The pass mark must be a percentage from 0 to 100" {
		t.Errorf("API: %d %q %q", res.StatusCode, msg, problems)
	}
}

func TestBankAndTokenFormsSayWhatToDo(t *testing.T) {
	f := newFixture(t)
	assessor := f.signedIn(t, accounts.RoleAssessor)
	page, _ := postForm(t, assessor, "/banks", url.Values{"name": {" "}}, http.StatusBadRequest)
	wantProblems(t, page, map[string]string{"bank-name": "Enter a name for the question bank"})
	page, _ = postForm(t, assessor, "/account/tokens", url.Values{"name": {""}, "expiresInDays": {"30"}}, http.StatusBadRequest)
	wantProblems(t, page, map[string]string{"token-name": "Enter what the token is for"})
}

// Signing in with nothing filled in names both fields, on the page and through the API.
func TestSignInListsEveryProblem(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	res, body := c.do("POST", "/api/v1/session", map[string]string{"email": "", "password": ""})
	msg, problems := apiProblems(t, body)
	if res.StatusCode != http.StatusBadRequest || msg != "Enter your email address" || problems["password"] != "Enter your password" || len(problems) != 2 {
		t.Errorf("API: %d %q %q", res.StatusCode, msg, problems)
	}
	page := getPage(t, c, "/signin", http.StatusOK)
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if token == nil {
		t.Fatalf("no sign-in token: %.2000s", page)
	}
	page, _ = postForm(t, c, "/signin", url.Values{"csrf": {token[1]}, "email": {""}, "password": {""}}, http.StatusBadRequest)
	got := summaryLinks(t, page)
	if got["email"] != "Enter your email address" || got["password"] != "Enter your password" {
		t.Errorf("the sign-in page's error summary: %q", got)
	}
}
