// Package mailtest runs a real mail server, Mailpit, on loopback ports for tests, and reads
// what it received through Mailpit's HTTP API.
//
// The binary is taken from the POLYPHONY_MAILPIT_BIN environment variable, else from
// <module root>/.cache/bin/mailpit, which `make test` (or `make mailpit`) installs. As with
// the MinIO harness, a missing binary skips the test, or fails it when the CI environment
// variable is "true", with a message naming `make mailpit`.
//
//	srv := mailtest.Start(t)
//	... send to srv.Host():srv.SMTPPort() ...
//	msgs := srv.WaitForCount(t, 1, 10*time.Second)
//	full := srv.Message(t, msgs[0].ID)
//
// Each server keeps its messages in a database file of its own, so Stop and Restart (on
// the same ports) keep what it had received: a test can take the server away mid-queue and
// count every message once it is back.
package mailtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"polyphony/internal/proctest"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// BinEnv names the environment variable that gives the Mailpit binary's path.
const BinEnv = "POLYPHONY_MAILPIT_BIN"

// StartTimeout bounds how long the server may take to answer.
const StartTimeout = 30 * time.Second

const stopGrace = 10 * time.Second

const missingMsg = "Mailpit binary missing: run `make mailpit` (or `make test`) to install it into .cache/bin, or set " + BinEnv

// ErrBinaryMissing reports that no Mailpit binary was found.
var ErrBinaryMissing = errors.New("mailtest: Mailpit binary missing")

// Options change how the server runs.
type Options struct {
	// AllowedRecipients, when set, is a regular expression: Mailpit refuses every other
	// recipient with a permanent (5xx) answer.
	AllowedRecipients string
	// TLS gives the server a certificate of its own (see CertPool) and makes it refuse any
	// client that does not upgrade with STARTTLS; with ImplicitTLS it speaks TLS from the
	// first byte instead.
	TLS, ImplicitTLS bool
	// Chaos lets SetRecipientRefusal make the server refuse recipients on demand.
	Chaos bool
	// Users, when set, are the only user names and passwords the server accepts, and it
	// accepts no message without them.
	Users map[string]string
}

// Server is a running (or stopped) Mailpit.
type Server struct {
	bin      string
	dir      string
	smtpPort int
	httpPort int
	opts     Options
	certs    *x509.CertPool

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	out  *proctest.Buffer
}

// CertPool holds the certificate the server presents with Options.TLS, for a client to
// trust; nil without TLS.
func (s *Server) CertPool() *x509.CertPool { return s.certs }

// prepare writes the files the options need: a certificate for 127.0.0.1 and its key, and
// the password file (bcrypt hashes, as htpasswd writes them).
func (s *Server) prepare() error {
	if s.opts.TLS || s.opts.ImplicitTLS {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailtest"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			return err
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return err
		}
		s.certs = x509.NewCertPool()
		s.certs.AddCert(cert)
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(s.dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(s.dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
			return err
		}
	}
	if len(s.opts.Users) > 0 {
		var b strings.Builder
		for user, pw := range s.opts.Users {
			h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "%s:%s\n", user, h)
		}
		if err := os.WriteFile(filepath.Join(s.dir, "smtp-users"), []byte(b.String()), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// Host is the loopback address the server listens on.
func (s *Server) Host() string { return "127.0.0.1" }

// SMTPPort is the port of its SMTP listener.
func (s *Server) SMTPPort() int { return s.smtpPort }

// SMTPAddr is host:port of its SMTP listener.
func (s *Server) SMTPAddr() string { return net.JoinHostPort(s.Host(), strconv.Itoa(s.smtpPort)) }

// APIURL is the base address of its HTTP API and web interface.
func (s *Server) APIURL() string {
	return "http://" + net.JoinHostPort(s.Host(), strconv.Itoa(s.httpPort))
}

// BinaryPath returns the Mailpit binary to run: $POLYPHONY_MAILPIT_BIN if set, else
// <module root>/.cache/bin/mailpit. The error wraps ErrBinaryMissing when there is none.
func BinaryPath() (string, error) {
	return proctest.CachedBinary(BinEnv, "mailpit", ErrBinaryMissing)
}

// Start runs a Mailpit of t's own on free loopback ports, waits until it answers, and stops
// it when t ends.
func Start(t testing.TB, opts ...Options) *Server {
	t.Helper()
	bin, err := BinaryPath()
	if err != nil {
		if errors.Is(err, ErrBinaryMissing) {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%v; run `make mailpit` (or `make test`) to install it into .cache/bin", err)
			}
			t.Skip(missingMsg)
		}
		t.Fatal(err)
	}
	s := &Server{bin: bin, dir: t.TempDir()}
	if len(opts) > 0 {
		s.opts = opts[0]
	}
	if err := s.prepare(); err != nil {
		t.Fatal(err)
	}
	// A port picked here may be taken before Mailpit binds it; try again with fresh ones.
	for attempt := 1; ; attempt++ {
		if s.smtpPort, err = proctest.FreePort(); err == nil {
			s.httpPort, err = proctest.FreePort()
		}
		if err == nil {
			err = s.launch()
		}
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatalf("mailtest: start Mailpit: %v", err)
		}
	}
	t.Cleanup(s.Stop)
	return s
}

// Restart starts the server again after Stop, on the same ports and with the messages it
// had received.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	var err error
	// The ports were ours a moment ago; give the kernel a few tries to free them.
	for attempt := 1; attempt <= 20; attempt++ {
		if err = s.launch(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("mailtest: restart Mailpit: %v", err)
}

// Stop ends the server (SIGTERM, then SIGKILL after a grace period) and waits for it. The
// ports are free once it returns. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(stopGrace):
		_ = cmd.Process.Kill()
		<-done
	}
}

