package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"polyphony/internal/failure"
)

func TestOpenNeedsTwoFacilitators(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	err := e.hub.Open(ctx, "r1", fac1, 1)
	var inv *failure.InvalidError
	if !errors.As(err, &inv) || inv.Field != "facilitators" {
		t.Fatalf("Open with one facilitator: got %v, want an InvalidError on facilitators", err)
	}
	if err := e.hub.Open(ctx, "r1", ada, 2); !errors.Is(err, failure.ErrForbidden) {
		t.Fatalf("Open by a trainee: got %v, want ErrForbidden", err)
	}
	if err := e.hub.Open(ctx, "r1", fac1, 2); err != nil {
		t.Fatalf("Open: %v", err)
	}
}

func TestJoinWelcome(t *testing.T) {
	e := newEnv(t, Options{})
	e.open("r1")
	f := e.join("r1", fac1, 0)
	if !f.welcome.State.Open || f.welcome.State.Phase != PhaseNetworkSpeaks {
		t.Fatalf("welcome state = %+v, want open in network_speaks", f.welcome.State)
	}
	// room opened, phase, joined
	if got := len(f.welcome.Events); got != 3 || f.welcome.LastSeq != 3 {
		t.Fatalf("welcome has %d events up to %d, want 3 up to 3", got, f.welcome.LastSeq)
	}
	a := e.join("r1", ada, 0)
	if got := a.welcome.State.Members; len(got) != 2 || got[0].UserID != "f1" || got[1].UserID != "u1" {
		t.Fatalf("members = %+v, want f1 then u1", got)
	}
	j := f.expect(EventJoined)
	if j.UserID != "u1" || j.Seq != 4 {
		t.Fatalf("facilitator saw joined %+v, want u1 at seq 4", j)
	}
	if a.welcome.Events[len(a.welcome.Events)-1].Type != EventJoined {
		t.Fatalf("the joining member's own joined event should close its welcome")
	}
}

func TestSayReachesEveryoneInOrder(t *testing.T) {
	e := newEnv(t, Options{RatePerSecond: 1000, Burst: 1000})
	e.open("r1")
	f := e.join("r1", fac1, 0)
	a := e.join("r1", ada, 0)
	b := e.join("r1", ben, 0)
	for i := range 10 {
		a.say(fmt.Sprintf("m%d", i), fmt.Sprintf("turn %d", i))
	}
	for _, c := range []*member{f, b} {
		for i := range 10 {
			w := c.expect(EventSay)
			if w.Text != fmt.Sprintf("turn %d", i) || w.UserID != "u1" {
				t.Fatalf("%s: got %q from %s, want turn %d from u1", c.m.UserID, w.Text, w.UserID, i)
			}
		}
	}
	// Consecutive numbers are checked by track on every read.
}

func TestResendIsIdempotent(t *testing.T) {
	e := newEnv(t, Options{})
	e.open("r1")
	a := e.join("r1", ada, 0)
	first := a.say("same", "hello")
	second := a.say("same", "hello")
	if first.AckSeq != second.AckSeq {
		t.Fatalf("acks %d and %d, want the same seq", first.AckSeq, second.AckSeq)
	}
	events, err := e.store.Events(context.Background(), "r1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range events {
		if ev.Type == EventSay {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("stored %d turns, want 1", n)
	}
}

func TestBadInputGetsAnErrorAndTheRoomGoesOn(t *testing.T) {
	e := newEnv(t, Options{RatePerSecond: 100, Burst: 100})
	e.open("r1")
	a := e.join("r1", ada, 0)
	cases := []struct {
		name string
		send string
		want string
	}{
		{"malformed", `{"type":`, "malformed"},
		{"not an object", `[1,2]`, "malformed"},
		{"no type", `{}`, "type: missing"},
		{"unknown", `{"type":"dance"}`, `unknown message type "dance"`},
		{"say without id", `{"type":"say","text":"hi"}`, "say: id is missing"},
		{"say without text", `{"type":"say","id":"x"}`, "say: text is missing"},
		{"trainee sets phase", `{"type":"set_phase","phase":"team_reflects"}`, "only a facilitator"},
		{"trainee locks", `{"type":"lock_input"}`, "only a facilitator"},
		{"trainee closes", `{"type":"close_room"}`, "only a facilitator"},
		{"trainee gives floor", `{"type":"give_floor","userId":"u1"}`, "only a facilitator"},
		{"trainee removes", `{"type":"remove","userId":"f1"}`, "only a facilitator"},
		{"pass without a round", `{"type":"pass"}`, "do not hold the floor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a.t = t
			if err := a.conn.WriteMessage(websocket.TextMessage, []byte(tc.send)); err != nil {
				t.Fatal(err)
			}
			w := a.expectError(tc.want)
			if w.Seq != 0 {
				t.Fatalf("error carries seq %d, want none", w.Seq)
			}
		})
	}
	a.t = t
	a.say("ok", "still here")
}

