package realtime

import (
	"context"
	"errors"
	"time"

	"github.com/gorilla/websocket"
)

// request is anything sent to a room's inbox.
type request any

type joinRequest struct {
	c       *client
	lastSeq uint64
	reply   chan<- joinReply
}

// joinReply is the room as of seq, for the welcome. recent holds the events after the
// member's lastSeq that the room has in memory; the ones before memFrom come from the store.
type joinReply struct {
	refused string
	code    int
	state   State
	seq     uint64
	memFrom uint64
	recent  [][]byte
	meter   *meterMsg
}

type leaveRequest struct{ c *client }

// replyRequest sends msg to one connection (an error found by its reader).
type replyRequest struct {
	c   *client
	msg any
}

type messageRequest struct {
	c  *client
	in inbound
}

// flushRequest asks the room to store every event it has so far before replying.
type flushRequest struct{ reply chan error }

var errStoreFailed = errors.New("the transcript store is failing; events are kept in memory and retried")

type openRequest struct {
	by    Member
	open  bool
	reply chan<- error
}

type disconnectRequest struct{ userID string }

type storeResult struct {
	upTo uint64
	err  error
}

// histEntry is a recent event, kept marshalled for resuming members.
type histEntry struct {
	seq uint64
	raw []byte
}

type pendingAck struct {
	seq uint64
	c   *client
	id  string
}

// roomState is what a room keeps between runs of its goroutine (it stops when idle).
type roomState struct {
	loaded     bool
	seq        uint64 // last assigned
	stored     uint64 // last in the transcript store
	open       bool
	phase      string
	locked     bool
	hands      []Member
	floor      *Member
	goRound    []Member // nil when no go-round runs
	goTurn     int
	pauseUntil *time.Time
	removed    map[string]bool
	meter      *meter
	history    []histEntry
	said       map[string]uint64 // userID + "\x00" + client id → seq, for idempotent resends
	saidOrder  []string
	stopped    <-chan struct{} // closed when the goroutine that ran this state has finished
}

const maxSaidIDs = 4096

func newRoomState() *roomState {
	return &roomState{phase: PhaseNetworkSpeaks, removed: map[string]bool{}, meter: newMeter(),
		said: map[string]uint64{}}
}

// room is one live room. Its goroutine (run) alone touches st and the fields below inbox;
// others reach it through inbox.
type room struct {
	hub   *Hub
	id    string
	inbox chan request
	done  chan struct{} // closed by run when it has finished
	prev  <-chan struct{}

	st      *roomState
	clients map[*client]bool
	present map[string]int // connections per user
	order   []Member       // people present, in the order they came
	slow    []*client      // whose buffers were full: dropped after the current step

	pending    []Event
	writing    bool
	failed     bool
	batches    chan []Event
	storedC    chan storeResult
	writerDone chan struct{}
	acks       []pendingAck

	meterC <-chan time.Time
	pauseC <-chan time.Time
	idleC  <-chan time.Time
}

func newRoom(h *Hub, id string, st *roomState) *room {
	r := &room{hub: h, id: id, inbox: make(chan request, 256), done: make(chan struct{}),
		clients: map[*client]bool{}, present: map[string]int{},
		batches: make(chan []Event, 1), storedC: make(chan storeResult, 1),
		writerDone: make(chan struct{})}
	if st == nil {
		st = newRoomState()
	}
	r.prev = st.stopped
	r.st = st
	return r
}

func (r *room) run() {
	defer close(r.done)
	if r.prev != nil {
		<-r.prev // the last run is still writing this room's transcript
	}
	if !r.st.loaded && !r.load() {
		return
	}
	go r.writeLoop()
	r.idleC = time.After(r.hub.opts.IdleAfter)
	if r.st.pauseUntil != nil {
		r.pauseC = time.After(r.st.pauseUntil.Sub(r.hub.opts.Now()))
	}
	for {
		select {
		case req := <-r.inbox:
			r.handle(req)
		case res := <-r.storedC:
			r.onStored(res)
		case <-r.pauseC:
			r.endPause()
		case <-r.meterC:
			r.sendMeters()
		case <-r.idleC:
			if len(r.clients) == 0 {
				r.hub.retire(r)
				r.drain()
				return
			}
		case <-r.hub.quit:
			r.drain()
			for c := range r.clients {
				r.closeClient(c, websocket.CloseGoingAway, "server shutting down")
			}
			return
		}
		r.reap()
	}
}

// load reads the room's last sequence number and recent events from the store, retrying
// until it succeeds or the hub shuts down.
func (r *room) load() bool {
	st := r.st
	for wait := 100 * time.Millisecond; ; wait = min(wait*2, 5*time.Second) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := r.loadOnce(ctx)
		cancel()
		if err == nil {
			st.loaded = true
			return true
		}
		select {
		case <-time.After(wait):
		case <-r.hub.quit:
			return false
		}
	}
}

