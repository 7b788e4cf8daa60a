package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"polyphony/internal/dbtest"
)

// testEnv is a hub behind a real HTTP server, on a fresh database.
type testEnv struct {
	t     *testing.T
	hub   *Hub
	store *Transcripts
	srv   *httptest.Server
}

var upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024}

func newEnv(t *testing.T, opts Options, tune ...func(*Hub)) *testEnv {
	t.Helper()
	return newEnvOn(t, newStore(t), opts, tune...)
}

// newStore is a transcript store on a fresh database.
func newStore(t *testing.T) *Transcripts {
	t.Helper()
	store, err := NewTranscripts(context.Background(), dbtest.New(t))
	if err != nil {
		t.Fatalf("NewTranscripts: %v", err)
	}
	return store
}

// newEnvOn is a hub on store: several hubs on one store are instances of one deployment.
func newEnvOn(t *testing.T, store *Transcripts, opts Options, tune ...func(*Hub)) *testEnv {
	t.Helper()
	h := NewHub(store, opts)
	h.meterEvery = 20 * time.Millisecond
	for _, f := range tune {
		f(h)
	}
	// Roles come from the query string here only: the real server takes them from the session.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		q := r.URL.Query()
		last, _ := strconv.ParseUint(q.Get("last"), 10, 64)
		h.Serve(context.WithoutCancel(r.Context()), q.Get("room"), Member{UserID: q.Get("user"), Name: q.Get("name"),
			Role: Role(q.Get("role"))}, conn, last)
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		srv.Close()
	})
	return &testEnv{t: t, hub: h, store: store, srv: srv}
}

var (
	fac1 = Member{UserID: "f1", Name: "Fran", Role: Facilitator}
	fac2 = Member{UserID: "f2", Name: "Gus", Role: Facilitator}
	ada  = Member{UserID: "u1", Name: "Ada", Role: Trainee}
	ben  = Member{UserID: "u2", Name: "Ben", Role: Trainee}
	cal  = Member{UserID: "u3", Name: "Cal", Role: Trainee}
)

func (e *testEnv) open(roomID string) {
	e.t.Helper()
	if err := e.hub.Open(context.Background(), roomID, fac1, 2); err != nil {
		e.t.Fatalf("Open: %v", err)
	}
}

// wire is any message from the server, decoded loosely.
type wire struct {
	Seq     uint64      `json:"seq"`
	Type    string      `json:"type"`
	At      time.Time   `json:"at"`
	UserID  string      `json:"userId"`
	Name    string      `json:"name"`
	Text    string      `json:"text"`
	ID      string      `json:"id"`
	AckSeq  uint64      `json:"ackSeq"`
	Error   string      `json:"error"`
	For     string      `json:"for"`
	Retry   bool        `json:"retry"`
	Turn    uint64      `json:"turn"`
	Gone    bool        `json:"withdrawn"`
	Phase   string      `json:"phase"`
	Queue   []Member    `json:"queue"`
	Order   []Member    `json:"order"`
	Target  *Member     `json:"target"`
	Active  *bool       `json:"active"`
	Locked  *bool       `json:"locked"`
	Open    *bool       `json:"open"`
	Until   *time.Time  `json:"until"`
	State   State       `json:"state"`
	LastSeq uint64      `json:"lastSeq"`
	Events  []wire      `json:"events"`
	Members []MeterLine `json:"members"`
	Equity  *float64    `json:"equity"`
	Self    *MeterLine  `json:"self"`
}

// member is one test client's connection.
type member struct {
	t          *testing.T
	m          Member
	conn       *websocket.Conn
	welcome    wire
	raw        []byte // the last message read, as sent
	welcomeRaw []byte
	lastSeq    uint64
	onEvent    func(wire) // sees every timeline event, welcome's included
}

