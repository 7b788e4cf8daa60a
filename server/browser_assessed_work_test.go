package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"polyphony/assessment/marking"
	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
)

// One assessed piece end to end, in a browser, as the people who use it: the administrator
// sets up a rated dialogue on the key-elements rubric, marked blind by two assessors and
// anonymously; Tara submits the transcript of the cohort's room, in which Fran (the
// facilitator) spoke too, and Fran agrees to her words being used; Pat submits the transcript
// of a session's room, where Fran also spoke, and Fran refuses. The administrator spreads
// the marking over two assessors, who mark blind; Tara's two marks agree within the
// tolerance, Pat's do not, and a third assessor moderates his. The administrator releases
// the results; each trainee is emailed and sees their own result, and only their own.
func TestBrowserAssessedWorkEndToEnd(t *testing.T) {
	f := newFixture(t, withMailServer())
	mc := f.markingCast(t)
	ctx := context.Background()
	tara, pat, fran := f.byRole[accounts.RoleTrainee], accounts.NewUser{}, f.byRole[accounts.RoleFacilitator]
	var patPassword string
	for _, l := range f.logins {
		if l.Role == accounts.RoleTrainee && l.Email != tara.Email {
			pat.Email, pat.Name, patPassword = l.Email, l.Name, l.Password
		}
	}
	rubric, err := f.marking.LatestRubric(ctx, marking.KeyElementsRubricID)
	if err != nil {
		t.Fatal(err)
	}

	// What was said: Tara and Fran in the cohort's room, Pat and Fran in a session's room.
	facilitator := f.signInAs(t, fran.Email, fran.Password)
	session := dialogueSession(t, f, mc.cohort, false)
	say := func(c *client, room, text string) {
		t.Helper()
		conn, _, err := c.dialRoom("/rooms/"+mc.cohort+"/"+room+"/ws", "")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		next(t, conn, "welcome")
		if err := conn.WriteJSON(map[string]string{"type": "say", "text": text, "id": randomWord()}); err != nil {
			t.Fatal(err)
		}
		next(t, conn, "ack")
	}
	for _, room := range []string{"cohort", session} {
		if res, body := facilitator.do("POST", "/rooms/"+mc.cohort+"/"+room+"/open", url.Values{"csrf": {facilitator.csrf}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("open %s: %d %s", room, res.StatusCode, body)
		}
	}
	say(mc.trainee, "cohort", "Tara: I stayed with the silence after the mother spoke.")
	say(facilitator, "cohort", "Fran: The father's words about the night shift stayed with me.")
	say(mc.peer, session, "Pat: I asked the brother what he had noticed first.")
	say(facilitator, session, "Fran: Words I would rather keep in this room.")

	browser := browsertest.New(t)
	as := func(email, password, path string) *browsertest.Browser {
		t.Helper()
		b := browser.NewIsolatedTab().For(t)
		b.Navigate(f.ts.URL + path)
		signIn(b, email, password)
		wantPath(t, b, f.ts.URL, path)
		return b
	}

	// The administrator sets the piece up from the page.
	al := f.byRole[accounts.RoleAdmin]
	admin := as(al.Email, al.Password, "/marking/cohorts/"+mc.cohort+"/new")
	admin.Fill("#piece-title", "Rated practice network meeting")
	admin.Fill("#piece-guidance", "Submit the transcript of a **practice network meeting** you took part in.")
	admin.Fill("#piece-due-date", time.Now().AddDate(0, 0, 14).Format(time.DateOnly))
	admin.Fill("#piece-due-time", "17:00")
	admin.Click(`label[for="piece-accepts-transcript"]`)
	admin.Eval(`(() => { document.getElementById('piece-rubric').value = '`+marking.KeyElementsRubricID+`'; return true })()`, nil)
	admin.Click(`label[for="piece-scheme-double"]`)
	if !admin.Exists("#piece-anonymous:checked") {
		admin.Click(`label[for="piece-anonymous"]`)
	}
	admin.Fill("#piece-tolerance", "3")
	admin.AssertNoAxeViolations(t)
	admin.ClickAndWait("#piece-save")
	if !strings.HasPrefix(strings.TrimPrefix(admin.URL(), f.ts.URL), "/marking/pieces/") {
		t.Fatalf("after setting up the piece the page is %s:\n%s", admin.URL(), admin.Text("main"))
	}
	piecePath := strings.TrimPrefix(admin.URL(), f.ts.URL)
	if i := strings.IndexAny(piecePath, "?#"); i >= 0 {
		piecePath = piecePath[:i]
	}
	pieceID := strings.TrimPrefix(piecePath, "/marking/pieces/")
	p, err := f.marking.Piece(ctx, marking.Actor{UserID: f.userID(t, al.Email), Role: accounts.RoleAdmin}, pieceID)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Double() || !p.Anonymous || !p.Accepts.Transcript || p.RubricID != marking.KeyElementsRubricID || p.Tolerance != 3 {
		t.Fatalf("the piece set up: %+v", p.PieceInput)
	}

	// Each trainee submits a room's transcript from the piece's page.
	submit := func(b *browsertest.Browser, room string) {
		t.Helper()
		b.Eval(`(() => { document.getElementById('submit-room').value = '`+room+`'; return true })()`, nil)
		b.AssertNoAxeViolations(t)
		b.ClickAndWait("#submit-work")
		wantText(t, b, "#my-state", "Submitted")
	}
	taraTab := as(tara.Email, tara.Password, piecePath)
	submit(taraTab, "cohort")
	patTab := as(pat.Email, patPassword, piecePath)
	submit(patTab, session)

	// Fran is asked about each; she agrees to Tara's use and refuses Pat's.
	f.mailTo(t, fran.Email, tara.Name+" asks to use your words from a dialogue room")
	f.mailTo(t, fran.Email, pat.Name+" asks to use your words from a dialogue room")
	franTab := as(fran.Email, fran.Password, "/consent")
	franTab.AssertNoAxeViolations(t)
	answer := func(owner, button string) {
		t.Helper()
		id := ""
		franTab.Eval(`(() => { const c = [...document.querySelectorAll('#asked li[data-request]')].find(li => li.textContent.includes('`+owner+`')); return c ? c.dataset.request : '' })()`, &id)
		if id == "" {
			t.Fatalf("Fran is not asked about %s's submission:\n%s", owner, franTab.Text("main"))
		}
		franTab.ClickAndWait("#" + button + "-" + id)
	}
	answer(tara.Name, "agree")
	answer(pat.Name, "refuse")

	// The administrator spreads the marking over the first two assessors only.
	admin.Navigate(f.ts.URL + piecePath)
	wantText(t, admin, "#overview", "C0001")
	wantText(t, admin, "#overview", "C0002")
	admin.Click(`input[name="assessors"][value="` + mc.assessorIDs[2] + `"]`)
	admin.ClickAndWait("#allocate")
	admin.AssertNoAxeViolations(t)

	// The markers, blind to each other: levels by index of the rubric's four.
	mark := func(b *browsertest.Browser, candidate string, levels func(i int) string, comment string) {
		t.Helper()
		b.Navigate(f.ts.URL + piecePath + "/submissions/" + candidate)
		if b.Exists("#others") {
			t.Errorf("%s: a marker sees the other's marking before submitting", candidate)
		}
		for _, name := range []string{tara.Name, pat.Name} {
			if strings.Contains(b.Text("main"), name) {
				t.Errorf("%s: the marking page names %s under anonymous marking", candidate, name)
			}
		}
		for i, cr := range rubric.Criteria {
			level := levels(i)
			sel := `label[for="level-` + cr.ID + `-` + level + `"]`
			if level == cr.Levels[0].ID {
				sel = `label[for="level-` + cr.ID + `"]`
			}
			b.Click(sel)
		}
		b.Fill("#mark-feedback", comment)
		waitJS(t, b, "the draft is saved", `/Draft saved \(version \d+\)/.test(document.getElementById('save-state').textContent)`)
		b.ClickAndWait("#mark-submit")
		wantPath(t, b, f.ts.URL, "/marking")
	}
	ashLogin := f.byRole[accounts.RoleAssessor]
	ash := as(ashLogin.Email, ashLogin.Password, "/marking")
	wantText(t, ash, "#queue", "C0001")
	wantText(t, ash, "#queue", "C0002")
	second := as("assessor2@nhs.example", "assessor password 2", "/marking")

	// Tara's: Fran's words are there, as she agreed.
	ash.Navigate(f.ts.URL + piecePath + "/submissions/C0001")
	wantText(t, ash, "#transcript", "The father's words about the night shift stayed with me.")
	ash.AssertNoAxeViolations(t)
	// Pat's: Fran refused, so her turn is withheld.
	ash.Navigate(f.ts.URL + piecePath + "/submissions/C0002")
	wantText(t, ash, "#transcript", "[turn withheld by the speaker]")
	if strings.Contains(ash.Text("#transcript"), "Words I would rather keep") {
		t.Errorf("a refused turn reaches the marker")
	}
	wantText(t, ash, "#transcript", "I asked the brother what he had noticed first.")

	two := func(int) string { return "2" }
	mark(ash, "C0001", two, "Tara's first marker: a clear, present-moment dialogue.")
	mark(second, "C0001", func(i int) string {
		if i == 0 {
			return "3"
		}
		return "2"
	}, "Tara's second marker.")
	mark(ash, "C0002", func(int) string { return "3" }, "Pat's first marker: exemplary.")
	mark(second, "C0002", func(int) string { return "1" }, "Pat's second marker: partly there.")

	// Tara's two marks are within the tolerance: agreed. Pat's pass and refer: moderation.
	state := func(candidate string) marking.State {
		t.Helper()
		s, err := f.marking.State(ctx, marking.Actor{UserID: f.userID(t, al.Email), Role: accounts.RoleAdmin}, pieceID+"/"+candidate)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := state("C0001"); s != marking.Agreed {
		t.Errorf("Tara's submission is %s, want agreed", s.Label())
	}
	if s := state("C0002"); s != marking.InModeration {
		t.Fatalf("Pat's submission is %s, want in moderation", s.Label())
	}

	// The third assessor moderates Pat's, seeing both marks.
	moderator := as("assessor3@nhs.example", "assessor password 3", piecePath+"/submissions/C0002")
	wantText(t, moderator, "#others", "(36, pass)")
	wantText(t, moderator, "#others", "(12, refer)")
	wantText(t, moderator, "#others-feedback", "Pat's first marker: exemplary.")
	wantText(t, moderator, "#others-feedback", "Pat's second marker: partly there.")
	moderator.AssertNoAxeViolations(t)
	moderator.Fill("#moderation-total", "22")
	moderator.Click(`label[for="moderation-outcome"]`)
	moderator.Fill("#moderation-reason", "Read together: most elements are clearly present; the second marker missed the reflections.")
	moderator.Fill("#moderation-feedback", "Your questions opened the conversation to the whole network.")
	moderator.ClickAndWait("#moderate")
	if s := state("C0002"); s != marking.Agreed {
		t.Fatalf("after moderation Pat's submission is %s, want agreed", s.Label())
	}

	// Before release the trainees see nothing of the marking.
	taraTab.Reload()
	if taraTab.Exists("#result") {
		t.Errorf("Tara sees a result before release")
	}

	// The administrator releases every agreed result.
	admin.Navigate(f.ts.URL + piecePath)
	admin.ClickAndWait("#release-all")
	admin.AssertNoAxeViolations(t)
	for _, c := range []string{"C0001", "C0002"} {
		if s := state(c); s != marking.Released {
			t.Errorf("%s after release is %s", c, s.Label())
		}
	}
	f.mailTo(t, tara.Email, "Marks released: Rated practice network meeting")
	f.mailTo(t, pat.Email, "Marks released: Rated practice network meeting")

	// Each trainee sees their own result, and nothing of the other's.
	taraTab.Reload()
	wantText(t, taraTab, "#result", "Pass, 25 of 36")
	wantText(t, taraTab, "#result", "a clear, present-moment dialogue")
	if strings.Contains(taraTab.Text("main"), "Pat's") || strings.Contains(taraTab.Text("main"), "brother") {
		t.Errorf("Tara's page shows something of Pat's")
	}
	taraTab.AssertNoAxeViolations(t)
	patTab.Reload()
	wantText(t, patTab, "#result", "Pass, 22 of 36")
	wantText(t, patTab, "#result", "Your questions opened the conversation to the whole network.")
	if strings.Contains(patTab.Text("main"), "Tara's") || strings.Contains(patTab.Text("main"), "night shift") {
		t.Errorf("Pat's page shows something of Tara's")
	}
	if strings.Contains(patTab.Text("main"), "Read together") {
		t.Errorf("Pat sees the moderator's reason, which is for the record")
	}
	patTab.SetMobileViewport(375, 740)
	patTab.Reload()
	noHorizontalScroll(t, patTab)
	patTab.AssertNoAxeViolations(t)
	for _, c := range []string{"C0001", "C0002"} {
		res, _ := mc.peer.do("GET", "/api/v1/pieces/"+pieceID+"/submissions/"+c, nil)
		if res.StatusCode < 400 {
			t.Errorf("Pat reads submission %s as its markers do: %d", c, res.StatusCode)
		}
	}
}
