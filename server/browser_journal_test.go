package server_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
)

// The reflective journal in a real browser: a trainee writes an entry that saves itself as
// she types, through a reload and through a dropped connection, attaches a picture, and
// shares the entry with her supervisor, who reads it and comments; she sees the comment
// on her home page and his read in her access log, then stops sharing, and the entry is
// gone for him. A second test edits one entry in two tabs. Every page is checked with axe.

// setUploadFile puts the file at path into the file input that selector finds, as if the
// person had chosen it; the page gets its change event.
func setUploadFile(t *testing.T, b *browsertest.Browser, selector, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(selector), []string{path})); err != nil {
		t.Fatalf("choose %s for %s: %v", path, selector, err)
	}
}

// setOffline cuts the tab's network off, or brings it back, as a dropped connection does.
func setOffline(t *testing.T, b *browsertest.Browser, offline bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Second)
	defer cancel()
	// Requests fail while the rule holds; navigator.onLine follows, and the page hears
	// the online event when the connection comes back.
	rules := []*network.Conditions{}
	if offline {
		rules = append(rules, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
	}
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: rules}); err != nil {
		t.Fatalf("set offline %v: %v", offline, err)
	}
	_, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
		Offline: offline, DownloadThroughput: -1, UploadThroughput: -1,
	})
	if err != nil {
		t.Fatalf("set offline %v: %v", offline, err)
	}
}

// waitSaved waits until the editor says its text is saved.
func waitSaved(t *testing.T, b *browsertest.Browser) {
	t.Helper()
	waitJS(t, b, "the editor says Saved", `document.getElementById('save-state').textContent === 'Saved'`)
}