func TestFacilitatorChecks(t *testing.T) {
	e := newEnv(t, Options{})
	e.open("r1")
	f := e.join("r1", fac1, 0)
	f.send(msg{"type": "set_phase", "phase": "chatting"})
	f.expectError("phase must be")
	f.send(msg{"type": "start_pause", "seconds": 3})
	f.expectError("seconds must be from 5 to 600")
	f.send(msg{"type": "start_pause"})
	f.expectError("seconds is missing")
	f.send(msg{"type": "give_floor", "userId": "nobody"})
	f.expectError("not in the room")
	f.send(msg{"type": "remove", "userId": "f1"})
	f.expectError("cannot remove yourself")
}

func TestHandQueueAndFloor(t *testing.T) {
	e := newEnv(t, Options{})
	e.open("r1")
	f := e.join("r1", fac1, 0)
	a := e.join("r1", ada, 0)
	b := e.join("r1", ben, 0)
	a.send(msg{"type": "raise_hand"})
	f.expect(EventHandQueue)
	b.send(msg{"type": "raise_hand"})
	q := f.expect(EventHandQueue)
	if ids := memberIDs(q.Queue); ids != "u1,u2" {
		t.Fatalf("queue = %s, want u1,u2", ids)
	}
	a.send(msg{"type": "raise_hand"}) // already raised: no change
	a.send(msg{"type": "lower_hand"})
	if ids := memberIDs(f.expect(EventHandQueue).Queue); ids != "u2" {
		t.Fatalf("queue = %s, want u2", ids)
	}
	a.send(msg{"type": "raise_hand"})
	if ids := memberIDs(f.expect(EventHandQueue).Queue); ids != "u2,u1" {
		t.Fatalf("queue = %s, want u2,u1", ids)
	}
	b.send(msg{"type": "lower_hand", "userId": "u1"})
	b.expectError("only a facilitator may lower someone else's hand")
	f.send(msg{"type": "give_floor", "userId": "u2"})
	fl := f.expect(EventFloor)
	if fl.Target == nil || fl.Target.UserID != "u2" {
		t.Fatalf("floor event target = %+v, want u2", fl.Target)
	}
	if ids := memberIDs(f.expect(EventHandQueue).Queue); ids != "u1" {
		t.Fatalf("after the floor is given, queue = %s, want u1", ids)
	}
	// With input locked, only the floor holder among trainees speaks.
	f.send(msg{"type": "lock_input"})
	f.expect(EventInput)
	a.send(msg{"type": "say", "id": "a1", "text": "may I?"})
	a.expectError("input is locked")
	b.say("b1", "I hold the floor")
	f.send(msg{"type": "unlock_input"})
	f.expect(EventInput)
	a.say("a2", "now I can")
	c := e.join("r1", cal, 0)
	if ids := memberIDs(c.welcome.State.Hands); ids != "u1" || c.welcome.State.Floor.UserID != "u2" {
		t.Fatalf("welcome hands %s floor %+v, want u1 and u2", ids, c.welcome.State.Floor)
	}
}

func TestGoRound(t *testing.T) {
	e := newEnv(t, Options{})
	e.open("r1")
	f := e.join("r1", fac1, 0)
	a := e.join("r1", ada, 0)
	b := e.join("r1", ben, 0)
	f.send(msg{"type": "start_go_round"})
	g := f.expect(EventGoRound)
	if memberIDs(g.Order) != "f1,u1,u2" || g.Target.UserID != "f1" {
		t.Fatalf("go-round order %s holder %v, want f1,u1,u2 held by f1", memberIDs(g.Order), g.Target)
	}
	a.send(msg{"type": "say", "id": "early", "text": "me?"})
	a.expectError("the floor is with Fran")
	a.send(msg{"type": "pass"})
	a.expectError("do not hold the floor")
	f.send(msg{"type": "pass"})
	if h := f.expect(EventGoRound).Target.UserID; h != "u1" {
		t.Fatalf("after pass the floor is with %s, want u1", h)
	}
	a.say("a1", "my turn")
	if h := f.expect(EventGoRound).Target.UserID; h != "u2" {
		t.Fatalf("after a's turn the floor is with %s, want u2", h)
	}
	b.send(msg{"type": "pass"})
	end := f.expect(EventGoRound)
	if end.Active == nil || *end.Active {
		t.Fatalf("after the last person the round should end, got %+v", end)
	}
	b.say("b1", "free again")
}

