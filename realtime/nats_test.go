package realtime

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"polyphony/internal/natstest"
)

// newNATSEnvs starts an embedded NATS server and n hubs, each behind its own HTTP server on
// port 0, sharing one transcript store: n instances of one deployment.
func newNATSEnvs(t *testing.T, n int, opts Options) []*testEnv {
	t.Helper()
	url := natstest.Start(t)
	store := newStore(t)
	envs := make([]*testEnv, n)
	for i := range envs {
		bus, err := ConnectNATS(context.Background(), url, NATSOptions{Name: fmt.Sprintf("test-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		o := opts
		o.Bus = bus
		envs[i] = newEnvOn(t, store, o)
		t.Cleanup(bus.Close) // after the hub's Shutdown (cleanups run last first)
	}
	return envs
}

// seen is what one member saw of the timeline, by sequence number.
type seen struct {
	mu     sync.Mutex
	events map[uint64]string
}

func (s *seen) add(w wire) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events[w.Seq] = fmt.Sprintf("%s %s %s %q", w.Type, w.UserID, w.Phase, w.Text)
}

// Members of one room on two instances see the same events in the same order, whoever acts
// on which instance, including a member who drops and resumes on the other instance.
func TestTwoInstancesThroughNATS(t *testing.T) {
	envs := newNATSEnvs(t, 2, Options{RatePerSecond: 1e6, Burst: 1e6, SendBuffer: 1024})
	one, two := envs[0], envs[1]
	one.open("r1")
	views := map[string]*seen{}
	record := func(who string) func(wire) {
		s := &seen{events: map[uint64]string{}}
		views[who] = s
		return s.add
	}
	f1 := one.joinWith("r1", fac1, 0, record("f1"))
	f2 := two.joinWith("r1", fac2, 0, record("f2"))
	a := one.joinWith("r1", ada, 0, record("u1"))
	benView := record("u2")
	b := two.joinWith("r1", ben, 0, benView)
	c := two.joinWith("r1", cal, 0, record("u3"))
	for _, m := range []*member{f1, f2, a, b} {
		m.until("everyone present", func(w wire) bool { return w.Type == EventJoined && w.UserID == cal.UserID })
	}
	if got := len(c.welcome.State.Members); got != 5 {
		t.Fatalf("Cal's welcome shows %d people present, want 5 across both instances", got)
	}

	// Facilitation across instances.
	b.send(msg{"type": "raise_hand"})
	f1.until("Ben's hand on instance one", func(w wire) bool { return w.Type == EventHandQueue && len(w.Queue) == 1 })
	f2.send(msg{"type": "give_floor", "userId": ben.UserID})
	f1.send(msg{"type": "lock_input"})
	c.until("the lock on instance two", func(w wire) bool { return w.Type == EventInput })
	c.send(msg{"type": "say", "id": "c1", "text": "may I?"})
	c.expectError("input is locked")
	b.say("b1", "I have the floor")
	f2.send(msg{"type": "set_phase", "phase": PhaseTeamReflects})
	a.until("team reflects", func(w wire) bool { return w.Type == EventPhase })
	a.send(msg{"type": "set_phase", "phase": PhaseNetworkResponds})
	a.expectError("only a facilitator")
	f1.say("f1", "reflecting in front of the network")
	f2.send(msg{"type": "unlock_input"})
	f1.send(msg{"type": "set_phase", "phase": PhaseNetworkResponds})
	c.until("network responds", func(w wire) bool { return w.Type == EventPhase && w.Phase == PhaseNetworkResponds })
	f1.send(msg{"type": "remove", "userId": cal.UserID})
	if code := c.closeCode(); code != CloseRemoved {
		t.Fatalf("Cal removed from instance one: close code %d on instance two", code)
	}

	// Many turns from both sides at once; Ben drops now and then and resumes on the other
	// instance.
	const turns = 200
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range turns {
			a.send(msg{"type": "say", "id": fmt.Sprint("a", i), "text": fmt.Sprint("Ada ", i)})
		}
	}()
	rng := rand.New(rand.NewPCG(3, 4))
	instances := []*testEnv{one, two}
	at := 1
	for i := range turns {
		b.send(msg{"type": "say", "id": fmt.Sprint("b", i), "text": fmt.Sprint("Ben ", i)})
		if rng.IntN(25) == 0 {
			b.conn.Close()
			at = 1 - at
			b = instances[at].joinWith("r1", ben, b.lastSeq, benView)
		}
	}
	wg.Wait()
	a.say("a-end", "Ada is done") // acknowledged after every earlier turn of Ada's
	done := f1.say("end", "that is all")
	for _, m := range []*member{f1, f2, a, b} {
		if m.lastSeq < done.AckSeq {
			m.until("the last turn", func(w wire) bool { return w.Seq == done.AckSeq })
		}
	}

	// Everyone saw the same events, from the first all of them were present for.
	for who, v := range views {
		if who == "u3" {
			continue
		}
		if len(v.events) < int(done.AckSeq)*3/4 {
			t.Fatalf("%s saw only %d of %d events", who, len(v.events), done.AckSeq)
		}
		for seq := uint64(1); seq <= done.AckSeq; seq++ {
			want, ok := views["f1"].events[seq]
			got, ok2 := v.events[seq]
			if ok && ok2 && got != want {
				t.Fatalf("event %d: %s saw %s, f1 saw %s", seq, who, got, want)
			}
		}
	}
	ctx := context.Background()
	for _, e := range envs {
		if err := e.hub.Flush(ctx, "r1"); err != nil {
			t.Fatal(err)
		}
	}
	stored, err := one.store.Events(ctx, "r1", 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(stored)) < done.AckSeq {
		t.Fatalf("%d events stored, want at least %d", len(stored), done.AckSeq)
	}
	says := map[string]int{}
	for i, ev := range stored {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("stored event %d has seq %d", i, ev.Seq)
		}
		if w, ok := views["f1"].events[ev.Seq]; ok && w != fmt.Sprintf("%s %s %s %q", ev.Type, ev.UserID, ev.Phase, ev.Text) {
			t.Fatalf("stored event %d differs from what was seen: %s", ev.Seq, w)
		}
		if ev.Type == EventSay {
			says[ev.Text]++
		}
	}
	bens := 0
	for i := range turns {
		if n := says[fmt.Sprint("Ada ", i)]; n != 1 {
			t.Fatalf("Ada's turn %d stored %d times, want once", i, n)
		}
		// A turn sent just before its connection closed may not have reached the server
		// (a client resends those); none is stored twice.
		n := says[fmt.Sprint("Ben ", i)]
		if n > 1 {
			t.Fatalf("Ben's turn %d stored %d times", i, n)
		}
		bens += n
	}
	if bens < turns*3/4 {
		t.Fatalf("only %d of Ben's %d turns stored", bens, turns)
	}

	// Signing out on one instance ends the person's connections on the other.
	b2 := two.join("r1", ben, b.lastSeq)
	one.hub.DisconnectUser(ben.UserID)
	if code := b2.closeCode(); code != websocket.ClosePolicyViolation {
		t.Fatalf("Ben's connection on instance two after sign-out on one: close %d", code)
	}
	t.Logf("%d events seen alike by 4 members on 2 instances", done.AckSeq)
}