func (e *testEnv) dial(roomID string, m Member, lastSeq uint64) (*websocket.Conn, *http.Response, error) {
	u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/?" + url.Values{
		"room": {roomID}, "user": {m.UserID}, "name": {m.Name}, "role": {string(m.Role)},
		"last": {strconv.FormatUint(lastSeq, 10)},
	}.Encode()
	return websocket.DefaultDialer.Dial(u, nil)
}

// join connects m and reads the welcome.
func (e *testEnv) join(roomID string, m Member, lastSeq uint64) *member {
	e.t.Helper()
	return e.joinWith(roomID, m, lastSeq, nil)
}

func (e *testEnv) joinWith(roomID string, m Member, lastSeq uint64, onEvent func(wire)) *member {
	e.t.Helper()
	conn, _, err := e.dial(roomID, m, lastSeq)
	if err != nil {
		e.t.Fatalf("dial as %s: %v", m.UserID, err)
	}
	c := &member{t: e.t, m: m, conn: conn, lastSeq: lastSeq, onEvent: onEvent}
	e.t.Cleanup(func() { conn.Close() })
	w := c.next()
	if w.Type != "welcome" {
		e.t.Fatalf("%s: first message is %q, want welcome", m.UserID, w.Type)
	}
	c.welcome = w
	c.welcomeRaw = c.raw
	for _, ev := range w.Events {
		c.track(ev)
	}
	return c
}

// track checks that timeline events come one after another, with no gap and no repeat.
func (c *member) track(w wire) {
	c.t.Helper()
	if w.Seq == 0 {
		return
	}
	if w.Seq != c.lastSeq+1 {
		c.t.Fatalf("%s: got event seq %d (%s), want %d", c.m.UserID, w.Seq, w.Type, c.lastSeq+1)
	}
	c.lastSeq = w.Seq
	if c.onEvent != nil {
		c.onEvent(w)
	}
}

func (c *member) read() (wire, error) {
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := c.conn.ReadMessage()
	if err != nil {
		return wire{}, err
	}
	c.raw = data
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return wire{}, fmt.Errorf("decode %s: %w", data, err)
	}
	return w, nil
}

func (c *member) next() wire {
	c.t.Helper()
	w, err := c.read()
	if err != nil {
		c.t.Fatalf("%s: read: %v", c.m.UserID, err)
	}
	if w.Type != "welcome" {
		c.track(w)
	}
	return w
}

// until reads until a message satisfies ok, and returns it.
func (c *member) until(what string, ok func(wire) bool) wire {
	c.t.Helper()
	for {
		w, err := c.read()
		if err != nil {
			c.t.Fatalf("%s: waiting for %s: %v", c.m.UserID, what, err)
		}
		c.track(w)
		if ok(w) {
			return w
		}
	}
}

func (c *member) expect(typ string) wire {
	c.t.Helper()
	return c.until(typ, func(w wire) bool { return w.Type == typ })
}

func (c *member) expectError(contains string) wire {
	c.t.Helper()
	w := c.until("error", func(w wire) bool { return w.Type == "error" })
	if !strings.Contains(w.Error, contains) {
		c.t.Fatalf("%s: error %q, want it to mention %q", c.m.UserID, w.Error, contains)
	}
	return w
}

func (c *member) send(v any) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.conn.WriteJSON(v); err != nil {
		c.t.Fatalf("%s: send: %v", c.m.UserID, err)
	}
}

type msg map[string]any

// say sends a turn and waits for its acknowledgement.
func (c *member) say(id, text string) wire {
	c.t.Helper()
	c.send(msg{"type": "say", "id": id, "text": text})
	return c.until("ack of "+id, func(w wire) bool {
		if w.Type == "error" {
			c.t.Fatalf("%s: say %s: %s", c.m.UserID, id, w.Error)
		}
		return w.Type == "ack" && w.ID == id
	})
}

// closeCode reads until the connection closes and returns its close code.
func (c *member) closeCode() int {
	c.t.Helper()
	for {
		_, err := c.read()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		c.t.Fatalf("%s: connection ended without a close frame: %v", c.m.UserID, err)
	}
}