func (r *room) loadOnce(ctx context.Context) error {
	st := r.st
	last, err := r.hub.store.lastSeq(ctx, r.id)
	if err != nil {
		return err
	}
	from := uint64(0)
	if n := uint64(r.hub.historySize); last > n {
		from = last - n
	}
	events, err := r.hub.store.Events(ctx, r.id, from, int(last-from)+1)
	if err != nil {
		return err
	}
	st.seq, st.stored, st.history = last, last, nil
	for _, e := range events {
		st.history = append(st.history, histEntry{seq: e.Seq, raw: mustJSON(e)})
		// Fold what the recent timeline says of the room's settings.
		switch e.Type {
		case EventSay:
			st.remember(e.UserID, e.ClientID, e.Seq)
		case EventRoom:
			st.open = e.Open != nil && *e.Open
		case EventPhase:
			st.phase = e.Phase
		case EventInput:
			st.locked = e.Locked != nil && *e.Locked
		}
	}
	return nil
}

func (st *roomState) remember(userID, clientID string, seq uint64) {
	key := userID + "\x00" + clientID
	if _, ok := st.said[key]; ok {
		return
	}
	st.said[key] = seq
	st.saidOrder = append(st.saidOrder, key)
	if len(st.saidOrder) > maxSaidIDs {
		delete(st.said, st.saidOrder[0])
		st.saidOrder = st.saidOrder[1:]
	}
}

func (r *room) handle(req request) {
	switch q := req.(type) {
	case joinRequest:
		q.reply <- r.join(q.c, q.lastSeq)
	case leaveRequest:
		r.detach(q.c, websocket.CloseNormalClosure, "")
	case replyRequest:
		if r.clients[q.c] {
			r.deliver(q.c, mustJSON(q.msg))
		}
	case messageRequest:
		if r.clients[q.c] {
			r.act(q.c, q.in)
		}
	case openRequest:
		q.reply <- r.setOpen(q.by, q.open)
	case flushRequest:
		// Wait here for the writer: the room pauses for the few milliseconds a batch takes.
		for !r.failed && (r.writing || len(r.pending) > 0) {
			r.kick()
			r.onStored(<-r.storedC)
		}
		if r.failed {
			q.reply <- errStoreFailed
		} else {
			q.reply <- nil
		}
	case disconnectRequest:
		for c := range r.clients {
			if c.member.UserID == q.userID {
				r.detach(c, websocket.ClosePolicyViolation, "session ended")
			}
		}
	}
}

func (r *room) join(c *client, lastSeq uint64) joinReply {
	st := r.st
	if st.removed[c.member.UserID] {
		return joinReply{refused: "removed from this room", code: CloseRemoved}
	}
	if r.present[c.member.UserID] == 0 {
		r.order = append(r.order, c.member)
		if st.open {
			st.meter.seen(c.member)
			r.armMeter()
		}
		m := c.member
		r.emit(Event{Type: EventJoined, UserID: m.UserID, Name: m.Name, Role: m.Role})
	}
	r.present[c.member.UserID]++
	// Added after the joined event: the welcome carries it.
	r.clients[c] = true
	r.idleC = nil
	rep := joinReply{state: r.state(), seq: st.seq, memFrom: st.seq + 1}
	if len(st.history) > 0 {
		rep.memFrom = st.history[0].seq
	}
	for _, h := range st.history {
		if h.seq > lastSeq {
			rep.recent = append(rep.recent, h.raw)
		}
	}
	mv := st.meter.view(c.member)
	rep.meter = &mv
	return rep
}

// detach takes a connection out of the room and closes it with code; the person leaves when
// it was their last connection.
func (r *room) detach(c *client, code int, reason string) {
	if !r.clients[c] {
		return
	}
	r.closeClient(c, code, reason)
	id := c.member.UserID
	r.present[id]--
	if r.present[id] > 0 {
		return
	}
	delete(r.present, id)
	for i, m := range r.order {
		if m.UserID == id {
			r.order = append(r.order[:i:i], r.order[i+1:]...)
			break
		}
	}
	r.lowerHand(id)
	if r.st.goRound != nil && r.st.goRound[r.st.goTurn].UserID == id {
		r.advanceGoRound()
	}
	m := c.member
	r.emit(Event{Type: EventLeft, UserID: m.UserID, Name: m.Name, Role: m.Role})
	if len(r.clients) == 0 {
		r.idleC = time.After(r.hub.opts.IdleAfter)
	}
}

// closeClient ends a connection: its writer sends what is queued, then the close frame.
func (r *room) closeClient(c *client, code int, reason string) {
	delete(r.clients, c)
	c.closeCode, c.closeReason = code, reason
	close(c.send)
}