// waitStored waits until the entry's latest version, as the server has it, has body.
func waitStored(t *testing.T, f *fixture, v courses.Viewer, id, body string) courses.EntryView {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		e, err := f.journals.ReadEntry(context.Background(), v, id)
		if err == nil && e.Body == body {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("entry %s: body %q (err %v), want %q", id, e.Body, err, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// revisionsWith counts the revisions of the entry whose body is body.
func revisionsWith(t *testing.T, f *fixture, v courses.Viewer, id, body string) int {
	t.Helper()
	ctx := context.Background()
	revs, err := f.journals.Revisions(ctx, v, id, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range revs {
		e, err := f.journals.ReadRevision(ctx, v, id, r.Version)
		if err != nil {
			t.Fatal(err)
		}
		if e.Body == body {
			n++
		}
	}
	return n
}

// seedLogs logs some supervision and practice for the trainee, for the charts.
func seedLogs(t *testing.T, f *fixture, v courses.Viewer, supervisorID string) {
	t.Helper()
	ctx := context.Background()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for i, back := range []int{40, 12, 1} {
		_, err := f.journals.LogSupervision(ctx, v, courses.NewSupervision{
			Date: today.AddDate(0, 0, -back), Minutes: 45 + 15*i, SupervisorID: supervisorID,
			Kind: courses.SupervisionIndividual, Key: fmt.Sprintf("seed-sv-%d", i),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, back := range []int{30, 9, 8, 7, 3, 2, 1} {
		_, err := f.journals.LogPractice(ctx, v, courses.NewPractice{
			Date: today.AddDate(0, 0, -back), Minutes: 5 + 12*i, Kind: courses.PracticeSitting, Key: fmt.Sprintf("seed-pr-%d", i),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// firstVersionWith is the first version of the entry whose body is body.
func firstVersionWith(t *testing.T, f *fixture, v courses.Viewer, id, body string) int {
	t.Helper()
	for n := 1; n <= 100; n++ {
		e, err := f.journals.ReadRevision(context.Background(), v, id, n)
		if err != nil {
			break
		}
		if e.Body == body {
			return n
		}
	}
	t.Fatalf("no version of %s has the body %q", id, body)
	return 0
}

// writePNG writes a small real PNG picture and returns its path.
func writePNG(t *testing.T, name string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 24, 16))
	for x := range 24 {
		for y := range 16 {
			img.Set(x, y, color.RGBA{R: uint8(10 * x), G: uint8(15 * y), B: 180, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func entryIDFromEditor(t *testing.T, b *browsertest.Browser, base string) string {
	t.Helper()
	p := strings.TrimPrefix(b.URL(), base+"/journal/")
	id, ok := strings.CutSuffix(p, "/edit")
	if !ok || id == "" || strings.Contains(id, "/") {
		t.Fatalf("the editor is at %s, want /journal/ID/edit", b.URL())
	}
	return id
}

func TestBrowserJournal(t *testing.T) {
	f := newFixture(t)
	browser := browsertest.New(t)
	taraLogin, samLogin := f.byRole[accounts.RoleTrainee], f.byRole[accounts.RoleSupervisor]
	taraV := courses.Viewer{UserID: f.userID(t, taraLogin.Email), Role: accounts.RoleTrainee}
	const title = "Listening to the pause"
	body1 := "Today I noticed how a **pause** changed the room."
	body2 := body1 + "\n\nAfter the break, the family spoke first."
	body3 := body2 + "\n\nWritten on the train, without a connection."

	tara := browser.NewIsolatedTab().For(t)
	tara.Navigate(f.ts.URL + "/journal")
	signIn(tara, taraLogin.Email, taraLogin.Password)
	wantPath(t, tara, f.ts.URL, "/journal")
	wantText(t, tara, "h1", "Journal")
	wantText(t, tara, "#no-entries", "You have not written an entry yet")
	tara.AssertNoAxeViolations(t)

	tara.ClickAndWait("#new-entry")
	wantPath(t, tara, f.ts.URL, "/journal/new")
	wantText(t, tara, "#save-state", "Not saved yet")
	tara.AssertNoAxeViolations(t)

	// Writing saves by itself, creating the entry and moving the address to its editor.
	tara.Fill("#entry-title", title)
	tara.Fill("#entry-body", body1)
	tara.Click(`label[for="tag-tolerance-of-uncertainty"]`)
	waitJS(t, tara, "the entry is created", `location.pathname.endsWith('/edit')`)
	waitSaved(t, tara)
	id := entryIDFromEditor(t, tara, f.ts.URL)
	waitJS(t, tara, "the age of the save shows", `/just now|\d+ s ago/.test(document.getElementById('save-age').textContent)`)
	e := waitStored(t, f, taraV, id, body1)
	if e.Title != title {
		t.Errorf("stored title %q, want %q", e.Title, title)
	}
	waitJS(t, tara, "the preview shows the Markdown", `document.querySelector('#entry-preview strong')?.textContent === 'pause'`)
	screenshot(tara, "journal-editor")
	tara.AssertNoAxeViolations(t)

	// Autosave through a reload: the page is reloaded before the save is due; the text
	// comes back from the browser's storage and is saved once.
	tara.Fill("#entry-body", body2)
	tara.Reload()
	wantPath(t, tara, f.ts.URL, "/journal/"+id+"/edit")
	if got := tara.Value("#entry-body"); got != body2 {
		t.Fatalf("after the reload the editor holds %q, want %q", got, body2)
	}
	waitSaved(t, tara)
	waitStored(t, f, taraV, id, body2)
	if n := revisionsWith(t, f, taraV, id, body2); n != 1 {
		t.Errorf("%d revisions hold the text typed before the reload, want 1", n)
	}

	// A dropped connection: the page keeps the text and saves it when the connection is back.
	// The browser logs each request that fails meanwhile.
	tara.AllowConsoleError("net::ERR_INTERNET_DISCONNECTED")
	setOffline(t, tara, true)
	tara.Fill("#entry-body", body3)
	waitJS(t, tara, "the editor says it is offline", `document.getElementById('save-state').textContent.startsWith('Offline')`)
	wantText(t, tara, "#save-state", "your text is kept here")
	var kept bool
	tara.Eval(`Object.keys(localStorage).some(k => k.startsWith('polyphony.journal.draft:`+id+`:') && JSON.parse(localStorage.getItem(k)).draft.body.includes('without a connection'))`, &kept)
	if !kept {
		t.Errorf("the unsaved text is not kept in the browser's storage")
	}
	tara.AssertNoAxeViolations(t)
	setOffline(t, tara, false)
	waitSaved(t, tara)
	waitStored(t, f, taraV, id, body3)
	tara.Reload()
	if got := tara.Value("#entry-body"); got != body3 {
		t.Errorf("after reconnecting and reloading the editor holds %q, want %q", got, body3)
	}

	// A picture, with its progress; and a renamed program, refused with a reason.
	tara.WaitVisible("#media-file")
	setUploadFile(t, tara, "#media-file", writePNG(t, "whiteboard.png"))
	waitJS(t, tara, "the picture is attached", `document.querySelectorAll('#attachment-list .attachment').length === 1`)
	wantText(t, tara, "#attachment-list", "whiteboard.png")
	wantText(t, tara, "#media-status", "Attached whiteboard.png")
	fake := filepath.Join(t.TempDir(), "notes.png")
	if err := os.WriteFile(fake, append([]byte("\x7fELF\x02\x01\x01\x00"), bytes.Repeat([]byte{0}, 120)...), 0o600); err != nil {
		t.Fatal(err)
	}
	tara.AllowConsoleError("status of 415 (Unsupported Media Type)")
	setUploadFile(t, tara, "#media-file", fake)
	waitJS(t, tara, "the program is refused", `!!document.getElementById('media-error')`)
	wantText(t, tara, "#media-error", "notes.png cannot be attached")
	// A picture over the 20 MB limit is refused by the page before any of it is sent (the
	// server's own refusal words it differently).
	poster := writePNG(t, "poster.png")
	if err := os.Truncate(poster, 21_000_000); err != nil {
		t.Fatal(err)
	}
	setUploadFile(t, tara, "#media-file", poster)
	waitJS(t, tara, "the large picture is refused", `(document.getElementById('media-error') || {}).textContent?.includes('poster.png')`)
	wantText(t, tara, "#media-error", "poster.png is too large to attach. The largest file of this kind is 20 MB.")
	screenshot(tara, "journal-editor-media")
	if n := tara.Count("#attachment-list .attachment"); n != 1 {
		t.Errorf("%d attachments after the refusals, want 1", n)
	}
	tara.AssertNoAxeViolations(t)

	// A spoken reflection recorded in the browser. The microphone is a tone here: the
	// page's getUserMedia gets an oscillator's stream instead of a device.
	tara.WaitVisible("#record-button")
	tara.Eval(`navigator.mediaDevices.getUserMedia = async (c) => {
		if (c.video) throw new Error('the recorder asked for the camera');
		const ctx = new AudioContext();
		const osc = ctx.createOscillator();
		const dest = ctx.createMediaStreamDestination();
		osc.connect(dest);
		osc.start();
		return dest.stream;
	}, true`, nil)
	tara.Click("#record-button")
	waitJS(t, tara, "recording starts", `document.getElementById('record-button').textContent.startsWith('Stop recording')`)
	time.Sleep(1500 * time.Millisecond)
	tara.Click("#record-button")
	waitJS(t, tara, "the recording is attached", `document.querySelectorAll('#attachment-list .attachment').length === 2`)
	wantText(t, tara, "#attachment-list", "reflection-")
	wantText(t, tara, "#attachment-list", "audio")

	// A third file, taken off again.
	setUploadFile(t, tara, "#media-file", writePNG(t, "by-mistake.png"))
	waitJS(t, tara, "the third file is attached", `document.querySelectorAll('#attachment-list .attachment').length === 3`)
	tara.Click(`#attachment-list .attachment:last-child button`)
	waitJS(t, tara, "the third file is removed", `document.querySelectorAll('#attachment-list .attachment').length === 2`)
	wantText(t, tara, "#media-status", "Removed by-mistake.png")
	if got := waitStored(t, f, taraV, id, body3); len(got.Attachments) != 2 {
		t.Errorf("the entry has %d attachments, want 2", len(got.Attachments))
	}

	// The entry as it reads, with the picture.
	tara.Click("#save-entry")
	waitJS(t, tara, "the entry view opens", `location.pathname === '/journal/`+id+`'`)
	tara.WaitVisible("#entry-body")
	wantText(t, tara, "h1", title)
	wantText(t, tara, "#entry-body", "the family spoke first")
	wantText(t, tara, "#entry-tags", "Tolerance of uncertainty")
	waitJS(t, tara, "the picture loads", `(() => { const i = document.querySelector('#entry-media img'); return i && i.complete && i.naturalWidth === 24; })()`)
	// Its length is known (MediaRecorder leaves it out of a WebM; the server writes it in).
	waitJS(t, tara, "the recording can play, with its length", `(() => { const a = document.querySelector('#entry-media audio'); return a && a.readyState >= 1 && isFinite(a.duration) && a.duration > 1; })()`)
	tara.AssertNoAxeViolations(t)

	tara.ClickAndWait("#share-supervisor")
	wantText(t, tara, "#share-supervisor-state", "Shared")
	screenshot(tara, "journal-entry")
	wantText(t, tara, ".nhsuk-inset-text", "Your supervisor can now read this entry")
	tara.AssertNoAxeViolations(t)

	// The supervisor finds it, reads it with its picture, and comments.
	sam := browser.NewIsolatedTab().For(t)
	sam.Navigate(f.ts.URL + "/journal")
	signIn(sam, samLogin.Email, samLogin.Password)
	wantPath(t, sam, f.ts.URL, "/journal")
	entryItem := `#shared-list [data-entry="` + id + `"]`
	wantText(t, sam, entryItem, "Tara Trainee")
	wantText(t, sam, entryItem, title)
	wantText(t, sam, `#waiting [data-entry="`+id+`"]`, "You have not read it yet")
	sam.AssertNoAxeViolations(t)
	sam.ClickAndWait(`a[href="/journal/` + id + `"]`)
	wantText(t, sam, "h1", title)
	wantText(t, sam, ".nhsuk-caption-l", "Tara Trainee's journal")
	waitJS(t, sam, "the picture loads for the supervisor", `(() => { const i = document.querySelector('#entry-media img'); return i && i.complete && i.naturalWidth === 24; })()`)
	if sam.Exists("#sharing") || sam.Exists("#edit-entry") {
		t.Errorf("the supervisor is offered the author's controls")
	}
	sam.AssertNoAxeViolations(t)
	sam.Fill("#comment-supervisor", "Thank you for sharing this. What did the *pause* feel like?")
	sam.Submit("#post-comment-supervisor")
	wantText(t, sam, "#thread-supervisor", "What did the pause feel like?")
	sam.AssertNoAxeViolations(t)

	// The author sees the comment on her home page, and the read in her access log.
	tara.Navigate(f.ts.URL + "/")
	wantText(t, tara, "#notifications", "Sam Supervisor commented on your entry “"+title+"”")
	tara.AssertNoAxeViolations(t)
	tara.ClickAndWait("#notifications a")
	wantText(t, tara, "#thread-supervisor", "What did the pause feel like?")
	tara.Navigate(f.ts.URL + "/journal/access-log")
	wantText(t, tara, "#access-table", "Sam Supervisor")
	wantText(t, tara, "#access-table", "entry of "+title)
	wantText(t, tara, "#access-table", "attachment whiteboard.png")
	tara.AssertNoAxeViolations(t)

	// The history, the other pages of the journal.
	tara.Navigate(f.ts.URL + "/journal/" + id + "/revisions")
	wantText(t, tara, "#revision-table", "Attached a file")
	tara.AssertNoAxeViolations(t)
	first := firstVersionWith(t, f, taraV, id, body1)
	tara.ClickAndWait(fmt.Sprintf(`a[href="/journal/%s/revisions/%d"]`, id, first))
	wantText(t, tara, "#revision-body", "changed the room")
	wantText(t, tara, "#restore-revision", "Restore this revision")
	tara.AssertNoAxeViolations(t)
	seedLogs(t, f, taraV, f.userID(t, samLogin.Email))
	for _, page := range []string{"/journal", "/supervision", "/practice", "/account/export"} {
		tara.Navigate(f.ts.URL + page)
		if tara.Status() != http.StatusOK {
			t.Errorf("%s: status %d", page, tara.Status())
		}
		screenshot(tara, "journal-"+strings.Trim(strings.ReplaceAll(page, "/", "-"), "-"))
		tara.AssertNoAxeViolations(t)
	}
	// The export, with its progress, through the API.
	tara.Click("#start-export")
	tara.WaitVisible("#export-download")
	wantText(t, tara, "#export-status", "Your records are ready")
	var zipped bool
	tara.Eval(`fetch(document.getElementById('export-download').href).then(r => r.arrayBuffer()).then(b => { const a = new Uint8Array(b); return a.length > 100 && a[0] === 0x50 && a[1] === 0x4b; })`, &zipped)
	if !zipped {
		t.Errorf("the export's link does not give a zip")
	}
	tara.AssertNoAxeViolations(t)

	// Stopping sharing takes effect on the supervisor's next request.
	tara.Navigate(f.ts.URL + "/journal/" + id)
	tara.ClickAndWait("#unshare-supervisor")
	wantText(t, tara, "#share-supervisor-state", "Not shared")
	sam.Reload()
	if sam.Status() != http.StatusNotFound {
		t.Errorf("the supervisor's reload after revoking: status %d, want 404", sam.Status())
	}
	wantText(t, sam, "h1", "Page not found")
	if strings.Contains(sam.Text("main"), "pause") {
		t.Errorf("the not-found page shows the entry")
	}
	sam.AssertNoAxeViolations(t)
	sam.Navigate(f.ts.URL + "/journal")
	if strings.Contains(sam.Text("main"), title) {
		t.Errorf("the supervisor's list still shows the entry")
	}
}

// TestBrowserJournalConflict edits one entry in two tabs: the second save is refused and
// shows both texts side by side; keeping it saves it on top, and the first tab, saving
// next, is shown the conflict in turn and takes the saved copy.
func TestBrowserJournalConflict(t *testing.T) {
	f := newFixture(t)
	browser := browsertest.New(t)
	login := f.byRole[accounts.RoleTrainee]
	v := courses.Viewer{UserID: f.userID(t, login.Email), Role: accounts.RoleTrainee}
	e, err := f.journals.Create(context.Background(), v, courses.Draft{Title: "Two windows", Body: "The start."}, "two-windows")
	if err != nil {
		t.Fatal(err)
	}
	first := browser.For(t)
	first.Navigate(f.ts.URL + "/journal/" + e.ID + "/edit")
	signIn(first, login.Email, login.Password)
	wantPath(t, first, f.ts.URL, "/journal/"+e.ID+"/edit")
	second := first.NewTab().For(t)
	second.Navigate(f.ts.URL + "/journal/" + e.ID + "/edit")
	wantText(t, second, "h1", "Edit your entry")

	first.Fill("#entry-body", "Written in the first window.")
	waitSaved(t, first)
	waitStored(t, f, v, e.ID, "Written in the first window.")

	// The browser logs each save that the server refuses, as it logs any answer of 4xx; both
	// windows meet one.
	first.AllowConsoleError("status of 409 (Conflict)")
	second.AllowConsoleError("status of 409 (Conflict)")
	second.Fill("#entry-body", "Written in the second window.")
	waitJS(t, second, "the conflict shows", `!document.getElementById('conflict').hidden`)
	if got := second.Value("#conflict-mine"); got != "Written in the second window." {
		t.Errorf("your text in the conflict = %q", got)
	}
	if got := second.Value("#conflict-server"); got != "Written in the first window." {
		t.Errorf("the saved copy in the conflict = %q", got)
	}
	wantText(t, second, "#conflict-version", "version 2")
	wantText(t, second, "#save-state", "saved somewhere else")
	screenshot(second, "journal-conflict")
	if got := second.Value("#entry-body"); got != "Written in the second window." {
		t.Errorf("the editor lost the typed text: %q", got)
	}
	second.AssertNoAxeViolations(t)
	second.Click("#keep-mine")
	waitSaved(t, second)
	if got := waitStored(t, f, v, e.ID, "Written in the second window."); got.Version != 3 {
		t.Errorf("keeping mine stored version %d, want 3", got.Version)
	}
	if !second.Exists("#conflict[hidden]") {
		t.Errorf("the conflict is still shown after keeping mine")
	}

	first.Fill("#entry-title", "Two windows, again")
	waitJS(t, first, "the first window sees the conflict", `!document.getElementById('conflict').hidden`)
	first.Click("#use-server")
	waitSaved(t, first)
	if got := first.Value("#entry-body"); got != "Written in the second window." {
		t.Errorf("after using the saved copy the editor holds %q", got)
	}
	if got := first.Value("#entry-title"); got != "Two windows" {
		t.Errorf("after using the saved copy the title is %q", got)
	}
	// Nothing more is saved: the saved copy is what the editor holds.
	time.Sleep(2 * time.Second)
	if got, _ := f.journals.ReadEntry(context.Background(), v, e.ID); got.Version != 3 {
		t.Errorf("using the saved copy saved again: version %d, want 3", got.Version)
	}

	// Text kept by a tab that was closed before it could save is offered to the next one.
	closed := `{"base":3,"draft":{"title":"Two windows","body":"Typed in a tab that was closed.","tags":[],"links":[]},"attempt":null,"at":` +
		fmt.Sprint(time.Now().UnixMilli()) + `}`
	first.Eval(`localStorage.setItem('polyphony.journal.draft:`+e.ID+`:k-closed-tab', `+jsString(closed)+`), true`, nil)
	first.Reload()
	first.WaitVisible("#orphan")
	wantText(t, first, "#orphan-text", "Typed in a tab that was closed.")
	first.AssertNoAxeViolations(t)
	first.Click("#orphan-restore")
	waitSaved(t, first)
	if got := waitStored(t, f, v, e.ID, "Typed in a tab that was closed."); got.Version != 4 {
		t.Errorf("the closed tab's text was stored as version %d, want 4", got.Version)
	}
	var left int
	first.Eval(`Object.keys(localStorage).filter(k => k.endsWith(':k-closed-tab')).length`, &left)
	if left != 0 {
		t.Errorf("the closed tab's record is still kept after it was saved")
	}
}
