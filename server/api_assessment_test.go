package server_test

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"polyphony/internal/accounts"
)

// moodleAiken is the example in Moodle's documentation of the Aiken format.
var moodleAiken = func() string {
	b, err := os.ReadFile("../assessment/testdata/moodle-aiken.txt")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

const giftQuestions = `// From Moodle's GIFT examples
Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}

::Spectrum:: What's between orange and green in the spectrum?
{ =yellow # right; good! ~red # wrong, it's yellow ~blue # wrong, it's yellow }

Japanese characters originally came from what country? {
    ~India
    =China
    ~Korea
    ~Egypt}
`

// badAiken has errors on lines 1 and 7 and one valid question.
const badAiken = `A. An option with no question
First question
A) one
B) two
ANSWER: B

One option only
A) one
ANSWER: A
`

// sendText posts a file as text/plain.
func (c *client) sendText(path, body string) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("X-CSRF-Token", c.csrf)
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return res, out
}

func decode[T any](t *testing.T, res *http.Response, body []byte, want int) T {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", res.Request.Method, res.Request.URL.Path, res.StatusCode, want, body)
	}
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return v
}

type importAnswer struct {
	Imported int `json:"imported"`
	Errors   []struct {
		Line   int    `json:"line"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

type questionAnswer struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Options []struct {
		Text  string `json:"text"`
		Right bool   `json:"right"`
	} `json:"options"`
}

// newBank creates a bank through the API and returns its id.
func newBank(t *testing.T, c *client, name string) string {
	t.Helper()
	res, body := c.do("POST", "/api/v1/banks", map[string]string{"name": name})
	created := decode[struct {
		ID string `json:"id"`
	}](t, res, body, http.StatusCreated)
	if created.ID == "" {
		t.Fatalf("no id: %s", body)
	}
	return created.ID
}

func TestBankImportAPI(t *testing.T) {
	f := newFixture(t)
	assessor := f.signedIn(t, accounts.RoleAssessor)
	bank := newBank(t, assessor, "Open Dialogue principles")

	res, body := assessor.sendText("/api/v1/banks/"+bank+"/import?format=aiken", moodleAiken)
	if got := decode[importAnswer](t, res, body, http.StatusOK); got.Imported != 2 || len(got.Errors) != 0 {
		t.Errorf("Aiken import: %s", body)
	}
	res, body = assessor.sendText("/api/v1/banks/"+bank+"/import?format=gift", giftQuestions)
	if got := decode[importAnswer](t, res, body, http.StatusOK); got.Imported != 3 || len(got.Errors) != 0 {
		t.Errorf("GIFT import: %s", body)
	}
	res, body = assessor.do("GET", "/api/v1/banks/"+bank+"/questions", nil)
	if qs := decode[[]questionAnswer](t, res, body, http.StatusOK); len(qs) != 5 {
		t.Errorf("%d questions in the bank, want 5: %s", len(qs), body)
	}

	// A file with errors is refused whole, naming every line at fault.
	res, body = assessor.sendText("/api/v1/banks/"+bank+"/import?format=aiken", badAiken)
	refused := decode[importAnswer](t, res, body, http.StatusUnprocessableEntity)
	var lines []int
	for _, e := range refused.Errors {
		lines = append(lines, e.Line)
		if e.Reason == "" {
			t.Errorf("error without a reason: %s", body)
		}
	}
	if refused.Imported != 0 || !reflect.DeepEqual(lines, []int{1, 7}) {
		t.Errorf("refused import: %s", body)
	}
	res, body = assessor.do("GET", "/api/v1/banks/"+bank+"/questions", nil)
	if qs := decode[[]questionAnswer](t, res, body, http.StatusOK); len(qs) != 5 {
		t.Errorf("a refused import stored questions: %d in the bank", len(qs))
	}
	// skipInvalid keeps the valid question and still lists the errors.
	res, body = assessor.sendText("/api/v1/banks/"+bank+"/import?format=aiken&skipInvalid=true", badAiken)
	if got := decode[importAnswer](t, res, body, http.StatusOK); got.Imported != 1 || len(got.Errors) != 2 {
		t.Errorf("skipInvalid: %s", body)
	}
	res, body = assessor.do("GET", "/api/v1/banks/"+bank+"/questions", nil)
	if qs := decode[[]questionAnswer](t, res, body, http.StatusOK); len(qs) != 6 {
		t.Errorf("%d questions after skipInvalid, want 6", len(qs))
	}

	// A format that is not one is a 400 naming the field.
	res, body = assessor.sendText("/api/v1/banks/"+bank+"/import?format=qti", moodleAiken)
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown format: %d %s", res.StatusCode, body)
	} else if _, field := errorBody(t, body); field != "format" {
		t.Errorf("unknown format names field %q", field)
	}
	// A missing bank is a 404.
	res, _ = assessor.sendText("/api/v1/banks/no-such-bank/import?format=aiken", moodleAiken)
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("import into a missing bank: %d", res.StatusCode)
	}

	// Export as text, and as Markdown that imports back to the same questions.
	res, body = assessor.do("GET", "/api/v1/banks/"+bank+"/export?format=aiken", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") || !strings.Contains(string(body), "ANSWER: D") {
		t.Errorf("Aiken export: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	res, md := assessor.do("GET", "/api/v1/banks/"+bank+"/export?format=md", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/markdown") {
		t.Fatalf("Markdown export: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	copyBank := newBank(t, assessor, "Copy")
	res, body = assessor.sendText("/api/v1/banks/"+copyBank+"/import?format=md", string(md))
	if got := decode[importAnswer](t, res, body, http.StatusOK); got.Imported != 6 {
		t.Errorf("Markdown round trip: %s", body)
	}

	// To trainees, facilitators and supervisors banks do not exist (404, as on the pages).
	for _, role := range []accounts.Role{accounts.RoleTrainee, accounts.RoleFacilitator, accounts.RoleSupervisor} {
		c := f.signedIn(t, role)
		for _, try := range []struct{ method, path string }{
			{"GET", "/api/v1/banks"}, {"GET", "/api/v1/banks/" + bank + "/questions"}, {"GET", "/api/v1/banks/" + bank + "/export?format=aiken"},
		} {
			if res, body := c.do(try.method, try.path, nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s as %s: %d %s", try.method, try.path, role, res.StatusCode, body)
			}
		}
		if res, body := c.sendText("/api/v1/banks/"+bank+"/import?format=aiken", moodleAiken); res.StatusCode != http.StatusNotFound {
			t.Errorf("import as %s: %d %s", role, res.StatusCode, body)
		}
	}
	// An admin may.
	res, body = f.signedIn(t, accounts.RoleAdmin).do("GET", "/api/v1/banks", nil)
	if banks := decode[[]map[string]any](t, res, body, http.StatusOK); len(banks) != 2 {
		t.Errorf("banks: %s", body)
	}
}

// keysIn collects every object key anywhere in a JSON document.
func keysIn(t *testing.T, body []byte) map[string]bool {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	keys := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				keys[k] = true
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return keys
}

type attemptAnswer struct {
	ID     string `json:"id"`
	State  string `json:"state"`
	Review string `json:"review"`
	Score  *struct {
		Marks int `json:"marks"`
		Max   int `json:"max"`
	} `json:"score"`
	Questions []struct {
		Index   int `json:"index"`
		Options []struct {
			Index int    `json:"index"`
			Text  string `json:"text"`
		} `json:"options"`
	} `json:"questions"`
}

func TestAttemptAPI(t *testing.T) {
	f := newFixture(t)
	assessor := f.signedIn(t, accounts.RoleAssessor)
	trainee := f.signedIn(t, accounts.RoleTrainee)
	bank := newBank(t, assessor, "Principles")
	res, body := assessor.sendText("/api/v1/banks/"+bank+"/import?format=aiken", moodleAiken)
	decode[importAnswer](t, res, body, http.StatusOK)
	res, body = assessor.do("GET", "/api/v1/banks/"+bank+"/questions", nil)
	qs := decode[[]questionAnswer](t, res, body, http.StatusOK)
	ids := []string{qs[0].ID, qs[1].ID}
	cohort := f.demoCohort(t)

	newAssessment := func(title, review string) string {
		t.Helper()
		res, body := assessor.do("POST", "/api/v1/assessments", map[string]any{
			"title": title, "bankId": bank, "cohortId": cohort.ID, "questions": ids,
			"passMark": 50, "reviewAfterAttempt": review, "reviewAfterClose": review,
		})
		a := decode[struct {
			ID string `json:"id"`
		}](t, res, body, http.StatusCreated)
		return a.ID
	}
	// Settings that are not valid are a 400 naming the field.
	res, body = assessor.do("POST", "/api/v1/assessments", map[string]any{"title": "Bad", "bankId": bank, "questions": ids, "timeLimitSeconds": -1})
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("invalid settings: %d %s", res.StatusCode, body)
	} else if _, field := errorBody(t, body); field != "timeLimitSeconds" {
		t.Errorf("invalid settings name field %q", field)
	}
	// Unknown fields are refused.
	res, _ = assessor.do("POST", "/api/v1/assessments", map[string]any{"title": "Bad", "bankId": bank, "questions": ids, "owner": "me"})
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown field: %d", res.StatusCode)
	}

	hidden := newAssessment("Hidden marks", "none")
	res, body = assessor.do("GET", "/api/v1/assessments/"+hidden, nil)
	decode[map[string]any](t, res, body, http.StatusOK)
	if res, _ := trainee.do("GET", "/api/v1/assessments/"+hidden, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("trainee reads the settings: %d", res.StatusCode)
	}
	// Staff do not sit assessments.
	if res, _ := assessor.do("POST", "/api/v1/assessments/"+hidden+"/attempts", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("assessor starts an attempt: %d", res.StatusCode)
	}

	res, body = trainee.do("POST", "/api/v1/assessments/"+hidden+"/attempts", nil)
	at := decode[attemptAnswer](t, res, body, http.StatusCreated)
	if at.State != "open" || len(at.Questions) != 2 {
		t.Fatalf("started: %s", body)
	}
	if k := keysIn(t, body); k["right"] || k["rightOption"] || k["feedback"] || k["score"] {
		t.Errorf("an open attempt tells too much: %s", body)
	}
	// Answer both right: D for the first question, A for the second.
	for q, o := range []int{3, 0} {
		res, body := trainee.do("PUT", "/api/v1/attempts/"+at.ID+"/answers/"+[]string{"0", "1"}[q], map[string]int{"option": o})
		decode[map[string]any](t, res, body, http.StatusOK)
	}
	res, body = trainee.do("PUT", "/api/v1/attempts/"+at.ID+"/answers/0", map[string]int{"option": 9})
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("an option out of range: %d %s", res.StatusCode, body)
	} else if _, field := errorBody(t, body); field != "option" {
		t.Errorf("an option out of range names field %q", field)
	}
	// A second start returns the attempt already open.
	res, body = trainee.do("POST", "/api/v1/assessments/"+hidden+"/attempts", nil)
	if again := decode[attemptAnswer](t, res, body, http.StatusOK); again.ID != at.ID {
		t.Errorf("second start gave %s, want %s", again.ID, at.ID)
	}
	// Another trainee cannot see it.
	other, err := f.accounts.Users.Create(t.Context(), accounts.NewUser{Email: "t2@nhs.example", Name: "T2", Role: accounts.RoleTrainee, Password: "trainee password 2"})
	if err != nil {
		t.Fatal(err)
	}
	oc := f.client(t)
	res, body = oc.do("POST", "/api/v1/session", map[string]string{"email": other.Email, "password": "trainee password 2"})
	oc.csrf = decode[struct {
		CSRF string `json:"csrfToken"`
	}](t, res, body, http.StatusOK).CSRF
	if res, _ := oc.do("GET", "/api/v1/attempts/"+at.ID, nil); res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
		t.Errorf("another trainee reads the attempt: %d", res.StatusCode)
	}
	// Nor start: they are not in the assessment's cohort.
	if res, _ := oc.do("POST", "/api/v1/assessments/"+hidden+"/attempts", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("a trainee outside the cohort starts: %d", res.StatusCode)
	}

	res, body = trainee.do("POST", "/api/v1/attempts/"+at.ID+"/submit", nil)
	done := decode[attemptAnswer](t, res, body, http.StatusOK)
	if done.State != "closed" || done.Review != "none" {
		t.Errorf("submitted: %s", body)
	}
	for _, b := range [][]byte{body, func() []byte { _, b := trainee.do("GET", "/api/v1/attempts/"+at.ID, nil); return b }()} {
		if k := keysIn(t, b); k["right"] || k["rightOption"] || k["feedback"] || k["score"] || k["correct"] || k["explanation"] {
			t.Errorf("review none shows: %s", b)
		}
	}
	// An answer after submitting is a conflict that says why.
	res, body = trainee.do("PUT", "/api/v1/attempts/"+at.ID+"/answers/0", map[string]int{"option": 1})
	if res.StatusCode != http.StatusConflict {
		t.Errorf("answer after submit: %d %s", res.StatusCode, body)
	} else if msg, _ := errorBody(t, body); !strings.Contains(msg, "submitted") {
		t.Errorf("answer after submit says %q", msg)
	}

	// With review "answers" the score and the right options are shown.
	shown := newAssessment("Shown marks", "answers")
	res, body = trainee.do("POST", "/api/v1/assessments/"+shown+"/attempts", nil)
	at2 := decode[attemptAnswer](t, res, body, http.StatusCreated)
	trainee.do("PUT", "/api/v1/attempts/"+at2.ID+"/answers/0", map[string]int{"option": 3})
	res, body = trainee.do("POST", "/api/v1/attempts/"+at2.ID+"/submit", nil)
	done2 := decode[attemptAnswer](t, res, body, http.StatusOK)
	if done2.Score == nil || done2.Score.Marks != 1 || done2.Score.Max != 2 || !keysIn(t, body)["rightOption"] {
		t.Errorf("review answers: %s", body)
	}

	// Staff read results and the analysis.
	res, body = assessor.do("GET", "/api/v1/assessments/"+hidden+"/results", nil)
	results := decode[[]struct {
		Marks int `json:"marks"`
		Max   int `json:"max"`
	}](t, res, body, http.StatusOK)
	if len(results) != 1 || results[0].Marks != 2 || results[0].Max != 2 {
		t.Errorf("results: %s", body)
	}
	res, body = assessor.do("GET", "/api/v1/assessments/"+hidden+"/results?format=csv", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.HasPrefix(string(body), "user_id,") {
		t.Errorf("results CSV: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if res, _ := trainee.do("GET", "/api/v1/assessments/"+hidden+"/results", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("trainee reads results: %d", res.StatusCode)
	}
	res, body = assessor.do("GET", "/api/v1/assessments/"+shown+"/analysis?use=best", nil)
	an := decode[map[string]any](t, res, body, http.StatusOK)
	for _, k := range []string{"mean", "sd", "kr20", "items"} {
		if _, ok := an[k]; !ok {
			t.Errorf("analysis has no %q: %s", k, body)
		}
	}
	items, _ := an["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("analysis items: %s", body)
	}
	for _, k := range []string{"facility", "discrimination", "pointBiserial", "options"} {
		if _, ok := items[0].(map[string]any)[k]; !ok {
			t.Errorf("analysis item has no %q: %s", k, body)
		}
	}
	res, body = assessor.do("GET", "/api/v1/assessments/"+shown+"/analysis?format=csv", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Errorf("analysis CSV: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if res, body := assessor.do("GET", "/api/v1/assessments/"+shown+"/analysis?use=worst", nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("use=worst: %d %s", res.StatusCode, body)
	}
}

func TestAngoffAPI(t *testing.T) {
	f := newFixture(t)
	assessor := f.signedIn(t, accounts.RoleAssessor)
	admin := f.signedIn(t, accounts.RoleAdmin)
	bank := newBank(t, assessor, "Principles")
	res, body := assessor.sendText("/api/v1/banks/"+bank+"/import?format=aiken", moodleAiken)
	decode[importAnswer](t, res, body, http.StatusOK)
	res, body = assessor.do("GET", "/api/v1/banks/"+bank+"/questions", nil)
	qs := decode[[]questionAnswer](t, res, body, http.StatusOK)
	res, body = assessor.do("POST", "/api/v1/assessments", map[string]any{"title": "Set", "bankId": bank, "questions": []string{qs[0].ID, qs[1].ID}, "passMark": 50})
	id := decode[struct {
		ID string `json:"id"`
	}](t, res, body, http.StatusCreated).ID

	for _, judge := range []struct {
		c   *client
		est []float64
	}{{assessor, []float64{0.6, 0.8}}, {admin, []float64{0.4, 0.6}}} {
		res, body := judge.c.do("PUT", "/api/v1/assessments/"+id+"/angoff", map[string]any{"estimates": map[string]float64{qs[0].ID: judge.est[0], qs[1].ID: judge.est[1]}})
		decode[map[string]any](t, res, body, http.StatusOK)
	}
	res, body = assessor.do("GET", "/api/v1/assessments/"+id+"/angoff", nil)
	panel := decode[struct {
		Judges []any    `json:"judges"`
		Mean   *float64 `json:"mean"`
	}](t, res, body, http.StatusOK)
	if len(panel.Judges) != 2 || panel.Mean == nil || math.Abs(*panel.Mean-60) > 1e-9 {
		t.Errorf("panel: %s", body)
	}
	if res, _ := assessor.do("POST", "/api/v1/assessments/"+id+"/angoff/adopt", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("an assessor adopts the pass mark: %d", res.StatusCode)
	}
	res, body = admin.do("POST", "/api/v1/assessments/"+id+"/angoff/adopt", nil)
	if a := decode[struct {
		PassMark float64 `json:"passMark"`
	}](t, res, body, http.StatusOK); a.PassMark != 60 {
		t.Errorf("adopted: %s", body)
	}
	if res, _ := f.signedIn(t, accounts.RoleTrainee).do("GET", "/api/v1/assessments/"+id+"/angoff", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("a trainee reads the panel: %d", res.StatusCode)
	}
}

// withIfMatch sends a JSON body with an If-Match header ("" for none).
func (c *client) withIfMatch(method, path, ifMatch string, body any) (*http.Response, []byte) {
	c.t.Helper()
	var headers map[string]string
	if ifMatch != "" {
		headers = map[string]string{"If-Match": ifMatch}
	}
	return c.doWith(method, path, body, headers)
}

func TestAssessmentListAPI(t *testing.T) {
	f := newFixture(t)
	assessor := f.signedIn(t, accounts.RoleAssessor)
	trainee := f.signedIn(t, accounts.RoleTrainee)
	m := newMCQ(t, f, assessor, map[string]any{"attemptsAllowed": 2, "reviewAfterAttempt": "score", "reviewAfterClose": "feedback"})

	res, body := assessor.do("GET", "/api/v1/assessments", nil)
	all := decode[[]struct {
		ID        string   `json:"id"`
		Questions []string `json:"questions"`
	}](t, res, body, http.StatusOK)
	if len(all) != 1 || all[0].ID != m.assessment || len(all[0].Questions) != 2 {
		t.Errorf("the assessor's list: %s", body)
	}

	type listed struct {
		ID           string `json:"id"`
		Status       string `json:"status"`
		Questions    int    `json:"questions"`
		AttemptsMade int    `json:"attemptsMade"`
		AttemptsLeft *int   `json:"attemptsLeft"`
		OpenAttempt  string `json:"openAttempt"`
		Attempts     []struct {
			ID    string `json:"id"`
			State string `json:"state"`
			Score *struct {
				Marks int `json:"marks"`
			} `json:"score"`
		} `json:"attempts"`
	}
	res, body = trainee.do("GET", "/api/v1/assessments", nil)
	mine := decode[[]listed](t, res, body, http.StatusOK)
	if len(mine) != 1 || mine[0].Status != "open" || mine[0].Questions != 2 || mine[0].AttemptsLeft == nil || *mine[0].AttemptsLeft != 2 || len(mine[0].Attempts) != 0 {
		t.Errorf("the trainee's list: %s", body)
	}
	for _, k := range []string{"bankId", "right", "rightOption", "feedback", "reviewAfterAttempt", "draws"} {
		if keysIn(t, body)[k] {
			t.Errorf("the trainee's list has %q: %s", k, body)
		}
	}
	// A trainee outside the cohort sees nothing; those who do not sit or set them are refused.
	other, err := f.accounts.Users.Create(t.Context(), accounts.NewUser{Email: "t4@nhs.example", Name: "T4", Role: accounts.RoleTrainee, Password: "trainee password 4"})
	if err != nil {
		t.Fatal(err)
	}
	oc := f.client(t)
	oc.do("POST", "/api/v1/session", map[string]string{"email": other.Email, "password": "trainee password 4"})
	if res, body := oc.do("GET", "/api/v1/assessments", nil); len(decode[[]listed](t, res, body, http.StatusOK)) != 0 {
		t.Errorf("a trainee of no cohort sees %s", body)
	}
	if res, _ := f.signedIn(t, accounts.RoleFacilitator).do("GET", "/api/v1/assessments", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("a facilitator lists assessments: %d", res.StatusCode)
	}

	// An attempt started, then one submitted: the list and /me/attempts follow.
	res, body = trainee.do("POST", "/api/v1/assessments/"+m.assessment+"/attempts", nil)
	at := decode[attemptAnswer](t, res, body, http.StatusCreated)
	res, body = trainee.do("GET", "/api/v1/assessments", nil)
	if got := decode[[]listed](t, res, body, http.StatusOK); got[0].OpenAttempt != at.ID || got[0].AttemptsMade != 1 || *got[0].AttemptsLeft != 1 {
		t.Errorf("with an attempt open: %s", body)
	}
	trainee.do("PUT", "/api/v1/attempts/"+at.ID+"/answers/0", map[string]int{"option": 3})
	trainee.do("POST", "/api/v1/attempts/"+at.ID+"/submit", nil)
	res, body = trainee.do("GET", "/api/v1/me/attempts", nil)
	attempts := decode[[]struct {
		ID    string `json:"id"`
		State string `json:"state"`
		Score *struct {
			Marks int `json:"marks"`
		} `json:"score"`
	}](t, res, body, http.StatusOK)
	if len(attempts) != 1 || attempts[0].ID != at.ID || attempts[0].State != "closed" || attempts[0].Score == nil || attempts[0].Score.Marks != 1 {
		t.Errorf("my attempts: %s", body)
	}
	if k := keysIn(t, body); k["questions"] || k["rightOption"] {
		t.Errorf("my attempts hold the questions: %s", body)
	}
	if res, _ := assessor.do("GET", "/api/v1/me/attempts", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("an assessor's attempts: %d", res.StatusCode)
	}
}

func TestAssessmentAndQuestionUpdateAPI(t *testing.T) {
	f := newFixture(t)
	assessor := f.signedIn(t, accounts.RoleAssessor)
	trainee := f.signedIn(t, accounts.RoleTrainee)
	m := newMCQ(t, f, assessor, nil)
	settings := map[string]any{"title": "Renamed", "bankId": m.bank, "questions": m.questions[:1], "passMark": 40}
	path := "/api/v1/assessments/" + m.assessment

	if res, body := assessor.withIfMatch("PUT", path, "", settings); res.StatusCode != http.StatusBadRequest {
		t.Errorf("no If-Match: %d %s", res.StatusCode, body)
	}
	res, body := assessor.withIfMatch("PUT", path, `"1"`, settings)
	if a := decode[struct {
		Version int    `json:"version"`
		Title   string `json:"title"`
	}](t, res, body, http.StatusOK); a.Version != 2 || a.Title != "Renamed" || res.Header.Get("ETag") != `"2"` {
		t.Errorf("update: %s %s", res.Header.Get("ETag"), body)
	}
	res, body = assessor.withIfMatch("PUT", path, `"1"`, settings)
	stale := decode[struct {
		Error   string `json:"error"`
		Current struct {
			Version int `json:"version"`
		} `json:"current"`
	}](t, res, body, http.StatusConflict)
	if stale.Current.Version != 2 || stale.Error == "" {
		t.Errorf("stale update: %s", body)
	}
	if res, _ := trainee.withIfMatch("PUT", path, `"2"`, settings); res.StatusCode != http.StatusNotFound {
		t.Errorf("a trainee changes the settings: %d", res.StatusCode)
	}
	settings["version"] = 9
	if res, _ := assessor.withIfMatch("PUT", path, `"2"`, settings); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a version in the body: %d", res.StatusCode)
	}

	qpath := "/api/v1/questions/" + m.questions[0]
	res, body = assessor.do("GET", qpath, nil)
	if q := decode[questionAnswer](t, res, body, http.StatusOK); q.ID != m.questions[0] || res.Header.Get("ETag") != `"1"` {
		t.Errorf("read a question: %s %s", res.Header.Get("ETag"), body)
	}
	if res, _ := trainee.do("GET", qpath, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("a trainee reads a question: %d", res.StatusCode)
	}
	revised := map[string]any{"stem": "Which answer is right?", "options": []map[string]any{{"text": "This one", "right": true}, {"text": "That one"}}, "tags": []string{"revised"}}
	res, body = assessor.withIfMatch("PUT", qpath, `"1"`, revised)
	if q := decode[struct {
		Revision int    `json:"revision"`
		Stem     string `json:"stem"`
	}](t, res, body, http.StatusOK); q.Revision != 2 || q.Stem != "Which answer is right?" {
		t.Errorf("revise: %s", body)
	}
	res, body = assessor.withIfMatch("PUT", qpath, `"1"`, revised)
	if got := decode[struct {
		Current struct {
			Revision int `json:"revision"`
		} `json:"current"`
	}](t, res, body, http.StatusConflict); got.Current.Revision != 2 {
		t.Errorf("stale revision: %s", body)
	}
	revised["options"] = []map[string]any{{"text": "Alone", "right": true}}
	res, body = assessor.withIfMatch("PUT", qpath, `"2"`, revised)
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("one option: %d %s", res.StatusCode, body)
	} else if _, field := errorBody(t, body); field != "options" {
		t.Errorf("one option names %q", field)
	}
	if res, _ := trainee.withIfMatch("PUT", qpath, `"2"`, revised); res.StatusCode != http.StatusNotFound {
		t.Errorf("a trainee revises a question: %d", res.StatusCode)
	}
	if res, _ := assessor.do("GET", "/api/v1/questions/no-such-question", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("a missing question: %d", res.StatusCode)
	}
}
