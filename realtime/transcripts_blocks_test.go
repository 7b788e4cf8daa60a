package realtime

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/dbtest"
)

// history is n say events of one room, numbered from 1.
func history(n int) []Event {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	out := make([]Event, n)
	for i := range out {
		seq := uint64(i + 1)
		out[i] = Event{Seq: seq, Type: EventSay, At: at.Add(time.Duration(i) * time.Second), UserID: "u1", Name: "Ada",
			Role: Trainee, Text: fmt.Sprintf("Turn %d: I hear something different in what was just said.", seq)}
	}
	return out
}

func sameEvents(t *testing.T, what string, got, want []Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i].Seq != want[i].Seq || got[i].Text != want[i].Text || !got[i].At.Equal(want[i].At) {
			t.Fatalf("%s: event %d is %d %q, want %d %q", what, i, got[i].Seq, got[i].Text, want[i].Seq, want[i].Text)
		}
	}
}

// A timeline is read from its packed blocks and the tail of its last block, with one read
// for each and one for the event after the last; blocks of the earlier layout (an array of
// event documents) are read as before.
func TestEventsReadPackedBlocksTailsAndEarlierBlocks(t *testing.T) {
	ctx := context.Background()
	log := dbtest.NewFilterLog("room_")
	store, err := NewTranscripts(ctx, dbtest.NewLogged(t, log))
	if err != nil {
		t.Fatal(err)
	}
	want := history(300)
	if err := store.AppendHistory(ctx, "r1", want); err != nil {
		t.Fatal(err)
	}
	tail, err := database.FindByID[storedBlock](ctx, store.blocks, tailKey("r1", 257))
	if err != nil {
		t.Fatalf("the tail of the last block: %v", err)
	}
	if events, err := tail.events(); err != nil || len(events) != 44 || events[0].Seq != 257 {
		t.Fatalf("tail holds %d events (%v), want 44 from 257", len(events), err)
	}

	read := func(what string) {
		t.Helper()
		log.Reset()
		log.Record(true)
		got, err := store.Events(ctx, "r1", 0, 10000)
		log.Record(false)
		if err != nil {
			t.Fatal(err)
		}
		sameEvents(t, what, got, want)
		var events, blocks int
		for _, f := range log.All() {
			switch {
			case strings.HasPrefix(f, "find room_events "):
				events++
			case strings.HasPrefix(f, "find room_event_blocks "):
				blocks++
			}
		}
		// Blocks 1 and 129, the complete block 257 (missing), its tail; the event 301 (missing).
		if blocks != 4 || events != 1 {
			t.Errorf("%s: %d reads of blocks and %d of single events, want 4 and 1: %v", what, blocks, events, log.All())
		}
		for _, f := range log.NotByID() {
			t.Errorf("%s: a read not by _id: %s", what, f)
		}
	}
	read("packed")

	// The first block as the earlier layout stored it.
	if err := store.blocks.Replace(ctx, blockKey("r1", 1),
		bson.M{"_id": blockKey("r1", 1), "room": "r1", "first": 1, "events": want[:blockSize]}); err != nil {
		t.Fatal(err)
	}
	read("earlier layout")

	// A read from within a block takes the rest of the block, or of the tail, in one read.
	// {after, limit, reads of events and blocks}: the first block and the next; the block
	// (missing) and its tail; two single events, fewer than minFromBlock.
	for _, r := range [][3]int{{100, 50, 2}, {260, 20, 2}, {125, 2, 2}} {
		log.Reset()
		log.Record(true)
		got, err := store.Events(ctx, "r1", uint64(r[0]), r[1])
		log.Record(false)
		if err != nil {
			t.Fatal(err)
		}
		sameEvents(t, fmt.Sprintf("Events(%d, %d)", r[0], r[1]), got, want[r[0]:r[0]+r[1]])
		n := 0
		for _, f := range log.All() {
			if !strings.Contains(f, " room_withdrawn ") {
				n++
			}
		}
		if n != r[2] {
			t.Errorf("Events(%d, %d): %d reads, want %d: %v", r[0], r[1], n, r[2], log.All())
		}
	}

	// Paging from within a block and across the tail gives the same events.
	for _, r := range [][2]int{{0, 5}, {100, 50}, {127, 3}, {250, 20}, {290, 100}} {
		got, err := store.Events(ctx, "r1", uint64(r[0]), r[1])
		if err != nil {
			t.Fatal(err)
		}
		sameEvents(t, fmt.Sprintf("Events(%d, %d)", r[0], r[1]), got, want[r[0]:min(r[0]+r[1], len(want))])
	}
}

// While a room runs, the tail of its incomplete block is stored every tailEvery events, so a
// reader of its timeline reads no more than that many events one by one.
func TestRunningRoomKeepsItsTail(t *testing.T) {
	ctx := context.Background()
	log := dbtest.NewFilterLog("room_events")
	store, err := NewTranscripts(ctx, dbtest.NewLogged(t, log))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvOn(t, store, Options{RatePerSecond: 1e6, Burst: 1e6, SendBuffer: 1024}, func(h *Hub) { h.snapshotEvery = 1 << 20 })
	e.open("r1")
	a := e.join("r1", ada, 0)
	for i := range 200 {
		a.say(fmt.Sprint(i), fmt.Sprintf("turn %d", i))
	}
	if err := e.hub.Flush(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	log.Record(true)
	got, err := store.Events(ctx, "r1", 0, 10000)
	log.Record(false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != int(a.lastSeq) {
		t.Fatalf("read %d events, want %d", len(got), a.lastSeq)
	}
	if n := len(log.All()); n > tailEvery+1 {
		t.Errorf("%d events of %d read one by one, want at most %d", n, len(got), tailEvery+1)
	}
}
