package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/gorilla/websocket"

	"polyphony/internal/failure"
)

// request is anything sent to a room's inbox.
type request any

type joinRequest struct {
	c       *client
	lastSeq uint64
	reply   chan<- joinReply
}

// joinReply is the room as of seq, for the welcome. The welcome carries the events from
// from to seq: those before memFrom come from the store, recent holds the rest.
type joinReply struct {
	refused string
	code    int
	state   State
	seq     uint64
	from    uint64
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

type withdrawRequest struct {
	seq    uint64
	userID string
	reply  chan<- error
}

// abuseRequest asks the room to close a connection that kept sending over the rate limit.
type abuseRequest struct{ c *client }

// foldRequest is a command read back from the room's log on the bus.
type foldRequest struct {
	data []byte
	pos  uint64
	at   time.Time
}

// publishFailed reports a command the bus could not take.
type publishFailed struct {
	cmd command
	err error
}

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

type joinWait struct {
	c       *client
	lastSeq uint64
	reply   chan<- joinReply
}

// writeJob is what the transcript writer does next: store events, then the snapshot.
type writeJob struct {
	events []Event
	snap   *snapshot
}

// room is one live room. Its goroutine (run) alone touches st and the fields below inbox;
// others reach it through inbox. Everything that changes the room's timeline is a command,
// applied in one order: at once when the hub runs alone, or as the bus's log for the room
// delivers it back, so that every instance folds the same commands into the same state.
type room struct {
	hub   *Hub
	id    string
	inbox chan request
	done  chan struct{} // closed by run when it has finished
	prev  <-chan struct{}

	st      *roomState
	clients map[*client]bool
	byConn  map[string]*client  // this instance's connections, by id
	waiting map[string]joinWait // joins submitted and not yet applied
	replies map[string]chan<- error
	nextReq uint64
	now     time.Time // time of the command being applied
	slow    []*client // whose buffers were full: dropped after the current step

	pending    []Event
	writing    bool
	failed     bool
	batches    chan writeJob
	storedC    chan storeResult
	writerDone chan struct{}
	acks       []pendingAck
	blocks     blockBuilder // used by the writer goroutine only

	stopFollow chan struct{} // closed before the bus subscription is stopped
	unfollow   func()

	meterC <-chan time.Time
	pauseC <-chan time.Time
	idleC  <-chan time.Time
}

func newRoom(h *Hub, id string, st *roomState) *room {
	r := &room{hub: h, id: id, inbox: make(chan request, 256), done: make(chan struct{}),
		clients: map[*client]bool{}, byConn: map[string]*client{}, waiting: map[string]joinWait{},
		replies: map[string]chan<- error{},
		batches: make(chan writeJob, 1), storedC: make(chan storeResult, 1),
		writerDone: make(chan struct{}), stopFollow: make(chan struct{})}
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
	if !r.st.loaded && !r.retry(r.load) {
		return
	}
	r.st.loaded = true
	if r.hub.bus == nil && r.st.lastSnapshot {
		// This run will store events after the snapshot that says none follow it.
		snap := r.st.snapshot(r.id, false, r.hub.opts.Now())
		if !r.retry(func(ctx context.Context) error { return r.hub.store.saveSnapshot(ctx, snap) }) {
			return
		}
		r.st.lastSnapshot = false
	}
	if r.hub.bus != nil && !r.retry(r.follow) {
		return
	}
	go r.writeLoop()
	r.closeStalePresence()
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
			r.pauseC = nil
			if u := r.st.pauseUntil; u != nil {
				r.submit(command{Kind: cmdEndPause, Until: u})
			}
		case <-r.meterC:
			r.sendMeters()
		case <-r.idleC:
			if len(r.clients) == 0 && len(r.waiting) == 0 {
				r.hub.retire(r)
				r.stop()
				return
			}
		case <-r.hub.quit:
			r.shutdown()
			return
		}
		r.reap()
	}
}

