package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/gorilla/websocket"
)

const (
	writeWait  = 10 * time.Second
	pongWait   = 60 * time.Second
	pingPeriod = pongWait * 9 / 10
	// abuseLimit is how many messages over the rate limit in a row close the connection.
	abuseLimit = 20
	// CloseRemoved is the close code for a member removed by a facilitator.
	CloseRemoved = 4003
	// CloseSuperseded is the close code for a person's oldest connection to a room when a
	// newer one takes them over Options.MaxConnsPerPerson.
	CloseSuperseded = 4008
	// MaxTextChars is the longest turn, in characters as a browser's maxlength counts them
	// (UTF-16 code units: most characters count one, those outside the Basic Multilingual
	// Plane, such as most emoji, two), after surrounding white space is trimmed.
	MaxTextChars = 1500
)

// client is one connection of one member. Its reader goroutine owns the read side, its
// writer goroutine the write side; the room goroutine is the only sender on send and the only
// one to close it, after setting closeCode and closeReason.
type client struct {
	id     string // unique on this instance
	hub    *Hub
	member Member
	conn   *websocket.Conn
	send   chan []byte
	room   *room
	rate   *personRate // shared by the person's connections on this instance

	closeCode   int
	closeReason string
}

func newClient(h *Hub, m Member, conn *websocket.Conn) *client {
	return &client{hub: h, member: m, conn: conn, send: make(chan []byte, h.opts.SendBuffer),
		closeCode: websocket.CloseNormalClosure}
}

// toRoom hands a request to the room; it gives up when the room has stopped.
func (c *client) toRoom(req request) bool {
	select {
	case c.room.inbox <- req:
		return true
	case <-c.room.done:
		return false
	}
}

func (c *client) leave() { c.toRoom(leaveRequest{c: c}) }

// readPump reads the member's messages, checks their form and the person's rate, and hands
// them to the room; it returns when the connection fails or closes.
func (c *client) readPump() {
	o := c.hub.opts
	c.conn.SetReadLimit(o.MaxMessageBytes)
	c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	over := 0
	for {
		kind, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		c.conn.SetReadDeadline(time.Now().Add(pongWait))
		var in inbound
		var perr error
		if kind != websocket.TextMessage {
			perr = fmt.Errorf("messages must be JSON text frames")
		} else {
			in, perr = parseInbound(data)
		}
		if !c.rate.take(o.Now()) {
			over++
			if over >= abuseLimit {
				// The room closes the connection once the turns it took are stored and
				// acknowledged; until then what arrives is read and dropped.
				if c.toRoom(abuseRequest{c: c}) {
					c.discard()
				}
				return
			}
			if !c.toRoom(replyRequest{c: c, msg: errorMsg{Type: "error", Error: refusalText(in, "too many messages: slow down"),
				For: in.Type, ID: in.ID, Retry: true}}) {
				return
			}
			continue
		}
		over = 0
		if perr == nil && c.hub.gate != nil {
			switch err := c.hub.gate.check(c.member.UserID); {
			case errors.Is(err, errInactive):
				// Nothing more from this person is acted on; the room closes every
				// connection of theirs here.
				c.hub.disconnectHere(c.member.UserID)
				c.discard()
				return
			case err != nil:
				perr = fmt.Errorf("%s", refusalText(in, "not delivered: the dialogue service could not check your account, try again"))
				if !c.toRoom(replyRequest{c: c, msg: errorMsg{Type: "error", Error: perr.Error(), For: in.Type, ID: in.ID, Retry: true}}) {
					return
				}
				continue
			}
		}
		var req request
		if perr != nil {
			req = replyRequest{c: c, msg: errorMsg{Type: "error", Error: perr.Error(), For: in.Type, ID: in.ID}}
		} else {
			req = messageRequest{c: c, in: in}
		}
		if !c.toRoom(req) {
			return
		}
	}
}

// discard reads and drops messages until the connection closes.
func (c *client) discard() {
	for {
		if _, _, err := c.conn.NextReader(); err != nil {
			return
		}
	}
}

// refusalText prefixes why with the type of the message refused, when it has one.
func refusalText(in inbound, why string) string {
	if in.Type == "" {
		return why
	}
	return in.Type + ": " + why
}

// parseInbound checks a message's form: JSON, a known type, and the fields that type needs.
// Whether the member may do it is the room's question.
func parseInbound(data []byte) (inbound, error) {
	var in inbound
	if err := json.Unmarshal(data, &in); err != nil {
		return inbound{}, fmt.Errorf("malformed message: not a JSON object")
	}
	switch in.Type {
	case "":
		return in, fmt.Errorf("type: missing")
	case "say":
		if in.ID == "" {
			return in, fmt.Errorf("say: id is missing")
		}
		if len(in.ID) > 64 {
			return in, fmt.Errorf("say: id is longer than 64 characters")
		}
		text := strings.TrimSpace(in.Text)
		if text == "" {
			return in, fmt.Errorf("say: text is missing")
		}
		if n := textLength(text); n > MaxTextChars {
			return in, fmt.Errorf("say: text is %d characters long; the limit is %d", n, MaxTextChars)
		}
	case "give_floor", "remove":
		if in.UserID == "" {
			return in, fmt.Errorf("%s: userId is missing", in.Type)
		}
	case "set_phase":
		switch in.Phase {
		case PhaseNetworkSpeaks, PhaseTeamReflects, PhaseNetworkResponds:
		case "":
			return in, fmt.Errorf("set_phase: phase is missing")
		default:
			return in, fmt.Errorf("set_phase: phase must be network_speaks, team_reflects or network_responds")
		}
	case "start_pause":
		if in.Seconds == nil {
			return in, fmt.Errorf("start_pause: seconds is missing")
		}
		if *in.Seconds < 5 || *in.Seconds > 600 {
			return in, fmt.Errorf("start_pause: seconds must be from 5 to 600")
		}
	case "typing", "raise_hand", "lower_hand", "start_go_round", "pass", "end_go_round",
		"lock_input", "unlock_input", "close_room":
	default:
		return inbound{Type: in.Type}, fmt.Errorf("type: unknown message type %q", in.Type)
	}
	return in, nil
}

