package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"polyphony/internal/failure"
)

// After the process stops (gracefully, or without writing a snapshot), a new hub on the same
// store has the whole room back: hands, phase, lock, removals, go-round, pause and meter.
func TestRestartRebuildsTheWholeRoom(t *testing.T) {
	for _, tc := range []struct {
		name       string
		noSnapshot bool
	}{{"after shutdown", false}, {"without a snapshot", true}} {
		t.Run(tc.name, func(t *testing.T) {
			store := newStore(t)
			opts := Options{RatePerSecond: 1e6, Burst: 1e6}
			e := newEnvOn(t, store, opts)
			e.open("r1")
			e.open("r2")
			f := e.join("r1", fac1, 0)
			a := e.join("r1", ada, 0)
			b := e.join("r1", ben, 0)
			c := e.join("r1", cal, 0)
			first := a.say("a1", "one two three")
			b.send(msg{"type": "raise_hand"})
			f.until("Ben's hand", func(w wire) bool { return w.Type == EventHandQueue && len(w.Queue) == 1 })
			a.send(msg{"type": "raise_hand"})
			f.until("two hands", func(w wire) bool { return w.Type == EventHandQueue && len(w.Queue) == 2 })
			f.send(msg{"type": "set_phase", "phase": PhaseTeamReflects})
			f.send(msg{"type": "lock_input"})
			f.send(msg{"type": "remove", "userId": cal.UserID})
			if code := c.closeCode(); code != CloseRemoved {
				t.Fatalf("removed member's close code %d", code)
			}
			f.expect(EventRemoved)
			// Room 2: a go-round with the floor on its second person, and a pause.
			f2 := e.join("r2", fac1, 0)
			a2 := e.join("r2", ada, 0)
			e.join("r2", ben, 0)
			f2.send(msg{"type": "start_go_round"})
			f2.expect(EventGoRound)
			f2.send(msg{"type": "pass"}) // the facilitator came first
			f2.expect(EventGoRound)
			a2.say("a2", "my turn")
			f2.until("floor with Ben", func(w wire) bool {
				return w.Type == EventGoRound && w.Target != nil && w.Target.UserID == ben.UserID
			})
			f2.send(msg{"type": "start_pause", "seconds": 600})
			f2.expect(EventPause)

			if err := e.hub.Flush(context.Background(), "r1"); err != nil {
				t.Fatal(err)
			}
			if err := e.hub.Flush(context.Background(), "r2"); err != nil {
				t.Fatal(err)
			}
			if tc.noSnapshot {
				// As when a process is killed: only the events are stored.
				stop(t, e)
				if _, err := store.snapshots.DeleteWhere(context.Background(), nil); err != nil {
					t.Fatal(err)
				}
			} else {
				stop(t, e)
				n, err := store.snapshots.Count(context.Background(), nil)
				if err != nil || n != 2 {
					t.Fatalf("%d snapshots stored (%v), want 2", n, err)
				}
				if s, err := store.loadSnapshot(context.Background(), "r1"); err != nil || !s.Last {
					t.Fatalf("the snapshot written on stopping should say no event follows it: %+v, %v", s, err)
				}
			}

			e2 := newEnvOn(t, store, opts)
			g := e2.join("r1", fac2, 0)
			st := g.welcome.State
			if !st.Open || st.Phase != PhaseTeamReflects || !st.Locked {
				t.Fatalf("state after restart: %+v", st)
			}
			if len(st.Hands) != 2 || st.Hands[0].UserID != ben.UserID || st.Hands[1].UserID != ada.UserID {
				t.Fatalf("hands after restart: %+v, want Ben then Ada", st.Hands)
			}
			var meter struct {
				Meter meterMsg `json:"meter"`
			}
			if err := json.Unmarshal(g.welcomeRaw, &meter); err != nil {
				t.Fatal(err)
			}
			if len(meter.Meter.Members) == 0 {
				t.Fatalf("meter after restart: %+v", meter.Meter)
			}
			words := map[string]int{}
			for _, l := range meter.Meter.Members {
				words[l.UserID] = l.Words
			}
			if words[ada.UserID] != 3 {
				t.Fatalf("Ada's words after restart: %d, want 3 (meter %+v)", words[ada.UserID], meter.Meter)
			}
			if s, err := store.loadSnapshot(context.Background(), "r1"); err == nil && s.Last ||
				err != nil && !errors.Is(err, failure.ErrNotFound) {
				t.Fatalf("a running room's snapshot must not say that no event follows it: last=%v, %v", s.Last, err)
			}
			conn, _, err := e2.dial("r1", cal, 0)
			if err != nil {
				t.Fatal(err)
			}
			late := &member{t: t, m: cal, conn: conn}
			if code := late.closeCode(); code != CloseRemoved {
				t.Fatalf("removed member rejoining after restart: close code %d, want %d", code, CloseRemoved)
			}
			a = e2.join("r1", ada, 0)
			again := a.say("a1", "one two three")
			if again.AckSeq != first.AckSeq {
				t.Fatalf("the resent turn acknowledged as %d, want the original %d", again.AckSeq, first.AckSeq)
			}
			g2 := e2.join("r2", fac2, 0)
			st2 := g2.welcome.State
			if len(st2.GoRound) != 3 || st2.Floor == nil || st2.Floor.UserID != ben.UserID {
				t.Fatalf("go-round after restart: %+v floor %+v, want 3 people with the floor on Ben", st2.GoRound, st2.Floor)
			}
			if st2.PauseUntil == nil || time.Until(*st2.PauseUntil) < 500*time.Second {
				t.Fatalf("pause after restart: %v", st2.PauseUntil)
			}
			a2 = e2.join("r2", ada, 0)
			a2.send(msg{"type": "say", "id": "x", "text": "during the pause"})
			a2.expectError("mindful pause")
		})
	}
}

