package server_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
	"polyphony/internal/pdftest"
)

// fetchBytes downloads what the link of the page's element leads to, with the tab's own
// session, as the browser would.
func fetchBytes(t *testing.T, b *browsertest.Browser, selector string) []byte {
	t.Helper()
	var encoded string
	b.Eval(`fetch(document.querySelector(`+jsString(selector)+`).href).then(r => r.arrayBuffer()).then(buf => {
		const a = new Uint8Array(buf); let s = '';
		for (let i = 0; i < a.length; i++) s += String.fromCharCode(a[i]);
		return btoa(s);
	})`, &encoded)
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatalf("download of %s: %v", selector, err)
	}
	return raw
}

// TestBrowserExamBoard runs an exam board end to end: an administrator opens a board for the
// cohort, where Tara meets every rule and Pat does not; awards Tara; defers Pat, first
// without saying what is outstanding (the error names the field), then with it; downloads
// the minutes. Tara downloads her certificate from her account page; its QR code, opened in
// a browser without a session, says "Valid"; the administrator revokes the award with a
// reason, and the verification page then says "Revoked on". Pages are checked with axe-core
// and at the width of a phone.
func TestBrowserExamBoard(t *testing.T) {
	f := newFixture(t)
	co, tara, pat := f.boardCohort(t)
	browser := browsertest.New(t)

	admin := browser.NewIsolatedTab().For(t)
	signInAs(t, f, admin, accounts.RoleAdmin)
	admin.Navigate(f.ts.URL + "/cohorts/" + co.ID + "/progress")
	admin.ClickAndWait("#exam-boards")
	wantPath(t, admin, f.ts.URL, "/cohorts/"+co.ID+"/boards")
	checkPage(t, admin, "boards")
	admin.Fill("#board-date", "2027-07-01")
	admin.Submit("#open-board")
	if !strings.Contains(admin.URL(), "/boards/") {
		t.Fatalf("after opening, on %s", admin.URL())
	}
	boardURL := admin.URL()
	wantText(t, admin, "h1", "Exam board of 1 July 2027")
	wantText(t, admin, "#eligible", "Eligible: every rule met (1)")
	wantText(t, admin, "#trainee-"+pat, "Residential attendance")
	if admin.Exists("#outcome-" + pat + "-awarded") {
		t.Errorf("Pat, who misses a rule, can be awarded")
	}
	checkPage(t, admin, "board")

	admin.Click("label[for='outcome-" + tara + "-awarded']")
	admin.Submit("#decide-" + tara)
	wantText(t, admin, "#decision-"+tara, "Awarded")
	wantText(t, admin, "#award-state-"+tara, "Award valid")

	admin.Click("label[for='outcome-" + pat + "-deferred']")
	admin.Fill("#reason-"+pat, "Illness, agreed with the programme lead")
	admin.Fill("#until-"+pat, "2027-09-30")
	admin.Submit("#decide-" + pat)
	wantErrorSummary(t, admin, "Say what is outstanding", "outstanding-"+pat)
	checkPage(t, admin, "board-error")
	admin.Fill("#outstanding-"+pat, "One residential day")
	admin.Submit("#decide-" + pat)
	wantText(t, admin, "#decision-"+pat, "Deferred")
	wantText(t, admin, "#outstanding-shown-"+pat, "One residential day, by 30 September 2027")
	checkPage(t, admin, "board-decided")

	minutes := strings.Join(strings.Fields(pdftest.Text(t, fetchBytes(t, admin, "#board-minutes"))), " ")
	for _, want := range []string{"Exam board: " + co.Name, "Sat on 1 July 2027", "Tara Trainee", "Decision: Awarded", "Pat Peer", "Decision: Deferred",
		"Reason: Illness, agreed with the programme lead", "Outstanding: One residential day, by 30 September 2027"} {
		if !strings.Contains(minutes, want) {
			t.Errorf("the minutes lack %q: %s", want, minutes)
		}
	}
	boardPath := strings.TrimPrefix(boardURL, f.ts.URL)
	fitsPhone(t, admin, f.ts.URL, phonePage{path: boardPath, shot: "board-phone"}, phonePage{path: "/cohorts/" + co.ID + "/boards"})

	// Tara finds her certificate on her account page, and her training record.
	trainee := browser.NewIsolatedTab().For(t)
	signInAs(t, f, trainee, accounts.RoleTrainee)
	trainee.Navigate(f.ts.URL + "/account")
	if !trainee.Exists("#account-training-record") || trainee.Count(".certificate-download") != 1 {
		t.Fatalf("the account page has no certificate or no training record")
	}
	qrs := pdftest.QRCodes(t, fetchBytes(t, trainee, ".certificate-download"))
	if len(qrs) != 1 || !strings.HasPrefix(qrs[0], f.ts.URL+"/verify/") {
		t.Fatalf("QR codes in the certificate: %q", qrs)
	}
	record := strings.Join(strings.Fields(pdftest.Text(t, fetchBytes(t, trainee, "#account-training-record"))), " ")
	if !strings.Contains(record, "Training record") || !strings.Contains(record, "Trainee: Tara Trainee") {
		t.Errorf("the training record: %s", record)
	}

	anyone := browser.NewIsolatedTab().For(t)
	anyone.Navigate(qrs[0])
	if anyone.Status() != http.StatusOK {
		t.Fatalf("the QR code's address answered %d", anyone.Status())
	}
	wantText(t, anyone, "#verify-name", "Tara Trainee")
	wantText(t, anyone, "#verify-status", "Valid")

	// The administrator revokes the award, with a reason.
	admin.Navigate(boardURL)
	admin.Click("#revoke-open-" + tara)
	admin.Fill("#revoke-reason-"+tara, "Awarded in error: a register was wrong")
	admin.Submit("#revoke-" + tara)
	wantText(t, admin, "#award-state-"+tara, "Revoked on")
	wantText(t, admin, "#award-state-"+tara, "Awarded in error")
	checkPage(t, admin, "board-revoked")

	anyone.Reload()
	wantText(t, anyone, "#verify-status", "Revoked on ")
	checkPage(t, anyone, "verify-revoked-by-board")
}
