package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"polyphony/assessment/marking"
)

// TestMarkingPagesSetUp: the setup form lists the two shipped rubrics, names every field in
// error, and sets up the piece.
func TestMarkingPagesSetUp(t *testing.T) {
	f := newFixture(t)
	mc := f.markingCast(t)
	c := mc.assessors[0]
	res, body := pageGet(c, "/marking/cohorts/"+mc.cohort+"/new")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the setup form: %d %.300s", res.StatusCode, body)
	}
	for _, want := range []string{`value="seven-principles"`, `value="key-elements"`, "Reflective account: the seven principles of Open Dialogue"} {
		if !strings.Contains(body, want) {
			t.Errorf("the setup form lacks %s", want)
		}
	}
	path := "/marking/cohorts/" + mc.cohort + "/pieces"
	bad := url.Values{"csrf": {c.csrf}, "title": {""}, "dueDate": {"2027-02-30"}, "dueTime": {"17:00"}, "rubric": {"key-elements"}, "scheme": {"single"}, "tolerance": {"lots"}}
	// Every problem at once: the form's own (a date that does not exist, a tolerance that is
	// not a number) and the store's (no title, nothing that may be submitted).
	body, _ = postForm(t, c, path, bad, http.StatusBadRequest)
	for _, want := range []string{`href="#piece-due-date"`, `href="#piece-tolerance"`, `href="#piece-title"`, `href="#piece-accepts-entries"`, `nhsuk-error-summary`} {
		if !strings.Contains(body, want) {
			t.Errorf("the form's errors lack %s", want)
		}
	}
	good := url.Values{"csrf": {c.csrf}, "title": {"Rated dialogue"}, "dueDate": {"2027-03-02"}, "dueTime": {"17:00"}, "rubric": {"key-elements"}, "scheme": {"double-blind"},
		"anonymous": {"yes"}, "accepts": {"entries", "transcript"}, "tolerance": {"3"}, "samplePercent": {"10"}, "borderline": {"1"}, "agreed": {"mean"}}
	_, loc := postForm(t, c, path, good, http.StatusSeeOther)
	if !strings.HasPrefix(loc, "/marking/pieces/") {
		t.Fatalf("after setting up: redirected to %q", loc)
	}
	loc, _, _ = strings.Cut(loc, "?")
	res, body = pageGet(c, loc)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Rated dialogue") || !strings.Contains(body, "17:00") {
		t.Errorf("the piece's page: %d %.500s", res.StatusCode, body)
	}
	// Two people changing the piece from forms opened at the same version: the second is
	// told, and nothing of the first is lost.
	edit := url.Values{}
	for k, v := range good {
		edit[k] = v
	}
	edit.Set("baseVersion", "1")
	edit.Set("title", "Rated dialogue, first change")
	res, body = pageGet(c, loc+"/edit")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `name="baseVersion" value="1"`) {
		t.Fatalf("the edit form: %d %.500s", res.StatusCode, body)
	}
	postForm(t, c, loc, edit, http.StatusSeeOther)
	edit.Set("title", "Rated dialogue, second change")
	body, _ = postForm(t, mc.admin, loc, url.Values(edit), http.StatusConflict)
	if !strings.Contains(body, "changed by someone else") {
		t.Errorf("the stale change does not say why: %.1500s", body)
	}
	_, body = pageGet(c, loc)
	if !strings.Contains(body, "first change") {
		t.Errorf("the first change is lost")
	}
	// The trainee sees the piece on the index and on its page.
	_, body = pageGet(mc.trainee, "/marking")
	if !strings.Contains(body, "Rated dialogue") || !strings.Contains(body, "Not submitted") {
		t.Errorf("the trainee's index: %.1500s", body)
	}
	_, body = pageGet(mc.trainee, "/marking/cohorts/"+mc.cohort+"/new")
	if strings.Contains(body, "piece-form") {
		t.Errorf("a trainee is shown the setup form")
	}
}