// textLength counts s as a browser's maxlength does: in UTF-16 code units.
func textLength(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// writePump sends the welcome (with the events the member missed), then whatever the room
// queues, and pings; when the room closes send it writes the close frame and ends.
func (c *client) writePump(ctx context.Context, roomID string, lastSeq uint64, rep joinReply) {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		c.conn.Close()
	}()
	first, err := c.welcome(ctx, roomID, lastSeq, rep)
	if err != nil {
		c.conn.SetWriteDeadline(time.Now().Add(writeWait))
		c.conn.WriteMessage(websocket.TextMessage, mustJSON(errorMsg{Type: "error",
			Error: "the room's history could not be read: try again"}))
		closeConn(c.conn, websocket.CloseInternalServerErr, "history unavailable")
		return
	}
	if !c.write(websocket.TextMessage, first) {
		return
	}
	for {
		select {
		case msg, ok := <-c.send:
			if !ok {
				c.write(websocket.CloseMessage, websocket.FormatCloseMessage(c.closeCode, c.closeReason))
				return
			}
			if !c.write(websocket.TextMessage, msg) {
				return
			}
		case <-ticker.C:
			if !c.write(websocket.PingMessage, nil) {
				return
			}
		}
	}
}

func (c *client) write(kind int, data []byte) bool {
	c.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return c.conn.WriteMessage(kind, data) == nil
}

// welcome builds the first message: the state as of rep.seq and the events after lastSeq up
// to it, older ones read from the store and recent ones from the room's memory.
func (c *client) welcome(ctx context.Context, roomID string, lastSeq uint64, rep joinReply) ([]byte, error) {
	w := welcome{Type: "welcome", You: c.member, State: rep.state, LastSeq: rep.seq, Meter: rep.meter}
	if rep.from > lastSeq+1 {
		w.HistoryFrom = rep.from
	}
	w.Events = []any{}
	after := rep.from - 1
	const page = 500
	for after+1 < rep.memFrom && after < rep.seq {
		events, err := c.hub.store.Events(ctx, roomID, after, page)
		if err != nil {
			return nil, err
		}
		if len(events) == 0 {
			return nil, fmt.Errorf("room %s: events after %d missing from the store", roomID, after)
		}
		for _, e := range events {
			if e.Seq >= rep.memFrom {
				break
			}
			w.Events = append(w.Events, e)
			after = e.Seq
		}
	}
	for _, raw := range rep.recent {
		w.Events = append(w.Events, json.RawMessage(raw))
	}
	return json.Marshal(w)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only for types of this package, which always marshal
	}
	return b
}

// tokenBucket limits a message rate.
type tokenBucket struct {
	rate, tokens, burst float64
	last                time.Time
}

func newTokenBucket(rate float64, burst int, now time.Time) *tokenBucket {
	return &tokenBucket{rate: rate, tokens: float64(burst), burst: float64(burst), last: now}
}

func (b *tokenBucket) take(now time.Time) bool {
	b.tokens += now.Sub(b.last).Seconds() * b.rate
	if b.tokens > b.burst {
		b.tokens = b.burst
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// personRates keeps one token bucket per person connected to this instance, shared by all of
// their connections, so that opening more connections gives no more rate.
type personRates struct {
	rate  float64
	burst int

	mu     sync.Mutex
	byUser map[string]*personRate
}

// personRate is one person's share of personRates, held by each of their connections.
type personRate struct {
	rates  *personRates
	userID string
	refs   int // guarded by rates.mu
	bucket *tokenBucket
}

func newPersonRates(rate float64, burst int) *personRates {
	return &personRates{rate: rate, burst: burst, byUser: map[string]*personRate{}}
}

// acquire returns the person's bucket, for one more connection; release gives it back.
func (p *personRates) acquire(userID string, now time.Time) *personRate {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.byUser[userID]
	if r == nil {
		r = &personRate{rates: p, userID: userID, bucket: newTokenBucket(p.rate, p.burst, now)}
		p.byUser[userID] = r
	}
	r.refs++
	return r
}

func (r *personRate) release() {
	p := r.rates
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.refs--; r.refs == 0 {
		delete(p.byUser, r.userID)
	}
}

// take spends one message of the person's rate, reporting false when none is left.
func (r *personRate) take(now time.Time) bool {
	r.rates.mu.Lock()
	defer r.rates.mu.Unlock()
	return r.bucket.take(now)
}
