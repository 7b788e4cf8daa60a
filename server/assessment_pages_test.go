package server_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"polyphony/internal/accounts"
)

// assessmentAccess is who may use the assessment pages and the API routes they added.
var assessmentAccess = map[string]string{
	"GET /api/v1/assessments":     "signed-in", // staff see settings, trainees what they may sit
	"PUT /api/v1/assessments/:id": "assessor",
	"GET /api/v1/questions/:id":   "assessor",
	"PUT /api/v1/questions/:id":   "assessor",
	"GET /api/v1/me/attempts":     "trainee",

	"GET /assessments":                   "signed-in",
	"POST /banks":                        "assessor",
	"GET /banks/:bank":                   "assessor",
	"POST /banks/:bank/import":           "assessor",
	"GET /banks/:bank/questions/new":     "assessor",
	"POST /banks/:bank/questions":        "assessor",
	"GET /questions/:id":                 "assessor",
	"POST /questions/:id":                "assessor",
	"GET /questions/:id/revisions/:n":    "assessor",
	"GET /assessments/new":               "assessor",
	"POST /assessments":                  "assessor",
	"GET /assessments/:id":               "signed-in", // staff, and trainees of its cohort
	"GET /assessments/:id/edit":          "assessor",
	"POST /assessments/:id":              "assessor",
	"POST /assessments/:id/start":        "trainee",
	"GET /assessments/:id/results":       "assessor",
	"GET /assessments/:id/analysis":      "assessor",
	"GET /assessments/:id/angoff":        "assessor",
	"POST /assessments/:id/angoff":       "assessor",
	"POST /assessments/:id/angoff/adopt": "admin",
	"GET /attempts/:id":                  "signed-in", // its trainee, and staff
	"POST /attempts/:id":                 "trainee",
	"GET /attempts/:id/summary":          "trainee",
	"POST /attempts/:id/submit":          "trainee",
}

func init() {
	for k, v := range assessmentAccess {
		expectedAccess[k] = v
	}
}

// mcqSetup is a bank made from Moodle's Aiken example and an assessment of its two
// questions for the demo cohort.
type mcqSetup struct {
	bank       string
	questions  []string
	assessment string
}

// newMCQ sets up the bank and an assessment with the settings given (title, bankId,
// cohortId and questions are filled in unless given).
func newMCQ(t *testing.T, f *fixture, assessor *client, settings map[string]any) mcqSetup {
	t.Helper()
	var m mcqSetup
	m.bank = newBank(t, assessor, "Principles "+t.Name())
	res, body := assessor.sendText("/api/v1/banks/"+m.bank+"/import?format=aiken", moodleAiken)
	decode[importAnswer](t, res, body, http.StatusOK)
	res, body = assessor.do("GET", "/api/v1/banks/"+m.bank+"/questions", nil)
	for _, q := range decode[[]questionAnswer](t, res, body, http.StatusOK) {
		m.questions = append(m.questions, q.ID)
	}
	in := map[string]any{"title": "Knowledge test", "bankId": m.bank, "cohortId": f.demoCohort(t).ID, "questions": m.questions, "passMark": 50}
	for k, v := range settings {
		in[k] = v
	}
	res, body = assessor.do("POST", "/api/v1/assessments", in)
	m.assessment = decode[struct {
		ID string `json:"id"`
	}](t, res, body, http.StatusCreated).ID
	return m
}

// getPage gets a page and fails unless the status is want.
func getPage(t *testing.T, c *client, path string, want int) string {
	t.Helper()
	res, body := c.do("GET", path, nil)
	if res.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d: %.300s", path, res.StatusCode, want, body)
	}
	return string(body)
}

// postForm sends a form and fails unless the status is want; it returns the body and where a
// redirect goes.
func postForm(t *testing.T, c *client, path string, form url.Values, want int) (string, string) {
	t.Helper()
	res, body := c.do("POST", path, form)
	if res.StatusCode != want {
		t.Fatalf("POST %s: %d, want %d: %.500s", path, res.StatusCode, want, body)
	}
	return string(body), res.Header.Get("Location")
}

