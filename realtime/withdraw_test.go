package realtime

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/dbtest"
)

const secret = "words I take back"

// checkWithoutWords fails unless the welcome carries turn seq, withdrawn and without its words.
func checkWithoutWords(t *testing.T, who string, m *member, seq uint64) {
	t.Helper()
	if strings.Contains(string(m.welcomeRaw), secret) {
		t.Errorf("%s: the welcome carries the withdrawn words", who)
	}
	for _, e := range m.welcome.Events {
		if e.Seq == seq {
			if e.Type != EventSay || !e.Gone || e.Text != "" {
				t.Errorf("%s: turn %d is %+v, want a say marked withdrawn without text", who, seq, e)
			}
			return
		}
	}
	t.Errorf("%s: the welcome has no turn %d", who, seq)
}

// A withdrawn turn's words reach nobody afterwards: not the members there (they get a
// "withdrawn" event), not a first join or a resume (from memory or from the store), not the
// store's readers, and not a room rebuilt after a restart.
func TestWithdrawnTurnReachesNobody(t *testing.T) {
	for _, tc := range []struct {
		name    string
		history int
	}{{"from memory", 1024}, {"from the store", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := newStore(t)
			e := newEnvOn(t, store, Options{RatePerSecond: 1e6, Burst: 1e6}, func(h *Hub) { h.historySize = tc.history })
			e.open("r1")
			a := e.join("r1", ada, 0)
			b := e.join("r1", ben, 0)
			seq := a.say("s", secret).AckSeq
			for _, id := range []string{"1", "2", "3", "4", "5"} {
				a.say(id, "later "+id)
			}
			if err := e.hub.Withdraw(ctx, "r1", seq, ben.UserID); err == nil {
				t.Fatal("ben withdrew ada's turn")
			}
			if err := e.hub.Withdraw(ctx, "r1", seq, ada.UserID); err != nil {
				t.Fatal(err)
			}
			w := b.expect(EventWithdrawn)
			if w.Turn != seq || w.UserID != ada.UserID {
				t.Fatalf("withdrawn event %+v, want turn %d by u1", w, seq)
			}
			checkWithoutWords(t, "first join", e.join("r1", cal, 0), seq)
			checkWithoutWords(t, "resume", e.join("r1", ben, seq-1), seq)

			if err := e.hub.Flush(ctx, "r1"); err != nil {
				t.Fatal(err)
			}
			events, err := store.Events(ctx, "r1", 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range events {
				if strings.Contains(ev.Text, secret) {
					t.Errorf("the store's reader gets the withdrawn words at %d", ev.Seq)
				}
			}
			md, err := store.Markdown(ctx, "r1")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(md), "back") {
				t.Errorf("the Markdown carries the withdrawn words:\n%s", md)
			}

			// Another process on the same store: the room is rebuilt from its snapshot and
			// the store.
			sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			if err := e.hub.Shutdown(sctx); err != nil {
				t.Fatal(err)
			}
			again := newEnvOn(t, store, Options{}, func(h *Hub) { h.historySize = tc.history })
			checkWithoutWords(t, "after a restart", again.join("r1", cal, 0), seq)
		})
	}
}

// Through NATS, a withdrawal made on one instance reaches the members and the later joins
// of every instance, one that starts the room from the bus's log afterwards included.
func TestWithdrawnTurnThroughNATS(t *testing.T) {
	ctx := context.Background()
	envs := newNATSEnvs(t, 3, Options{RatePerSecond: 1e6, Burst: 1e6})
	one, two, late := envs[0], envs[1], envs[2]
	one.open("r1")
	a := one.join("r1", ada, 0)
	b := two.join("r1", ben, 0)
	seq := a.say("s", secret).AckSeq
	b.until("the turn", func(w wire) bool { return w.Seq == seq })
	if err := two.hub.Withdraw(ctx, "r1", seq, ada.UserID); err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*member{"one": a, "two": b} {
		if w := m.expect(EventWithdrawn); w.Turn != seq {
			t.Errorf("instance %s: withdrawn event for %d, want %d", name, w.Turn, seq)
		}
	}
	checkWithoutWords(t, "first join on the speaker's instance", one.join("r1", cal, 0), seq)
	checkWithoutWords(t, "resume on the other instance", two.join("r1", ben, seq-1), seq)
	checkWithoutWords(t, "an instance that starts the room afterwards", late.join("r1", cal, 0), seq)
}

// Withdrawals stored in the earlier layout (a record per turn, found by a filter on room)
// are listed by room the first time a store opens the database, which the log says once;
// afterwards they are read by _id, and the turns come without their words as before.
func TestWithdrawalsOfTheEarlierLayoutAreListed(t *testing.T) {
	ctx := context.Background()
	log := dbtest.NewFilterLog("room_")
	db := dbtest.NewLogged(t, log)
	store, err := NewTranscripts(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	events := history(10)
	for _, room := range []string{"r1", "r2"} {
		if err := store.AppendHistory(ctx, room, events); err != nil {
			t.Fatal(err)
		}
	}
	// The earlier layout: withdrawal records and no lists, no mark.
	for _, w := range []withdrawal{{Room: "r1", Seq: 3}, {Room: "r1", Seq: 7}, {Room: "r2", Seq: 5}} {
		w.ID, w.UserID = eventKey(w.Room, w.Seq), "u1"
		if err := store.withdrawals.Insert(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*database.Collection{store.withdrawn, store.layout} {
		if err := c.Drop(ctx); err != nil {
			t.Fatal(err)
		}
	}

	var logged strings.Builder
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	store, err = NewTranscripts(ctx, db, TranscriptsOptions{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logged.String(), "room withdrawals brought to the layout read by id") || !strings.Contains(logged.String(), "withdrawals=3") {
		t.Errorf("log: %q, want a line saying three withdrawals were listed", logged.String())
	}
	log.Record(true)
	for room, want := range map[string][]uint64{"r1": {3, 7}, "r2": {5}} {
		got, err := store.Events(ctx, room, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var gone []uint64
		for _, e := range got {
			if e.Withdrawn {
				gone = append(gone, e.Seq)
				if e.Text != "" {
					t.Errorf("%s turn %d: withdrawn with its words", room, e.Seq)
				}
			}
		}
		if fmt.Sprint(gone) != fmt.Sprint(want) {
			t.Errorf("%s: withdrawn turns %v, want %v", room, gone, want)
		}
	}
	// A withdrawal made now is listed too, and a repeat changes nothing.
	for range 2 {
		if err := store.Withdraw(ctx, "r2", 6, "u1"); err != nil {
			t.Fatal(err)
		}
	}
	if gone, err := store.Withdrawn(ctx, "r2"); err != nil || len(gone) != 2 || !gone[5] || !gone[6] {
		t.Errorf("r2 withdrawn: %v, %v; want 5 and 6", gone, err)
	}
	log.Record(false)
	for _, f := range log.NotByID() {
		t.Errorf("a read not by _id after the records were listed: %s", f)
	}

	logged.Reset()
	if _, err := NewTranscripts(ctx, db, TranscriptsOptions{Logger: logger}); err != nil {
		t.Fatal(err)
	}
	if logged.Len() != 0 {
		t.Errorf("a second start logged %q; the withdrawals were listed once", logged.String())
	}
}
