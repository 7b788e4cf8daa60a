package realtime

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"polyphony/internal/failure"
)

// Options tune a Hub; zero fields take the defaults.
type Options struct {
	// SendBuffer is how many messages may wait for a slow connection before it is dropped.
	SendBuffer int
	// IdleAfter is how long a room with nobody in it keeps its goroutine.
	IdleAfter time.Duration
	// MaxMessageBytes is the largest frame a member may send; a larger one closes with 1009.
	MaxMessageBytes int64
	// RatePerSecond and Burst limit each person's messages, over all of their connections
	// to this instance.
	RatePerSecond float64
	Burst         int
	// MaxConnsPerPerson is how many connections one person may have to one room; a newer
	// one closes their oldest with CloseSuperseded.
	MaxConnsPerPerson int
	// Now is the clock for event times.
	Now func() time.Time
	// Inactive, when set, returns those of the people whose accounts are disabled or gone.
	// Every message from a member waits for it (asked for many messages at once), so that
	// nothing sent after a disable is acted on; and every CheckEvery (default a second) the
	// people connected to this instance are checked, and those inactive disconnected, so a
	// disable by another process closes their connections within about two checks.
	Inactive   func(ctx context.Context, userIDs []string) ([]string, error)
	CheckEvery time.Duration
	// Bus, when set, carries every room's commands between the instances serving it; without
	// one, rooms live in this process only.
	Bus Bus
}

func (o Options) withDefaults() Options {
	if o.SendBuffer <= 0 {
		o.SendBuffer = 64
	}
	if o.IdleAfter <= 0 {
		o.IdleAfter = 10 * time.Minute
	}
	if o.MaxMessageBytes <= 0 {
		// Room for the longest turn with every character escaped in JSON (\uXXXX).
		o.MaxMessageBytes = 16 << 10
	}
	if o.MaxConnsPerPerson <= 0 {
		o.MaxConnsPerPerson = 4
	}
	if o.RatePerSecond <= 0 {
		o.RatePerSecond = 5
	}
	if o.Burst <= 0 {
		o.Burst = 10
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CheckEvery <= 0 {
		o.CheckEvery = time.Second
	}
	return o
}

// Hub runs the dialogue rooms of one process: one goroutine per live room, which alone owns
// the room's state, and two goroutines per connection. Rooms start on first use and stop
// when nobody has been in them for Options.IdleAfter.
type Hub struct {
	store    *Transcripts
	opts     Options
	rates    *personRates
	gate     *accountGate // nil without Options.Inactive
	bus      Bus
	instance string // this process among those sharing the bus
	nextConn atomic.Uint64

	// historySize is how many recent events a room keeps in memory for resuming members.
	historySize int
	// welcomeEvents is how many recent events a first join's welcome carries; the rest of
	// the timeline is in the transcript.
	welcomeEvents int
	// snapshotEvery is how many events pass between two stored snapshots of a room's state.
	snapshotEvery int
	// meterEvery is the shortest time between two meter messages of a room.
	meterEvery time.Duration
	// second is how long a pause's second lasts (shorter in tests).
	second time.Duration

	quit  chan struct{} // closed by Shutdown: every room drains and stops
	abort chan struct{} // closed when Shutdown's context ends: stop retrying writes
	wg    sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	rooms    map[string]*room
	people   map[string]int        // connections here per person
	dormant  map[string]*roomState // state of rooms whose goroutine stopped while idle
	shutOnce sync.Once
}

// NewHub returns a hub that keeps transcripts in store.
func NewHub(store *Transcripts, opts Options) *Hub {
	opts = opts.withDefaults()
	h := &Hub{
		store:         store,
		opts:          opts,
		rates:         newPersonRates(opts.RatePerSecond, opts.Burst),
		bus:           opts.Bus,
		instance:      "local",
		historySize:   1024,
		welcomeEvents: 500,
		snapshotEvery: 256,
		meterEvery:    time.Second,
		second:        time.Second,
		quit:          make(chan struct{}),
		abort:         make(chan struct{}),
		rooms:         map[string]*room{},
		people:        map[string]int{},
		dormant:       map[string]*roomState{},
	}
	if opts.Inactive != nil {
		h.gate = &accountGate{inactive: opts.Inactive}
		h.wg.Add(1)
		go h.watchAccounts()
	}
	if h.bus != nil {
		h.instance = h.bus.Instance()
		h.bus.OnDisconnect(h.disconnectHere)
	}
	return h
}

// errHubClosed means Shutdown has begun.
var errHubClosed = errors.New("the dialogue service is shutting down")

// room returns the live room, starting its goroutine when needed.
func (h *Hub) room(roomID string) (*room, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errHubClosed
	}
	if r, ok := h.rooms[roomID]; ok {
		return r, nil
	}
	r := newRoom(h, roomID, h.dormant[roomID])
	delete(h.dormant, roomID)
	h.rooms[roomID] = r
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		r.run()
	}()
	return r, nil
}

