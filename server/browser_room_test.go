package server_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"polyphony/internal/browsertest"
)

// The live dialogue room in real browsers: two facilitators and two trainees, each in a tab
// of their own, through a whole session: turns, hands, the floor, the reflecting team's
// phase, a mindful pause, the meter, a trainee's connection cut off, closing the room and the
// transcript.

// socketSpyJS runs before each page of a tab: it keeps the page's websockets in
// window.__sockets, so that the test can cut one off, and drops what the page sends while
// window.__blockSend is true, as a connection that has silently died does.
const socketSpyJS = `(() => {
	const Native = window.WebSocket;
	window.__sockets = [];
	window.__blockSend = false;
	window.WebSocket = class extends Native {
		constructor(...args) {
			super(...args);
			window.__sockets.push(this);
		}
		send(data) {
			if (!window.__blockSend) super.send(data);
		}
	};
})();`

// spyOnSockets installs socketSpyJS in the tab for every page it loads from now on.
func spyOnSockets(t *testing.T, b *browsertest.Browser) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: socketSpyJS}); err != nil {
		t.Fatalf("install the websocket spy: %v", err)
	}
}

// waitJS waits until the JavaScript expression js is true in the tab.
func waitJS(t *testing.T, b *browsertest.Browser, what, js string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ok bool
		b.Eval("!!("+js+")", &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var status, body string
			b.Eval(`document.getElementById('room-status')?.textContent ?? ''`, &status)
			b.Eval(`document.querySelector('main')?.innerText.slice(0, 1500) ?? ''`, &body)
			t.Fatalf("%s: still not so after 10s (%s)\nroom status: %q\npage: %s", what, js, status, body)
		}
		time.Sleep(40 * time.Millisecond)
	}
}

// turns returns the turns in the room's log, as "seq text".
func turns(b *browsertest.Browser) []string {
	var out []string
	b.Eval(`[...document.querySelectorAll('#log-list .turn')].map(li => li.dataset.seq + ' ' + li.querySelector('.turn__text').textContent)`, &out)
	return out
}

// say types text into the tab's composer and presses Enter.
func say(b *browsertest.Browser, text string) {
	b.Fill("#message", text+"\n")
}

// turnJS is true when the log holds a turn whose text is text.
func turnJS(text string) string {
	return `[...document.querySelectorAll('#log-list .turn__text')].some(p => p.textContent === ` + jsString(text) + `)`
}