// closeStalePresence puts "left" on the timeline, at the time of its last event, for everyone
// the last run of this room had present when it stopped without writing them (a crash): the
// transcript then shows each presence ending, and the next join starts a new one.
func (r *room) closeStalePresence() {
	stale := r.st.stale
	r.st.stale = nil
	if r.hub.bus != nil || len(stale) == 0 {
		return
	}
	r.now = r.st.lastAt
	if r.now.IsZero() {
		r.now = r.hub.opts.Now().UTC().Truncate(time.Millisecond)
	}
	r.endPresences(stale)
}

// endPresences puts "left" on the timeline for each person, touching nothing else.
func (r *room) endPresences(people []Member) {
	for _, m := range people {
		r.emit(Event{Type: EventLeft, UserID: m.UserID, Name: m.Name, Role: m.Role})
	}
}

// foldPresence brings the people present forward over one stored event.
func foldPresence(present []Member, e Event) []Member {
	switch e.Type {
	case EventJoined:
		for _, m := range present {
			if m.UserID == e.UserID {
				return present
			}
		}
		return append(present, Member{UserID: e.UserID, Name: e.Name, Role: e.Role})
	case EventLeft:
		for i, m := range present {
			if m.UserID == e.UserID {
				return append(present[:i:i], present[i+1:]...)
			}
		}
	case EventRemoved:
		if e.Target != nil {
			for i, m := range present {
				if m.UserID == e.Target.UserID {
					return append(present[:i:i], present[i+1:]...)
				}
			}
		}
	}
	return present
}

// retry runs f until it succeeds or the hub shuts down.
func (r *room) retry(f func(context.Context) error) bool {
	for wait := 100 * time.Millisecond; ; wait = min(wait*2, 5*time.Second) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := f(ctx)
		cancel()
		if err == nil {
			return true
		}
		slog.Warn("dialogue room: retrying", "room", r.id, "err", err)
		select {
		case <-time.After(wait):
		case <-r.hub.quit:
			return false
		}
	}
}

// follow subscribes to the room's log on the bus from the first command not yet applied.
func (r *room) follow(ctx context.Context) error {
	stop := r.stopFollow
	unfollow, err := r.hub.bus.Follow(ctx, r.id, r.st.streamPos, func(data []byte, pos uint64, at time.Time) {
		select {
		case r.inbox <- foldRequest{data: data, pos: pos, at: at}:
		case <-stop:
		}
	}, func(data []byte, err error) {
		var cmd command
		if json.Unmarshal(data, &cmd) != nil {
			return
		}
		select {
		case r.inbox <- publishFailed{cmd: cmd, err: err}:
		case <-stop:
		}
	})
	if err != nil {
		return err
	}
	r.unfollow = unfollow
	return nil
}

// stop ends an idle room's run: it stops following the bus and writes what is waiting.
func (r *room) stop() {
	r.endFollow()
	r.drain()
}

func (r *room) endFollow() {
	if r.unfollow != nil {
		close(r.stopFollow)
		r.unfollow()
		r.unfollow = nil
	}
}

// shutdown ends the room when the hub shuts down: connections here leave (so that other
// instances see them go), everything waiting is written, and every connection gets 1001.
// Without a bus, the room's presences end on its timeline, while hands, floor and go-round
// stay as they are for the room's next start.
func (r *room) shutdown() {
	if r.hub.bus != nil {
		for c := range r.clients {
			r.submit(command{Kind: cmdLeave, Conn: c.id})
		}
	} else {
		r.now = r.hub.opts.Now().UTC().Truncate(time.Millisecond)
		r.endPresences(r.st.order)
		r.st.conns, r.st.present, r.st.order = map[string]Member{}, map[string]int{}, nil
	}
	r.endFollow()
	for id, w := range r.waiting {
		delete(r.waiting, id)
		w.reply <- joinReply{refused: "server shutting down", code: websocket.CloseGoingAway}
	}
	for id, reply := range r.replies {
		delete(r.replies, id)
		reply <- errHubClosed
	}
	r.drain()
	for c := range r.clients {
		r.closeClient(c, websocket.CloseGoingAway, "server shutting down")
	}
}