func TestReflectingTeamLocksTrainees(t *testing.T) {
	e := newEnv(t, Options{})
	e.open("r1")
	f := e.join("r1", fac1, 0)
	a := e.join("r1", ada, 0)
	a.send(msg{"type": "set_phase", "phase": PhaseTeamReflects})
	a.expectError("only a facilitator")
	f.send(msg{"type": "set_phase", "phase": PhaseTeamReflects})
	if p := a.expect(EventPhase).Phase; p != PhaseTeamReflects {
		t.Fatalf("phase %q, want team_reflects", p)
	}
	a.send(msg{"type": "say", "id": "a1", "text": "but"})
	a.expectError("the network listens")
	f.say("f1", "I wonder about what we heard")
	f.send(msg{"type": "set_phase", "phase": PhaseNetworkResponds})
	a.expect(EventPhase)
	a.say("a2", "I heard you wonder")
	events, err := e.store.Events(context.Background(), "r1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var phases []string
	for _, ev := range events {
		if ev.Type == EventPhase {
			phases = append(phases, ev.Phase)
		}
	}
	if got := strings.Join(phases, ","); got != "network_speaks,team_reflects,network_responds" {
		t.Fatalf("stored phases %s", got)
	}
}

func TestPauseRefusesSayAndEnds(t *testing.T) {
	e := newEnv(t, Options{}, func(h *Hub) { h.second = 20 * time.Millisecond })
	e.open("r1")
	f := e.join("r1", fac1, 0)
	a := e.join("r1", ada, 0)
	f.send(msg{"type": "start_pause", "seconds": 5})
	p := a.expect(EventPause)
	if p.Active == nil || !*p.Active || p.Until == nil {
		t.Fatalf("pause event %+v, want active with an end", p)
	}
	a.send(msg{"type": "say", "id": "a1", "text": "sorry"})
	a.expectError("mindful pause")
	f.send(msg{"type": "say", "id": "f1", "text": "shh"})
	f.expectError("mindful pause")
	end := a.expect(EventPause)
	if end.Active == nil || *end.Active {
		t.Fatalf("second pause event %+v, want the end", end)
	}
	a.say("a2", "after the silence")
}

func TestMeter(t *testing.T) {
	e := newEnv(t, Options{})
	e.open("r1")
	f := e.join("r1", fac1, 0)
	a := e.join("r1", ada, 0)
	b := e.join("r1", ben, 0)
	a.say("a1", "one two three")
	a.say("a2", "four five six")
	b.say("b1", "seven eight")
	isFinal := func(w wire) bool {
		if w.Type != "meter" {
			return false
		}
		var words int
		for _, l := range w.Members {
			words += l.Words
		}
		return words == 8
	}
	room := f.until("room meter", isFinal)
	if room.Equity == nil || math.Abs(*room.Equity-0.25) > 1e-9 {
		t.Fatalf("equity = %v, want 0.25 (words 0, 6, 2)", room.Equity)
	}
	want := map[string]MeterLine{
		"f1": {Turns: 0, Words: 0},
		"u1": {Turns: 2, Words: 6, WordShare: 0.75, TurnShare: 2.0 / 3},
		"u2": {Turns: 1, Words: 2, WordShare: 0.25, TurnShare: 1.0 / 3},
	}
	if len(room.Members) != 3 {
		t.Fatalf("facilitator meter has %d lines, want 3", len(room.Members))
	}
	for _, l := range room.Members {
		w := want[l.UserID]
		if l.Turns != w.Turns || l.Words != w.Words ||
			math.Abs(l.WordShare-w.WordShare) > 1e-9 || math.Abs(l.TurnShare-w.TurnShare) > 1e-9 {
			t.Errorf("%s: got %+v, want %+v", l.UserID, l, w)
		}
	}
	// Ada's own meter counts all three turns once it shows her two as two thirds of them; an
	// earlier one, sent before Ben's turn, gives her every word.
	own := a.until("own meter", func(w wire) bool {
		return w.Type == "meter" && w.Self != nil && w.Self.Turns == 2 && math.Abs(w.Self.TurnShare-2.0/3) < 1e-9
	})
	if own.Members != nil || own.Equity != nil || own.Self == nil || own.Self.UserID != "u1" {
		t.Fatalf("trainee meter %+v, want only their own line", own)
	}
	if own.Self.Words != 6 || math.Abs(own.Self.WordShare-0.75) > 1e-9 {
		t.Fatalf("own line %+v, want 6 words, share 0.75", own.Self)
	}
}

func TestClosedRoomRefusesMessages(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.join("r1", ada, 0)
	if a.welcome.State.Open {
		t.Fatal("a room is closed until a facilitator opens it")
	}
	a.send(msg{"type": "say", "id": "a1", "text": "hello?"})
	a.expectError("the room is closed")
	e.open("r1")
	a.expect(EventRoom)
	a.say("a2", "hello")
	if err := e.hub.Close(context.Background(), "r1", fac2); err != nil {
		t.Fatal(err)
	}
	a.send(msg{"type": "raise_hand"})
	a.expectError("the room is closed")
}

func TestOversizeFrameCloses1009(t *testing.T) {
	e := newEnv(t, Options{MaxMessageBytes: 100})
	e.open("r1")
	a := e.join("r1", ada, 0)
	a.send(msg{"type": "say", "id": "big", "text": strings.Repeat("x", 200)})
	if code := a.closeCode(); code != websocket.CloseMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, Options{RatePerSecond: 1, Burst: 2})
	e.open("r1")
	a := e.join("r1", ada, 0)
	for range 3 {
		a.send(msg{"type": "typing"})
	}
	a.expectError("too many messages")
	for range abuseLimit + 5 {
		if err := a.conn.WriteJSON(msg{"type": "typing"}); err != nil {
			break
		}
	}
	if code := a.closeCode(); code != websocket.ClosePolicyViolation {
		t.Fatalf("close code %d, want 1008", code)
	}
}

