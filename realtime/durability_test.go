package realtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"polyphony/internal/failure"
)

// A member that drops and resumes at random, and is sometimes dropped for falling behind,
// sees every event exactly once, in order, whether the missed ones come from the room's
// memory or from the store.
func TestResumeGetsExactlyTheMissedEvents(t *testing.T) {
	e := newEnv(t, Options{RatePerSecond: 1e6, Burst: 1e6, SendBuffer: 16},
		func(h *Hub) { h.historySize = 8 })
	e.open("r1")
	rng := rand.New(rand.NewPCG(1, 2))
	texts := map[string]int{}
	onEvent := func(w wire) {
		if w.Type == EventSay {
			texts[w.Text]++
		}
	}
	a := e.join("r1", ada, 0)
	b := e.joinWith("r1", ben, 0, onEvent)
	reconnects, fromStore, away := 0, 0, 0
	resume := func() {
		b.conn.Close()
		b = e.joinWith("r1", ben, b.lastSeq, onEvent)
		reconnects++
		if len(b.welcome.Events) > e.hub.historySize {
			fromStore++
		}
	}
	const turns = 300
	var last uint64
	for i := range turns {
		last = a.say(fmt.Sprint(i), fmt.Sprintf("turn %d", i)).AckSeq
		if away > 0 { // gone for a while: more missed than the room keeps in memory
			if away--; away == 0 {
				resume()
			}
			continue
		}
		if rng.IntN(20) == 0 {
			b.conn.Close()
			away = 5 + rng.IntN(30)
			continue
		}
		for b.lastSeq < last && rng.IntN(3) > 0 {
			w, err := b.read()
			if err != nil { // dropped for falling behind
				resume()
				continue
			}
			b.track(w)
		}
		if rng.IntN(12) == 0 {
			resume()
		}
	}
	if away > 0 {
		resume()
	}
	for b.lastSeq < last {
		w, err := b.read()
		if err != nil {
			resume()
			continue
		}
		b.track(w)
	}
	if reconnects < 10 || fromStore == 0 {
		t.Fatalf("%d reconnects, %d reading from the store: the test did not exercise resuming",
			reconnects, fromStore)
	}
	for i := range turns {
		if n := texts[fmt.Sprintf("turn %d", i)]; n != 1 {
			t.Fatalf("turn %d seen %d times, want once", i, n)
		}
	}
	stored, err := e.store.Events(context.Background(), "r1", 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range stored {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("stored event %d has seq %d", i, ev.Seq)
		}
	}
	t.Logf("%d turns, %d reconnects (%d reading from the store), %d events stored",
		turns, reconnects, fromStore, len(stored))
}

