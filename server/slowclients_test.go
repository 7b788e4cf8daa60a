package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"polyphony/content"
	"polyphony/internal/accounts"
	"polyphony/server"
)

// serveOwn runs the fixture's application through Server.Serve (the listener, timeouts and
// connection limits the binary uses) on a loopback port, with cfg, until the test ends.
func (f *fixture) serveOwn(t *testing.T, cfg server.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	if cfg.TLS != nil {
		base = "https://" + ln.Addr().String()
	}
	cfg.PublicURL = mustURL(base)
	srv, err := server.New(cfg, server.Deps{Accounts: f.accounts, Courses: f.courses, Pages: f.pages, Renderer: content.NewRenderer(),
		Media: f.media, Assessments: f.assessments, Journals: f.journals})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return base
}

// trickle sends head at once, then body a byte at a time every gap, until it is all sent or
// the connection fails; it reports how many bytes of body went.
func trickle(conn net.Conn, head string, body []byte, gap time.Duration, sent *atomic.Int64) {
	if _, err := io.WriteString(conn, head); err != nil {
		return
	}
	for _, b := range body {
		time.Sleep(gap)
		if _, err := conn.Write([]byte{b}); err != nil {
			return
		}
		sent.Add(1)
	}
}

// TestSlowRequestBodiesAreTimedOut sends request bodies a byte at a time from many
// connections: each is answered 408 and closed long before its body could be complete.
func TestSlowRequestBodiesAreTimedOut(t *testing.T) {
	f := newFixture(t)
	base := f.serveOwn(t, server.Config{BodyTimeout: 300 * time.Millisecond})
	body := []byte(`{"email": "nobody@nhs.example", "password": "a slow password, sent slowly"}`)
	head := fmt.Sprintf("POST /api/v1/session HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", mustURL(base).Host, len(body))
	const clients = 10
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			conn, err := net.Dial("tcp", mustURL(base).Host)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			var sent atomic.Int64
			go trickle(conn, head, body, 200*time.Millisecond, &sent)
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			br := bufio.NewReader(conn)
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Errorf("client %d: %v", i, err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusRequestTimeout {
				t.Errorf("client %d: %d after %d of %d bytes, want 408", i, res.StatusCode, sent.Load(), len(body))
			}
			if n := sent.Load(); n >= int64(len(body)) {
				t.Errorf("client %d: answered only once all %d bytes were sent", i, n)
			}
			// The server closes the connection: reading on finds its end, and nothing else.
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			if rest, err := io.ReadAll(br); err != nil || len(rest) > 0 || !res.Close {
				t.Errorf("client %d: after the 408 the connection goes on: %q %v", i, rest, err)
			}
		})
	}
	wg.Wait()
}

