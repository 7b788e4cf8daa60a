// Package browsertest drives a real headless Chromium from Go tests.
//
// A test starts its server on port 0 (httptest or the real application),
// opens a browser with New, and then navigates, fills forms, clicks, reads
// the page and checks its accessibility with axe-core (see Browser.Axe):
//
//	srv := httptest.NewServer(handler)
//	defer srv.Close()
//	b := browsertest.New(t)
//	b.Navigate(srv.URL + "/login")
//	b.Fill("#email", "trainee@example.nhs.uk")
//	b.Submit("form")
//	if got := b.Text("h1"); got != "Your portfolio" {
//		t.Errorf("heading = %q", got)
//	}
//	b.AssertNoAxeViolations(t)
//
// Every method fails the test with t.Fatalf when its action fails or does not
// finish within the timeout of the browser (15 s unless SetTimeout changes
// it). The message names the action and the URL of the page.
//
// Every tab collects what its pages report as wrong: errors written to the
// console, uncaught exceptions, and resources the browser refuses or fails to
// load, such as one that the Content-Security-Policy blocks. Each of them fails
// the test when it ends (see Problem); a test that provokes one on purpose
// says so with AllowConsoleError. A document that answers an error status is
// not one: a test that opens it reads its status with Status.
//
// ClickHeaderLink follows a link of the NHS.UK header as a person would,
// opening its "More" menu when the link has moved there, which depends on the
// width of the window and on the fonts of the machine.
//
// Chromium is found through the environment variable POLYPHONY_CHROMIUM, then
// chromium, chromium-browser or google-chrome on PATH, then /usr/bin/chromium.
// When none is there, New skips the test, or fails it when CI is "true":
// `make test` installs Debian's chromium.
//
// Each Browser is one Chromium process with a fresh profile in a temporary
// directory. It starts with one tab; NewTab and NewIsolatedTab open more. The
// process, every child process of it and the profile directory are gone when
// the test and its cleanups end.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// DefaultTimeout is how long one action may take before it fails the test.
const DefaultTimeout = 15 * time.Second

// Window size of a new browser, in CSS pixels.
const (
	WindowWidth  = 1280
	WindowHeight = 900
)

// Browser is one tab of a headless Chromium. Its methods are not safe for use
// by several goroutines at once: a tab does one thing at a time.
type Browser struct {
	t   testing.TB
	tab *tab
}

// tab is the state that a Browser and its views (see For) share.
type tab struct {
	ctx     context.Context // the chromedp context of the tab
	proc    *process
	timeout time.Duration

	mu       sync.Mutex
	docs     map[cdp.FrameID]docResponse // last document response of each frame
	problems problems                    // what the pages reported as wrong (console.go)
}

func newTabState(proc *process, timeout time.Duration) *tab {
	return &tab{proc: proc, timeout: timeout, docs: map[cdp.FrameID]docResponse{},
		problems: problems{docs: map[network.RequestID]bool{}}}
}

// docResponse is the HTTP response of a document that a frame loaded.
type docResponse struct {
	status int
	url    string
}

// process is the Chromium process that the tabs of one New share.
type process struct {
	exe     string
	dataDir string
	output  *limitedBuffer
}

