package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"polyphony/realtime"
)

// system is a rooms server under test: Polyphony's hub or the peer.
type system interface {
	Name() string
	// Prepare readies the rooms before members connect (Polyphony opens them).
	Prepare(ctx context.Context, rooms []string) error
	// Base is the websocket address; see roomURL.
	Base() string
	// Welcomes reports whether a member is in the room once its first frame has arrived;
	// otherwise WaitJoined tells when n members are in.
	Welcomes() bool
	WaitJoined(ctx context.Context, n int) error
	// Settle returns once the rooms' work is done (Polyphony: transcripts written).
	Settle(ctx context.Context, rooms []string) error
	Close(ctx context.Context) error
}

// server serves a handler on a loopback port of its own.
type server struct {
	srv  *http.Server
	base string
	done chan struct{}
}

func startServer(h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		base: "ws://" + ln.Addr().String() + "/ws", done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.srv.Serve(ln)
	}()
	return s, nil
}

func (s *server) close() {
	s.srv.Close()
	<-s.done
}

// peerSystem is the minimal hub behind its own server.
type peerSystem struct {
	hub *peerHub
	srv *server
}

func newPeerSystem() (*peerSystem, error) {
	h := newPeerHub()
	s, err := startServer(h)
	if err != nil {
		return nil, err
	}
	return &peerSystem{hub: h, srv: s}, nil
}

func (p *peerSystem) Name() string                            { return "peer" }
func (p *peerSystem) Prepare(context.Context, []string) error { return nil }
func (p *peerSystem) Welcomes() bool                          { return false }
func (p *peerSystem) Settle(context.Context, []string) error  { return nil }
func (p *peerSystem) Base() string                            { return p.srv.base }
func (p *peerSystem) joined() int                             { return int(p.hub.joined.Load()) }
func (p *peerSystem) WaitJoined(ctx context.Context, n int) error {
	return waitFor(ctx, func() bool { return p.joined() >= n })
}
func (p *peerSystem) Close(context.Context) error { p.hub.shutdown(); p.srv.close(); return nil }

// polyphonySystem is realtime.Hub behind its own server, with transcripts in the store.
type polyphonySystem struct {
	hub *realtime.Hub
	srv *server
	// release drops the hub's database once the hub has stopped.
	release func(ctx context.Context) error
}

// polyphonyOptions are the defaults of cmd/polyphony except the per-connection rate limit,
// which is lifted so that the offered load, not the limit, decides.
func polyphonyOptions(sendBuffer int) realtime.Options {
	return realtime.Options{RatePerSecond: 1e6, Burst: 1e6, SendBuffer: sendBuffer}
}

func newPolyphonySystem(store *realtime.Transcripts, opts realtime.Options) (*polyphonySystem, error) {
	hub := realtime.NewHub(store, opts)
	// The same upgrader as server/rooms.go; the tool authorises members directly.
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024, WriteBufferPool: realtime.WriteBuffers}
	s, err := startServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		q := r.URL.Query()
		hub.Serve(context.WithoutCancel(r.Context()), q.Get("room"), memberFor(q.Get("user")), conn, 0)
	}))
	if err != nil {
		return nil, err
	}
	return &polyphonySystem{hub: hub, srv: s}, nil
}

// memberFor gives users 0 and 1 of every room the facilitator role, the rest trainee.
func memberFor(user string) realtime.Member {
	i, _ := strconv.Atoi(user)
	role := realtime.Trainee
	if i < 2 {
		role = realtime.Facilitator
	}
	return realtime.Member{UserID: "u" + user, Name: "Member " + user, Role: role}
}

func (p *polyphonySystem) Name() string                          { return "polyphony" }
func (p *polyphonySystem) Welcomes() bool                        { return true }
func (p *polyphonySystem) Base() string                          { return p.srv.base }
func (p *polyphonySystem) WaitJoined(context.Context, int) error { return nil }

func (p *polyphonySystem) Prepare(ctx context.Context, rooms []string) error {
	for _, r := range rooms {
		if err := p.hub.Open(ctx, r, memberFor("0"), 2); err != nil {
			return fmt.Errorf("open room %s: %w", r, err)
		}
	}
	return nil
}

func (p *polyphonySystem) Settle(ctx context.Context, rooms []string) error {
	for _, r := range rooms {
		if err := p.hub.Flush(ctx, r); err != nil {
			return fmt.Errorf("flush room %s: %w", r, err)
		}
	}
	return nil
}

func (p *polyphonySystem) Close(ctx context.Context) error {
	err := p.hub.Shutdown(ctx)
	p.srv.close()
	if p.release != nil {
		err = errors.Join(err, p.release(ctx))
	}
	return err
}

// waitFor polls ok until it holds or ctx ends.
func waitFor(ctx context.Context, ok func() bool) error {
	for !ok() {
		select {
		case <-ctx.Done():
			return errors.Join(errors.New("waiting for members to join"), ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}
