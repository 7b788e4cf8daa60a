package realtime

import (
	"context"
	"strings"
	"testing"
	"time"
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