// TestMarkingPagesEndToEnd submits, marks blind and anonymously, moderates and releases
// through the pages, checking what each person sees.
func TestMarkingPagesEndToEnd(t *testing.T) {
	f := newFixture(t)
	mc := f.markingCast(t)
	in := pieceInput("Reflective account", marking.SevenPrinciplesRubricID, marking.SchemeDoubleBlind, true)
	in.SamplePercent = 100
	p := mc.createPiece(t, mc.admin, in)
	e := createEntry(t, mc.trainee, "What the network said", "Everyone spoke in turn.")
	piecePath := "/marking/pieces/" + p.ID

	// An entry not submitted to the assessors is offered but cannot be chosen.
	_, body := pageGet(mc.trainee, piecePath)
	if !strings.Contains(body, "What the network said") || !strings.Contains(body, "Not submitted to the assessors yet") {
		t.Errorf("the submit page: %.2000s", body)
	}
	body, _ = postForm(t, mc.trainee, piecePath+"/submit", url.Values{"csrf": {mc.trainee.csrf}, "entries": {e.ID}}, http.StatusBadRequest)
	if !strings.Contains(body, `href="#submit-entries"`) {
		t.Errorf("the refusal is not linked to the entries: %.1500s", body)
	}
	res, b := mc.trainee.send("PUT", "/api/v1/journal/entries/"+e.ID+"/sharing/assessors", map[string]any{"shared": true}, nil)
	wantStatus(t, "submit the entry to the assessors", res, b, http.StatusOK)
	postForm(t, mc.trainee, piecePath+"/submit", url.Values{"csrf": {mc.trainee.csrf}, "entries": {e.ID}}, http.StatusSeeOther)
	_, body = pageGet(mc.trainee, piecePath)
	if !strings.Contains(body, "Withdraw my submission") || !strings.Contains(body, "(revision 1)") {
		t.Errorf("after submitting: %.2000s", body)
	}

	// The administrator allocates two markers from the piece's page.
	_, body = pageGet(mc.admin, piecePath)
	if !strings.Contains(body, "C0001") || !strings.Contains(body, "Submitted") {
		t.Errorf("the overview: %.2000s", body)
	}
	postForm(t, mc.admin, piecePath+"/allocation", url.Values{"csrf": {mc.admin.csrf}, "assessors": {mc.assessorIDs[0], mc.assessorIDs[1]}}, http.StatusSeeOther)

	// Each marker's queue and marking page name the candidate number, never the trainee.
	markPath := piecePath + "/submissions/C0001"
	for i := 0; i < 2; i++ {
		c := mc.assessors[i]
		_, body = pageGet(c, "/marking")
		if !strings.Contains(body, markPath) {
			t.Errorf("marker %d's queue lacks the submission: %.2000s", i+1, body)
		}
		res, body = pageGet(c, markPath)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("marker %d's marking page: %d %.500s", i+1, res.StatusCode, body)
		}
		if strings.Contains(body, mc.traineeName) || strings.Contains(body, mc.traineeID) {
			t.Errorf("marker %d's page names the trainee under anonymous marking", i+1)
		}
		if !strings.Contains(body, "Everyone spoke in turn.") || !strings.Contains(body, `id="mark-form"`) {
			t.Errorf("marker %d's page lacks the entry or the form: %.3000s", i+1, body)
		}
	}
	r, err := f.marking.LatestRubric(t.Context(), marking.SevenPrinciplesRubricID)
	if err != nil {
		t.Fatal(err)
	}
	marks := func(c *client, level string, base string) url.Values {
		v := url.Values{"csrf": {c.csrf}, "baseVersion": {base}, "feedback": {"Thoughtful."}, "privateNote": {"Borderline on two."}}
		for _, cr := range r.Criteria {
			v.Set("level-"+cr.ID, level)
			v.Set("comment-"+cr.ID, "Seen.")
		}
		return v
	}
	// A level not in the rubric is refused, linked to its criterion.
	wrong := marks(mc.assessors[0], "pass", "0")
	wrong.Set("level-"+r.Criteria[2].ID, "outstanding")
	body, _ = postForm(t, mc.assessors[0], markPath, wrong, http.StatusBadRequest)
	if !strings.Contains(body, `href="#level-`+r.Criteria[2].ID+`"`) {
		t.Errorf("the refusal is not linked to the criterion: %.2000s", body)
	}
	postForm(t, mc.assessors[0], markPath, marks(mc.assessors[0], "merit", "0"), http.StatusSeeOther)
	// A save from a page opened before that one is a conflict, keeping what was typed.
	body, _ = postForm(t, mc.assessors[0], markPath, marks(mc.assessors[0], "pass", "0"), http.StatusConflict)
	if !strings.Contains(body, "saved elsewhere") {
		t.Errorf("the conflict does not say so: %.1500s", body)
	}
	done := marks(mc.assessors[0], "merit", "1")
	done.Set("then", "submit")
	postForm(t, mc.assessors[0], markPath, done, http.StatusSeeOther)
	// Blind: the second marker sees nothing of the first's marking before submitting.
	_, body = pageGet(mc.assessors[1], markPath)
	if strings.Contains(body, "Borderline on two.") || strings.Contains(body, "The other marker") {
		t.Errorf("the second marker sees the first's marking before submitting their own")
	}
	second := marks(mc.assessors[1], "refer", "0")
	second.Set("then", "submit")
	postForm(t, mc.assessors[1], markPath, second, http.StatusSeeOther)
	_, body = pageGet(mc.assessors[1], markPath)
	if !strings.Contains(body, "Borderline on two.") {
		t.Errorf("once both are in, the other's note shows")
	}

	// The trainee sees nothing of it before release.
	_, body = pageGet(mc.trainee, piecePath)
	if strings.Contains(body, "Thoughtful.") || strings.Contains(body, "Your result") {
		t.Errorf("the trainee sees marking before release")
	}
	res, _ = pageGet(mc.trainee, markPath)
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("the trainee opening the marking page: %d, want 404", res.StatusCode)
	}
	res, _ = pageGet(mc.peer, markPath)
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("a peer opening the marking page: %d, want 404", res.StatusCode)
	}

	// 21 against 0: the third assessor moderates.
	_, body = pageGet(mc.assessors[2], markPath)
	if !strings.Contains(body, `id="moderation-form"`) || !strings.Contains(body, "In moderation") {
		t.Fatalf("the moderator's page: %.3000s", body)
	}
	modPath := markPath + "/moderation"
	body, _ = postForm(t, mc.assessors[2], modPath, url.Values{"csrf": {mc.assessors[2].csrf}, "total": {"15"}, "outcome": {"pass"}}, http.StatusBadRequest)
	if !strings.Contains(body, `href="#moderation-reason"`) {
		t.Errorf("a result without a reason: %.1500s", body)
	}
	if !strings.Contains(body, `value="15"`) || !strings.Contains(body, `value="pass" checked`) {
		t.Errorf("the moderation form lost what was typed")
	}
	postForm(t, mc.assessors[2], modPath, url.Values{"csrf": {mc.assessors[2].csrf}, "total": {"15"}, "outcome": {"pass"}, "reason": {"Read both; nearer the first."}}, http.StatusSeeOther)
	postForm(t, mc.assessors[2], piecePath+"/sample", url.Values{"csrf": {mc.assessors[2].csrf}}, http.StatusSeeOther)
	_, body = pageGet(mc.assessors[2], piecePath)
	if !strings.Contains(body, "C0001</a>: 15, pass (drawn at random)") {
		t.Errorf("the sample does not list the submission: %.4000s", body)
	}
	postForm(t, mc.admin, piecePath+"/release", url.Values{"csrf": {mc.admin.csrf}}, http.StatusSeeOther)
	_, body = pageGet(mc.trainee, piecePath)
	if !strings.Contains(body, "Your result") || !strings.Contains(body, "Pass, 15 of 21") || !strings.Contains(body, "Thoughtful.") {
		t.Errorf("the trainee's result: %.3000s", body)
	}
	if strings.Contains(body, "Borderline on two.") || strings.Contains(body, "nearer the first") {
		t.Errorf("the trainee sees the markers' note or the moderator's reason")
	}
}