func TestBrowserRoomSession(t *testing.T) {
	start := time.Now()
	f := newFixture(t)
	cohort := f.demoCohort(t)
	path := "/rooms/" + cohort.ID + "/cohort"
	browser := browsertest.New(t)

	type person struct {
		name string
		b    *browsertest.Browser
		id   string
	}
	join := func(email string) person {
		l := f.logins[email]
		if l.Email == "" {
			t.Fatalf("no demo login %s", email)
		}
		b := browser.NewIsolatedTab()
		spyOnSockets(t, b)
		b.Navigate(f.ts.URL + "/signin?next=" + path)
		signIn(b, l.Email, l.Password)
		wantPath(t, b, f.ts.URL, path)
		waitJS(t, b, l.Name+" connects", `document.getElementById('room-status').textContent === 'Connected'`)
		var id string
		b.Eval(`document.getElementById('room').dataset.user`, &id)
		return person{l.Name, b, id}
	}

	fran := join("facilitator@polyphony.example")
	wantText(t, fran.b, "h1", "Cohort dialogue room")
	wantText(t, fran.b, "#room-open", "Closed")
	wantText(t, fran.b, "#phase", "The room is closed")
	if !fran.b.Exists("#message[disabled]") {
		t.Errorf("the composer of a closed room is not disabled")
	}
	screenshot(fran.b, "room-closed")

	fran.b.Submit("#open-room")
	wantText(t, fran.b, ".nhsuk-inset-text", "The room is open.")
	waitJS(t, fran.b, "the room opens", `document.getElementById('room-open').textContent === 'Open'`)
	wantText(t, fran.b, "#phase", "Network speaks")

	femi := join("facilitator2@polyphony.example")
	tara := join("trainee@polyphony.example")
	pat := join("peer@polyphony.example")
	everyone := []person{fran, femi, tara, pat}
	for _, p := range everyone {
		waitJS(t, p.b, p.name+" sees all four people", `document.getElementById('people').children.length === 4`)
		wantText(t, p.b, "#people", "Pat Peer")
		wantText(t, p.b, "#room-open", "Open")
	}
	if tara.b.Exists("#room-controls") || tara.b.Exists("#open-room") {
		t.Errorf("a trainee is shown the facilitator controls")
	}
	fran.b.AssertNoAxeViolations(t)

	// seeAll waits until every tab shows a turn with text.
	seeAll := func(text string) {
		t.Helper()
		for _, p := range everyone {
			waitJS(t, p.b, p.name+" sees "+text, turnJS(text))
		}
	}
	// sameLogs checks that every tab has the same turns in the same order, none twice.
	sameLogs := func(want int) {
		t.Helper()
		ref := turns(fran.b)
		if len(ref) != want {
			t.Errorf("%s's log has %d turns, want %d: %q", fran.name, len(ref), want, ref)
		}
		for _, p := range everyone[1:] {
			if got := turns(p.b); !slices.Equal(got, ref) {
				t.Errorf("%s's log differs from %s's:\n got %q\nwant %q", p.name, fran.name, got, ref)
			}
		}
	}

	// Turns, seen by everyone in the same order.
	say(tara.b, "I keep thinking about the night shifts.")
	seeAll("I keep thinking about the night shifts.")
	say(femi.b, "Thank you, Tara. Can you say more?")
	say(pat.b, "They were hard for me too.")
	seeAll("Thank you, Tara. Can you say more?")
	seeAll("They were hard for me too.")
	sameLogs(3)
	wantText(t, fran.b, "#log-list .turn", "Tara Trainee")
	if got := fran.b.Value("#message"); got != "" {
		t.Errorf("composer not emptied after sending: %q", got)
	}

	// Others see that someone is typing.
	fran.b.Fill("#message", "Hm")
	waitJS(t, tara.b, "Tara sees Fran typing", `document.getElementById('typing').textContent === 'Fran Facilitator is typing…'`)
	fran.b.Fill("#message", "")

	// A raised hand, seen by all in the queue, and the floor given.
	pat.b.Click("#raise-hand")
	for _, p := range everyone {
		waitJS(t, p.b, p.name+" sees Pat's hand", `document.getElementById('hands').innerText.includes('Pat Peer')`)
	}
	waitJS(t, pat.b, "Pat is offered to lower the hand", `!document.getElementById('lower-hand').hidden`)
	fran.b.Click("#hands .room-list__button")
	for _, p := range everyone {
		waitJS(t, p.b, p.name+" sees the queue empty", `document.getElementById('hands').children.length === 0`)
	}
	waitJS(t, pat.b, "Pat has the floor", `document.getElementById('floor').textContent === 'You have the floor.'`)
	wantText(t, tara.b, "#floor", "The floor is with Pat Peer.")

	// The team reflects: trainees listen, with their composer disabled and the reason shown.
	fran.b.Click(`[data-phase="team_reflects"]`)
	for _, p := range []person{tara, pat} {
		waitJS(t, p.b, p.name+" sees the team reflect", `document.getElementById('phase').classList.contains('phase-banner--team-reflects')`)
		waitJS(t, p.b, p.name+"'s composer is disabled", `document.getElementById('message').disabled && document.getElementById('send').disabled`)
		wantText(t, p.b, "#composer-reason", "trainees listen")
		wantText(t, p.b, "#phase", "The team reflects")
	}
	waitJS(t, femi.b, "Femi can still speak", `document.getElementById('phase').classList.contains('phase-banner--team-reflects') && !document.getElementById('message').disabled`)
	say(femi.b, "I noticed how much care there was in that.")
	seeAll("I noticed how much care there was in that.")
	screenshot(tara.b, "room-team-reflects")
	tara.b.AssertNoAxeViolations(t)

	// The network responds: trainees speak again.
	fran.b.Click(`[data-phase="network_responds"]`)
	waitJS(t, tara.b, "Tara may speak again", `document.getElementById('phase').classList.contains('phase-banner--network-responds') && !document.getElementById('message').disabled`)
	if !tara.b.Exists("#composer-reason[hidden]") {
		t.Errorf("the reason for a disabled composer is still shown")
	}
	say(tara.b, "Hearing that helps.")
	seeAll("Hearing that helps.")

	// Input locked: trainees cannot speak unless given the floor; facilitators still can.
	fran.b.Click("#lock-input")
	waitJS(t, tara.b, "Tara's composer is locked", `document.getElementById('message').disabled`)
	wantText(t, tara.b, "#composer-reason", "locked input")
	waitJS(t, pat.b, "Pat, who has the floor, may still speak", `document.getElementById('log-list').innerText.includes('locked input') && !document.getElementById('message').disabled`)
	waitJS(t, fran.b, "Fran is offered to unlock", `!document.getElementById('unlock-input').hidden`)
	say(femi.b, "While input is locked, we are listening for a moment.")
	seeAll("While input is locked, we are listening for a moment.")
	fran.b.Click("#unlock-input")
	waitJS(t, tara.b, "Tara may speak after the unlock", `!document.getElementById('message').disabled`)

	// A facilitator lowers someone else's hand.
	tara.b.Click("#raise-hand")
	waitJS(t, femi.b, "Femi sees Tara's hand", `document.getElementById('hands').innerText.includes('Tara Trainee')`)
	femi.b.Click(`#hands [data-key="hand-lower-` + tara.id + `"]`)
	for _, p := range everyone {
		waitJS(t, p.b, p.name+" sees Tara's hand lowered", `document.getElementById('hands').children.length === 0`)
	}
	waitJS(t, tara.b, "Tara is offered to raise her hand again", `!document.getElementById('raise-hand').hidden`)

	// A go-round in the order people joined: Fran passes, Femi speaks, Tara passes, and Fran
	// ends it while Pat holds the floor.
	fran.b.Click("#start-go-round")
	for _, p := range everyone {
		waitJS(t, p.b, p.name+" sees the go-round", `document.querySelectorAll('#go-round li').length === 4`)
	}
	wantText(t, fran.b, "#go-round [aria-current]", "Fran Facilitator")
	fran.b.Click("#pass")
	waitJS(t, femi.b, "Femi holds the floor", `!document.getElementById('pass').hidden`)
	wantText(t, tara.b, "#composer-reason", "Femi Facilitator has the floor")
	say(femi.b, "In this round I want to hear from each of you.")
	seeAll("In this round I want to hear from each of you.")
	waitJS(t, tara.b, "Tara holds the floor", `!document.getElementById('pass').hidden && !document.getElementById('message').disabled`)
	if !pat.b.Exists("#pass[hidden]") {
		t.Errorf("Pat is offered to pass while Tara holds the floor")
	}
	tara.b.Click("#pass")
	waitJS(t, pat.b, "Pat holds the floor", `document.getElementById('floor').textContent === 'Go-round: you have the floor.'`)
	fran.b.Click("#end-go-round")
	for _, p := range everyone {
		waitJS(t, p.b, p.name+" sees the go-round end", `document.getElementById('go-round-wrap').hidden`)
	}

	// Before the next round Fran sees its order, presence order, and moves Pat to the front.
	waitJS(t, fran.b, "Fran sees the next go-round's order", `!document.getElementById('go-round-plan').hidden && document.querySelectorAll('#go-round-plan-list li').length === 4`)
	wantText(t, fran.b, "#go-round-plan-list li:first-child", "Fran Facilitator")
	wantText(t, fran.b, "#go-round-plan-list li:last-child", "Pat Peer")
	for range 3 {
		fran.b.Click(`[data-key="plan-up-` + pat.id + `"]`)
	}
	wantText(t, fran.b, "#go-round-plan-list li:first-child", "Pat Peer")
	fran.b.Click("#start-go-round")
	for _, p := range everyone {
		waitJS(t, p.b, p.name+" sees the go-round start with Pat", `document.querySelector('#go-round li:first-child') !== null && document.querySelector('#go-round li:first-child').innerText.includes('Pat Peer')`)
	}
	wantText(t, fran.b, "#go-round [aria-current]", "Pat Peer")
	fran.b.Click("#end-go-round")
	waitJS(t, fran.b, "the second go-round ends", `document.getElementById('go-round-wrap').hidden`)

	// A mindful pause: a countdown for all, and no sending until it ends.
	fran.b.Fill("#pause-seconds", "5")
	fran.b.Click("#start-pause")
	countdown := regexp.MustCompile(`^0:0[0-5]$`)
	for _, p := range everyone {
		waitJS(t, p.b, p.name+" sees the pause", `!document.getElementById('pause').hidden`)
		if got := p.b.Text("#pause-count"); !countdown.MatchString(got) {
			t.Errorf("%s's countdown shows %q", p.name, got)
		}
	}
	waitJS(t, tara.b, "Tara's composer is paused", `document.getElementById('message').disabled`)
	wantText(t, tara.b, "#composer-reason", "Mindful pause")
	if !fran.b.Exists("#send[disabled]") {
		t.Errorf("a facilitator can send during a pause")
	}
	screenshot(pat.b, "room-pause")
	for _, p := range everyone {
		waitJS(t, p.b, p.name+" sees the pause end", `document.getElementById('pause').hidden && !document.getElementById('message').disabled`)
	}

	// The meter: the whole room for a facilitator, only their own share for a trainee.
	waitJS(t, fran.b, "the facilitator's meter shows everyone", `document.querySelectorAll('#meter-chart .meter__bar').length === 4`)
	wantText(t, fran.b, "#meter-equity", "Balance of voices")
	waitJS(t, tara.b, "the trainee's meter shows one bar", `document.querySelectorAll('#meter-chart .meter__bar').length === 1`)
	if got := tara.b.Text("#meter-text"); !strings.HasPrefix(got, "You: ") || strings.Contains(got, "Pat") {
		t.Errorf("the trainee's meter text is %q, want only their own share", got)
	}
	if tara.b.Text("#meter-equity") != "" {
		t.Errorf("a trainee is shown the room's balance of voices")
	}
	if strings.Contains(strings.ToLower(fran.b.Text("#meter-panel")), "score") {
		t.Errorf("the meter calls itself a score")
	}
	screenshot(fran.b, "room-facilitator")

	// Tara's connection dies while she sends: her message waits, her draft stays, and after
	// reconnecting everyone has every turn exactly once.
	tara.b.Eval(`window.__blockSend = true`, nil)
	say(tara.b, "Sent while the line was down.")
	waitJS(t, tara.b, "the message waits in the outbox", `!document.getElementById('outbox-wrap').hidden && document.getElementById('outbox').innerText.includes('Sent while the line was down.')`)
	tara.b.Fill("#message", "A thought I have not sent")
	tara.b.Eval(`window.__blockSend = false; window.__sockets.at(-1).close()`, nil)
	waitJS(t, tara.b, "Tara's status says reconnecting", `document.getElementById('room-status').textContent === 'Reconnecting…'`)
	say(pat.b, "Said while Tara was away.")
	waitJS(t, tara.b, "Tara reconnects", `document.getElementById('room-status').textContent === 'Connected' && window.__sockets.length === 2`)
	seeAll("Sent while the line was down.")
	seeAll("Said while Tara was away.")
	waitJS(t, tara.b, "the outbox empties", `document.getElementById('outbox-wrap').hidden`)
	if got := tara.b.Value("#message"); got != "A thought I have not sent" {
		t.Errorf("after reconnecting the composer holds %q", got)
	}
	sameLogs(9)

	// A message not yet acknowledged and the draft survive a reload too.
	tara.b.Eval(`window.__blockSend = true`, nil)
	say(tara.b, "Sent just before a reload.")
	tara.b.Fill("#message", "Still writing this")
	tara.b.Reload()
	waitJS(t, tara.b, "Tara is back", `document.getElementById('room-status').textContent === 'Connected'`)
	seeAll("Sent just before a reload.")
	if got := tara.b.Value("#message"); got != "Still writing this" {
		t.Errorf("after a reload the composer holds %q", got)
	}
	sameLogs(10)

	// On a phone.
	pat.b.SetMobileViewport(375, 812)
	pat.b.Reload()
	waitJS(t, pat.b, "Pat reconnects on the phone", `document.getElementById('room-status').textContent === 'Connected' && document.querySelectorAll('#log-list .turn').length === 10`)
	noHorizontalScroll(t, pat.b)
	screenshot(pat.b, "room-phone")
	pat.b.AssertNoAxeViolations(t)

	// Removing a member takes a confirming second click; the removed member is told why and
	// cannot come back until the room is opened again.
	fran.b.Click(`#people [data-key="remove-` + pat.id + `"]`)
	waitJS(t, fran.b, "Fran is asked to confirm", `document.querySelector('#people [data-key="remove-`+pat.id+`"]').innerText.startsWith('Confirm: remove')`)
	fran.b.Click(`#people [data-key="remove-` + pat.id + `"]`)
	waitJS(t, pat.b, "Pat is told of the removal", `document.getElementById('room-status').textContent === 'Disconnected' && document.getElementById('composer-error').textContent.includes('removed from this room')`)
	for _, p := range []person{fran, femi, tara} {
		waitJS(t, p.b, p.name+" sees Pat gone", `!document.getElementById('people').innerText.includes('Pat Peer')`)
	}
	wantText(t, tara.b, "#log-list", "removed Pat Peer from the room")
	pat.b.Reload()
	waitJS(t, pat.b, "Pat stays out after a reload", `document.getElementById('room-status').textContent === 'Disconnected'`)

	// Closing the room, confirmed on a page of its own.
	fran.b.Submit("#close-room")
	wantText(t, fran.b, "#confirm-consequences", "Closing the room ends the session for everyone")
	fran.b.AssertNoAxeViolations(t)
	fran.b.Submit("#confirm")
	wantText(t, fran.b, ".nhsuk-inset-text", "The room is closed.")
	for _, p := range []person{fran, femi, tara} {
		waitJS(t, p.b, p.name+" sees the room closed", `document.getElementById('room-open').textContent === 'Closed' && document.getElementById('message').disabled`)
	}
	wantText(t, tara.b, "#composer-reason", "The room is closed")

	// The transcript, and a trainee withdrawing a turn of her own.
	tara.b.Navigate(f.ts.URL + path + "/transcript")
	wantText(t, tara.b, "h1", "Transcript: Cohort dialogue room")
	for _, want := range []string{"I keep thinking about the night shifts.", "They were hard for me too.", "Sent while the line was down.", "Sent just before a reload."} {
		wantText(t, tara.b, "#transcript", want)
	}
	if n := tara.b.Count("#transcript .transcript__turn"); n != 10 {
		t.Errorf("the transcript has %d turns, want 10", n)
	}
	if href, _ := tara.b.Attr("#download-transcript", "href"); href != path+"/transcript.md" {
		t.Errorf("download link %q", href)
	}
	tara.b.AssertNoAxeViolations(t)
	// Tara's turns have a withdraw button each; the others' none.
	if n := tara.b.Count("#transcript [data-withdraw]"); n != 4 {
		t.Errorf("Tara is offered %d withdraw buttons, want 4 (one for each of her turns)", n)
	}
	var seq string
	tara.b.Eval(`[...document.querySelectorAll('#transcript .transcript__turn')].find(li => li.innerText.includes('Hearing that helps.')).dataset.seq`, &seq)
	tara.b.Submit(fmt.Sprintf("[data-withdraw=%q]", seq))
	wantText(t, tara.b, "#confirm-quote", "Hearing that helps.")
	tara.b.Submit("#confirm")
	wantText(t, tara.b, ".nhsuk-inset-text", "Your turn is withdrawn")
	wantText(t, tara.b, "#turn-"+seq, "(withdrawn by the speaker)")
	if strings.Contains(tara.b.Text("#transcript"), "Hearing that helps.") {
		t.Errorf("the withdrawn turn's words are still on the transcript page")
	}
	screenshot(tara.b, "transcript")
	tara.b.AssertNoAxeViolations(t)
	var md string
	tara.b.Eval(`fetch(`+jsString(path+"/transcript.md")+`).then(r => r.text())`, &md)
	if strings.Contains(md, "Hearing that helps") || !strings.Contains(md, "They were hard for me too") {
		t.Errorf("the Markdown download does not match the withdrawal:\n%s", md)
	}
	t.Logf("the room session took %v", time.Since(start).Round(time.Second))
}