// A room one instance has never run starts from the stored snapshot (written by the other
// instance) and the commands after its stream position, and arrives at the same state as the
// instance that ran it all along.
func TestLateInstanceFoldsTheSameState(t *testing.T) {
	envs := newNATSEnvs(t, 2, Options{RatePerSecond: 1e6, Burst: 1e6})
	one, two := envs[0], envs[1]
	one.hub.snapshotEvery = 8 // before any room runs
	one.open("r1")
	f := one.join("r1", fac1, 0)
	a := one.join("r1", ada, 0)
	for i := range 20 {
		a.say(fmt.Sprint(i), fmt.Sprint("turn ", i))
	}
	a.send(msg{"type": "raise_hand"})
	f.until("hand", func(w wire) bool { return w.Type == EventHandQueue })
	f.send(msg{"type": "lock_input"})
	f.expect(EventInput)
	for i := range 10 { // so that the last snapshot comes after the lock
		f.say(fmt.Sprint("f", i), fmt.Sprint("facilitator turn ", i))
	}
	if err := one.hub.Flush(context.Background(), "r1"); err != nil {
		t.Fatal(err)
	}
	snap, err := one.store.loadSnapshot(context.Background(), "r1")
	if err != nil || snap.StreamPos == 0 || snap.Seq == 0 {
		t.Fatalf("instance one stored no snapshot with a stream position: %+v, %v", snap, err)
	}
	b := two.join("r1", ben, 0)
	st := b.welcome.State
	if !st.Open || !st.Locked || len(st.Hands) != 1 || len(st.Members) != 3 {
		t.Fatalf("state on the late instance: %+v", st)
	}
	if b.welcome.LastSeq != f.lastSeq+1 { // + Ben's own "joined"
		t.Fatalf("late instance's welcome at seq %d, instance one at %d", b.welcome.LastSeq, f.lastSeq)
	}
	got := f.expect(EventJoined)
	if got.UserID != ben.UserID || got.Seq != b.welcome.LastSeq {
		t.Fatalf("instance one saw %s join at %d, Ben's welcome says %d", got.UserID, got.Seq, b.welcome.LastSeq)
	}
}

// What one instance forgets (a sign-out, a disabled account) reaches every instance's
// OnForget, its own included.
func TestForgetReachesEveryInstance(t *testing.T) {
	url := natstest.Start(t)
	got := make([]chan string, 2)
	buses := make([]*NATSBus, 2)
	for i := range buses {
		bus, err := ConnectNATS(context.Background(), url, NATSOptions{Name: fmt.Sprintf("forget-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(bus.Close)
		ch := make(chan string, 4)
		bus.OnForget(func(key string) { ch <- key })
		buses[i], got[i] = bus, ch
	}
	if err := buses[0].Forget("session:abc"); err != nil {
		t.Fatal(err)
	}
	if err := buses[0].Forget(""); err == nil {
		t.Error("an empty key was published")
	}
	for i, ch := range got {
		select {
		case k := <-ch:
			if k != "session:abc" {
				t.Errorf("instance %d forgot %q", i, k)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("instance %d heard nothing", i)
		}
	}
}