// launch runs the binary and waits until both listeners answer.
func (s *Server) launch() error {
	args := []string{
		"--smtp", s.SMTPAddr(),
		"--listen", net.JoinHostPort(s.Host(), strconv.Itoa(s.httpPort)),
		"--database", filepath.Join(s.dir, "mailpit.db"),
		"--disable-version-check", "--smtp-disable-rdns", "--quiet",
		"--max", "0",
	}
	if s.opts.AllowedRecipients != "" {
		args = append(args, "--smtp-allowed-recipients", s.opts.AllowedRecipients)
	}
	if s.opts.TLS || s.opts.ImplicitTLS {
		args = append(args, "--smtp-tls-cert", filepath.Join(s.dir, "cert.pem"), "--smtp-tls-key", filepath.Join(s.dir, "key.pem"))
		if s.opts.ImplicitTLS {
			args = append(args, "--smtp-require-tls")
		} else {
			args = append(args, "--smtp-require-starttls")
		}
	}
	if len(s.opts.Users) > 0 {
		args = append(args, "--smtp-auth-file", filepath.Join(s.dir, "smtp-users"))
	}
	if s.opts.Chaos {
		args = append(args, "--enable-chaos")
	}
	out := &proctest.Buffer{}
	cmd := exec.Command(s.bin, args...)
	// Mailpit reads MP_* variables as settings; the test's own are left out.
	cmd.Env = withoutPrefix(os.Environ(), "MP_")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done, s.out = cmd, done, out
	s.mu.Unlock()
	if err := s.waitReady(done); err != nil {
		s.Stop()
		return fmt.Errorf("%w\n--- Mailpit output ---\n%s", err, out.String())
	}
	return nil
}

func (s *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(StartTimeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		smtpUp := false
		if c, err := net.DialTimeout("tcp", s.SMTPAddr(), time.Second); err == nil {
			c.Close()
			smtpUp = true
		}
		if smtpUp {
			if resp, err := client.Get(s.APIURL() + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		select {
		case <-exited:
			return errors.New("mailtest: Mailpit exited before it answered")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mailtest: Mailpit not answering on %s and %s after %s", s.SMTPAddr(), s.APIURL(), StartTimeout)
		}
	}
}

// Address is a name and an email address as Mailpit reports them.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Summary is one received message as Mailpit lists it.
type Summary struct {
	ID        string    `json:"ID"`
	MessageID string    `json:"MessageID"`
	From      Address   `json:"From"`
	To        []Address `json:"To"`
	Subject   string    `json:"Subject"`
}

// Message is one received message in full: its bodies, and every header it came with.
type Message struct {
	ID        string    `json:"ID"`
	MessageID string    `json:"MessageID"`
	From      Address   `json:"From"`
	To        []Address `json:"To"`
	ReplyTo   []Address `json:"ReplyTo"`
	Subject   string    `json:"Subject"`
	Text      string    `json:"Text"`
	HTML      string    `json:"HTML"`
	// Headers maps each header's name to its values.
	Headers map[string][]string `json:"-"`
}

// Messages lists every message received, newest first.
func (s *Server) Messages(t testing.TB) []Summary {
	t.Helper()
	const limit = 1000
	deadline := time.Now().Add(5 * time.Second)
	for {
		var page struct {
			Total    int       `json:"total"`
			Messages []Summary `json:"messages"`
		}
		s.getJSON(t, fmt.Sprintf("/api/v1/messages?limit=%d", limit), &page)
		switch {
		case page.Total <= len(page.Messages):
			return page.Messages
		case len(page.Messages) >= limit:
			t.Fatalf("mailtest: Mailpit holds %d messages, more than one page of %d", page.Total, limit)
		case time.Now().After(deadline):
			t.Fatalf("mailtest: Mailpit counts %d messages but lists %d", page.Total, len(page.Messages))
		}
		// Mailpit counts and lists in two steps: a message that arrived between them is
		// in the total but not yet in the page. Ask again.
		time.Sleep(10 * time.Millisecond)
	}
}

// Message reads one message in full, with its headers.
func (s *Server) Message(t testing.TB, id string) Message {
	t.Helper()
	var m Message
	s.getJSON(t, "/api/v1/message/"+id, &m)
	s.getJSON(t, "/api/v1/message/"+id+"/headers", &m.Headers)
	return m
}

// WaitForCount waits until the server has received at least n messages and returns them;
// it fails t if they have not all come within timeout.
func (s *Server) WaitForCount(t testing.TB, n int, timeout time.Duration) []Summary {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := s.Messages(t)
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailtest: %d messages received after %s, want %d", len(msgs), timeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) getJSON(t testing.TB, path string, into any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.APIURL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("mailtest: GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailtest: GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("mailtest: GET %s: %v", path, err)
	}
}

// SetRecipientRefusal makes the server (started with Options.Chaos) answer every RCPT TO
// with code (451: try later) at the given probability in percent; 0 stops it. A restart
// forgets it.
func (s *Server) SetRecipientRefusal(t testing.TB, code, percent int) {
	t.Helper()
	body := fmt.Sprintf(`{"Recipient":{"ErrorCode":%d,"Probability":%d}}`, code, percent)
	req, err := http.NewRequest(http.MethodPut, s.APIURL()+"/api/v1/chaos", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("mailtest: set chaos: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailtest: set chaos: %s (was the server started with Options.Chaos?)", resp.Status)
	}
}

// Output is what the server has written to stdout and stderr since it last started.
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil {
		return ""
	}
	return s.out.String()
}

func withoutPrefix(env []string, prefix string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if len(kv) < len(prefix) || kv[:len(prefix)] != prefix {
			out = append(out, kv)
		}
	}
	return out
}