// New starts a headless Chromium for the test and returns its first tab. The
// browser is closed, and its profile directory removed, at t.Cleanup.
func New(t testing.TB) *Browser {
	t.Helper()
	exe, why := findChromium()
	if exe == "" {
		missing(t, "chromium missing: run `make test` (it installs Debian's chromium): %s", why)
		return nil
	}

	dataDir, err := os.MkdirTemp("", "polyphony-browsertest-")
	if err != nil {
		t.Fatalf("browsertest: temporary profile directory: %v", err)
	}
	proc := &process{exe: exe, dataDir: dataDir, output: &limitedBuffer{max: 32 << 10}}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(dataDir),
		chromedp.WindowSize(WindowWidth, WindowHeight),
		chromedp.CombinedOutput(proc.output),
		// Tests talk only to this machine: keep Chromium from reaching out.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		// Resolve no host name but localhost: pages under test come from
		// this machine, and Chromium's own services (updates, sign-in) then
		// send no DNS query either.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE ::1"),
		// Back must load the page again, as Navigate does, and not restore
		// it from the back-forward cache, which fires no load event.
		chromedp.Flag("disable-back-forward-cache", true),
		chromedp.Flag("disable-features", strings.Join([]string{
			"Translate", "BlinkGenPropertyTrees", "MediaRouter",
			"OptimizationHints", "OptimizationGuideModelDownloading",
			"AutofillServerCommunication", "CertificateTransparencyComponentUpdater",
			"InterestFeedContentSuggestions", "PrivacySandboxSettings4",
		}, ",")),
	)
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)

	b := &Browser{t: t, tab: newTabState(proc, DefaultTimeout)}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(b.tab.onEvent))
	b.tab.ctx = ctx

	t.Cleanup(func() {
		// Close the browser gracefully, then make sure that nothing of it
		// is left: the main process, its children and its profile.
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		_ = chromedp.Cancel(cctx)
		ccancel()
		cancel()
		allocCancel()
		killProcessesUsing(dataDir)
		removeAllRetry(dataDir)
	})

	if err := firstRun(ctx, 60*time.Second); err != nil {
		t.Fatalf("browsertest: starting %s: %v\nchromium printed:\n%s", exe, err, proc.output.String())
	}
	// Registered after the browser's own cleanup, so it runs before the browser closes.
	t.Cleanup(func() { b.reportProblems(t) })
	return b
}

// findChromium returns the path of the browser to run, or "" and the places
// that it looked at.
func findChromium() (path, why string) {
	if p := os.Getenv("POLYPHONY_CHROMIUM"); p != "" {
		if found, err := exec.LookPath(p); err == nil {
			return found, ""
		}
		return "", fmt.Sprintf("POLYPHONY_CHROMIUM=%q is not an executable file", p)
	}
	names := []string{"chromium", "chromium-browser", "google-chrome"}
	for _, name := range names {
		if found, err := exec.LookPath(name); err == nil {
			return found, ""
		}
	}
	const debian = "/usr/bin/chromium"
	if found, err := exec.LookPath(debian); err == nil {
		return found, ""
	}
	return "", fmt.Sprintf("none of POLYPHONY_CHROMIUM, %s on PATH, %s", strings.Join(names, ", "), debian)
}

// missing skips the test because a tool is not installed, or fails it on CI,
// where `make test` must have installed it.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("browsertest: "+format+" (CI=true, so this is a failure)", args...)
	}
	t.Skipf(format, args...)
}

// onEvent runs in the event loop of the tab, for every event, in order.
func (tb *tab) onEvent(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.onProblemEvent(ev)
	e, ok := ev.(*network.EventResponseReceived)
	if !ok || e.Type != network.ResourceTypeDocument || e.Response == nil {
		return
	}
	tb.docs[e.FrameID] = docResponse{status: int(e.Response.Status), url: e.Response.URL}
}

// For returns a view of the same tab that reports failures to t. Use it in a
// subtest, whose failures must go to its own t: the problems that pages report
// while the subtest runs (see Problem) fail it when it ends.
func (b *Browser) For(t testing.TB) *Browser {
	v := &Browser{t: t, tab: b.tab}
	t.Cleanup(func() { v.reportProblems(t) })
	return v
}

// NewTab opens another tab in the same browser. It shares cookies and storage
// with the other tabs of the browser, as a second tab of one person would. It
// is closed at t.Cleanup.
func (b *Browser) NewTab() *Browser {
	b.t.Helper()
	return b.newTab(false)
}

// NewIsolatedTab opens a tab in a new browser context of the same browser: it
// has its own cookies and storage, as a second person on another computer
// would. It is closed at t.Cleanup.
func (b *Browser) NewIsolatedTab() *Browser {
	b.t.Helper()
	return b.newTab(true)
}