// noisePNG is a picture that does not compress, about size × size × 4 bytes.
func noisePNG(t *testing.T, size int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	r := rand.New(rand.NewPCG(1, 2))
	for y := range size {
		for x := range size {
			img.Set(x, y, color.NRGBA{uint8(r.Uint32()), uint8(r.Uint32()), uint8(r.Uint32()), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestUploadsKeepAMinimumRate sends one upload a byte at a time, which is cut off, and one
// that takes several times the body timeout but keeps well above the minimum rate, which
// is stored.
func TestUploadsKeepAMinimumRate(t *testing.T) {
	f := newFixture(t)
	base := f.serveOwn(t, server.Config{BodyTimeout: 300 * time.Millisecond, UploadMinRate: 20_000})
	l := f.byRole[accounts.RoleTrainee]
	tr := f.client(t)
	tr.base = base
	res, body := tr.do("POST", "/api/v1/session", map[string]string{"email": l.Email, "password": l.Password})
	me := decodeAs[struct {
		CSRFToken string `json:"csrfToken"`
	}](t, body)
	wantStatus(t, "sign in", res, body, http.StatusOK)
	tr.csrf = me.CSRFToken
	e := createEntry(t, tr, "Uploads", "")
	file := noisePNG(t, 256) // about 260 kB
	var cookie string
	for _, c := range tr.http.Jar.Cookies(mustURL(base)) {
		cookie += c.Name + "=" + c.Value + "; "
	}
	head := fmt.Sprintf("POST /api/v1/journal/entries/%s/media?name=%s HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nX-CSRF-Token: %s\r\n"+
		"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", e.ID, url.QueryEscape("noise.png"), mustURL(base).Host, cookie, tr.csrf, len(file))

	// A byte every 100 ms is 10 bytes a second: cut off.
	conn, err := net.Dial("tcp", mustURL(base).Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var sent atomic.Int64
	go trickle(conn, head, file, 100*time.Millisecond, &sent)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // without a bound it would take hours
	res, err = http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("slow upload: %v", err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestTimeout {
		t.Errorf("slow upload: %d %s after %d bytes, want 408", res.StatusCode, out, sent.Load())
	}

	// Ten pieces 100 ms apart: a second in all, over three body timeouts, at 260 kB/s.
	conn2, err := net.Dial("tcp", mustURL(base).Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	go func() {
		io.WriteString(conn2, head)
		for i := range 10 {
			time.Sleep(100 * time.Millisecond)
			if _, err := conn2.Write(file[i*len(file)/10 : (i+1)*len(file)/10]); err != nil {
				return
			}
		}
	}()
	conn2.SetReadDeadline(time.Now().Add(30 * time.Second))
	res, err = http.ReadResponse(bufio.NewReader(conn2), nil)
	if err != nil {
		t.Fatalf("steady upload: %v", err)
	}
	out, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Errorf("steady upload: %d %s, want 201", res.StatusCode, out)
	}
}

// healthz sends GET /healthz on conn and reports whether it was answered 200.
func healthz(conn net.Conn, br *bufio.Reader) bool {
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: polyphony\r\n\r\n"); err != nil {
		return false
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// TestConnectionsPerClientAreCapped opens more connections from one address than the cap:
// the one over it is closed unanswered, and a place freed is taken again. Connections from
// a trusted proxy are not counted.
func TestConnectionsPerClientAreCapped(t *testing.T) {
	f := newFixture(t)
	base := f.serveOwn(t, server.Config{MaxConnsPerClient: 3})
	addr := mustURL(base).Host
	type open struct {
		conn net.Conn
		br   *bufio.Reader
	}
	var held []open
	for i := range 3 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		if !healthz(conn, br) {
			t.Fatalf("connection %d of 3 was not answered", i+1)
		}
		held = append(held, open{conn, br})
	}
	over, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	if healthz(over, bufio.NewReader(over)) {
		t.Errorf("a fourth connection from the same address was answered")
	}
	// The three still work, and once one closes a new connection gets its place.
	for i, o := range held {
		if !healthz(o.conn, o.br) {
			t.Errorf("held connection %d stopped working", i+1)
		}
	}
	held[0].conn.Close()
	answered := false
	for range 50 { // the server sees the close a moment later
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		answered = healthz(conn, bufio.NewReader(conn))
		conn.Close()
		if answered {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !answered {
		t.Errorf("no new connection was answered after one of the three closed")
	}

	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	proxied := f.serveOwn(t, server.Config{MaxConnsPerClient: 1, ClientIP: "x-forwarded-for", TrustedProxies: []*net.IPNet{loopback}})
	for i := range 3 {
		conn, err := net.Dial("tcp", mustURL(proxied).Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if !healthz(conn, bufio.NewReader(conn)) {
			t.Errorf("connection %d from a trusted proxy was refused", i+1)
		}
	}
}

// TestServeTLSCapsConnectionsBelowTLS serves HTTPS through Serve, which counts connections
// per client address beneath TLS: a handshake and a sign-in work, a connection over the cap
// is not answered.
func TestServeTLSCapsConnectionsBelowTLS(t *testing.T) {
	f := newFixture(t)
	certs := httptest.NewUnstartedServer(nil)
	certs.StartTLS() // for its certificate only
	certs.Close()
	base := f.serveOwn(t, server.Config{MaxConnsPerClient: 1, TLS: &tls.Config{Certificates: certs.TLS.Certificates}})
	dial := func() (*tls.Conn, error) {
		return tls.Dial("tcp", mustURL(base).Host, &tls.Config{InsecureSkipVerify: true})
	}
	first, err := dial()
	if err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
	defer first.Close()
	br := bufio.NewReader(first)
	l := f.byRole[accounts.RoleTrainee]
	signIn := fmt.Sprintf(`{"email": %q, "password": %q}`, l.Email, l.Password)
	fmt.Fprintf(first, "POST /api/v1/session HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", mustURL(base).Host, len(signIn), signIn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Set-Cookie"), "__Host-polyphony=") {
		t.Errorf("sign-in over TLS: %d, cookie %q", res.StatusCode, res.Header.Get("Set-Cookie"))
	}
	if second, err := dial(); err == nil {
		second.SetDeadline(time.Now().Add(5 * time.Second))
		if healthz(second, bufio.NewReader(second)) {
			t.Errorf("a second connection over the cap of 1 was answered")
		}
		second.Close()
	}
}
