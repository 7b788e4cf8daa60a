package server

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// The bounds on slow clients when Config leaves them out.
const (
	defaultBodyTimeout       = 30 * time.Second
	defaultUploadMinRate     = 4_000 // bytes a second
	defaultMaxConnsPerClient = 256
)

// errSlowBody is the answer to a request whose body did not arrive in time.
var errSlowBody = &echo.HTTPError{Code: http.StatusRequestTimeout, Message: "the request arrived too slowly; try again, on a better connection if you can"}

// boundBodies puts a time limit on reading each request's body, so that a client sending a
// byte now and then cannot hold a connection and a handler open. An ordinary body must
// arrive whole within the body timeout. An upload, which may be large, must keep up an
// average of the minimum rate over the time spent waiting for it (after an allowance of
// the body timeout) and never pause longer than the body timeout. A body that falls behind
// is answered 408 and its connection closed.
func (s *Server) boundBodies(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Body == nil || req.Body == http.NoBody || c.IsWebSocket() {
			return next(c)
		}
		rc := http.NewResponseController(c.Response())
		timeout := s.cfg.BodyTimeout
		var body interface {
			io.ReadCloser
			tooSlow() bool
		}
		if streamsBody(req) {
			body = &rateBoundBody{body: req.Body, rc: rc, pause: timeout, minRate: s.cfg.UploadMinRate}
		} else {
			if err := rc.SetReadDeadline(time.Now().Add(timeout)); err != nil {
				return next(c) // not a connection that takes deadlines (a test recorder)
			}
			body = &deadlineBody{body: req.Body, rc: rc}
		}
		req.Body = body
		err := next(c)
		if body.tooSlow() && !c.Response().Committed {
			c.Response().Header().Set(echo.HeaderConnection, "close")
			return errSlowBody
		}
		return err
	}
}

// isTimeout reports whether a read failed on its deadline.
func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// deadlineBody is a body read under a deadline set when its headers arrived. Once the body
// is read through, the deadline is lifted: the server then watches the connection for the
// client going away, and a deadline passing there would cancel a slow handler's work.
type deadlineBody struct {
	body io.ReadCloser
	rc   *http.ResponseController
	slow atomic.Bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	switch {
	case isTimeout(err):
		b.slow.Store(true)
		return n, errSlowBody
	case err != nil:
		b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

func (b *deadlineBody) Close() error  { return b.body.Close() }
func (b *deadlineBody) tooSlow() bool { return b.slow.Load() }

// rateBoundBody is an upload's body, read under a deadline set before each read: the time
// the client has earned (the pause allowance, and a second for every minRate bytes sent)
// less the time already spent waiting for it, and never more than the pause allowance.
// Only time spent waiting on the client counts, not time spent storing what it sent.
type rateBoundBody struct {
	body    io.ReadCloser
	rc      *http.ResponseController
	pause   time.Duration
	minRate int64
	read    int64
	waited  time.Duration
	slow    atomic.Bool
}

func (b *rateBoundBody) Read(p []byte) (int, error) {
	earned := b.pause + time.Duration(float64(b.read)/float64(b.minRate)*float64(time.Second))
	allowed := min(earned-b.waited, b.pause)
	if allowed <= 0 {
		b.slow.Store(true)
		return 0, errSlowBody
	}
	start := time.Now()
	deadlines := b.rc.SetReadDeadline(start.Add(allowed)) == nil
	n, err := b.body.Read(p)
	b.waited += time.Since(start)
	b.read += int64(n)
	switch {
	case isTimeout(err):
		b.slow.Store(true)
		return n, errSlowBody
	case err != nil && deadlines:
		b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

func (b *rateBoundBody) Close() error  { return b.body.Close() }
func (b *rateBoundBody) tooSlow() bool { return b.slow.Load() }

// perClientListener keeps at most max connections open at once from each client address
// (the TCP peer), closing any more as soon as they are accepted. Connections from the
// trusted proxies are not counted: there the peer is the proxy, speaking for many people.
type perClientListener struct {
	net.Listener
	max     int
	trusted []*net.IPNet
	log     *slog.Logger

	mu   sync.Mutex
	open map[string]int
}

func limitPerClient(ln net.Listener, max int, trusted []*net.IPNet, log *slog.Logger) *perClientListener {
	return &perClientListener{Listener: ln, max: max, trusted: trusted, log: log, open: map[string]int{}}
}

// Accept returns the next connection whose client has fewer than max open.
func (l *perClientListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host, _, err := net.SplitHostPort(c.RemoteAddr().String())
		if err != nil || l.isTrusted(host) {
			return c, nil
		}
		if l.take(host) {
			return &countedConn{Conn: c, release: sync.OnceFunc(func() { l.give(host) })}, nil
		}
		l.log.Debug("connection refused: too many open from one address", "ip", host, "max", l.max)
		c.Close()
	}
}

func (l *perClientListener) isTrusted(host string) bool {
	ip := net.ParseIP(host)
	for _, n := range l.trusted {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

func (l *perClientListener) take(host string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[host] >= l.max {
		return false
	}
	l.open[host]++
	return true
}

func (l *perClientListener) give(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[host]--; l.open[host] <= 0 {
		delete(l.open, host)
	}
}

// countedConn gives its place back when it closes, whoever closes it (the HTTP server, or
// a websocket that took the connection over).
type countedConn struct {
	net.Conn
	release func()
}

func (c *countedConn) Close() error {
	c.release()
	return c.Conn.Close()
}