func (b *Browser) newTab(isolated bool) *Browser {
	b.t.Helper()
	nb := &Browser{t: b.t, tab: newTabState(b.tab.proc, b.tab.timeout)}
	opts := []chromedp.ContextOption{chromedp.WithListener(nb.tab.onEvent)}
	if isolated {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(b.tab.ctx, opts...)
	nb.tab.ctx = ctx
	b.t.Cleanup(cancel)
	if err := firstRun(ctx, b.tab.timeout); err != nil {
		b.t.Fatalf("browsertest: opening a tab: %v", err)
	}
	b.t.Cleanup(func() { nb.reportProblems(b.t) })
	return nb
}

// firstRun runs the first action of a chromedp context, which starts the
// browser or opens the tab. The browser and the tab live as long as the
// context of their first action, so it runs on ctx itself, and only the wait
// for it has a timeout.
func firstRun(ctx context.Context, timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return fmt.Errorf("not done after %v", timeout)
	}
}

// SetTimeout changes how long each later action of this tab may take.
func (b *Browser) SetTimeout(d time.Duration) {
	b.tab.timeout = d
}

// UserDataDir returns the profile directory of the browser. Every process of
// the browser has it on its command line as --user-data-dir.
func (b *Browser) UserDataDir() string {
	return b.tab.proc.dataDir
}

// Context returns the chromedp context of the tab, for actions that this
// package has no method for. It has no timeout of its own.
func (b *Browser) Context() context.Context {
	return b.tab.ctx
}

// do runs the actions with the timeout of the tab, and fails the test with
// what when one fails.
func (b *Browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab.ctx, b.tab.timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(what, err)
	}
}

// fail fails the test for the action what, with the URL of the page.
func (b *Browser) fail(what string, err error) {
	b.t.Helper()
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("not done after %v (%w)", b.tab.timeout, err)
	}
	b.t.Fatalf("browsertest: %s on page %s: %v", what, b.location(), err)
}

// location returns the URL of the page, or a note when it cannot be read.
func (b *Browser) location() string {
	ctx, cancel := context.WithTimeout(b.tab.ctx, 2*time.Second)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return u
}

// Navigate loads url in the tab and waits for the page to load. A page with
// an HTTP error status loads too: see Status.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	b.do(fmt.Sprintf("Navigate(%q)", url), chromedp.Navigate(url))
}

// Reload reloads the page and waits for it to load.
func (b *Browser) Reload() {
	b.t.Helper()
	b.do("Reload()", chromedp.Reload())
}

// Back goes back one page in the history of the tab and waits for it to load.
func (b *Browser) Back() {
	b.t.Helper()
	b.do("Back()", chromedp.NavigateBack())
}

// fillJS empties the element and reports how to fill it: "type" for a field
// that takes key presses, "set" for one whose value must be set, such as a
// select or a date. It is called with the element as this.
const fillJS = `function(value) {
	const el = this;
	const fire = (name) => el.dispatchEvent(new Event(name, {bubbles: true}));
	const setTypes = ['date', 'datetime-local', 'month', 'week', 'time', 'color', 'range', 'checkbox', 'radio', 'file', 'hidden'];
	const tag = el.tagName;
	if (tag === 'SELECT' || (tag === 'INPUT' && setTypes.includes(el.type))) {
		el.value = value;
		fire('input');
		fire('change');
		return 'set';
	}
	if (tag !== 'INPUT' && tag !== 'TEXTAREA' && !el.isContentEditable) {
		throw new Error('element <' + tag.toLowerCase() + '> cannot be filled');
	}
	el.focus();
	if (el.isContentEditable && tag !== 'INPUT' && tag !== 'TEXTAREA') {
		el.textContent = '';
	} else {
		el.value = '';
	}
	fire('input');
	return 'type';
}`

// Fill empties the form field that selector finds and types value into it,
// key by key, as a person would. A select, a date, time or colour field gets
// its value set instead, with input and change events. A "\n" in value presses
// Enter, which can submit the form.
func (b *Browser) Fill(selector, value string) {
	b.t.Helper()
	what := fmt.Sprintf("Fill(%q, %q)", selector, value)
	mode, err := runOn[string](b, chromedp.CSS(selector), fillJS, value)
	if err != nil {
		b.fail(what, err)
	}
	if mode == "type" && value != "" {
		b.do(what, chromedp.SendKeys(chromedp.CSS(selector), value))
	}
}