func (r *room) handle(req request) {
	switch q := req.(type) {
	case foldRequest:
		r.fold(q)
	case joinRequest:
		r.waiting[q.c.id] = joinWait{c: q.c, lastSeq: q.lastSeq, reply: q.reply}
		r.idleC = nil
		r.submit(command{Kind: cmdJoin, Conn: q.c.id, Member: q.c.member, LastSeq: q.lastSeq})
	case leaveRequest:
		if _, ok := r.waiting[q.c.id]; ok {
			// Its join is on its way through the log; applying it will see the connection gone.
			delete(r.waiting, q.c.id)
			r.idleIfEmpty()
			return
		}
		r.drop(q.c, websocket.CloseNormalClosure, "")
	case replyRequest:
		if r.clients[q.c] {
			r.deliver(q.c, mustJSON(q.msg))
		}
	case messageRequest:
		if r.clients[q.c] {
			in := q.in
			r.submit(command{Kind: cmdMessage, Conn: q.c.id, In: &in})
		}
	case openRequest:
		if q.by.Role != Facilitator {
			q.reply <- errForbidden
			return
		}
		r.nextReq++
		id := r.hub.instance + "/" + itoa(r.nextReq)
		r.replies[id] = q.reply
		kind := cmdClose
		if q.open {
			kind = cmdOpen
		}
		r.submit(command{Kind: kind, Member: q.by, Req: id})
	case flushRequest:
		r.flush()
		if r.failed {
			q.reply <- errStoreFailed
		} else {
			q.reply <- nil
		}
	case withdrawRequest:
		r.nextReq++
		id := r.hub.instance + "/" + itoa(r.nextReq)
		r.replies[id] = q.reply
		r.submit(command{Kind: cmdWithdraw, Member: Member{UserID: q.userID}, Turn: q.seq, Req: id})
	case abuseRequest:
		if r.clients[q.c] {
			// Through the log, so that the connection's messages before it are applied first.
			r.submit(command{Kind: cmdAbuse, Conn: q.c.id})
		}
	case disconnectRequest:
		for c := range r.clients {
			if c.member.UserID == q.userID {
				r.settleAcks(c)
				r.drop(c, websocket.ClosePolicyViolation, "session ended")
			}
		}
	case publishFailed:
		r.publishFailed(q)
	}
}

// flush waits for the writer to store every event so far, delivering their acks: the room
// pauses for the few milliseconds a batch takes.
func (r *room) flush() {
	for !r.failed && (r.writing || len(r.pending) > 0) {
		r.kick()
		r.onStored(<-r.storedC)
	}
}

// closeForAbuse closes one of this instance's connections with 1008 once every turn it made
// is stored and acknowledged.
func (r *room) closeForAbuse(c *client) {
	if c == nil || !r.clients[c] {
		return
	}
	r.settleAcks(c)
	r.drop(c, websocket.ClosePolicyViolation, "too many messages")
}

// settleAcks stores what is waiting and delivers c's acks, when c has any to come, so that a
// connection about to be closed hears of every turn of its that is stored.
func (r *room) settleAcks(c *client) {
	for _, a := range r.acks {
		if a.c == c {
			r.flush()
			return
		}
	}
}

// reply answers a join waiting for its command, if it is still waiting.
func (w joinWait) replyWith(rep joinReply) { w.reply <- rep }

// publishFailed tells whoever waits on a command that the bus did not take it.
func (r *room) publishFailed(q publishFailed) {
	slog.Warn("dialogue room: the bus refused a command", "room", r.id, "kind", q.cmd.Kind, "err", q.err)
	switch q.cmd.Kind {
	case cmdJoin:
		if w, ok := r.waiting[q.cmd.Conn]; ok {
			delete(r.waiting, q.cmd.Conn)
			w.replyWith(joinReply{refused: "the dialogue service is unavailable: try again", code: websocket.CloseTryAgainLater})
			r.idleIfEmpty()
		}
	case cmdMessage:
		if c := r.byConn[q.cmd.Conn]; c != nil && q.cmd.In != nil {
			r.errorTo(c, *q.cmd.In, "not delivered: the dialogue service is unavailable, try again")
		}
	case cmdAbuse:
		if c := r.byConn[q.cmd.Conn]; c != nil {
			r.drop(c, websocket.ClosePolicyViolation, "too many messages")
		}
	case cmdOpen, cmdClose, cmdWithdraw:
		if reply, ok := r.replies[q.cmd.Req]; ok {
			delete(r.replies, q.cmd.Req)
			reply <- errBusUnavailable
		}
	}
}

