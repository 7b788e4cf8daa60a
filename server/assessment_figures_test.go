package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"polyphony/internal/accounts"
)

// The reports say what their figures mean: no pass mark is not a pass, too few attempts are
// too few to read reliability, options are listed as written though trainees saw them
// shuffled, and every convention is stated.
func TestAssessmentFiguresWording(t *testing.T) {
	f := newFixture(t)
	assessor := f.signedIn(t, accounts.RoleAssessor)
	trainee := f.signedIn(t, accounts.RoleTrainee)
	m := newMCQ(t, f, assessor, map[string]any{"passMark": 0, "shuffleOptions": true, "reviewAfterAttempt": "score"})
	aPath := "/assessments/" + m.assessment

	_, attemptPath := postForm(t, trainee, aPath+"/start", url.Values{}, http.StatusSeeOther)
	postForm(t, trainee, attemptPath, url.Values{"view": {"all"}, "answer-0": {"1"}, "go": {"save"}}, http.StatusSeeOther)
	_, review := postForm(t, trainee, attemptPath+"/submit", url.Values{}, http.StatusSeeOther)
	if page := getPage(t, trainee, review, http.StatusOK); strings.Contains(page, "Passed") || strings.Contains(page, "Not passed") || !strings.Contains(page, "No pass mark is set") {
		t.Errorf("the trainee's review with no pass mark: %.3000s", page)
	}
	if list := getPage(t, trainee, "/assessments", http.StatusOK); strings.Contains(list, "), passed") || !strings.Contains(list, "no pass mark is set") {
		t.Errorf("the trainee's list with no pass mark: %.3000s", list)
	}

	results := getPage(t, assessor, aPath+"/results", http.StatusOK)
	if strings.Contains(results, "1 passed") || strings.Contains(results, ">Passed<") || !strings.Contains(results, "no pass mark is set, so nobody has passed or failed") {
		t.Errorf("results with no pass mark: %.3000s", results)
	}

	an := getPage(t, assessor, aPath+"/analysis", http.StatusOK)
	for _, want := range []string{
		`id="kr20-warning"`, "Too few attempts to read reliability",
		"Trainees saw them shuffled",
		"population one (dividing by the number of attempts)",
		"each of them counts as an equal share of the places left",
		"the total less that question",
	} {
		if !strings.Contains(an, want) {
			t.Errorf("the analysis page lacks %q", want)
		}
	}

	// An estimate of 55 shows as 55, the judge's row says every question is estimated, and
	// the panel's standard deviation says it is the sample one.
	est := url.Values{}
	for _, q := range m.questions {
		est.Set("estimate-"+q, "55")
	}
	postForm(t, assessor, aPath+"/angoff", est, http.StatusSeeOther)
	angoff := getPage(t, assessor, aPath+"/angoff", http.StatusOK)
	if strings.Contains(angoff, "55.0000") || !strings.Contains(angoff, `value="55"`) {
		t.Errorf("an estimate of 55 is not shown as 55: %.4000s", angoff)
	}
	if !strings.Contains(angoff, `id="current-pass-mark">None set`) {
		t.Errorf("the current pass mark of 0 is not shown as none set")
	}
	if overview := getPage(t, assessor, aPath, http.StatusOK); !strings.Contains(overview, "None set: nobody passes or fails") {
		t.Errorf("the assessment page shows a pass mark of 0 as a pass mark: %.3000s", overview)
	}
	if !strings.Contains(angoff, "None: all estimated") || !strings.Contains(angoff, "sample standard deviation") {
		t.Errorf("the panel's wording: %.4000s", angoff)
	}
}
