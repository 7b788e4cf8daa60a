package realtime

import (
	"encoding/json"
	"errors"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"polyphony/internal/failure"
)

var (
	errForbidden      = failure.ErrForbidden
	errBusUnavailable = errors.New("the dialogue service is unavailable: try again")
)

func itoa(n uint64) string { return strconv.FormatUint(n, 36) }

// roomState is what every instance folds from the room's commands, and what a room keeps
// between runs of its goroutine (it stops when idle).
type roomState struct {
	loaded bool
	seq    uint64 // last assigned
	stored uint64 // last in the transcript store
	snapAt uint64 // seq of the last snapshot stored
	// lastSnapshot is set while the stored snapshot says that no event follows it.
	lastSnapshot bool
	streamPos    uint64 // last command applied from the bus's log (0 without a bus)

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
	said       map[string]uint64 // userID + "\x00" + client id → seq, for idempotent resends
	saidOrder  []string

	// Presence: every connection to the room on any instance, by instance/connection id.
	conns   map[string]Member
	present map[string]int // connections per user
	order   []Member       // people present, in the order they came
	// joined numbers every connection in the order it joined, so that each instance finds
	// the same oldest connection of a person.
	joined map[string]uint64
	joins  uint64

	// lastAt is the time of the last event; stale, after a restart without a bus, whoever the
	// last run had present and never wrote a "left" for.
	lastAt time.Time
	stale  []Member

	// withdrawn are the turns their speakers took back, whose words are sent to nobody.
	withdrawn map[uint64]bool

	history []histEntry
	stopped <-chan struct{} // closed when the goroutine that ran this state has finished
}

// maxSaidIDs is how many of the room's latest turns a resend is recognised against. A client
// resends only turns it has no ack for, which are among the last few it sent, so a few hundred
// are plenty. The set is part of every snapshot, and a snapshot's size is what each write of
// it costs (a larger set made snapshot writes the costliest thing a busy server did); every
// instance must keep the same set, so the snapshot holds all of it.
const maxSaidIDs = 256

