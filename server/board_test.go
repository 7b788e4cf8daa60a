package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/courses/award"
	"polyphony/courses/progress"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/pdftest"
)

// boardCohort is the demo cohort under one rule, a residential day present, with Tara
// present on the first day and Pat absent: Tara is eligible, Pat is not.
func (f *fixture) boardCohort(t *testing.T) (co courses.Cohort, tara, pat string) {
	t.Helper()
	ctx := context.Background()
	co = f.demoCohort(t)
	tara, pat = f.userID(t, "trainee@polyphony.example"), f.userID(t, "peer@polyphony.example")
	cur, err := f.progress.Rules(ctx, co.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.progress.SaveRules(ctx, progress.Rules{CohortID: co.ID, Rules: []progress.Rule{{Kind: progress.KindResidential, Days: 1}}}, cur.Version, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := f.courses.TakeRegister(ctx, co.ID, "module-1-day-1", []courses.AttendanceEntry{{UserID: tara, Mark: courses.Present}, {UserID: pat, Mark: courses.Absent}}, "facilitator"); err != nil {
		t.Fatal(err)
	}
	return co, tara, pat
}

// TestBoardPages runs an exam board from the pages: opening it, the eligible trainee and the
// other with what is missing, decisions refused naming the field, an award and a deferral,
// the record as CSV and the minutes as PDF, a revocation with its reason, each in the audit
// log; facilitators are refused; and the trainee's training record.
func TestBoardPages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	co, tara, pat := f.boardCohort(t)
	admin, facilitator, trainee := f.signedIn(t, accounts.RoleAdmin), f.signedIn(t, accounts.RoleFacilitator), f.signedIn(t, accounts.RoleTrainee)

	_, body := pageGet(admin, "/cohorts/"+co.ID+"/progress")
	if !strings.Contains(body, `href="/cohorts/`+co.ID+`/boards"`) {
		t.Errorf("the cohort's progress does not link to its exam boards")
	}
	res, raw := admin.do("POST", "/cohorts/"+co.ID+"/boards", url.Values{"date": {"1 July"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), `href="#board-date"`) {
		t.Fatalf("a board on no date: %d %.400s", res.StatusCode, raw)
	}
	res, raw = admin.do("POST", "/cohorts/"+co.ID+"/boards", url.Values{"date": {"2027-07-01"}})
	boardPath := redirectedTo(t, res, string(raw))
	boardID := strings.TrimPrefix(boardPath, "/boards/")
	res, body = pageGet(admin, boardPath)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Exam board of 1 July 2027") || !strings.Contains(body, "Eligible: every rule met (1)") ||
		!strings.Contains(body, `id="missing-`+pat+`"`) || strings.Contains(body, `id="missing-`+tara+`"`) || !strings.Contains(body, `id="outcome-`+tara+`-awarded"`) || strings.Contains(body, `id="outcome-`+pat+`-awarded"`) {
		t.Fatalf("the board: %d %.3000s", res.StatusCode, body)
	}
	if strings.Index(body, `id="trainee-`+tara+`"`) > strings.Index(body, `id="not-eligible"`) {
		t.Errorf("Tara is not listed among the eligible")
	}
	if res, _ := pageGet(facilitator, boardPath); res.StatusCode != http.StatusForbidden {
		t.Errorf("a facilitator opens the board: %d", res.StatusCode)
	}

	decide := func(v url.Values) (*http.Response, []byte) { return admin.do("POST", boardPath+"/decisions", v) }
	res, raw = decide(url.Values{"userId": {pat}, "outcome": {"awarded"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), `href="#outcome-`+pat+`-deferred"`) || !strings.Contains(string(raw), "Not every rule is met") {
		t.Errorf("award Pat: %d %.600s", res.StatusCode, raw)
	}
	res, raw = decide(url.Values{"userId": {pat}, "outcome": {"deferred"}, "reason": {"Illness"}, "until": {"soon"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), `href="#until-`+pat+`"`) || !strings.Contains(string(raw), "Illness") {
		t.Errorf("defer Pat to no date: %d %.600s", res.StatusCode, raw)
	}
	res, raw = decide(url.Values{"userId": {pat}, "outcome": {"deferred"}, "reason": {"Illness"}, "until": {"2027-09-30"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), `href="#outstanding-`+pat+`"`) {
		t.Errorf("defer Pat with nothing outstanding: %d %.600s", res.StatusCode, raw)
	}
	res, raw = decide(url.Values{"userId": {tara}, "outcome": {"awarded"}})
	if got := redirectedTo(t, res, string(raw)); got != boardPath {
		t.Errorf("awarded, then to %s", got)
	}
	res, raw = decide(url.Values{"userId": {pat}, "outcome": {"not awarded"}, "reason": {"Absent throughout"}})
	redirectedTo(t, res, string(raw))
	res, raw = decide(url.Values{"userId": {pat}, "outcome": {"deferred"}, "reason": {"Illness, agreed"}, "outstanding": {"A residential day"}, "until": {"2027-09-30"}})
	redirectedTo(t, res, string(raw))

	_, body = pageGet(admin, boardPath)
	if !strings.Contains(body, `id="decision-`+tara+`">Awarded`) || !strings.Contains(body, `id="decision-`+pat+`">Deferred`) ||
		!strings.Contains(body, "A residential day, by 30 September 2027") || strings.Contains(body, `id="decide-`+tara+`"`) || !strings.Contains(body, `id="revoke-`+tara+`"`) {
		t.Fatalf("the board after deciding: %.4000s", body)
	}
	if !strings.Contains(body, `id="history-`+pat+`"`) || !strings.Contains(body, "Not awarded: Absent throughout") || !strings.Contains(body, "Earlier decisions on this board (1)") {
		t.Errorf("the board does not show Pat's superseded decision: %.6000s", body)
	}

	res, raw = admin.send("GET", boardPath+"/record.csv", nil, nil)
	wantStatus(t, "CSV", res, raw, http.StatusOK)
	if csv := string(raw); !strings.Contains(csv, "Tara Trainee,yes,Awarded,yes,") || !strings.Contains(csv, "Pat Peer,no,Deferred,yes,\"Illness, agreed\",A residential day,2027-09-30") {
		t.Errorf("the record's CSV:\n%s", csv)
	}
	res, raw = admin.send("GET", boardPath+"/minutes.pdf", nil, nil)
	wantStatus(t, "minutes", res, raw, http.StatusOK)
	text := strings.Join(strings.Fields(pdftest.Text(t, raw)), " ")
	for _, want := range []string{"Exam board: " + co.Name, "Sat on 1 July 2027", "Tara Trainee", "Decision: Awarded", "Pat Peer", "Decision: Deferred", "Outstanding: A residential day, by 30 September 2027"} {
		if !strings.Contains(text, want) {
			t.Errorf("the minutes lack %q: %s", want, text)
		}
	}

	// Revoking Tara's award: a reason is needed; then the board and the check say so.
	as, err := f.awards.ForUser(ctx, tara)
	if err != nil || len(as) != 1 || as[0].BoardID != boardID {
		t.Fatalf("Tara's awards: %+v %v", as, err)
	}
	res, raw = admin.do("POST", "/awards/"+as[0].ID+"/revoke", url.Values{"reason": {" "}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), `href="#revoke-reason-`+tara+`"`) {
		t.Errorf("revoke without a reason: %d %.600s", res.StatusCode, raw)
	}
	res, raw = admin.do("POST", "/awards/"+as[0].ID+"/revoke", url.Values{"reason": {"Awarded in error"}})
	if got := redirectedTo(t, res, string(raw)); got != boardPath {
		t.Errorf("revoked, then to %s", got)
	}
	_, body = pageGet(admin, boardPath)
	if !strings.Contains(body, "Revoked on "+award.Date(time.Now())) || !strings.Contains(body, "Awarded in error") {
		t.Errorf("the board does not show the revocation: %.4000s", body)
	}
	_, body = pageGet(f.client(t), "/verify/"+as[0].Code)
	if !strings.Contains(body, "Revoked on") {
		t.Errorf("the check of a revoked award: %.1000s", body)
	}
	page, err := f.audit.List(ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range page.Entries {
		seen[e.Action]++
		if e.Action == audit.AwardRevoked && (e.Reason != "Awarded in error" || e.SubjectID != tara) {
			t.Errorf("the revocation's entry %+v", e)
		}
	}
	if seen[audit.BoardOpened] != 1 || seen[audit.BoardDecided] != 3 || seen[audit.AwardRevoked] != 1 {
		t.Errorf("audit log %v, want the board opened, three decisions and the revocation", seen)
	}

	// The training record: the trainee's own, linked from their progress and account pages.
	for _, p := range []string{"/progress", "/account"} {
		if _, body := pageGet(trainee, p); !strings.Contains(body, `href="/account/training-record.pdf"`) {
			t.Errorf("%s does not link to the training record", p)
		}
	}
	// The certificate is on the trainee's progress page too, revoked as it now is.
	if _, body := pageGet(trainee, "/progress"); !strings.Contains(body, `href="/account/certificate/`+as[0].ID+`"`) || !strings.Contains(body, "Revoked on") {
		t.Errorf("the progress page does not offer the certificate, revoked")
	}
	res, raw = trainee.send("GET", "/account/training-record.pdf", nil, nil)
	wantStatus(t, "training record", res, raw, http.StatusOK)
	text = strings.Join(strings.Fields(pdftest.Text(t, raw)), " ")
	for _, want := range []string{"Training record", "Trainee: Tara Trainee", "Cohort: " + co.Name, "Residential attendance", "present — counts", "revoked on"} {
		if !strings.Contains(text, want) {
			t.Errorf("the training record lacks %q: %s", want, text)
		}
	}
	if res, _ := facilitator.send("GET", "/account/training-record.pdf", nil, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("a facilitator's training record: %d", res.StatusCode)
	}
}

// TestBoardAPI opens a board, decides and revokes through the API.
func TestBoardAPI(t *testing.T) {
	f := newFixture(t)
	co, tara, pat := f.boardCohort(t)
	admin, facilitator := f.signedIn(t, accounts.RoleAdmin), f.signedIn(t, accounts.RoleFacilitator)
	res, raw := admin.send("POST", "/api/v1/cohorts/"+co.ID+"/boards", map[string]string{"date": "2027-07-01"}, nil)
	wantStatus(t, "open", res, raw, http.StatusCreated)
	b := decodeAs[award.Board](t, raw)
	if b.RulesVersion != 1 || res.Header.Get("Location") != "/api/v1/boards/"+b.ID {
		t.Fatalf("opened %+v at %s", b, res.Header.Get("Location"))
	}
	res, raw = facilitator.send("GET", "/api/v1/boards/"+b.ID, nil, nil)
	wantStatus(t, "a facilitator reads the board", res, raw, http.StatusForbidden)
	res, raw = admin.send("POST", "/api/v1/boards/"+b.ID+"/decisions", map[string]string{"userId": pat, "outcome": "not awarded"}, nil)
	wantStatus(t, "not awarded without a reason", res, raw, http.StatusBadRequest)
	if !strings.Contains(string(raw), `"reason"`) {
		t.Errorf("the problem does not name the reason: %s", raw)
	}
	res, raw = admin.send("POST", "/api/v1/boards/"+b.ID+"/decisions", map[string]string{"userId": tara, "outcome": "awarded"}, nil)
	wantStatus(t, "award", res, raw, http.StatusCreated)
	d := decodeAs[award.BoardDecision](t, raw)
	res, raw = admin.send("POST", "/api/v1/boards/"+b.ID+"/decisions", map[string]string{"userId": tara, "outcome": "not awarded", "reason": "x"}, nil)
	wantStatus(t, "decide after the award", res, raw, http.StatusConflict)
	res, raw = admin.send("GET", "/api/v1/boards/"+b.ID, nil, nil)
	wantStatus(t, "the board", res, raw, http.StatusOK)
	v := decodeAs[award.BoardView](t, raw)
	if len(v.Candidates) != 2 || v.CurrentRules != 1 {
		t.Fatalf("the board %+v", v)
	}
	res, raw = admin.send("POST", "/api/v1/awards/"+d.AwardID+"/revoke", map[string]string{"reason": "Awarded in error"}, nil)
	wantStatus(t, "revoke", res, raw, http.StatusOK)
	if a := decodeAs[award.Award](t, raw); a.Status != award.Revoked {
		t.Errorf("revoked %+v", a)
	}
	res, raw = admin.send("POST", "/api/v1/awards/"+d.AwardID+"/revoke", map[string]string{"reason": "Again"}, nil)
	wantStatus(t, "revoke again", res, raw, http.StatusConflict)
	res, raw = admin.send("GET", "/api/v1/cohorts/"+co.ID+"/boards", nil, nil)
	wantStatus(t, "the cohort's boards", res, raw, http.StatusOK)
	if bs := decodeAs[[]award.Board](t, raw); len(bs) != 1 || bs[0].ID != b.ID {
		t.Errorf("the cohort's boards %+v", bs)
	}
}