func (r *room) idleIfEmpty() {
	if len(r.clients) == 0 && len(r.waiting) == 0 {
		r.idleC = time.After(r.hub.opts.IdleAfter)
	}
}

// drop takes one of this instance's connections out of the room: closed with code, and out
// of the room's presence through a leave command.
func (r *room) drop(c *client, code int, reason string) {
	if !r.clients[c] {
		return
	}
	r.closeClient(c, code, reason)
	r.submit(command{Kind: cmdLeave, Conn: c.id})
	r.idleIfEmpty()
}

// closeClient ends a connection: its writer sends what is queued, then the close frame.
func (r *room) closeClient(c *client, code int, reason string) {
	delete(r.clients, c)
	delete(r.byConn, c.id)
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
		r.drop(c, websocket.CloseTryAgainLater, "too slow to keep up: reconnect to catch up")
	}
}

// emit puts an event on the timeline: numbered, kept in memory for resuming members, sent to
// every connection here, and queued for the transcript.
func (r *room) emit(e Event) uint64 {
	st := r.st
	st.seq++
	e.Seq = st.seq
	e.At = r.now
	st.lastAt = r.now
	out := e
	if e.Type == EventSay && st.withdrawn[e.Seq] {
		// Applied again from the bus's log after its withdrawal was stored.
		out = e.withoutWords()
	}
	raw := mustJSON(out)
	st.history = append(st.history, histEntry{seq: e.Seq, raw: raw})
	r.pending = append(r.pending, e)
	r.broadcast(raw, nil)
	r.kick()
	return e.Seq
}