// retire takes an idle room out of the hub, keeping its state for its next start, which
// waits until this run has finished writing.
func (h *Hub) retire(r *room) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rooms[r.id] == r {
		delete(h.rooms, r.id)
	}
	// Keep what a later start needs; a closed room's state is rebuilt from the store.
	for id, st := range h.dormant {
		if !st.open && isClosed(st.stopped) {
			delete(h.dormant, id)
		}
	}
	r.st.stopped = r.done
	h.dormant[r.id] = r.st
}

func isClosed(c <-chan struct{}) bool {
	if c == nil {
		return true
	}
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// ask sends a request to the room that owns roomID and waits for its answer, starting the
// room again if it stopped in the meantime.
func (h *Hub) ask(ctx context.Context, roomID string, newRequest func() (request, <-chan error)) error {
	for {
		r, err := h.room(roomID)
		if err != nil {
			return err
		}
		req, reply := newRequest()
		select {
		case r.inbox <- req:
		case <-r.done:
			continue
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case err := <-reply:
			return err
		case <-r.done:
			continue
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Open opens the room for dialogue. by must be a facilitator, and the room must have at least
// two facilitators assigned (facilitators is how many it has).
func (h *Hub) Open(ctx context.Context, roomID string, by Member, facilitators int) error {
	if by.Role != Facilitator {
		return failure.ErrForbidden
	}
	if facilitators < 2 {
		return failure.Invalid("facilitators", "a dialogue room needs at least two facilitators assigned")
	}
	return h.ask(ctx, roomID, func() (request, <-chan error) {
		reply := make(chan error, 1)
		return openRequest{by: by, open: true, reply: reply}, reply
	})
}

// Close closes the room: members stay connected and see the transcript, but nothing more can
// be said until it is opened again.
func (h *Hub) Close(ctx context.Context, roomID string, by Member) error {
	if by.Role != Facilitator {
		return failure.ErrForbidden
	}
	return h.ask(ctx, roomID, func() (request, <-chan error) {
		reply := make(chan error, 1)
		return openRequest{by: by, open: false, reply: reply}, reply
	})
}

// Withdraw takes back userID's turn seq: its words are no longer sent to anyone, live or
// later, and the room's members see a "withdrawn" event. Only the speaker may withdraw a
// turn; withdrawing twice is not an error.
func (h *Hub) Withdraw(ctx context.Context, roomID string, seq uint64, userID string) error {
	// The record first: whatever reads the store from now on leaves the words out. Only the
	// call that made the record tells the room, so that each withdrawal is one event.
	fresh, err := h.store.withdraw(ctx, roomID, seq, userID)
	if err != nil || !fresh {
		return err
	}
	return h.ask(ctx, roomID, func() (request, <-chan error) {
		reply := make(chan error, 1)
		return withdrawRequest{seq: seq, userID: userID, reply: reply}, reply
	})
}

// Flush returns once every event of the room so far is in the transcript store, so that
// what is read from Transcripts next includes them.
func (h *Hub) Flush(ctx context.Context, roomID string) error {
	return h.ask(ctx, roomID, func() (request, <-chan error) {
		reply := make(chan error, 1)
		return flushRequest{reply: reply}, reply
	})
}

// DisconnectUser closes every connection of the person, in every room and on every instance
// (on logout and when an account is disabled).
func (h *Hub) DisconnectUser(userID string) {
	if h.bus != nil {
		if err := h.bus.DisconnectUser(userID); err != nil {
			slog.Warn("dialogue rooms: could not tell other instances to disconnect a user", "err", err)
		}
	}
	h.disconnectHere(userID)
}

func (h *Hub) disconnectHere(userID string) {
	h.mu.Lock()
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()
	for _, r := range rooms {
		select {
		case r.inbox <- disconnectRequest{userID: userID}:
		case <-r.done:
		}
	}
}

// Shutdown refuses new connections, closes every member's with 1001 (going away), writes
// every event still waiting to the transcript and waits for the rooms' and connections'
// goroutines. When ctx ends first, writes stop being retried and ctx's error is returned.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.shutOnce.Do(func() {
		h.mu.Lock()
		h.closed = true
		h.mu.Unlock()
		close(h.quit)
	})
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		h.mu.Lock()
		select {
		case <-h.abort:
		default:
			close(h.abort)
		}
		h.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

// Serve takes one member's connection into the room. The caller has upgraded the connection
// (checking Origin and session) and authorised the member for the room; Serve owns conn from
// here and closes it. Serve returns once the member has joined (or was refused): the
// connection is then served by two goroutines of the hub's own, so the caller's goroutine,
// with the deep stack of an HTTP handler, does not stay alive for every idle member. ctx ends
// the connection when it is cancelled: callers pass a context that outlives their handler.
func (h *Hub) Serve(ctx context.Context, roomID string, m Member, conn *websocket.Conn, lastSeq uint64) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		closeConn(conn, websocket.CloseGoingAway, "server shutting down")
		conn.Close()
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	handedOver := false
	defer func() {
		if !handedOver {
			conn.Close()
			h.wg.Done()
		}
	}()
	if m.Role != Facilitator && m.Role != Trainee || m.UserID == "" {
		closeConn(conn, websocket.ClosePolicyViolation, "not a member of this room")
		return
	}

	c := newClient(h, m, conn)
	c.id = itoa(h.nextConn.Add(1))
	c.rate = h.rates.acquire(m.UserID, h.opts.Now())
	defer func() {
		if !handedOver {
			c.rate.release()
		}
	}()
	var r *room
	var rep joinReply
	for {
		var err error
		r, err = h.room(roomID)
		if err != nil {
			closeConn(conn, websocket.CloseGoingAway, "server shutting down")
			return
		}
		reply := make(chan joinReply, 1)
		req := joinRequest{c: c, lastSeq: lastSeq, reply: reply}
		select {
		case r.inbox <- req:
		case <-r.done:
			continue
		case <-ctx.Done():
			return
		}
		select {
		case rep = <-reply:
		case <-r.done:
			continue
		case <-ctx.Done():
			// The room may have taken us in: it drops us when the reader's leave arrives.
			c.room = r
			c.leave()
			return
		}
		break
	}
	if rep.refused != "" {
		closeConn(conn, rep.code, rep.refused)
		return
	}
	c.room = r
	handedOver = true
	h.connected(m.UserID, 1)
	go func() {
		defer h.wg.Done()
		defer conn.Close()
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		defer stop()
		writerDone := make(chan struct{})
		go func() {
			defer close(writerDone)
			c.writePump(ctx, roomID, lastSeq, rep)
		}()
		c.readPump()
		c.leave()
		<-writerDone
		c.rate.release()
		h.connected(c.member.UserID, -1)
	}()
}

// closeConn sends a close frame and gives up after a second.
func closeConn(conn *websocket.Conn, code int, reason string) {
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason),
		time.Now().Add(time.Second))
}

// WriteBuffers is the write-buffer pool for upgrading room connections: a connection holds a
// write buffer only while it writes, so an idle member costs no buffer of its own.
var WriteBuffers websocket.BufferPool = &sync.Pool{}
