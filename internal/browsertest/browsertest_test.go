package browsertest

import (
	"bytes"
	"fmt"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// strictCSP is a policy like the one the application sends.
const strictCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// page writes a small, accessible HTML page.
func page(w http.ResponseWriter, status int, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>%s</title></head>
<body><main>%s</main></body>
</html>`, html.EscapeString(title), body)
}

// pixel writes a 1×1 transparent PNG. It is the icon of the test pages too: a browser asks
// every site for /favicon.ico, and a 404 there would be a problem of the page.
func pixel(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/png")
	w.Write([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"))
}

// testServer serves the pages of the tests.
func testServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		page(w, http.StatusOK, "Home", `<h1>Polyphony test home</h1><p><a id="to-form" href="/form">Go to the form</a></p>`)
	})
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		page(w, http.StatusOK, "Form", `<h1>Tell us your name</h1>
<form method="post" action="/form">
<label for="name">Your name</label>
<input id="name" name="name" type="text" value="placeholder text">
<label for="grade">Your grade</label>
<select id="grade" name="grade"><option value="">Choose</option><option value="FY1">FY1</option><option value="ST3">ST3</option></select>
<button id="send" type="submit">Send</button>
</form>`)
	})
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "seen", Value: "yes", Path: "/", HttpOnly: true})
		page(w, http.StatusOK, "Thank you", fmt.Sprintf(`<h1>Thank you</h1><p id="result">You entered: %s</p><p id="grade">Grade: %s</p>`,
			html.EscapeString(r.FormValue("name")), html.EscapeString(r.FormValue("grade"))))
	})
	mux.HandleFunc("GET /bad", func(w http.ResponseWriter, r *http.Request) {
		page(w, http.StatusOK, "Bad page", `<h1>Inaccessible on purpose</h1>
<img src="/pixel.png">
<form><input id="nolabel" type="text" name="q"></form>`)
	})
	mux.HandleFunc("GET /pixel.png", pixel)
	mux.HandleFunc("GET /favicon.ico", pixel)
	mux.HandleFunc("GET /strict", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", strictCSP)
		// The inline script must not run: the policy allows only scripts
		// from the origin itself.
		page(w, http.StatusOK, "Strict page", `<h1>A page with a strict policy</h1>
<p>Everything here is accessible.</p>
<script>document.title = 'inline script ran';</script>
<form method="post" action="/form"><label for="n">Name</label><input id="n" name="name"><button type="submit">Go</button></form>`)
	})
	mux.HandleFunc("GET /tall", func(w http.ResponseWriter, r *http.Request) {
		page(w, http.StatusOK, "Tall page", `<h1>Tall</h1><div style="height:3000px">long</div><p>end</p>`)
	})
	mux.HandleFunc("GET /later", func(w http.ResponseWriter, r *http.Request) {
		page(w, http.StatusOK, "Later", `<h1>Later</h1><div id="slot"></div><script src="/later.js"></script>`)
	})
	mux.HandleFunc("GET /later.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `setTimeout(() => { document.getElementById('slot').innerHTML = '<p id="late">arrived</p>'; }, 300);`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		page(w, http.StatusNotFound, "Not found", `<h1>Page not found</h1>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestNavigate(t *testing.T) {
	srv := testServer(t)
	b := New(t)

	b.Navigate(srv.URL + "/")
	if got := b.Title(); got != "Home" {
		t.Errorf("Title() = %q, want %q", got, "Home")
	}
	if got := b.URL(); got != srv.URL+"/" {
		t.Errorf("URL() = %q, want %q", got, srv.URL+"/")
	}
	if got := b.Status(); got != http.StatusOK {
		t.Errorf("Status() = %d, want 200", got)
	}
	if got := b.Text("h1"); got != "Polyphony test home" {
		t.Errorf("Text(h1) = %q", got)
	}
	if !b.Exists("#to-form") || b.Exists("#nothing-here") {
		t.Errorf("Exists: #to-form %v, #nothing-here %v", b.Exists("#to-form"), b.Exists("#nothing-here"))
	}
	if href, ok := b.Attr("#to-form", "href"); !ok || href != "/form" {
		t.Errorf("Attr(href) = %q, %v", href, ok)
	}

	b.ClickAndWait("#to-form")
	if got := b.URL(); got != srv.URL+"/form" {
		t.Errorf("after the click, URL() = %q", got)
	}

	b.Navigate(srv.URL + "/no/such/page")
	if got := b.Status(); got != http.StatusNotFound {
		t.Errorf("Status() of a missing page = %d, want 404", got)
	}
	b.Back()
	if got := b.Title(); got != "Form" {
		t.Errorf("after Back, Title() = %q", got)
	}

	var sum int
	b.Eval(`Promise.resolve(20 + 22)`, &sum)
	if sum != 42 {
		t.Errorf("Eval = %d, want 42", sum)
	}

	b.Navigate(srv.URL + "/later")
	b.WaitVisible("#late")
	if got := b.Text("#late"); got != "arrived" {
		t.Errorf("Text(#late) = %q", got)
	}
}

func TestFillAndSubmit(t *testing.T) {
	srv := testServer(t)
	b := New(t)

	b.Navigate(srv.URL + "/form")
	b.Fill("#name", "Dr Ada <Lovelace>")
	if got := b.Value("#name"); got != "Dr Ada <Lovelace>" {
		t.Fatalf("Value after Fill = %q (Fill must clear the field first)", got)
	}
	b.Fill("#grade", "ST3")
	b.Click("#send")
	b.WaitVisible("#result")
	if got := b.Text("#result"); got != "You entered: Dr Ada <Lovelace>" {
		t.Errorf("Text(#result) = %q", got)
	}
	if got := b.Text("#grade"); got != "Grade: ST3" {
		t.Errorf("Text(#grade) = %q", got)
	}
	if got := b.Status(); got != http.StatusOK {
		t.Errorf("Status() = %d", got)
	}
	if c := b.Cookie("seen"); c == nil || c.Value != "yes" || !c.HTTPOnly {
		t.Errorf("Cookie(seen) = %+v, want an HttpOnly cookie with the value yes", c)
	}

	// Submit goes through the form and waits for the next page.
	b.Navigate(srv.URL + "/form")
	b.Fill("#name", "Grace")
	b.Submit("form")
	if got := b.Text("#result"); got != "You entered: Grace" {
		t.Errorf("after Submit, Text(#result) = %q", got)
	}

	// An isolated tab has its own cookies; a plain tab shares them.
	tab := b.NewTab()
	tab.Navigate(srv.URL + "/")
	if tab.Cookie("seen") == nil {
		t.Errorf("a new tab does not see the cookie of the browser")
	}
	other := b.NewIsolatedTab()
	other.Navigate(srv.URL + "/")
	if got := other.Cookies(); len(got) != 0 {
		t.Errorf("an isolated tab has cookies %v", got)
	}
}

func TestAxeFindsViolations(t *testing.T) {
	srv := testServer(t)
	b := New(t)
	b.Navigate(srv.URL + "/bad")

	vs := b.Axe(t)
	ids := map[string]Violation{}
	for _, v := range vs {
		ids[v.ID] = v
	}
	img, ok := ids["image-alt"]
	if !ok {
		t.Fatalf("axe did not report image-alt on an <img> without alt; got:\n%s", FormatViolations(vs))
	}
	if len(img.Nodes) != 1 || img.Nodes[0].Target[0] != "img" || !strings.Contains(img.Nodes[0].HTML, "pixel.png") {
		t.Errorf("image-alt nodes = %+v", img.Nodes)
	}
	if img.Impact == "" || img.Help == "" || !strings.HasPrefix(img.HelpURL, "https://") {
		t.Errorf("image-alt lacks impact, help or helpUrl: %+v", img)
	}
	if _, ok := ids["label"]; !ok {
		t.Errorf("axe did not report label on an input without a label; got:\n%s", FormatViolations(vs))
	}

	// AssertNoAxeViolations must fail on this page, and say why.
	rec := record(t, b.AssertNoAxeViolations)
	if !rec.failed {
		t.Fatalf("AssertNoAxeViolations did not fail on a page with violations")
	}
	for _, want := range []string{"image-alt (critical)", "label (", "#nolabel", "pixel.png", "/bad"} {
		if !strings.Contains(rec.msg, want) {
			t.Errorf("the report lacks %q:\n%s", want, rec.msg)
		}
	}
	t.Logf("the report of AssertNoAxeViolations on /bad:\n%s", rec.msg)
}

func TestAxeUnderStrictCSP(t *testing.T) {
	srv := testServer(t)
	b := New(t)
	// The page's inline script is refused on purpose, and the browser says so.
	b.AllowConsoleError("Executing inline script violates the following Content Security Policy directive")
	b.Navigate(srv.URL + "/strict")

	// The policy is in force: the inline script did not run.
	if got := b.Title(); got != "Strict page" {
		t.Fatalf("Title() = %q: the Content-Security-Policy was not enforced", got)
	}
	if vs := b.Axe(t); len(vs) != 0 {
		t.Errorf("axe found violations on a clean page:\n%s", FormatViolations(vs))
	}
	// A second run reuses the axe-core already in the page.
	b.AssertNoAxeViolations(t)

	// The other clean pages pass too, also at a phone width.
	b.SetMobileViewport(375, 812)
	for _, p := range []string{"/", "/form"} {
		b.Navigate(srv.URL + p)
		b.AssertNoAxeViolations(t)
	}
}

func TestScreenshot(t *testing.T) {
	srv := testServer(t)
	b := New(t)
	dir := t.TempDir()

	b.Navigate(srv.URL + "/tall")
	full := filepath.Join(dir, "shots", "tall.png")
	b.Screenshot(full)
	w, h := pngSize(t, full)
	if w != WindowWidth || h < 3000 {
		t.Errorf("full page screenshot is %d×%d, want %d wide and at least 3000 high", w, h, WindowWidth)
	}

	b.SetViewport(375, 812)
	b.Navigate(srv.URL + "/")
	if got := evalInt(b, "window.innerWidth"); got != 375 {
		t.Errorf("innerWidth at a phone viewport = %d", got)
	}
	phone := filepath.Join(dir, "phone.png")
	b.Screenshot(phone)
	if w, h := pngSize(t, phone); w != 375 || h != 812 {
		t.Errorf("phone screenshot is %d×%d, want 375×812", w, h)
	}
	b.ResetViewport()
	if got := evalInt(b, "window.innerWidth"); got != WindowWidth {
		t.Errorf("innerWidth after ResetViewport = %d", got)
	}
}

func evalInt(b *Browser, js string) int {
	var n int
	b.Eval(js, &n)
	return n
}

func pngSize(t *testing.T, path string) (int, int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("%s is not a PNG", path)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img.Bounds().Dx(), img.Bounds().Dy()
}

// TestFailureMessage checks that a failed action fails the test with the
// action and the page in the message.
func TestFailureMessage(t *testing.T) {
	srv := testServer(t)
	b := New(t)
	b.SetTimeout(time.Second)
	b.Navigate(srv.URL + "/")

	rec := record(t, func(tb testing.TB) { b.For(tb).Click("#does-not-exist") })
	if !rec.failed {
		t.Fatal("Click on a missing element did not fail")
	}
	for _, want := range []string{`Click("#does-not-exist")`, srv.URL + "/", "not done after 1s"} {
		if !strings.Contains(rec.msg, want) {
			t.Errorf("the message lacks %q: %s", want, rec.msg)
		}
	}
}

// TestNoProcessLeft checks that Chromium and its children are gone, and the
// profile removed, when the test that opened the browser ends.
func TestNoProcessLeft(t *testing.T) {
	var dir string
	t.Run("browser", func(t *testing.T) {
		b := New(t)
		dir = b.UserDataDir()
		if len(processesWithArg("--user-data-dir="+dir, false)) == 0 {
			t.Fatalf("no process has --user-data-dir=%s while the browser runs", dir)
		}
	})
	if dir == "" {
		t.Skip("the browser did not start")
	}
	if pids := processesWithArg("--user-data-dir="+dir, false); len(pids) != 0 {
		t.Errorf("processes %v of the browser still run after its test ended", pids)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the profile %s is still there (%v)", dir, err)
	}
}

func TestMissingTools(t *testing.T) {
	t.Setenv("POLYPHONY_CHROMIUM", filepath.Join(t.TempDir(), "no-chromium"))
	if path, why := findChromium(); path != "" || !strings.Contains(why, "POLYPHONY_CHROMIUM") {
		t.Errorf("findChromium() = %q, %q", path, why)
	}

	t.Setenv("POLYPHONY_AXE_JS", filepath.Join(t.TempDir(), "no-axe.js"))
	for _, ci := range []string{"true", ""} {
		t.Setenv("CI", ci)
		rec := record(t, func(tb testing.TB) { axeSource(tb) })
		switch {
		case ci == "true" && (!rec.failed || rec.skipped):
			t.Errorf("CI=true: a missing axe-core must fail the test, got failed=%v skipped=%v", rec.failed, rec.skipped)
		case ci == "" && (rec.failed || !rec.skipped):
			t.Errorf("CI unset: a missing axe-core must skip the test, got failed=%v skipped=%v", rec.failed, rec.skipped)
		}
		if !strings.Contains(rec.msg, "npm ci") {
			t.Errorf("the message does not name npm ci: %s", rec.msg)
		}
	}
}

// record runs f with a recordingTB in a goroutine of its own, which Fatalf
// can end, and returns what it recorded.
func record(t *testing.T, f func(testing.TB)) *recordingTB {
	rec := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(rec)
	}()
	<-done
	return rec
}

// recordingTB records a failure or a skip instead of reporting it. Its
// Fatalf ends the goroutine, as testing.T's does; Skipf returns.
type recordingTB struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.failed = true
	r.msg += fmt.Sprintf(format, args...)
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed = true
	r.msg += fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped = true
	r.msg += fmt.Sprintf(format, args...)
}