// sendMultipart posts a form with a file, as the import form does.
func (c *client) sendMultipart(path string, fields map[string]string, file, content string) (*http.Response, []byte) {
	c.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", file)
	io.WriteString(fw, content)
	w.Close()
	return c.doWith("POST", path, buf.Bytes(), map[string]string{"Content-Type": w.FormDataContentType()})
}

func TestAssessmentPagesAccess(t *testing.T) {
	f := newFixture(t)
	assessor := f.signedIn(t, accounts.RoleAssessor)
	trainee := f.signedIn(t, accounts.RoleTrainee)
	m := newMCQ(t, f, assessor, map[string]any{"reviewAfterAttempt": "none", "reviewAfterClose": "none"})

	// Trainees never see a bank, a question, settings or reports: those do not exist for them.
	for _, path := range []string{
		"/banks/" + m.bank, "/banks/" + m.bank + "/questions/new", "/questions/" + m.questions[0],
		"/questions/" + m.questions[0] + "/revisions/1", "/assessments/new", "/assessments/" + m.assessment + "/edit",
		"/assessments/" + m.assessment + "/results", "/assessments/" + m.assessment + "/analysis", "/assessments/" + m.assessment + "/angoff",
	} {
		getPage(t, trainee, path, http.StatusNotFound)
	}
	postForm(t, trainee, "/banks", url.Values{"name": {"Mine"}}, http.StatusNotFound)
	postForm(t, trainee, "/questions/"+m.questions[0], url.Values{"stem": {"Changed"}, "option0": {"a"}, "option1": {"b"}, "right": {"0"}, "baseRevision": {"1"}, "action": {"save"}}, http.StatusNotFound)

	// The trainee's list and the assessment's page tell no answer.
	list := getPage(t, trainee, "/assessments", http.StatusOK)
	if !strings.Contains(list, "Knowledge test") {
		t.Errorf("the trainee's list lacks the assessment")
	}
	info := getPage(t, trainee, "/assessments/"+m.assessment, http.StatusOK)
	for _, leak := range []string{"Must be this one", "/banks/", "/questions/", "Best answer"} {
		if strings.Contains(list+info, leak) {
			t.Errorf("a trainee's page shows %q", leak)
		}
	}

	// Start through the form; the attempt page shows the questions and no key.
	_, loc := postForm(t, trainee, "/assessments/"+m.assessment+"/start", url.Values{}, http.StatusSeeOther)
	if !strings.HasPrefix(loc, "/attempts/") {
		t.Fatalf("start went to %q", loc)
	}
	attemptPath := loc
	body := getPage(t, trainee, attemptPath+"?view=all", http.StatusOK)
	if !strings.Contains(body, "Must be this one") {
		t.Errorf("the attempt page does not show the options")
	}
	for _, leak := range []string{"Right answer", "Best answer", "question-html__option--right", "Feedback:"} {
		if strings.Contains(body, leak) {
			t.Errorf("the open attempt's page shows %q", leak)
		}
	}

	// Someone else's attempt does not exist for them; staff cannot answer or submit it.
	other, err := f.accounts.Users.Create(t.Context(), accounts.NewUser{Email: "t3@nhs.example", Name: "T3", Role: accounts.RoleTrainee, Password: "trainee password 3"})
	if err != nil {
		t.Fatal(err)
	}
	oc := f.client(t)
	res, b := oc.do("POST", "/api/v1/session", map[string]string{"email": other.Email, "password": "trainee password 3"})
	oc.csrf = decode[struct {
		CSRF string `json:"csrfToken"`
	}](t, res, b, http.StatusOK).CSRF
	getPage(t, oc, attemptPath, http.StatusNotFound)
	getPage(t, oc, "/assessments/"+m.assessment, http.StatusNotFound)
	postForm(t, oc, attemptPath, url.Values{"answer-0": {"1"}, "go": {"save"}}, http.StatusNotFound)
	postForm(t, oc, "/assessments/"+m.assessment+"/start", url.Values{}, http.StatusNotFound)
	for _, role := range []accounts.Role{accounts.RoleAssessor, accounts.RoleAdmin, accounts.RoleFacilitator} {
		c := f.signedIn(t, role)
		if res, _ := c.do("POST", attemptPath, url.Values{"answer-0": {"1"}, "go": {"save"}}); res.StatusCode < 400 || res.StatusCode >= 500 {
			t.Errorf("%s answers a trainee's attempt: %d", role, res.StatusCode)
		}
		if res, _ := c.do("POST", attemptPath+"/submit", url.Values{}); res.StatusCode < 400 || res.StatusCode >= 500 {
			t.Errorf("%s submits a trainee's attempt: %d", role, res.StatusCode)
		}
	}
	getPage(t, f.signedIn(t, accounts.RoleFacilitator), attemptPath, http.StatusNotFound)
	res, b = trainee.do("GET", "/api/v1"+attemptPath, nil)
	if v := decode[attemptAnswer](t, res, b, http.StatusOK); v.State != "open" {
		t.Errorf("after the refused answers the attempt is %s", v.State)
	}
	if k := keysIn(t, b); k["chosen"] {
		// chosen is present as null; what matters is that no answer was stored.
		if strings.Contains(string(b), `"chosen":1`) {
			t.Errorf("an answer from someone else was stored: %s", b)
		}
	}
	// Staff read the attempt with everything in it.
	if body := getPage(t, assessor, attemptPath, http.StatusOK); !strings.Contains(body, "Right answer") {
		t.Errorf("the assessor's view of the attempt lacks the key")
	}
}