func (r *room) state() State {
	st := r.st
	s := State{Open: st.open, Members: append([]Member{}, st.order...),
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

// joinReply is the welcome for c: the state now, and the events after lastSeq (for a first
// join, the most recent ones only).
func (r *room) joinReply(c *client, lastSeq uint64) joinReply {
	st := r.st
	rep := joinReply{state: r.state(), seq: st.seq, from: lastSeq + 1, memFrom: st.seq + 1}
	if lastSeq == 0 && st.seq > uint64(r.hub.welcomeEvents) {
		rep.from = st.seq - uint64(r.hub.welcomeEvents) + 1
	}
	if len(st.history) > 0 {
		rep.memFrom = max(st.history[0].seq, rep.from)
	}
	for _, h := range st.history {
		if h.seq >= rep.from {
			rep.recent = append(rep.recent, h.raw)
		}
	}
	mv := st.meter.view(c.member)
	rep.meter = &mv
	return rep
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
	r.batches <- writeJob{events: r.pending}
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
	st.stored = max(st.stored, res.upTo)
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
	if len(r.pending) == 0 && st.stored == st.seq && st.seq >= st.snapAt+uint64(r.hub.snapshotEvery) {
		r.writeSnapshot(false)
		return
	}
	r.kick()
}

// writeSnapshot hands the room's state to the writer, which stores it after what it is
// writing now; everything up to st.seq is stored by then. last says that this run of the
// room stores nothing after it.
func (r *room) writeSnapshot(last bool) {
	if r.writing || r.failed || len(r.pending) > 0 {
		return
	}
	snap := r.st.snapshot(r.id, r.hub.bus != nil, r.hub.opts.Now())
	snap.Last = last
	r.st.snapAt = r.st.seq
	r.batches <- writeJob{snap: &snap}
	r.writing = true
}

// drain writes every event still waiting and a snapshot of the state, then stops the writer.
func (r *room) drain() {
	for !r.failed && (r.writing || len(r.pending) > 0) {
		r.kick()
		r.onStored(<-r.storedC)
	}
	if !r.failed && r.st.seq > 0 {
		r.writeSnapshot(true)
		r.onStored(<-r.storedC)
		r.st.lastSnapshot = !r.failed
	}
	close(r.batches)
	<-r.writerDone
}

// writeLoop stores the room's batches in order; it is owned by run, which closes batches.
func (r *room) writeLoop() {
	defer close(r.writerDone)
	for job := range r.batches {
		res := storeResult{upTo: r.st.stored}
		if len(job.events) > 0 {
			res.upTo = job.events[len(job.events)-1].Seq
			res.err = r.store(func(ctx context.Context) error {
				return r.hub.store.append(ctx, r.id, job.events)
			})
			if res.err == nil {
				for _, b := range r.blocks.add(job.events) {
					// A block only speeds up reading; a failure leaves the events readable one by one.
					r.store(func(ctx context.Context) error { return r.hub.store.appendBlock(ctx, r.id, b) })
				}
				r.storeTail(false)
			}
		}
		if job.snap != nil {
			res.upTo = job.snap.Seq
			r.storeTail(true)
			r.store(func(ctx context.Context) error { return r.hub.store.saveSnapshot(ctx, *job.snap) })
		}
		r.storedC <- res
	}
}

// storeTail stores the events of the room's incomplete block when they are due (see
// blockBuilder.tail), or when force is set and any came since the last tail. Like a block,
// the tail only speeds up reading the timeline.
func (r *room) storeTail(force bool) {
	if tail := r.blocks.tail(force); tail != nil {
		r.store(func(ctx context.Context) error { return r.hub.store.saveTail(ctx, r.id, tail) })
	}
}

// store runs one write, retrying until it succeeds or Shutdown gives up.
func (r *room) store(write func(context.Context) error) error {
	for wait := 50 * time.Millisecond; ; wait = min(wait*2, 5*time.Second) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := write(ctx)
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

// errorTo tells one connection what was wrong; c is nil when the connection is on another
// instance or gone.
func (r *room) errorTo(c *client, in inbound, text string) {
	if c == nil {
		return
	}
	r.deliver(c, mustJSON(errorMsg{Type: "error", Error: in.Type + ": " + text, For: in.Type, ID: in.ID}))
}

// load sets the room's state from its stored snapshot. Without a bus, the events stored after
// the snapshot are folded in too; with one, the commands after the snapshot's log position
// are applied again as the log delivers them, which gives the same events.
func (r *room) load(ctx context.Context) error {
	st := newRoomState()
	snap, err := r.hub.store.loadSnapshot(ctx, r.id)
	switch {
	case err == nil:
		st.restore(snap)
		if r.hub.bus == nil {
			// Whoever was present when the last run stopped without saying goodbye.
			st.stale = st.order
			st.conns, st.present, st.order = map[string]Member{}, map[string]int{}, nil
		}
	case errors.Is(err, failure.ErrNotFound):
	default:
		return err
	}
	if r.hub.bus == nil && err == nil && snap.Last {
		// The last run stopped cleanly after this snapshot, so no event follows it: no need
		// to look (on FerretDB looking for a missing event scans the collection). Until this
		// run stops cleanly in turn, the snapshot no longer says so.
		st.stored = st.seq
		st.lastSnapshot = true
	} else if r.hub.bus == nil {
		const page = 500
		for {
			events, err := r.hub.store.Events(ctx, r.id, st.seq, page)
			if err != nil {
				return err
			}
			for _, e := range events {
				st.foldEvent(e)
				st.stale = foldPresence(st.stale, e)
				st.history = append(st.history, histEntry{seq: e.Seq, raw: mustJSON(e)})
			}
			if n := len(st.history) - r.hub.historySize; n > 0 {
				st.history = append([]histEntry(nil), st.history[n:]...)
			}
			if len(events) < page {
				break
			}
		}
		st.stored = st.seq
	}
	if st.withdrawn, err = r.hub.store.Withdrawn(ctx, r.id); err != nil {
		return err
	}
	st.stopped = r.st.stopped
	*r.st = *st
	return nil
}
