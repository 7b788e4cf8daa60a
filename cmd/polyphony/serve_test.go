package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"polyphony/internal/proctest"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serveProc is `polyphony serve` running as a process of its own.
type serveProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout *proctest.Buffer
	stderr *proctest.Buffer
	done   chan struct{} // closed when the process has exited
	code   int           // exit code, once done is closed
}

// launchServe starts `polyphony serve` on data and a free port, without waiting for it.
func launchServe(t *testing.T, data string, extra ...string) *serveProc {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--shutdown-timeout", "10s"}, extra...)
	p := &serveProc{t: t, cmd: exec.Command(binary, args...), stdout: &proctest.Buffer{}, stderr: &proctest.Buffer{}, done: make(chan struct{})}
	p.cmd.Env = processEnv()
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start polyphony serve: %v", err)
	}
	go func() {
		err := p.cmd.Wait()
		p.code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
			return
		default:
		}
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

var openLine = regexp.MustCompile(`Open (http://127\.0\.0\.1:\d+)/\n`)

// startServe starts `polyphony serve` and returns it once it prints the address to open.
func startServe(t *testing.T, data string, extra ...string) (*serveProc, string) {
	t.Helper()
	p := launchServe(t, data, extra...)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		// The banner ends with how to stop; wait for all of it.
		out := p.stdout.String()
		if m := openLine.FindStringSubmatch(out); m != nil && strings.Contains(out, "Press Ctrl+C to stop.") {
			return p, m[1]
		}
		select {
		case <-p.done:
			t.Fatalf("polyphony serve exited %d before it was ready\n--- stdout\n%s--- stderr\n%s", p.code, p.stdout, p.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("polyphony serve printed no address within a minute\n--- stdout\n%s--- stderr\n%s", p.stdout, p.stderr)
	return nil, ""
}

// wait waits up to timeout for the process to exit and returns its exit code.
func (p *serveProc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(timeout):
		p.t.Fatalf("polyphony serve did not exit within %s\n--- stderr\n%s", timeout, p.stderr)
		return -1
	}
}

func (p *serveProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

var client = &http.Client{Timeout: 30 * time.Second}

// signIn posts the credentials to the JSON sign-in.
func signIn(t *testing.T, base, email, password string) *http.Response {
	t.Helper()
	body := fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)
	resp, err := client.Post(base+"/api/v1/session", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST /api/v1/session: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("POST /api/v1/session: %v", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}

// sessionCookie is the session cookie a sign-in set, or nil.
func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == "polyphony" && c.Value != "" {
			return c
		}
	}
	return nil
}

// me asks GET /api/v1/me with the given request decoration and returns the status and the
// email it names.
func me(t *testing.T, base string, decorate func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	decorate(req)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET /api/v1/me: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		User struct {
			Email string `json:"email"`
			Role  string `json:"role"`
		} `json:"user"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatalf("GET /api/v1/me: %v in %s", err, b)
		}
	}
	return resp.StatusCode, body.User.Email
}

func withCookie(c *http.Cookie) func(*http.Request) {
	return func(r *http.Request) { r.AddCookie(c) }
}

// The platform as an operator runs it: serve, manage accounts beside it, sign in, be
// throttled, stop on SIGTERM while a request is in flight, start again with the data intact.
func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	listener := filepath.Join(data, "db", "listener.json")
	const (
		alice, alicePassword = "alice@example.org", "alice-long-passphrase"
		bob, bobPassword     = "bob@example.org", "bob-long-passphrase"
	)

	srv, base := startServe(t, data)
	if !strings.Contains(srv.stdout.String(), "There are no accounts yet") {
		t.Errorf("a first start should say there are no accounts:\n%s", srv.stdout)
	}
	if _, err := os.Stat(listener); err != nil {
		t.Fatalf("listener.json while serving: %v", err)
	}

	// Commands on the same folder go through the server's database listener.
	for _, u := range []struct{ email, name, role, password string }{
		{alice, "Alice Admin", "admin", alicePassword},
		{bob, "Bob Trainee", "trainee", bobPassword},
	} {
		r := runBinary(t, u.password+"\n", "user", "add", "--data", data, "--email", u.email, "--name", u.name, "--role", u.role, "--password-stdin")
		if r.code != 0 || !strings.Contains(r.stdout, "Added "+u.name) {
			t.Fatalf("user add while the server runs: %v", r)
		}
	}
	if _, err := os.Stat(listener); err != nil || !srv.running() {
		t.Fatalf("after the commands: listener.json %v, server running %v", err, srv.running())
	}

	resp := signIn(t, base, alice, alicePassword)
	cookie := sessionCookie(resp)
	if resp.StatusCode != http.StatusOK || cookie == nil {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("sign in: %d, cookie %v: %s", resp.StatusCode, cookie, b)
	}
	if !cookie.HttpOnly {
		t.Errorf("session cookie is not HttpOnly: %v", cookie)
	}
	if code, email := me(t, base, withCookie(cookie)); code != http.StatusOK || email != alice {
		t.Errorf("GET /api/v1/me with the cookie: %d %q, want 200 %s", code, email, alice)
	}
	if code, _ := me(t, base, func(*http.Request) {}); code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/me without a cookie: %d, want 401", code)
	}

	// A token made by the command line works against the running server.
	r := runBinary(t, "", "token", "add", "--data", data, "--email", alice, "--name", "end-to-end")
	token := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(token, "pph_") {
		t.Fatalf("token add while the server runs: %v", r)
	}
	if code, email := me(t, base, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }); code != http.StatusOK || email != alice {
		t.Errorf("GET /api/v1/me with the token: %d %q, want 200 %s", code, email, alice)
	}

	// Twenty wrong passwords in a row: the throttle answers 429 with Retry-After.
	var last *http.Response
	for i := range 20 {
		last = signIn(t, base, bob, fmt.Sprintf("wrong-password-%02d", i))
		if last.StatusCode != http.StatusUnauthorized && last.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("wrong password %d: status %d, want 401 or 429", i+1, last.StatusCode)
		}
		if i < 10 && last.StatusCode != http.StatusUnauthorized {
			t.Errorf("wrong password %d: status %d, want 401 within the limit of 10", i+1, last.StatusCode)
		}
	}
	if last.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("twentieth wrong password: status %d, want 429", last.StatusCode)
	}
	if secs, err := strconv.Atoi(last.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 15*60+1 {
		t.Errorf("Retry-After %q, want whole seconds within the 15-minute window", last.Header.Get("Retry-After"))
	}
	if resp := signIn(t, base, bob, bobPassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("right password while throttled: %d, want 429", resp.StatusCode)
	}
	if resp := signIn(t, base, alice, alicePassword); resp.StatusCode != http.StatusOK {
		t.Errorf("another account while bob is throttled: %d, want 200", resp.StatusCode)
	}

	// SIGTERM with a request in flight: the server stops listening, finishes the request,
	// closes the database and exits 0.
	addr := strings.TrimPrefix(base, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := fmt.Sprintf(`{"email":%q,"password":%q}`, alice, alicePassword)
	const sentFirst = 10
	if _, err := fmt.Fprintf(conn, "POST /api/v1/session HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		addr, len(body), body[:sentFirst]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the server reads the headers and waits for the rest
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Since(stopped) > 5*time.Second {
			t.Fatal("the server still takes connections 5s after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !srv.running() {
		t.Fatalf("the server exited (%d) with a request in flight\n%s", srv.code, srv.stderr)
	}
	if _, err := io.WriteString(conn, body[sentFirst:]); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	inFlight, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the request in flight got no answer: %v\n%s", err, srv.stderr)
	}
	inFlight.Body.Close()
	if inFlight.StatusCode != http.StatusOK || sessionCookie(inFlight) == nil {
		t.Errorf("the request in flight: %d, cookie %v; want 200 and a session", inFlight.StatusCode, sessionCookie(inFlight))
	}
	if !inFlight.Close {
		t.Errorf("the request in flight was answered without Connection: close; it was not part of the shutdown")
	}
	if code := srv.wait(20 * time.Second); code != 0 {
		t.Fatalf("after SIGTERM the server exited %d, want 0\n%s", code, srv.stderr)
	}
	if took := time.Since(stopped); took > 10*time.Second {
		t.Errorf("shutting down took %s, longer than --shutdown-timeout 10s", took)
	}
	if _, err := os.Stat(listener); !os.IsNotExist(err) {
		t.Errorf("listener.json after the server stopped: %v, want it gone", err)
	}

	// Started again on the same folder, everything is still there.
	srv2, base2 := startServe(t, data)
	if strings.Contains(srv2.stdout.String(), "There are no accounts yet") {
		t.Errorf("the restarted server says there are no accounts:\n%s", srv2.stdout)
	}
	resp = signIn(t, base2, alice, alicePassword)
	if resp.StatusCode != http.StatusOK || sessionCookie(resp) == nil {
		t.Errorf("sign in after the restart: %d", resp.StatusCode)
	}
	if code, email := me(t, base2, withCookie(cookie)); code != http.StatusOK || email != alice {
		t.Errorf("the session from before the restart: %d %q, want 200 %s", code, email, alice)
	}
	if resp := signIn(t, base2, bob, bobPassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("bob after the restart: %d, want 429 (the throttle is kept in the database)", resp.StatusCode)
	}
	if err := srv2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := srv2.wait(20 * time.Second); code != 0 {
		t.Errorf("second run: exit %d after SIGTERM\n%s", code, srv2.stderr)
	}
	if _, err := os.Stat(listener); !os.IsNotExist(err) {
		t.Errorf("listener.json after the second run: %v, want it gone", err)
	}
}

// Only one server may hold a data folder; the second says so and leaves the first alone.
func TestServeTwiceOnOneFolder(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	first, base := startServe(t, data)

	second := launchServe(t, data)
	code := second.wait(60 * time.Second)
	stderr := strings.TrimSpace(second.stderr.String())
	if code == 0 {
		t.Fatalf("the second serve exited 0\n%s", stderr)
	}
	want := fmt.Sprintf("polyphony serve: the database in %s is in use by process %d", filepath.Join(data, "db"), first.cmd.Process.Pid)
	if !strings.HasPrefix(stderr, want) || strings.Contains(stderr, "\n") {
		t.Errorf("the second serve said %q, want one line starting %q", stderr, want)
	}
	if strings.Contains(second.stdout.String(), "Open http") {
		t.Errorf("the second serve claimed to be running:\n%s", second.stdout)
	}

	// The first is untouched: it still answers, and commands still reach its listener.
	if _, err := os.Stat(filepath.Join(data, "db", "listener.json")); err != nil {
		t.Errorf("listener.json after the second serve failed: %v", err)
	}
	resp, err := client.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz on the first server: %d", resp.StatusCode)
	}
	if r := runBinary(t, "", "user", "list", "--data", data); r.code != 0 {
		t.Errorf("user list beside the first server: %v", r)
	}

	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := first.wait(20 * time.Second); code != 0 {
		t.Errorf("first serve: exit %d after SIGTERM\n%s", code, first.stderr)
	}
}