// runOn waits until selector finds an element, and calls the JavaScript
// function fn with the element as this and args as its arguments. It returns
// the result of fn, decoded as T.
func runOn[T any](b *Browser, sel chromedp.CSS, fn string, args ...any) (T, error) {
	ctx, cancel := context.WithTimeout(b.tab.ctx, b.tab.timeout)
	defer cancel()
	return chromedp.Run(ctx, onElement[T](sel, fn, args...))
}

// onElement is the action of runOn.
func onElement[T any](sel chromedp.CSS, fn string, args ...any) chromedp.Action[T] {
	return chromedp.QueryAfter(sel, func(ctx context.Context, t *chromedp.Target, nodes []*chromedp.Node) (T, error) {
		var zero T
		if len(nodes) == 0 {
			return zero, chromedp.ErrNoResults
		}
		r, err := cdp.Call(ctx, t, dom.ResolveNode, dom.ResolveNodeParams{NodeID: nodes[0].NodeID})
		if err != nil {
			return zero, err
		}
		defer func() {
			// This fails when the call loaded another page, which is fine.
			_, _ = cdp.Call(ctx, t, runtime.ReleaseObject, runtime.ReleaseObjectParams{ObjectID: r.Object.ObjectID})
		}()
		return chromedp.CallFunctionOn[T](fn, func(p *runtime.CallFunctionOnParams) {
			p.ObjectID = r.Object.ObjectID
		}, args...)(ctx, t)
	})
}

// Click clicks the element that selector finds, with the mouse, once it is
// visible. It does not wait for a page that the click loads: see
// ClickAndWait, or wait for an element of the next page with WaitVisible.
func (b *Browser) Click(selector string) {
	b.t.Helper()
	b.settle()
	b.do(fmt.Sprintf("Click(%q)", selector), chromedp.Click(chromedp.CSS(selector)))
}

// settleJS resolves once the page has loaded, its fonts are in and a frame has been laid
// out with them. A mouse click goes to where the element was when its box was measured; on
// a busy machine a late font or script can still move it, and the click then lands beside it.
const settleJS = `new Promise(resolve => {
	const done = () => document.fonts.ready.then(() => requestAnimationFrame(() => resolve(true)));
	if (document.readyState === 'complete') done(); else addEventListener('load', done, {once: true});
})`

// settle waits, for at most 5 s, until the page is still enough to click (see settleJS).
// It is a courtesy to the click that follows, so it fails nothing: when a page is being
// replaced as it runs, the click waits for its element on the new page anyway.
func (b *Browser) settle() {
	ctx, cancel := context.WithTimeout(b.tab.ctx, 5*time.Second)
	defer cancel()
	_ = chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](settleJS, chromedp.EvalAwaitPromise))
}

// ClickAndWait clicks the element that selector finds, and waits for the page
// that the click loads. It fails when the click loads no page.
func (b *Browser) ClickAndWait(selector string) {
	b.t.Helper()
	b.settle()
	b.waitLoad(fmt.Sprintf("ClickAndWait(%q)", selector), chromedp.Click(chromedp.CSS(selector)))
}

// submitJS submits the form of the element (or the element itself when it is
// a form) as a submit button would, with validation and the submit event.
const submitJS = `function() {
	const form = this.tagName === 'FORM' ? this : this.form;
	if (!form) {
		throw new Error('element <' + this.tagName.toLowerCase() + '> is not in a form');
	}
	if (this.tagName !== 'FORM' && (this.type === 'submit' || this.type === 'image')) {
		form.requestSubmit(this);
	} else {
		form.requestSubmit();
	}
	return true;
}`