// TestMarkingAgreementPage draws the cohort's agreement: a table and an accessible chart.
func TestMarkingAgreementPage(t *testing.T) {
	f := newFixture(t)
	mc := f.markingCast(t)
	p := mc.createPiece(t, mc.admin, pieceInput("Rated dialogue", marking.KeyElementsRubricID, marking.SchemeDoubleBlind, false))
	mc.submitEntry(t, mc.trainee, p.ID, "The dialogue")
	res, body := mc.admin.send("PUT", "/api/v1/pieces/"+p.ID+"/submissions/"+mc.traineeID+"/markers", map[string]any{"markers": []string{mc.assessorIDs[0], mc.assessorIDs[1]}}, nil)
	wantStatus(t, "allocate", res, body, http.StatusOK)
	base := "/api/v1/pieces/" + p.ID + "/submissions/" + mc.traineeID
	for i, levels := range [][]int{{2, 1, 3, 2, 0, 1, 2, 2, 1, 3, 0, 2}, {2, 2, 3, 1, 0, 1, 2, 3, 1, 2, 1, 2}} {
		res, body := mc.assessors[i].send("PUT", base+"/marks/mine", keyElementsDraft(t, f, levels), ifMatchVersion(0))
		wantStatus(t, "rate", res, body, http.StatusOK)
		res, body = mc.assessors[i].send("POST", base+"/marks/mine/submit", nil, ifMatchVersion(1))
		wantStatus(t, "submit", res, body, http.StatusOK)
	}
	path := "/marking/cohorts/" + mc.cohort + "/agreement"
	res2, page := pageGet(mc.assessors[2], path)
	if res2.StatusCode != http.StatusOK {
		t.Fatalf("the agreement page: %d %.500s", res2.StatusCode, page)
	}
	for _, want := range []string{`role="img"`, `aria-labelledby="chart-pairs-0-title chart-pairs-0-desc"`, "0.75 (12 items)", "Assessor 2", "substantial", "0.41", "58%", "Use of open-ended questions", "No, 1 level apart"} {
		if !strings.Contains(page, want) {
			t.Errorf("the agreement page lacks %q", want)
		}
	}
	res2, _ = pageGet(mc.trainee, path)
	if res2.StatusCode != http.StatusNotFound {
		t.Errorf("the trainee opening the agreement page: %d, want 404", res2.StatusCode)
	}
}