func TestAssessmentPagesWithoutJavaScript(t *testing.T) {
	f := newFixture(t)
	assessor := f.signedIn(t, accounts.RoleAssessor)
	trainee := f.signedIn(t, accounts.RoleTrainee)
	m := newMCQ(t, f, assessor, map[string]any{"reviewAfterAttempt": "answers", "reviewAfterClose": "feedback", "attemptsAllowed": 1, "timeLimitSeconds": 600})

	_, attemptPath := postForm(t, trainee, "/assessments/"+m.assessment+"/start", url.Values{}, http.StatusSeeOther)
	one := getPage(t, trainee, attemptPath, http.StatusOK)
	if !strings.Contains(one, "Question 1 of 2") || strings.Contains(one, "Question 2 of 2") {
		t.Errorf("one question at a time shows the wrong questions")
	}
	if !strings.Contains(one, `id="attempt-timer"`) || !strings.Contains(one, "data-deadline=") {
		t.Errorf("the attempt page has no timer")
	}
	// Answer the first (D is right) and go on; the second (A is right), then the summary.
	_, loc := postForm(t, trainee, attemptPath, url.Values{"view": {"one"}, "q": {"1"}, "answer-0": {"3"}, "go": {"next"}}, http.StatusSeeOther)
	if loc != attemptPath+"?q=2" {
		t.Errorf("next went to %q", loc)
	}
	getPage(t, trainee, loc, http.StatusOK)
	// A reload shows the answer saved: the radio comes back checked from the server.
	if again := getPage(t, trainee, attemptPath+"?q=1", http.StatusOK); !regexp.MustCompile(`id="answer-0-3"[^>]*checked`).MatchString(again) {
		t.Errorf("the saved answer is not checked after a reload")
	}
	_, loc = postForm(t, trainee, attemptPath, url.Values{"view": {"one"}, "q": {"2"}, "answer-1": {"1"}, "go": {"summary"}}, http.StatusSeeOther)
	if loc != attemptPath+"/summary" {
		t.Fatalf("summary went to %q", loc)
	}
	summary := getPage(t, trainee, loc, http.StatusOK)
	if !strings.Contains(summary, "You have answered 2 of 2 questions") || !strings.Contains(summary, attemptPath+"?q=2") {
		t.Errorf("summary: %.2000s", summary)
	}
	// Change the second answer from the all-questions view, then submit.
	postForm(t, trainee, attemptPath, url.Values{"view": {"all"}, "answer-0": {"3"}, "answer-1": {"0"}, "go": {"save"}}, http.StatusSeeOther)
	_, loc = postForm(t, trainee, attemptPath+"/submit", url.Values{}, http.StatusSeeOther)
	review := getPage(t, trainee, loc, http.StatusOK)
	for _, want := range []string{"2 of 2 (100%)", "Passed", "Right answer", "Your answer"} {
		if !strings.Contains(review, want) {
			t.Errorf("the review lacks %q", want)
		}
	}
	// Closed: an answer through the form changes nothing and says why; the summary is gone.
	_, loc = postForm(t, trainee, attemptPath, url.Values{"answer-0": {"0"}, "go": {"save"}}, http.StatusSeeOther)
	if !strings.Contains(loc, "done=") {
		t.Errorf("an answer to a closed attempt went to %q", loc)
	}
	res, body := trainee.do("GET", "/api/v1"+attemptPath, nil)
	if v := decode[attemptAnswer](t, res, body, http.StatusOK); v.Score == nil || v.Score.Marks != 2 {
		t.Errorf("after a late form post: %s", body)
	}
	if res, _ := trainee.do("GET", attemptPath+"/summary", nil); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != attemptPath {
		t.Errorf("the summary of a closed attempt: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	// One attempt allowed: a second start is refused with the reason on the page.
	refused, _ := postForm(t, trainee, "/assessments/"+m.assessment+"/start", url.Values{}, http.StatusConflict)
	if !strings.Contains(refused, "attempt(s) allowed") {
		t.Errorf("the refused start does not say why: %.1500s", refused)
	}
	if list := getPage(t, trainee, "/assessments", http.StatusOK); !strings.Contains(list, "Attempt 1: 2 of 2 (100%), passed") {
		t.Errorf("the trainee's list does not show the result: %.3000s", list)
	}
}

func TestAssessmentStaffPages(t *testing.T) {
	f := newFixture(t)
	assessor := f.signedIn(t, accounts.RoleAssessor)
	admin := f.signedIn(t, accounts.RoleAdmin)

	// A bank through the form, then questions through the editor.
	_, loc := postForm(t, assessor, "/banks", url.Values{"name": {"Dialogic practice"}}, http.StatusSeeOther)
	bankPath := strings.Split(loc, "?")[0]
	if !strings.HasPrefix(bankPath, "/banks/") {
		t.Fatalf("bank created at %q", loc)
	}
	postForm(t, assessor, "/banks", url.Values{"name": {"Dialogic practice"}}, http.StatusBadRequest)
	getPage(t, assessor, bankPath+"/questions/new", http.StatusOK)
	q := url.Values{"name": {""}, "stem": {"Which is a **principle** of Open Dialogue?"}, "rows": {"5"},
		"option0": {"Immediate help"}, "feedback0": {"Yes: within 24 hours."}, "option1": {"Medication first"}, "option2": {"Tolerate <b>uncertainty</b>"},
		"right": {"0"}, "explanation": {"See the seven principles."}, "tags": {"principles, Module 1"}}
	q.Set("action", "preview")
	prev, _ := postForm(t, assessor, bankPath+"/questions", q, http.StatusOK)
	if !strings.Contains(prev, "<strong>principle</strong>") || strings.Contains(prev, "<b>uncertainty</b>") {
		t.Errorf("the preview is not the safe rendering: %.3000s", prev)
	}
	q.Set("action", "more")
	more, _ := postForm(t, assessor, bankPath+"/questions", q, http.StatusOK)
	if !strings.Contains(more, `id="option-5-text"`) {
		t.Errorf("add another option gave no sixth row")
	}
	// No right answer: the error names the field.
	bad := url.Values{"stem": {"Incomplete"}, "option0": {"One"}, "option1": {"Two"}, "rows": {"5"}, "action": {"save"}}
	errPage, _ := postForm(t, assessor, bankPath+"/questions", bad, http.StatusBadRequest)
	if !strings.Contains(errPage, `href="#option-0-text"`) || !strings.Contains(errPage, "Choose which option is the best answer") {
		t.Errorf("missing right answer: %.3000s", errPage)
	}
	q.Set("action", "save")
	_, loc = postForm(t, assessor, bankPath+"/questions", q, http.StatusSeeOther)
	bank := getPage(t, assessor, bankPath, http.StatusOK)
	id := regexp.MustCompile(`href="/questions/([0-9a-f]+)"`).FindStringSubmatch(bank)
	if id == nil {
		t.Fatalf("the bank page lists no question: %.3000s", bank)
	}
	qPath := "/questions/" + id[1]
	edit := getPage(t, assessor, qPath, http.StatusOK)
	if !strings.Contains(edit, "Revision 1") || !strings.Contains(edit, "Best answer") {
		t.Errorf("the question page lacks its history or preview")
	}
	q.Set("baseRevision", "1")
	q.Set("stem", "Which is one of the seven principles?")
	postForm(t, assessor, qPath, q, http.StatusSeeOther)
	// Saving again from revision 1 is a conflict that keeps the text and shows theirs.
	q.Set("stem", "A stale change")
	stale, _ := postForm(t, assessor, qPath, q, http.StatusConflict)
	if !strings.Contains(stale, "A stale change") || !strings.Contains(stale, "seven principles") || !strings.Contains(stale, `name="baseRevision" value="2"`) {
		t.Errorf("the conflict page: %.3000s", stale)
	}
	getPage(t, assessor, qPath+"/revisions/1", http.StatusOK)
	getPage(t, assessor, qPath+"/revisions/9", http.StatusNotFound)

	// Import: a bad file is refused whole with every line; skip-invalid keeps the rest.
	res, body := assessor.sendMultipart(bankPath+"/import", map[string]string{"format": "aiken"}, "bad.txt", badAiken)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "Line 1:") || !strings.Contains(string(body), "Line 7:") {
		t.Errorf("bad import: %d %.3000s", res.StatusCode, body)
	}
	res, body = assessor.sendMultipart(bankPath+"/import", map[string]string{"format": "aiken", "skipInvalid": "true"}, "bad.txt", badAiken)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Imported 1 question(s)") || !strings.Contains(string(body), "Line 7:") {
		t.Errorf("skip-invalid import: %d %.3000s", res.StatusCode, body)
	}
	res, _ = assessor.sendMultipart(bankPath+"/import", map[string]string{"format": "gift"}, "moodle.gift", giftQuestions)
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("GIFT import: %d", res.StatusCode)
	}
	if res, _ := assessor.sendMultipart(bankPath+"/import", map[string]string{"format": "qti"}, "x.txt", moodleAiken); res.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown format: %d", res.StatusCode)
	}
	for _, format := range []string{"aiken", "gift", "md"} {
		if !strings.Contains(getPage(t, assessor, bankPath, http.StatusOK), "/export?format="+format) {
			t.Errorf("no export link for %s", format)
		}
	}

	// An assessment through the setup form: a random draw of 2 by tag and the question.
	bankID := strings.TrimPrefix(bankPath, "/banks/")
	getPage(t, assessor, "/assessments/new", http.StatusOK)
	getPage(t, assessor, "/assessments/new?bank="+bankID, http.StatusOK)
	settings := url.Values{"bankId": {bankID}, "title": {"Module 1 check"}, "cohortId": {f.demoCohort(t).ID}, "questions": {id[1]},
		"drawTag0": {"no-such-tag"}, "drawCount0": {"2"}, "opens": {"2027-03-01T09:00"}, "closes": {"2027-03-01T08:00"},
		"timeLimitMinutes": {"20"}, "graceSeconds": {"30"}, "attemptsAllowed": {"2"}, "passMark": {"60"},
		"reviewAfterAttempt": {"score"}, "reviewAfterClose": {"feedback"}, "shuffleOptions": {"true"}}
	errPage, _ = postForm(t, assessor, "/assessments", settings, http.StatusBadRequest)
	if !strings.Contains(errPage, `href="#draw-0-count"`) {
		t.Errorf("an impossible draw is not named: %.3000s", errPage)
	}
	settings.Set("drawTag0", "")
	settings.Set("drawCount0", "")
	errPage, _ = postForm(t, assessor, "/assessments", settings, http.StatusBadRequest)
	if !strings.Contains(errPage, `href="#assessment-closes"`) {
		t.Errorf("closing before opening is not named: %.3000s", errPage)
	}
	settings.Set("closes", "")
	settings.Set("opens", "")
	_, loc = postForm(t, assessor, "/assessments", settings, http.StatusSeeOther)
	aPath := strings.Split(loc, "?")[0]
	overview := getPage(t, assessor, aPath, http.StatusOK)
	if !strings.Contains(overview, "Module 1 check") || !strings.Contains(overview, "20 minutes") {
		t.Errorf("the assessment page: %.3000s", overview)
	}
	form := getPage(t, assessor, aPath+"/edit", http.StatusOK)
	if !strings.Contains(form, `name="baseVersion" value="1"`) {
		t.Errorf("the edit form has no base version")
	}
	settings.Set("baseVersion", "1")
	settings.Set("passMark", "70")
	postForm(t, assessor, aPath, settings, http.StatusSeeOther)
	staleSettings, _ := postForm(t, assessor, aPath, settings, http.StatusConflict)
	if !strings.Contains(staleSettings, "changed after version 1") {
		t.Errorf("stale settings: %.3000s", staleSettings)
	}

	// Reports with no attempts yet, and standard setting.
	getPage(t, assessor, aPath+"/results", http.StatusOK)
	if an := getPage(t, assessor, aPath+"/analysis", http.StatusOK); !strings.Contains(an, "nothing to analyse") {
		t.Errorf("the empty analysis page: %.2000s", an)
	}
	est := url.Values{"estimate-" + id[1]: {"150"}}
	bad2, _ := postForm(t, assessor, aPath+"/angoff", est, http.StatusBadRequest)
	if !strings.Contains(bad2, `href="#estimate-`+id[1]+`"`) {
		t.Errorf("an estimate over 100 is not named")
	}
	postForm(t, assessor, aPath+"/angoff", url.Values{"estimate-" + id[1]: {"60"}}, http.StatusSeeOther)
	postForm(t, admin, aPath+"/angoff", url.Values{"estimate-" + id[1]: {"80%"}}, http.StatusSeeOther)
	angoff := getPage(t, assessor, aPath+"/angoff", http.StatusOK)
	if !strings.Contains(angoff, "70%") || strings.Contains(angoff, "adopt-pass-mark") {
		t.Errorf("the panel as an assessor: %.3000s", angoff)
	}
	postForm(t, assessor, aPath+"/angoff/adopt", url.Values{}, http.StatusForbidden)
	postForm(t, admin, aPath+"/angoff/adopt", url.Values{}, http.StatusSeeOther)
	res, body = admin.do("GET", "/api/v1"+aPath, nil)
	if a := decode[struct {
		PassMark float64 `json:"passMark"`
	}](t, res, body, http.StatusOK); a.PassMark != 70 {
		t.Errorf("adopted pass mark %v, want 70", a.PassMark)
	}
}