// Submit submits the form that selector finds, or the form of the element
// that it finds (such as a submit button), and waits for the page that the
// form loads. The browser validates the form first, as for a click on a
// submit button.
func (b *Browser) Submit(selector string) {
	b.t.Helper()
	submit := func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := onElement[bool](chromedp.CSS(selector), submitJS)(ctx, t)
		return chromedp.Void{}, err
	}
	b.waitLoad(fmt.Sprintf("Submit(%q)", selector), submit)
}

// waitLoad runs trigger and waits for the page load that it causes.
func (b *Browser) waitLoad(what string, trigger chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab.ctx, b.tab.timeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, trigger); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no page loaded within %v (%w)", b.tab.timeout, err)
		}
		b.fail(what, err)
	}
}

// WaitVisible waits until the element that selector finds is visible.
func (b *Browser) WaitVisible(selector string) {
	b.t.Helper()
	b.do(fmt.Sprintf("WaitVisible(%q)", selector), chromedp.WaitVisible(chromedp.CSS(selector)))
}

// WaitGone waits until selector finds no element.
func (b *Browser) WaitGone(selector string) {
	b.t.Helper()
	b.do(fmt.Sprintf("WaitGone(%q)", selector), chromedp.WaitNotPresent(chromedp.CSS(selector)))
}

// Text returns the rendered text (innerText) of the element that selector
// finds, with the spaces at both ends trimmed. It waits for the element.
func (b *Browser) Text(selector string) string {
	b.t.Helper()
	s, err := runOn[string](b, chromedp.CSS(selector), `function() { return this.innerText ?? this.textContent; }`)
	if err != nil {
		b.fail(fmt.Sprintf("Text(%q)", selector), err)
	}
	return strings.TrimSpace(s)
}

// Value returns the value of the form field that selector finds.
func (b *Browser) Value(selector string) string {
	b.t.Helper()
	s, err := runOn[string](b, chromedp.CSS(selector), `function() { return String(this.value ?? ''); }`)
	if err != nil {
		b.fail(fmt.Sprintf("Value(%q)", selector), err)
	}
	return s
}

// Attr returns the attribute name of the element that selector finds, and
// whether the element has it.
func (b *Browser) Attr(selector, name string) (string, bool) {
	b.t.Helper()
	var res struct {
		Value string `json:"value"`
		Has   bool   `json:"has"`
	}
	raw, err := runOn[[]byte](b, chromedp.CSS(selector), `function(name) {
		return {value: this.getAttribute(name) ?? '', has: this.hasAttribute(name)};
	}`, name)
	if err == nil {
		err = json.Unmarshal(raw, &res)
	}
	if err != nil {
		b.fail(fmt.Sprintf("Attr(%q, %q)", selector, name), err)
	}
	return res.Value, res.Has
}

// Exists reports whether selector finds an element now. It does not wait.
func (b *Browser) Exists(selector string) bool {
	b.t.Helper()
	return b.Count(selector) > 0
}

// Count returns how many elements selector finds now. It does not wait.
func (b *Browser) Count(selector string) int {
	b.t.Helper()
	var n int
	b.Eval(fmt.Sprintf("document.querySelectorAll(%s).length", jsString(selector)), &n)
	return n
}

// Title returns the title of the page.
func (b *Browser) Title() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab.ctx, b.tab.timeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		b.fail("Title()", err)
	}
	return s
}

// URL returns the URL of the page.
func (b *Browser) URL() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab.ctx, b.tab.timeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("browsertest: URL(): %v", err)
	}
	return s
}

// Status returns the HTTP status code of the last document that the tab
// loaded in its main frame, after redirects, or 0 when it loaded none. After
// Navigate, ClickAndWait and Submit it is the status of their page. After a
// Click that loads a page, wait for the page (WaitVisible) first.
func (b *Browser) Status() int {
	b.t.Helper()
	c := chromedp.FromContext(b.tab.ctx)
	if c == nil || c.Target == nil {
		return 0
	}
	// The main frame of a tab has the id of the tab.
	b.tab.mu.Lock()
	defer b.tab.mu.Unlock()
	return b.tab.docs[cdp.FrameID(c.Target.TargetID)].status
}