func stop(t *testing.T, e *testEnv) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.hub.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// A first join in a long room carries the most recent events only; a member resuming from
// far back still gets every event it missed.
func TestWelcomeHistoryIsCapped(t *testing.T) {
	e := newEnv(t, Options{RatePerSecond: 1e6, Burst: 1e6},
		func(h *Hub) { h.welcomeEvents, h.historySize = 20, 8 })
	e.open("r1")
	a := e.join("r1", ada, 0)
	var last uint64
	for i := range 60 {
		last = a.say(fmt.Sprint(i), fmt.Sprintf("turn %d", i)).AckSeq
	}
	conn, _, err := e.dial("r1", ben, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := &member{t: t, m: ben, conn: conn}
	w := b.next()
	if w.Type != "welcome" || len(w.Events) != 20 {
		t.Fatalf("first join's welcome has %d events, want 20", len(w.Events))
	}
	var from struct {
		HistoryFrom uint64 `json:"historyFrom"`
	}
	if err := json.Unmarshal(b.raw, &from); err != nil || from.HistoryFrom != w.Events[0].Seq {
		t.Fatalf("historyFrom %d, want %d (%v)", from.HistoryFrom, w.Events[0].Seq, err)
	}
	if w.Events[0].Seq != w.LastSeq-19 || w.LastSeq < last {
		t.Fatalf("welcome events from %d to lastSeq %d", w.Events[0].Seq, w.LastSeq)
	}
	c := e.join("r1", cal, 5)
	if len(c.welcome.Events) != int(c.welcome.LastSeq-5) {
		t.Fatalf("resume from 5 got %d events, want %d", len(c.welcome.Events), c.welcome.LastSeq-5)
	}
}

// Long timelines are read a block at a time, and reading gives the same events whether they
// come from blocks or one by one.
func TestEventsReadThroughBlocks(t *testing.T) {
	e := newEnv(t, Options{RatePerSecond: 1e6, Burst: 1e6, SendBuffer: 1024})
	e.open("r1")
	a := e.join("r1", ada, 0)
	for i := range 300 {
		a.send(msg{"type": "say", "id": fmt.Sprint(i), "text": fmt.Sprintf("turn %d", i)})
	}
	a.until("the last ack", func(w wire) bool { return w.Type == "ack" && w.ID == "299" })
	ctx := context.Background()
	if err := e.hub.Flush(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	all, err := e.store.Events(ctx, "r1", 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != int(a.lastSeq) {
		t.Fatalf("read %d events, want %d", len(all), a.lastSeq)
	}
	for i, ev := range all {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
	}
	for _, first := range []uint64{1, 129} {
		var b storedBlock
		if err := e.store.blocks.Get(ctx, blockKey("r1", first), &b); err != nil {
			t.Fatalf("block from %d: %v", first, err)
		}
		events, err := b.events()
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != blockSize || events[0].Seq != first {
			t.Fatalf("block from %d holds %d events from %d", first, len(events), events[0].Seq)
		}
	}
	// One by one, with no blocks, gives the same.
	if _, err := e.store.blocks.DeleteWhere(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]int{{0, 1000}, {100, 50}, {127, 3}, {250, 7}} {
		got, err := e.store.Events(ctx, "r1", uint64(r[0]), r[1])
		if err != nil {
			t.Fatal(err)
		}
		want := all[r[0]:min(r[0]+r[1], len(all))]
		if len(got) != len(want) {
			t.Fatalf("Events(%d, %d): %d events, want %d", r[0], r[1], len(got), len(want))
		}
		for i := range got {
			if got[i].Seq != want[i].Seq || got[i].Text != want[i].Text {
				t.Fatalf("Events(%d, %d)[%d] = %d %q, want %d %q", r[0], r[1], i, got[i].Seq, got[i].Text, want[i].Seq, want[i].Text)
			}
		}
	}
}
