package realtime

import (
	"context"
	"testing"
	"time"
)

// leftAt returns when each person's last "left" in events was, and how many each has.
func leftAt(events []Event) (map[string]time.Time, map[string]int) {
	at, n := map[string]time.Time{}, map[string]int{}
	for _, e := range events {
		if e.Type == EventLeft {
			at[e.UserID] = e.At
			n[e.UserID]++
		}
	}
	return at, n
}

// Stopping the server writes "left" for everyone still in a room.
func TestShutdownWritesLeft(t *testing.T) {
	store := newStore(t)
	e := newEnvOn(t, store, Options{})
	e.open("r1")
	e.join("r1", fac1, 0)
	e.join("r1", ada, 0).say("a", "hello")
	stop(t, e)
	events, err := store.Events(context.Background(), "r1", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, n := leftAt(events); n[fac1.UserID] != 1 || n[ada.UserID] != 1 {
		t.Fatalf("left events after shutdown: %v, want one each for f1 and u1", n)
	}
}

// After a crash (a process that stopped without writing anything more), the room started
// again closes the presences left open, at the time of the room's last event, before anyone
// joins again.
func TestRestartClosesPresencesLeftOpen(t *testing.T) {
	store := newStore(t)
	// The crashed process: never shut down while the next one runs. Snapshots are frequent,
	// so the next one reads a snapshot and the events after it.
	crashed := newEnvOn(t, store, Options{RatePerSecond: 1e6, Burst: 1e6}, func(h *Hub) { h.snapshotEvery = 3 })
	crashed.open("r1")
	crashed.join("r1", fac1, 0)
	a := crashed.join("r1", ada, 0)
	for _, id := range []string{"1", "2", "3", "4", "5"} {
		a.say(id, "turn "+id)
	}
	last := a.say("last", "the last word")
	if err := crashed.hub.Flush(context.Background(), "r1"); err != nil {
		t.Fatal(err)
	}
	before, err := store.Events(context.Background(), "r1", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	lastAt := before[len(before)-1].At
	if before[len(before)-1].Seq != last.AckSeq {
		t.Fatalf("last stored event %d, want the last turn %d", before[len(before)-1].Seq, last.AckSeq)
	}

	next := newEnvOn(t, store, Options{})
	g := next.join("r1", fac2, 0)
	at, n := map[string]time.Time{}, map[string]int{}
	for _, w := range g.welcome.Events {
		if w.Type == EventLeft {
			at[w.UserID] = w.At
			n[w.UserID]++
		}
	}
	for _, m := range []Member{fac1, ada} {
		if n[m.UserID] != 1 || !at[m.UserID].Equal(lastAt) {
			t.Errorf("%s: %d left events at %v, want one at the last event's time %v", m.UserID, n[m.UserID], at[m.UserID], lastAt)
		}
	}
	if err := next.hub.Flush(context.Background(), "r1"); err != nil {
		t.Fatal(err)
	}
	events, err := store.Events(context.Background(), "r1", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// Ada's time in the room ends with the last event, however long after the next process
	// is asked.
	joined := before[0].At
	for _, e := range before {
		if e.Type == EventJoined && e.UserID == ada.UserID {
			joined = e.At
		}
	}
	if got, want := Presence(events, lastAt.Add(time.Hour))[ada.UserID], lastAt.Sub(joined); got != want {
		t.Errorf("Ada's presence %s, want %s", got, want)
	}
}