// Eval evaluates the JavaScript expression js in the page and decodes its
// result, as JSON, into out. A promise is awaited. When out is nil, the
// result is ignored.
func (b *Browser) Eval(js string, out any) {
	b.t.Helper()
	what := fmt.Sprintf("Eval(%s)", abbreviate(js, 80))
	ctx, cancel := context.WithTimeout(b.tab.ctx, b.tab.timeout)
	defer cancel()
	if out == nil {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](js, chromedp.EvalAwaitPromise)); err != nil {
			b.fail(what, err)
		}
		return
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err == nil && len(raw) == 0 {
		err = errors.New("the result is undefined")
	}
	if err == nil {
		err = json.Unmarshal(raw, out)
	}
	if err != nil {
		b.fail(what, err)
	}
}

// Screenshot writes a PNG of the whole page, not only the part in the
// viewport, to path. It creates the directory of path when needed.
func (b *Browser) Screenshot(path string) {
	b.t.Helper()
	what := fmt.Sprintf("Screenshot(%q)", path)
	ctx, cancel := context.WithTimeout(b.tab.ctx, b.tab.timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fail(what, err)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.fail(what, err)
		}
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.fail(what, err)
	}
}

// SetViewport makes the viewport w×h CSS pixels, as a desktop window of that
// size. ResetViewport goes back to the window size.
func (b *Browser) SetViewport(w, h int) {
	b.t.Helper()
	b.do(fmt.Sprintf("SetViewport(%d, %d)", w, h), chromedp.EmulateViewport(int64(w), int64(h)))
}

// SetMobileViewport makes the viewport w×h CSS pixels as on a phone: the page
// lays out as a mobile browser does (with its meta viewport tag), and touch
// events are on. For example SetMobileViewport(375, 812).
func (b *Browser) SetMobileViewport(w, h int) {
	b.t.Helper()
	b.do(fmt.Sprintf("SetMobileViewport(%d, %d)", w, h),
		chromedp.EmulateViewport(int64(w), int64(h), chromedp.EmulateMobile, chromedp.EmulateTouch))
}

// ResetViewport undoes SetViewport and SetMobileViewport.
func (b *Browser) ResetViewport() {
	b.t.Helper()
	b.do("ResetViewport()", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{})
		return err
	}))
}

// Cookies returns the cookies that the browser would send to the URL of the
// page.
func (b *Browser) Cookies() []*network.Cookie {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab.ctx, b.tab.timeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		b.fail("Cookies()", err)
	}
	return res.Cookies
}

// Cookie returns the cookie name that the browser would send to the URL of
// the page, or nil.
func (b *Browser) Cookie(name string) *network.Cookie {
	b.t.Helper()
	for _, c := range b.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// jsString returns s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// abbreviate shortens s to at most n bytes, for messages.
func abbreviate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// limitedBuffer keeps the first max bytes written to it, for the output of
// Chromium in error messages.
type limitedBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - len(l.buf); room > 0 {
		l.buf = append(l.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}

// killProcessesUsing kills every process that has --user-data-dir=dir on its
// command line, until none is left. Child processes of Chromium, such as the
// zygote and the crash handler, can outlive the main process. On a system
// without /proc it does nothing.
func killProcessesUsing(dir string) {
	want := "--user-data-dir=" + dir
	deadline := time.Now().Add(3 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if len(processesWithArg(want, true)) == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// processesWithArg returns the ids of the processes that have arg on their
// command line, and kills them when kill is true.
func processesWithArg(arg string, kill bool) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for a := range strings.SplitSeq(string(cmdline), "\x00") {
			if a == arg {
				pids = append(pids, pid)
				if kill {
					if p, err := os.FindProcess(pid); err == nil {
						_ = p.Kill()
					}
				}
				break
			}
		}
	}
	return pids
}

// removeAllRetry removes dir, and tries again for a few seconds when a
// process that is still ending writes in it.
func removeAllRetry(dir string) {
	deadline := time.Now().Add(5 * time.Second)
	for os.RemoveAll(dir) != nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}