func TestRemoveKeepsMemberOutUntilReopen(t *testing.T) {
	e := newEnv(t, Options{})
	e.open("r1")
	f := e.join("r1", fac1, 0)
	a := e.join("r1", ada, 0)
	f.send(msg{"type": "remove", "userId": "u1"})
	if code := a.closeCode(); code != CloseRemoved {
		t.Fatalf("close code %d, want %d", code, CloseRemoved)
	}
	again := &member{t: t, m: ada}
	conn, _, err := e.dial("r1", ada, 0)
	if err != nil {
		t.Fatal(err)
	}
	again.conn = conn
	if code := again.closeCode(); code != CloseRemoved {
		t.Fatalf("rejoin close code %d, want %d", code, CloseRemoved)
	}
	ctx := context.Background()
	if err := e.hub.Close(ctx, "r1", fac1); err != nil {
		t.Fatal(err)
	}
	e.open("r1")
	e.join("r1", ada, 0)
}

func TestDisconnectUser(t *testing.T) {
	e := newEnv(t, Options{})
	e.open("r1")
	e.open("r2")
	a1 := e.join("r1", ada, 0)
	a2 := e.join("r2", ada, 0)
	b := e.join("r1", ben, 0)
	e.hub.DisconnectUser("u1")
	for _, c := range []*member{a1, a2} {
		if code := c.closeCode(); code != websocket.ClosePolicyViolation {
			t.Fatalf("close code %d, want 1008", code)
		}
	}
	if l := b.expect(EventLeft); l.UserID != "u1" {
		t.Fatalf("left %s, want u1", l.UserID)
	}
}

func TestSlowConsumerIsDropped(t *testing.T) {
	e := newEnv(t, Options{SendBuffer: 16, RatePerSecond: 1e6, Burst: 1e6})
	e.open("r1")
	// Ada's every "typing" reaches Ben with her long name in it, and she gets nothing back.
	loud := Member{UserID: ada.UserID, Name: strings.Repeat("Ada ", 20000), Role: Trainee}
	a := e.join("r1", loud, 0)
	// Ben reads nothing until he has been dropped.
	conn, _, err := e.dial("r1", ben, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	slow := &member{t: t, m: ben, conn: conn}
	slow.lastSeq = slow.next().LastSeq
	a.expect(EventJoined)
	benLeft := make(chan struct{})
	a.conn.SetReadDeadline(time.Time{})
	go func() {
		defer close(benLeft)
		for {
			_, data, err := a.conn.ReadMessage()
			if err != nil {
				return
			}
			var w wire
			if json.Unmarshal(data, &w) == nil && w.Type == EventLeft && w.UserID == ben.UserID {
				return
			}
		}
	}()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case <-benLeft:
			if code := slow.closeCode(); code != websocket.CloseTryAgainLater {
				t.Fatalf("slow member's close code %d, want 1013", code)
			}
			// It resumes where it stopped.
			b := e.join("r1", ben, slow.lastSeq)
			if b.welcome.LastSeq <= slow.lastSeq {
				t.Fatalf("resumed at %d, want past %d", b.welcome.LastSeq, slow.lastSeq)
			}
			return
		case <-deadline:
			t.Fatal("the slow member was never dropped")
		default:
		}
		a.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := a.conn.WriteJSON(msg{"type": "typing"}); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
}

func memberIDs(ms []Member) string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	return strings.Join(ids, ",")
}
