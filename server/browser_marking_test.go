package server_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"polyphony/assessment/marking"
	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
)

// Assessed work in a real browser: a marker opens the submission from their queue, chooses
// a level for each criterion, and the draft saves itself as they type; the same page in a
// second tab meets the first's save as a conflict and keeps its own text; then "Submit my
// marking". The trainee's page and the agreement page are checked too, with axe, and the
// marking page on a phone.
func TestBrowserMarking(t *testing.T) {
	f := newFixture(t)
	mc := f.markingCast(t)
	ctx := context.Background()
	p := mc.createPiece(t, mc.admin, pieceInput("Reflective account", marking.SevenPrinciplesRubricID, marking.SchemeDoubleBlind, true))
	mc.submitEntry(t, mc.trainee, p.ID, "What the network said")
	res, body := mc.admin.send("POST", "/api/v1/pieces/"+p.ID+"/allocation", map[string]any{"assessors": []string{mc.assessorIDs[0], mc.assessorIDs[1]}}, nil)
	wantStatus(t, "allocate", res, body, http.StatusOK)
	r, err := f.marking.LatestRubric(ctx, marking.SevenPrinciplesRubricID)
	if err != nil {
		t.Fatal(err)
	}
	marker := marking.Actor{UserID: mc.assessorIDs[0], Role: accounts.RoleAssessor, CohortIDs: []string{mc.cohort}}
	ref := p.ID + "/C0001"
	stored := func(what string, ok func(marking.Mark) bool) marking.Mark {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			m, err := f.marking.ReadMark(ctx, marker, ref, marker.UserID)
			if err == nil && ok(m) {
				return m
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the stored mark is %+v (%v)", what, m, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	browser := browsertest.New(t)
	login := f.byRole[accounts.RoleAssessor]
	ash := browser.For(t)
	ash.Navigate(f.ts.URL + "/marking")
	signIn(ash, login.Email, login.Password)
	wantPath(t, ash, f.ts.URL, "/marking")
	wantText(t, ash, "#queue", "C0001")
	ash.AssertNoAxeViolations(t)
	ash.ClickAndWait(`#queue a[href$="/submissions/C0001"]`)
	wantPath(t, ash, f.ts.URL, "/marking/pieces/"+p.ID+"/submissions/C0001")
	wantText(t, ash, ".marking-layout__submission", "What I noticed in the meeting.")
	if strings.Contains(ash.Text("main"), mc.traineeName) {
		t.Errorf("the marking page names the trainee under anonymous marking")
	}
	ash.AssertNoAxeViolations(t)

	// Choosing levels and typing feedback saves a draft without a button.
	for _, cr := range r.Criteria {
		ash.Click(`label[for="level-` + cr.ID + `-merit"]`)
	}
	ash.Fill("#mark-feedback", "Thoughtful throughout.")
	waitJS(t, ash, "the draft is saved", `/Draft saved \(version \d+\)/.test(document.getElementById('save-state').textContent)`)
	first := stored("the first tab's draft", func(m marking.Mark) bool { return m.Feedback == "Thoughtful throughout." })
	if l, _ := first.Level(r.Criteria[0].ID); l.LevelID != "merit" {
		t.Errorf("the stored level of %s is %q, want merit", r.Criteria[0].ID, l.LevelID)
	}
	screenshot(ash, "marking-page")

	// A second tab opened before the first saves again meets a conflict and keeps its text.
	second := ash.NewTab().For(t)
	second.Navigate(ash.URL())
	ash.Fill("#mark-feedback", "Thoughtful throughout; the first tab again.")
	stored("the first tab's second save", func(m marking.Mark) bool { return strings.Contains(m.Feedback, "first tab again") })
	second.AllowConsoleError("status of 409 (Conflict)")
	second.Fill("#mark-feedback", "Written in the second tab.")
	waitJS(t, second, "the conflict shows", `!document.getElementById('conflict').hidden`)
	if got := second.Value("#mark-feedback"); got != "Written in the second tab." {
		t.Errorf("the second tab lost its text: %q", got)
	}
	wantText(t, second, "#save-state", "saved elsewhere")
	second.AssertNoAxeViolations(t)
	second.Click("#keep-mine")
	stored("the kept version", func(m marking.Mark) bool { return m.Feedback == "Written in the second tab." })

	// Submitting from the second tab, whose version is now the latest.
	waitJS(t, second, "the draft is saved", `/Draft saved \(version \d+\)/.test(document.getElementById('save-state').textContent)`)
	second.ClickAndWait("#mark-submit")
	wantPath(t, second, f.ts.URL, "/marking")
	stored("the submitted mark", func(m marking.Mark) bool { return m.Submitted })

	// On a phone the marking page stacks and does not scroll sideways.
	phone := browser.NewIsolatedTab().For(t)
	phone.SetMobileViewport(375, 740)
	phone.Navigate(f.ts.URL + "/marking/pieces/" + p.ID + "/submissions/C0001")
	signIn(phone, "assessor2@nhs.example", "assessor password 2") // markingCast's second assessor
	wantPath(t, phone, f.ts.URL, "/marking/pieces/"+p.ID+"/submissions/C0001")
	noHorizontalScroll(t, phone)
	if phone.Exists("#others") {
		t.Errorf("the second marker sees the first's marking before submitting")
	}
	phone.AssertNoAxeViolations(t)

	// The trainee's page, submitted and waiting, shows nothing of the marking.
	trainee := browser.NewIsolatedTab().For(t)
	tl := f.byRole[accounts.RoleTrainee]
	trainee.Navigate(f.ts.URL + "/marking/pieces/" + p.ID)
	signIn(trainee, tl.Email, tl.Password)
	wantText(t, trainee, "#my-state", "Submitted")
	if trainee.Exists("#result") {
		t.Errorf("the trainee sees a result before release")
	}
	trainee.AssertNoAxeViolations(t)
	trainee.SetMobileViewport(375, 740)
	trainee.Reload()
	noHorizontalScroll(t, trainee)

	// The administrator's page of the piece: the overview, allocation, sample, extension and
	// release, on a desk and on a phone.
	admin := browser.NewIsolatedTab().For(t)
	al := f.byRole[accounts.RoleAdmin]
	admin.Navigate(f.ts.URL + "/marking/pieces/" + p.ID)
	signIn(admin, al.Email, al.Password)
	wantText(t, admin, "#overview", "C0001")
	screenshot(admin, "marking-piece")
	admin.AssertNoAxeViolations(t)
	admin.SetMobileViewport(375, 740)
	admin.Reload()
	noHorizontalScroll(t, admin)
	admin.Navigate(f.ts.URL + "/marking/cohorts/" + mc.cohort + "/new")
	admin.AssertNoAxeViolations(t)
	noHorizontalScroll(t, admin)
}

// TestBrowserMarkingAgreement checks the agreement page, chart and table, with axe.
func TestBrowserMarkingAgreement(t *testing.T) {
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
	browser := browsertest.New(t)
	admin := browser.For(t)
	al := f.byRole[accounts.RoleAdmin]
	admin.Navigate(f.ts.URL + "/marking/cohorts/" + mc.cohort + "/agreement")
	signIn(admin, al.Email, al.Password)
	wantText(t, admin, "#pair-table-0", "0.75")
	if !admin.Exists("svg#chart-pairs-0 title") {
		t.Errorf("the chart has no title")
	}
	screenshot(admin, "marking-agreement")
	admin.AssertNoAxeViolations(t)
	admin.SetMobileViewport(375, 740)
	admin.Reload()
	noHorizontalScroll(t, admin)
}

// TestBrowserMarkingCitesTurn: on a transcript, the marker clicks a turn's button to cite it
// for the criterion they are working on, and the draft saves with it.
func TestBrowserMarkingCitesTurn(t *testing.T) {
	consent := &roomConsent{withheld: map[uint64]bool{}}
	f := newFixture(t, withConsent(consent))
	mc := f.markingCast(t)
	_, _, conn := openWithTrainee(t, f, "/rooms/"+mc.cohort+"/cohort")
	if err := conn.WriteJSON(map[string]string{"type": "say", "text": "What I asked the family", "id": "c1"}); err != nil {
		t.Fatal(err)
	}
	seq := uint64(next(t, conn, "ack")["ackSeq"].(float64))
	in := pieceInput("Rated dialogue", marking.KeyElementsRubricID, marking.SchemeSingle, true)
	in.Accepts = marking.Accepts{Transcript: true}
	p := mc.createPiece(t, mc.admin, in)
	res, body := mc.trainee.send("PUT", "/api/v1/pieces/"+p.ID+"/mine", map[string]any{"roomId": "cohort"}, nil)
	wantStatus(t, "submit the transcript", res, body, http.StatusOK)
	res, body = mc.admin.send("PUT", "/api/v1/pieces/"+p.ID+"/submissions/"+mc.traineeID+"/markers", map[string]any{"markers": []string{mc.assessorIDs[0]}}, nil)
	wantStatus(t, "allocate", res, body, http.StatusOK)

	browser := browsertest.New(t)
	login := f.byRole[accounts.RoleAssessor]
	ash := browser.For(t)
	ash.Navigate(f.ts.URL + "/marking/pieces/" + p.ID + "/submissions/C0001")
	signIn(ash, login.Email, login.Password)
	wantText(t, ash, "#transcript", "What I asked the family")
	ash.AssertNoAxeViolations(t)
	ash.Click("#turns-open-questions")
	ash.Click(".cite-turn")
	waitJS(t, ash, "the turn is cited", `document.getElementById('turns-open-questions').value === '`+strconv.FormatUint(seq, 10)+`'`)
	waitJS(t, ash, "the draft is saved", `/Draft saved/.test(document.getElementById('save-state').textContent)`)
	marker := marking.Actor{UserID: mc.assessorIDs[0], Role: accounts.RoleAssessor, CohortIDs: []string{mc.cohort}}
	m, err := f.marking.ReadMark(context.Background(), marker, p.ID+"/C0001", marker.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := m.Level("open-questions"); len(l.Turns) != 1 || l.Turns[0] != seq {
		t.Errorf("the stored citation is %+v, want turn %d", l, seq)
	}
}
