// Package ssotest runs a real OpenID provider on a loopback port for tests: the program in
// cmd/polyphony-testop, built on the provider of github.com/zitadel/oidc. It is taken from
// the POLYPHONY_TESTOP_BIN environment variable, else built with `go build` into the
// git-ignored .cache/ssotest (once for each version of its source), which needs nothing but
// this module and its dependencies: a fresh clone runs these tests with no step before.
//
//	op := ssotest.Start(t, ssotest.Options{RedirectURI: base + "/signin/sso/callback",
//		Users: []ssotest.User{{Email: "ada@nhs.example", Password: "pass"}}})
//	// configure the client with op.Issuer, op.ClientID, op.ClientSecret
//	callback, err := op.Login(authURL, "ada@nhs.example", "pass")
package ssotest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"polyphony/internal/proctest"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BinEnv names the environment variable that gives the provider's binary.
const BinEnv = "POLYPHONY_TESTOP_BIN"

// StartTimeout bounds building and starting the provider.
const StartTimeout = 3 * time.Minute

// User is a person the provider can sign in.
type User struct {
	Email, Password string
	// Unverified makes the provider say the email address is not verified.
	Unverified bool
}

// Options configure one provider.
type Options struct {
	// ClientID and ClientSecret default to "polyphony" and a random secret.
	ClientID, ClientSecret string
	RedirectURI            string
	Users                  []User
	// Audience, when set, is the audience of every id token instead of the client id.
	Audience string
	// IDTokenLifetime, when not zero, is how long id tokens last; negative ones are issued
	// already expired.
	IDTokenLifetime time.Duration
	// Nonce, when set, is put in every id token instead of the client's.
	Nonce string
}

// Provider is a running provider.
type Provider struct {
	Issuer, ClientID, ClientSecret string
	http                           *http.Client
}

// Start runs a provider for t, stopped when t ends.
func Start(t testing.TB, opts Options) *Provider {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatalf("ssotest: %v", err)
	}
	if opts.ClientID == "" {
		opts.ClientID = "polyphony"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = fmt.Sprintf("secret-%d", time.Now().UnixNano())
	}
	args := []string{"-client-id", opts.ClientID, "-client-secret", opts.ClientSecret, "-redirect-uri", opts.RedirectURI}
	if opts.Audience != "" {
		args = append(args, "-audience", opts.Audience)
	}
	if opts.Nonce != "" {
		args = append(args, "-nonce", opts.Nonce)
	}
	if opts.IDTokenLifetime != 0 {
		args = append(args, "-id-token-lifetime", opts.IDTokenLifetime.String())
	}
	for _, u := range opts.Users {
		spec := u.Email + ":" + u.Password
		if u.Unverified {
			spec += ":unverified"
		}
		args = append(args, "-user", spec)
	}
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	cmd.Stderr = logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("ssotest: start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { cmd.Wait(); close(exited) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("OpenID provider's log:\n%s", logs.String())
		}
	})
	var issuer string
	select {
	case line := <-lines:
		issuer = strings.TrimPrefix(line, "issuer ")
	case <-exited:
		t.Fatalf("ssotest: the provider exited at start:\n%s", logs.String())
	case <-time.After(StartTimeout):
		t.Fatalf("ssotest: the provider did not start within %s:\n%s", StartTimeout, logs.String())
	}
	p := &Provider{Issuer: issuer, ClientID: opts.ClientID, ClientSecret: opts.ClientSecret, http: &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	res, err := p.http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("ssotest: the provider's discovery document: %v %v\n%s", err, res, logs.String())
	}
	res.Body.Close()
	return p
}

var (
	buildOnce sync.Once
	built     string
	buildErr  error
)

// binary finds or builds the provider's program.
func binary() (string, error) {
	if p := os.Getenv(BinEnv); p != "" {
		return p, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root, err := proctest.ModuleRoot(wd)
	if err != nil {
		return "", err
	}
	buildOnce.Do(func() { built, buildErr = build(root) })
	return built, buildErr
}

// build builds the provider into <module root>/.cache/ssotest, named for a hash of its source
// and of go.sum, so that test binaries of one version share one build and a changed program
// gets a new one. It builds to a file of its own and renames it into place: test binaries of
// several packages run at once.
func build(root string) (string, error) {
	h := sha256.New()
	for _, f := range []string{filepath.Join("cmd", "polyphony-testop", "main.go"), "go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	dir := filepath.Join(root, ".cache", "ssotest")
	bin := filepath.Join(dir, fmt.Sprintf("polyphony-testop-%x", h.Sum(nil)[:8]))
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, "build-*")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", tmp.Name(), "./cmd/polyphony-testop")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the OpenID provider: %v\n%s", err, out)
	}
	if err := os.Rename(tmp.Name(), bin); err != nil {
		return "", err
	}
	return bin, nil
}

var (
	formID     = regexp.MustCompile(`name="id" value="([^"]*)"`)
	formAction = regexp.MustCompile(`<form method="POST" action="([^"]*)"`)
)

// Login plays a person at the provider: from authURL (where Polyphony sent the browser) it
// follows the provider's redirects to its login page, posts the email address and password,
// and follows the provider's redirects again until one leaves the provider. It answers that
// address: Polyphony's callback, with the code and state.
func (p *Provider) Login(authURL, email, password string) (*url.URL, error) {
	next, err := p.follow(authURL, nil)
	if err != nil {
		return nil, err
	}
	if next.off {
		return next.url, nil
	}
	id, action := formID.FindStringSubmatch(next.body), formAction.FindStringSubmatch(next.body)
	if id == nil || action == nil {
		return nil, fmt.Errorf("ssotest: no login form at %s: %.300s", next.url, next.body)
	}
	target, _ := next.url.Parse(action[1])
	form := url.Values{"id": {id[1]}, "username": {email}, "password": {password}}
	after, err := p.follow(target.String(), form)
	if err != nil {
		return nil, err
	}
	if !after.off {
		return nil, fmt.Errorf("ssotest: the provider did not sign %s in: %.300s", email, after.body)
	}
	return after.url, nil
}

type stop struct {
	url  *url.URL
	body string
	off  bool // url is off the provider
}

// follow requests u (posting form, if any) and follows redirects while they stay on the
// provider.
func (p *Provider) follow(u string, form url.Values) (stop, error) {
	for range 10 {
		var res *http.Response
		var err error
		if form != nil {
			res, err = p.http.PostForm(u, form)
			form = nil
		} else {
			res, err = p.http.Get(u)
		}
		if err != nil {
			return stop{}, err
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		here := res.Request.URL
		if res.StatusCode/100 != 3 {
			if res.StatusCode != http.StatusOK {
				return stop{}, fmt.Errorf("ssotest: %s answered %d: %.300s", here, res.StatusCode, body)
			}
			return stop{url: here, body: string(body)}, nil
		}
		loc, err := here.Parse(res.Header.Get("Location"))
		if err != nil {
			return stop{}, err
		}
		if !strings.HasPrefix(loc.String(), p.Issuer+"/") {
			return stop{url: loc, off: true}, nil
		}
		u = loc.String()
	}
	return stop{}, errors.New("ssotest: too many redirects at the provider")
}

// lockedBuffer collects the provider's log for one writer and concurrent readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