// TestMarkingPagesExtensionAndSample: an administrator grants an extension from the piece's
// page (a missing reason is named), draws the moderation sample and confirms it.
func TestMarkingPagesExtensionAndSample(t *testing.T) {
	f := newFixture(t)
	mc := f.markingCast(t)
	p := mc.createPiece(t, mc.admin, pieceInput("Reflective account", marking.SevenPrinciplesRubricID, marking.SchemeSingle, false))
	path := "/marking/pieces/" + p.ID
	until := p.Due.AddDate(0, 0, 7).In(mustLondon(t))
	ext := url.Values{"csrf": {mc.admin.csrf}, "traineeId": {mc.peerID}, "untilDate": {until.Format("2006-01-02")}, "untilTime": {"17:00"}}
	body, _ := postForm(t, mc.admin, path+"/extensions", ext, http.StatusBadRequest)
	if !strings.Contains(body, `href="#extension-reason"`) {
		t.Errorf("an extension without a reason: %.1500s", body)
	}
	ext.Set("reason", "Bereavement")
	postForm(t, mc.admin, path+"/extensions", ext, http.StatusSeeOther)
	_, body = pageGet(mc.peer, path)
	if !strings.Contains(body, "your extension") {
		t.Errorf("the peer's page does not show the extension: %.1500s", body)
	}
	postForm(t, mc.assessors[0], path+"/extensions", url.Values{"csrf": {mc.assessors[0].csrf}, "traineeId": {mc.peerID}, "untilDate": {until.Format("2006-01-02")}, "untilTime": {"17:00"}, "reason": {"Mine"}}, http.StatusForbidden)
	postForm(t, mc.assessors[0], path+"/sample", url.Values{"csrf": {mc.assessors[0].csrf}}, http.StatusSeeOther)
	body, _ = postForm(t, mc.assessors[0], path+"/sample/confirm", url.Values{"csrf": {mc.assessors[0].csrf}}, http.StatusBadRequest)
	if !strings.Contains(body, `href="#sample-comment"`) {
		t.Errorf("a confirmation without a comment: %.1500s", body)
	}
	postForm(t, mc.assessors[0], path+"/sample/confirm", url.Values{"csrf": {mc.assessors[0].csrf}, "comment": {"Nothing to sample yet."}}, http.StatusSeeOther)
	_, body = pageGet(mc.admin, path)
	if !strings.Contains(body, "Nothing to sample yet.") {
		t.Errorf("the confirmed sample does not show: %.2000s", body)
	}
}

// TestMarkingPagesAllocateByHand: markers chosen by hand from the overview; the trainee's
// supervisor is refused, the problem linked to the row's choice.
func TestMarkingPagesAllocateByHand(t *testing.T) {
	f := newFixture(t)
	mc := f.markingCast(t)
	p := mc.createPiece(t, mc.admin, pieceInput("Reflective account", marking.SevenPrinciplesRubricID, marking.SchemeDoubleBlind, false))
	mc.submitEntry(t, mc.trainee, p.ID, "Account")
	path := "/marking/pieces/" + p.ID + "/submissions/" + mc.traineeID + "/markers"
	_, body := pageGet(mc.assessors[0], "/marking/pieces/"+p.ID)
	if !strings.Contains(body, `action="`+path+`"`) || !strings.Contains(body, "Marker 2") {
		t.Fatalf("the overview offers no choice by hand: %.3000s", body)
	}
	body, _ = postForm(t, mc.assessors[0], path, url.Values{"csrf": {mc.assessors[0].csrf}, "markers": {mc.assessorIDs[1], mc.supervisorID}}, http.StatusBadRequest)
	if !strings.Contains(body, `href="#markers-`+mc.traineeID+`"`) || !strings.Contains(body, "supervisor") {
		t.Errorf("allocating the supervisor: %.2000s", body)
	}
	postForm(t, mc.assessors[0], path, url.Values{"csrf": {mc.assessors[0].csrf}, "markers": {mc.assessorIDs[1], mc.assessorIDs[2]}}, http.StatusSeeOther)
	_, body = pageGet(mc.assessors[0], "/marking/pieces/"+p.ID)
	if !strings.Contains(body, "Assessor 2, Assessor 3") {
		t.Errorf("the overview does not show the markers chosen: %.3000s", body)
	}
}