func newRoomState() *roomState {
	return &roomState{phase: PhaseNetworkSpeaks, removed: map[string]bool{}, meter: newMeter(),
		said: map[string]uint64{}, conns: map[string]Member{}, present: map[string]int{},
		joined: map[string]uint64{}, withdrawn: map[uint64]bool{}}
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

// Command kinds.
const (
	cmdJoin     = "join"
	cmdLeave    = "leave"
	cmdMessage  = "msg"
	cmdOpen     = "open"
	cmdClose    = "close"
	cmdEndPause = "end_pause"
	cmdAbuse    = "abuse"
	cmdWithdraw = "withdraw"
)

// command is one change to a room. Commands are applied in one order, and applying the same
// commands in the same order gives the same timeline, so instances sharing a room through
// the bus agree on every event and its sequence number.
type command struct {
	Kind    string     `json:"k"`
	Origin  string     `json:"o"`           // the instance the command came from
	Conn    string     `json:"c,omitempty"` // the connection it concerns, on Origin
	Member  Member     `json:"m,omitzero"`
	LastSeq uint64     `json:"l,omitempty"`
	In      *inbound   `json:"i,omitempty"`
	Until   *time.Time `json:"u,omitempty"`
	Req     string     `json:"r,omitempty"` // an open, close or withdrawal waiting on Origin
	Turn    uint64     `json:"t,omitempty"` // the turn a withdrawal takes back
}

// submit puts a command on the room's log: applied at once without a bus, published to it
// otherwise (and applied when the log delivers it back).
func (r *room) submit(cmd command) {
	cmd.Origin = r.hub.instance
	if r.hub.bus == nil {
		r.now = r.hub.opts.Now().UTC().Truncate(time.Millisecond)
		r.apply(cmd)
		return
	}
	if err := r.hub.bus.Publish(r.id, mustJSON(cmd)); err != nil {
		r.publishFailed(publishFailed{cmd: cmd, err: err})
	}
}

// fold applies a command the bus's log delivered, once.
func (r *room) fold(q foldRequest) {
	if q.pos <= r.st.streamPos {
		return
	}
	r.st.streamPos = q.pos
	var cmd command
	if err := json.Unmarshal(q.data, &cmd); err != nil {
		slog.Warn("dialogue room: skipping an unreadable command", "room", r.id, "pos", q.pos, "err", err)
		return
	}
	r.now = q.at.UTC().Truncate(time.Millisecond)
	r.apply(cmd)
}

func (r *room) apply(cmd command) {
	local := cmd.Origin == r.hub.instance
	key := cmd.Origin + "/" + cmd.Conn
	switch cmd.Kind {
	case cmdJoin:
		r.applyJoin(cmd, local, key)
	case cmdLeave:
		r.leavePresence(key)
	case cmdMessage:
		m, ok := r.st.conns[key]
		if !ok || cmd.In == nil {
			return // the connection has left (or been removed) since it sent this
		}
		var c *client
		if local {
			c = r.byConn[cmd.Conn]
		}
		r.act(m, c, *cmd.In)
	case cmdOpen, cmdClose:
		err := r.setOpen(cmd.Member, cmd.Kind == cmdOpen)
		if reply, ok := r.replies[cmd.Req]; ok && local {
			delete(r.replies, cmd.Req)
			reply <- err
		}
	case cmdWithdraw:
		r.withdraw(cmd.Member.UserID, cmd.Turn)
		if reply, ok := r.replies[cmd.Req]; ok && local {
			delete(r.replies, cmd.Req)
			reply <- nil
		}
	case cmdAbuse:
		if local {
			r.closeForAbuse(r.byConn[cmd.Conn])
		}
	case cmdEndPause:
		if st := r.st; st.pauseUntil != nil && cmd.Until != nil && st.pauseUntil.Equal(*cmd.Until) {
			st.pauseUntil = nil
			r.pauseC = nil
			r.emit(Event{Type: EventPause, Active: boolp(false)})
		}
	}
}

func (r *room) applyJoin(cmd command, local bool, key string) {
	st := r.st
	var w joinWait
	waiting := false
	if local {
		w, waiting = r.waiting[cmd.Conn]
		delete(r.waiting, cmd.Conn)
	}
	if st.removed[cmd.Member.UserID] {
		if waiting {
			w.replyWith(joinReply{refused: "removed from this room", code: CloseRemoved})
			r.idleIfEmpty()
		}
		return
	}
	r.joinPresence(key, cmd.Member)
	r.capConnections(cmd.Member.UserID)
	if !local {
		return
	}
	if !waiting {
		// The connection ended before its join came back: it leaves again.
		r.submit(command{Kind: cmdLeave, Conn: cmd.Conn})
		r.idleIfEmpty()
		return
	}
	c := w.c
	r.clients[c] = true
	r.byConn[c.id] = c
	w.replyWith(r.joinReply(c, w.lastSeq))
}

// joinPresence adds a connection; a person's first connection puts "joined" on the timeline.
func (r *room) joinPresence(key string, m Member) {
	st := r.st
	if _, dup := st.conns[key]; dup {
		return
	}
	st.conns[key] = m
	st.joins++
	st.joined[key] = st.joins
	if st.present[m.UserID] == 0 {
		st.order = append(st.order, m)
		if st.open {
			st.meter.seen(m)
			r.armMeter()
		}
		r.emit(Event{Type: EventJoined, UserID: m.UserID, Name: m.Name, Role: m.Role})
	}
	st.present[m.UserID]++
}

// leavePresence takes a connection away; a person's last one leaving lowers their hand,
// passes the go-round on if it was theirs, and puts "left" on the timeline.
func (r *room) leavePresence(key string) {
	st := r.st
	m, ok := st.conns[key]
	if !ok {
		return
	}
	delete(st.conns, key)
	delete(st.joined, key)
	id := m.UserID
	st.present[id]--
	if st.present[id] > 0 {
		return
	}
	delete(st.present, id)
	for i, o := range st.order {
		if o.UserID == id {
			st.order = append(st.order[:i:i], st.order[i+1:]...)
			break
		}
	}
	r.lowerHand(id)
	if st.goRound != nil && st.goRound[st.goTurn].UserID == id {
		r.advanceGoRound()
	}
	r.emit(Event{Type: EventLeft, UserID: m.UserID, Name: m.Name, Role: m.Role})
}

// withdraw takes the words of a turn out of the room's memory and tells the members. The
// store has checked that the turn is userID's.
func (r *room) withdraw(userID string, seq uint64) {
	st := r.st
	if seq == 0 || seq > st.seq {
		return
	}
	// Every instance applies the same withdrawal commands and so emits the same events; the
	// set is also filled from the store at load, and only redacts.
	st.withdrawn[seq] = true
	i := sort.Search(len(st.history), func(i int) bool { return st.history[i].seq >= seq })
	if i < len(st.history) && st.history[i].seq == seq {
		var e Event
		if err := json.Unmarshal(st.history[i].raw, &e); err == nil {
			st.history[i].raw = mustJSON(e.withoutWords())
		}
	}
	m, _ := r.presentMember(userID)
	r.emit(Event{Type: EventWithdrawn, UserID: userID, Name: m.Name, Role: m.Role, Turn: seq})
}

// capConnections keeps a person to Options.MaxConnsPerPerson connections to the room: their
// oldest goes, out of presence on every instance at once (each folds the same) and closed
// with CloseSuperseded by the instance that has it.
func (r *room) capConnections(userID string) {
	st := r.st
	for st.present[userID] > r.hub.opts.MaxConnsPerPerson {
		oldest := ""
		for k, m := range st.conns {
			if m.UserID == userID && (oldest == "" || st.joined[k] < st.joined[oldest] ||
				st.joined[k] == st.joined[oldest] && k < oldest) {
				oldest = k
			}
		}
		r.leavePresence(oldest)
		if origin, conn, _ := strings.Cut(oldest, "/"); origin == r.hub.instance {
			if c := r.byConn[conn]; c != nil {
				r.settleAcks(c)
				r.closeClient(c, CloseSuperseded, "a newer connection of yours to this room took over")
			}
		}
	}
}

// removeEverywhere takes every connection of the person out of the room, on every instance:
// presence at once (each instance folds the same), and the connections here closed with 4003.
func (r *room) removeEverywhere(userID string) {
	st := r.st
	var keys []string
	for k, m := range st.conns {
		if m.UserID == userID {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		r.leavePresence(k)
	}
	for c := range r.clients {
		if c.member.UserID == userID {
			r.settleAcks(c)
			r.closeClient(c, CloseRemoved, "removed from this room")
		}
	}
	r.idleIfEmpty()
}

// snapshot is a room's state as of Seq, stored so that a room can start again without
// reading its whole timeline: after a restart, from the events stored after Seq; with a bus,
// from the commands after StreamPos.
type snapshot struct {
	ID         string      `bson:"_id"`
	Seq        uint64      `bson:"seq"`
	StreamPos  uint64      `bson:"streamPos"`
	Open       bool        `bson:"open"`
	Phase      string      `bson:"phase"`
	Locked     bool        `bson:"locked"`
	Hands      []Member    `bson:"hands"`
	Floor      *Member     `bson:"floor,omitempty"`
	GoRound    []Member    `bson:"goRound,omitempty"`
	GoTurn     int         `bson:"goTurn"`
	PauseUntil *time.Time  `bson:"pauseUntil,omitempty"`
	Removed    []string    `bson:"removed"`
	Voices     []snapVoice `bson:"voices"`
	Said       []snapSaid  `bson:"said"`
	Conns      []snapConn  `bson:"conns,omitempty"`
	Order      []Member    `bson:"order,omitempty"`
	Joins      uint64      `bson:"joins,omitempty"`
	LastAt     time.Time   `bson:"lastAt,omitempty"`
	Written    time.Time   `bson:"written"`
	// Last is set on the snapshot a room's run writes as it stops: no event follows it.
	Last bool `bson:"last"`
}

type snapVoice struct {
	Member Member `bson:"member"`
	Turns  int    `bson:"turns"`
	Words  int    `bson:"words"`
}

type snapSaid struct {
	Key string `bson:"key"`
	Seq uint64 `bson:"seq"`
}

type snapConn struct {
	Key    string `bson:"key"`
	Member Member `bson:"member"`
	Joined uint64 `bson:"joined,omitempty"`
}

// snapshot captures the state. Connections are kept only with a bus: without one, a process
// that starts again has nobody connected, and the people present are kept so that it can
// write their "left".
func (st *roomState) snapshot(roomID string, withPresence bool, now time.Time) snapshot {
	s := snapshot{ID: roomID, Seq: st.seq, StreamPos: st.streamPos, Open: st.open, Phase: st.phase,
		Locked: st.locked, Hands: append([]Member{}, st.hands...), GoRound: append([]Member(nil), st.goRound...),
		GoTurn: st.goTurn, PauseUntil: st.pauseUntil, Removed: []string{}, LastAt: st.lastAt, Written: now.UTC(),
		Order: append([]Member{}, st.order...)}
	if st.floor != nil {
		f := *st.floor
		s.Floor = &f
	}
	for id := range st.removed {
		s.Removed = append(s.Removed, id)
	}
	for _, id := range st.meter.order {
		v := st.meter.voices[id]
		s.Voices = append(s.Voices, snapVoice{Member: v.Member, Turns: v.Turns, Words: v.Words})
	}
	for _, k := range st.saidOrder {
		s.Said = append(s.Said, snapSaid{Key: k, Seq: st.said[k]})
	}
	if withPresence {
		for k, m := range st.conns {
			s.Conns = append(s.Conns, snapConn{Key: k, Member: m, Joined: st.joined[k]})
		}
		s.Joins = st.joins
	}
	return s
}

// restore sets the state from a snapshot.
func (st *roomState) restore(s snapshot) {
	st.seq, st.stored, st.snapAt, st.streamPos = s.Seq, s.Seq, s.Seq, s.StreamPos
	st.open, st.phase, st.locked = s.Open, s.Phase, s.Locked
	st.hands = append([]Member(nil), s.Hands...)
	st.floor = s.Floor
	st.goRound, st.goTurn = nil, 0
	if len(s.GoRound) > 0 && s.GoTurn < len(s.GoRound) {
		st.goRound, st.goTurn = s.GoRound, s.GoTurn
	}
	st.pauseUntil = s.PauseUntil
	st.lastAt = s.LastAt
	st.removed = map[string]bool{}
	for _, id := range s.Removed {
		st.removed[id] = true
	}
	st.meter = newMeter()
	for _, v := range s.Voices {
		st.meter.seen(v.Member)
		st.meter.voices[v.Member.UserID].Turns = v.Turns
		st.meter.voices[v.Member.UserID].Words = v.Words
	}
	st.said, st.saidOrder = map[string]uint64{}, nil
	for _, x := range s.Said {
		st.said[x.Key] = x.Seq
		st.saidOrder = append(st.saidOrder, x.Key)
	}
	st.conns, st.present, st.order, st.joined = map[string]Member{}, map[string]int{}, nil, map[string]uint64{}
	for _, c := range s.Conns {
		st.conns[c.Key] = c.Member
		st.present[c.Member.UserID]++
		st.joined[c.Key] = c.Joined
	}
	st.joins = s.Joins
	st.order = append(st.order, s.Order...)
}

// foldEvent brings the state forward over an event stored after the last snapshot (a run
// that ended without writing one). Presence is not folded: nobody is connected yet.
func (st *roomState) foldEvent(e Event) {
	st.seq = e.Seq
	st.lastAt = e.At
	switch e.Type {
	case EventSay:
		st.remember(e.UserID, e.ClientID, e.Seq)
		if st.open {
			st.meter.said(Member{UserID: e.UserID, Name: e.Name, Role: e.Role}, e.Text)
		}
	case EventJoined:
		if st.open {
			st.meter.seen(Member{UserID: e.UserID, Name: e.Name, Role: e.Role})
		}
	case EventHandQueue:
		st.hands = append([]Member(nil), e.Queue...)
	case EventFloor:
		st.floor = e.Target
	case EventGoRound:
		st.goRound, st.goTurn = nil, 0
		if e.Active != nil && *e.Active && e.Target != nil && len(e.Order) > 0 {
			st.goRound = append([]Member(nil), e.Order...)
			for i, m := range e.Order {
				if m.UserID == e.Target.UserID {
					st.goTurn = i
					break
				}
			}
			st.floor = nil
		}
	case EventPhase:
		st.phase = e.Phase
	case EventPause:
		st.pauseUntil = nil
		if e.Active != nil && *e.Active {
			st.pauseUntil = e.Until
		}
	case EventInput:
		st.locked = e.Locked != nil && *e.Locked
	case EventRemoved:
		if e.Target != nil {
			st.removed[e.Target.UserID] = true
		}
	case EventRoom:
		st.resetForOpen(e.Open != nil && *e.Open, nil)
	}
}

// resetForOpen is what opening or closing does to the state: closing ends hands, floor,
// go-round, pause and lock; opening also lifts removals and starts the meter again with
// whoever is present.
func (st *roomState) resetForOpen(open bool, present []Member) {
	st.open = open
	st.hands, st.floor, st.goRound, st.goTurn, st.pauseUntil, st.locked = nil, nil, nil, 0, nil, false
	if open {
		st.removed = map[string]bool{}
		st.meter = newMeter()
		for _, m := range present {
			st.meter.seen(m)
		}
		st.phase = PhaseNetworkSpeaks
	}
}