// deliver queues a message for one connection without waiting; a connection whose buffer is
// full is too slow to keep up, and is dropped after this step.
func (r *room) deliver(c *client, raw []byte) {
	select {
	case c.send <- raw:
	default:
		r.slow = append(r.slow, c)
	}
}

func (r *room) broadcast(raw []byte, except *client) {
	for c := range r.clients {
		if c != except {
			r.deliver(c, raw)
		}
	}
}

// reap drops the connections that fell behind. Dropping one may put a "left" event on the
// timeline, which may find others behind; reap goes on until none are.
func (r *room) reap() {
	for len(r.slow) > 0 {
		c := r.slow[0]
		r.slow = r.slow[1:]
		r.detach(c, websocket.CloseTryAgainLater, "too slow to keep up: reconnect to catch up")
	}
}

// emit puts an event on the timeline: numbered, kept in memory for resuming members, sent to
// every connection, and queued for the transcript.
func (r *room) emit(e Event) uint64 {
	st := r.st
	st.seq++
	e.Seq = st.seq
	e.At = r.hub.opts.Now().UTC().Truncate(time.Millisecond)
	raw := mustJSON(e)
	st.history = append(st.history, histEntry{seq: e.Seq, raw: raw})
	r.pending = append(r.pending, e)
	r.broadcast(raw, nil)
	r.kick()
	return e.Seq
}

func (r *room) state() State {
	st := r.st
	s := State{Open: st.open, Members: append([]Member{}, r.order...),
		Hands: append([]Member{}, st.hands...), Phase: st.phase, Locked: st.locked,
		PauseUntil: st.pauseUntil}
	if st.floor != nil {
		f := *st.floor
		s.Floor = &f
	}
	if st.goRound != nil {
		s.GoRound = append([]Member{}, st.goRound...)
		h := st.goRound[st.goTurn]
		s.Floor = &h
	}
	return s
}

func (r *room) armMeter() {
	if r.meterC == nil {
		r.meterC = time.After(r.hub.meterEvery)
	}
}

func (r *room) sendMeters() {
	r.meterC = nil
	var room []byte
	for c := range r.clients {
		if c.member.Role == Facilitator {
			if room == nil {
				room = mustJSON(r.st.meter.view(c.member))
			}
			r.deliver(c, room)
			continue
		}
		r.deliver(c, mustJSON(r.st.meter.view(c.member)))
	}
}

// kick hands everything waiting to the transcript writer, unless it is busy: while it
// writes one batch, the next one gathers.
func (r *room) kick() {
	if r.writing || r.failed || len(r.pending) == 0 {
		return
	}
	r.batches <- r.pending
	r.pending = nil
	r.writing = true
}

func (r *room) onStored(res storeResult) {
	r.writing = false
	if res.err != nil {
		r.failed = true
		return
	}
	st := r.st
	st.stored = res.upTo
	for len(r.acks) > 0 && r.acks[0].seq <= st.stored {
		a := r.acks[0]
		r.acks = r.acks[1:]
		if r.clients[a.c] {
			r.deliver(a.c, mustJSON(ack{Type: "ack", ID: a.id, AckSeq: a.seq}))
		}
	}
	n := 0
	for len(st.history)-n > r.hub.historySize && st.history[n].seq <= st.stored {
		n++
	}
	if n > 0 {
		st.history = append([]histEntry(nil), st.history[n:]...)
	}
	r.kick()
}

// drain writes every event still waiting, then stops the writer.
func (r *room) drain() {
	for !r.failed && (r.writing || len(r.pending) > 0) {
		r.kick()
		r.onStored(<-r.storedC)
	}
	close(r.batches)
	<-r.writerDone
}

// writeLoop stores the room's batches in order; it is owned by run, which closes batches.
func (r *room) writeLoop() {
	defer close(r.writerDone)
	for batch := range r.batches {
		err := r.store(batch)
		r.storedC <- storeResult{upTo: batch[len(batch)-1].Seq, err: err}
	}
}

// store writes one batch, retrying until it succeeds or Shutdown gives up.
func (r *room) store(batch []Event) error {
	for wait := 50 * time.Millisecond; ; wait = min(wait*2, 5*time.Second) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := r.hub.store.append(ctx, r.id, batch)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-time.After(wait):
		case <-r.hub.abort:
			return err
		}
	}
}

func (r *room) endPause() {
	r.pauseC = nil
	if r.st.pauseUntil == nil {
		return
	}
	r.st.pauseUntil = nil
	r.emit(Event{Type: EventPause, Active: boolp(false)})
}

// errorTo tells one connection what was wrong.
func (r *room) errorTo(c *client, in inbound, text string) {
	r.deliver(c, mustJSON(errorMsg{Type: "error", Error: in.Type + ": " + text, For: in.Type, ID: in.ID}))
}
