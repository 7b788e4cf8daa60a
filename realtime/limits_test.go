package realtime

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"polyphony/internal/testclock"
)

// A turn may be MaxTextChars characters long, counted as a browser's maxlength counts, and no longer;
// the refusal names the message it refuses.
func TestTextLimit(t *testing.T) {
	e := newEnv(t, Options{RatePerSecond: 1e6, Burst: 1e6})
	e.open("r1")
	a := e.join("r1", ada, 0)
	a.say("full", "  "+strings.Repeat("a", MaxTextChars)+"\n")
	a.say("emoji", strings.Repeat("🙂", MaxTextChars/2))
	for id, text := range map[string]string{
		"over":       strings.Repeat("a", MaxTextChars+1),
		"emoji-over": strings.Repeat("🙂", MaxTextChars/2) + "a",
	} {
		a.send(msg{"type": "say", "id": id, "text": text})
		w := a.expectError(fmt.Sprintf("the limit is %d", MaxTextChars))
		if w.For != "say" || w.ID != id {
			t.Errorf("refusal of %s: for %q id %q, want say and %s", id, w.For, w.ID, id)
		}
	}
}

// The rate limit is the person's, over all their connections: a second connection gives no
// more messages. (The clock does not move, so the burst is all there is.)
func TestRateLimitIsPerPerson(t *testing.T) {
	clock := testclock.New(time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC))
	e := newEnv(t, Options{RatePerSecond: 1, Burst: 3, Now: clock.Now})
	e.open("r1")
	a1 := e.join("r1", ada, 0)
	a2 := e.join("r1", ada, 0)
	a1.say("1", "one")
	a1.say("2", "two")
	a2.say("3", "three")
	a2.send(msg{"type": "say", "id": "4", "text": "four"})
	w := a2.expectError("too many messages")
	if w.For != "say" || w.ID != "4" || !w.Retry {
		t.Fatalf("rate refusal: for %q id %q retry %v, want say, 4, true", w.For, w.ID, w.Retry)
	}
	// Another person has a rate of their own.
	b := e.join("r1", ben, 0)
	b.say("b1", "mine")
}

// A member closed for flooding gets the acks of every turn stored before the close, and
// every refusal before it names the message refused.
func TestFloodCloseComesAfterAcks(t *testing.T) {
	const burst = 10
	clock := testclock.New(time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC))
	opts := Options{RatePerSecond: 1, Burst: burst, Now: clock.Now}
	t.Run("one instance", func(t *testing.T) { testFloodClose(t, newEnv(t, opts), burst) })
	t.Run("through NATS", func(t *testing.T) { testFloodClose(t, newNATSEnvs(t, 1, opts)[0], burst) })
}

func testFloodClose(t *testing.T, e *testEnv, burst int) {
	e.open("r1")
	a := e.join("r1", ada, 0)
	// Everything at once, without waiting for any answer.
	for i := range burst + abuseLimit {
		a.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := a.conn.WriteJSON(msg{"type": "say", "id": fmt.Sprint(i), "text": "turn " + fmt.Sprint(i)}); err != nil {
			break
		}
	}
	acked := map[string]bool{}
	for {
		w, err := a.read()
		if err != nil {
			ce, ok := err.(*websocket.CloseError)
			if !ok || ce.Code != websocket.ClosePolicyViolation {
				t.Fatalf("the connection ended with %v, want a 1008 close", err)
			}
			break
		}
		switch w.Type {
		case "ack":
			acked[w.ID] = true
		case "error":
			if w.For != "say" || w.ID == "" {
				t.Errorf("refusal %q names for %q id %q, want the say it refuses", w.Error, w.For, w.ID)
			}
		}
	}
	if err := e.hub.Flush(t.Context(), "r1"); err != nil {
		t.Fatal(err)
	}
	events, err := e.store.Events(t.Context(), "r1", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for _, ev := range events {
		if ev.Type == EventSay {
			stored++
			if !acked[ev.ClientID] {
				t.Errorf("turn %s is stored but was never acknowledged before the close", ev.ClientID)
			}
		}
	}
	if stored != burst {
		t.Errorf("%d turns stored, want the burst of %d", stored, burst)
	}
}

// A person's connections to a room are capped: a newer one closes the oldest with
// CloseSuperseded, and the person stays present throughout.
// Through NATS the cap counts the person's connections on every instance, and the instance
// that has the oldest closes it.
func TestConnectionsPerPersonAreCappedAcrossInstances(t *testing.T) {
	envs := newNATSEnvs(t, 2, Options{MaxConnsPerPerson: 2})
	one, two := envs[0], envs[1]
	one.open("r1")
	first := one.join("r1", ada, 0)
	one.join("r1", ada, 0)
	third := two.join("r1", ada, 0)
	if code := first.closeCode(); code != CloseSuperseded {
		t.Fatalf("oldest connection closed with %d, want %d", code, CloseSuperseded)
	}
	third.say("t", "from the other instance")
}

func TestConnectionsPerPersonAreCapped(t *testing.T) {
	e := newEnv(t, Options{MaxConnsPerPerson: 2})
	e.open("r1")
	b := e.join("r1", ben, 0)
	first := e.join("r1", ada, 0)
	second := e.join("r1", ada, 0)
	third := e.join("r1", ada, 0)
	if code := first.closeCode(); code != CloseSuperseded {
		t.Fatalf("oldest connection closed with %d, want %d", code, CloseSuperseded)
	}
	second.say("s", "still here")
	third.say("t", "me too")
	// Ben saw Ada join once and never leave.
	joins := 0
	b.until("ada's second turn", func(w wire) bool {
		if w.Type == EventLeft {
			t.Fatalf("ben saw %s leave", w.UserID)
		}
		if w.Type == EventJoined && w.UserID == ada.UserID {
			joins++
		}
		return w.Type == EventSay && w.ID == "t"
	})
	if joins != 1 {
		t.Fatalf("ben saw ada join %d times, want once", joins)
	}
}

// A member removed while turns of theirs are on their way to the store hears of every one
// of them that is stored before the close.
func TestRemovalComesAfterAcks(t *testing.T) {
	e := newEnv(t, Options{RatePerSecond: 1e6, Burst: 1e6})
	e.open("r1")
	f := e.join("r1", fac1, 0)
	a := e.join("r1", ada, 0)
	for i := range 20 {
		a.send(msg{"type": "say", "id": fmt.Sprint(i), "text": "turn " + fmt.Sprint(i)})
	}
	f.until("ada's first turn", func(w wire) bool { return w.Type == EventSay })
	f.send(msg{"type": "remove", "userId": ada.UserID})
	acked := map[string]bool{}
	for {
		w, err := a.read()
		if err != nil {
			break
		}
		if w.Type == "ack" {
			acked[w.ID] = true
		}
	}
	if err := e.hub.Flush(t.Context(), "r1"); err != nil {
		t.Fatal(err)
	}
	events, err := e.store.Events(t.Context(), "r1", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Type == EventSay && !acked[ev.ClientID] {
			t.Errorf("turn %s is stored but was never acknowledged before the removal", ev.ClientID)
		}
	}
}