func TestShutdownClosesWith1001AndKeepsEveryAcknowledgedTurn(t *testing.T) {
	e := newEnv(t, Options{RatePerSecond: 1e6, Burst: 1e6, SendBuffer: 1024})
	e.open("r1")
	f := e.join("r1", fac1, 0)
	a := e.join("r1", ada, 0)
	const n = 50
	for i := range n {
		a.send(msg{"type": "say", "id": fmt.Sprint(i), "text": fmt.Sprintf("turn %d", i)})
	}
	firstAck := a.expect("ack") // at least one is through before the drain starts
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.hub.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	acked := map[string]uint64{firstAck.ID: firstAck.AckSeq}
	code := 0
	for code == 0 {
		w, err := a.read()
		var ce *websocket.CloseError
		switch {
		case errors.As(err, &ce):
			code = ce.Code
		case err != nil:
			t.Fatalf("read: %v", err)
		case w.Type == "ack":
			acked[w.ID] = w.AckSeq
		}
	}
	if code != websocket.CloseGoingAway {
		t.Fatalf("trainee's close code %d, want 1001", code)
	}
	if code := f.closeCode(); code != websocket.CloseGoingAway {
		t.Fatalf("facilitator's close code %d, want 1001", code)
	}
	stored, err := e.store.Events(context.Background(), "r1", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	bySeq := map[uint64]Event{}
	for _, ev := range stored {
		bySeq[ev.Seq] = ev
	}
	for id, seq := range acked {
		if ev, ok := bySeq[seq]; !ok || ev.ClientID != id || ev.Type != EventSay {
			t.Errorf("acknowledged turn %s (seq %d) is not in the transcript", id, seq)
		}
	}
	if len(acked) == 0 {
		t.Fatal("no turn was acknowledged")
	}
	// After Shutdown, new connections are turned away with 1001.
	conn, _, err := e.dial("r1", ben, 0)
	if err != nil {
		t.Fatal(err)
	}
	late := &member{t: t, m: ben, conn: conn}
	if code := late.closeCode(); code != websocket.CloseGoingAway {
		t.Fatalf("late connection's close code %d, want 1001", code)
	}
	t.Logf("%d of %d turns acknowledged before shutdown; %d events stored", len(acked), n, len(stored))
}

func TestIdleRoomStopsAndResumesItsTimeline(t *testing.T) {
	e := newEnv(t, Options{IdleAfter: 50 * time.Millisecond})
	e.open("r1")
	a := e.join("r1", ada, 0)
	first := a.say("a1", "before the break")
	a.conn.Close()
	waitRoomGone := func() {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			e.hub.mu.Lock()
			_, live := e.hub.rooms["r1"]
			e.hub.mu.Unlock()
			if !live {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("the idle room's goroutine did not stop")
	}
	waitRoomGone()
	b := e.join("r1", ben, 0)
	if !b.welcome.State.Open {
		t.Fatal("the room should still be open after its goroutine rested")
	}
	if b.lastSeq != b.welcome.LastSeq || b.welcome.LastSeq <= first.AckSeq {
		t.Fatalf("welcome up to %d, want past %d with every event", b.welcome.LastSeq, first.AckSeq)
	}
	b.conn.Close()
	waitRoomGone()
	// As after a restart: nothing in memory, everything from the store.
	e.hub.mu.Lock()
	delete(e.hub.dormant, "r1")
	e.hub.mu.Unlock()
	a = e.join("r1", ada, 0)
	if !a.welcome.State.Open {
		t.Fatal("the room's open state should be read back from its timeline")
	}
	again := a.say("a1", "before the break")
	if again.AckSeq != first.AckSeq {
		t.Fatalf("resent turn acknowledged as %d, want the original %d", again.AckSeq, first.AckSeq)
	}
	next := a.say("a2", "after")
	if next.AckSeq != a.lastSeq {
		t.Fatalf("new turn seq %d, want %d", next.AckSeq, a.lastSeq)
	}
}

func TestWithdrawAndMarkdown(t *testing.T) {
	e := newEnv(t, Options{})
	e.open("r1")
	a := e.join("r1", ada, 0)
	b := e.join("r1", ben, 0)
	keep := a.say("a1", "I felt *heard* <b>today</b>")
	drop := b.say("b1", "something I regret saying")
	ctx := context.Background()
	if err := e.store.Withdraw(ctx, "r1", drop.AckSeq, "u1"); !errors.Is(err, failure.ErrForbidden) {
		t.Fatalf("withdraw by someone else: %v, want ErrForbidden", err)
	}
	if err := e.store.Withdraw(ctx, "r1", 1, "f1"); err == nil {
		t.Fatal("withdrawing an event that is not a turn should fail")
	}
	if err := e.store.Withdraw(ctx, "r1", 9999, "u2"); !errors.Is(err, failure.ErrNotFound) {
		t.Fatalf("withdraw of a missing turn: %v, want ErrNotFound", err)
	}
	for range 2 {
		if err := e.store.Withdraw(ctx, "r1", drop.AckSeq, "u2"); err != nil {
			t.Fatalf("withdraw by the speaker: %v", err)
		}
	}
	md, err := e.store.Markdown(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(md, []byte("regret")) {
		t.Fatalf("withdrawn words exported:\n%s", md)
	}
	for _, want := range []string{`I felt \*heard\* \<b\>today\</b\>`, "(withdrawn by the speaker)", "Ada", "room opened"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Fatalf("export lacks %q:\n%s", want, md)
		}
	}
	events, err := e.store.Events(ctx, "r1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if events[keep.AckSeq-1].Text != "I felt *heard* <b>today</b>" {
		t.Fatalf("the store keeps words as said, got %q", events[keep.AckSeq-1].Text)
	}
}
