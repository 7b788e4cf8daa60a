package main

import (
	"context"
	"testing"
	"time"

	"polyphony/internal/dbtest"
	"polyphony/internal/natstest"
	"polyphony/realtime"
)

// systems returns both hubs, each behind its own loopback server, closed when the test ends.
func systems(t *testing.T) []system {
	t.Helper()
	peer, err := newPeerSystem()
	if err != nil {
		t.Fatalf("peer: %v", err)
	}
	store, err := realtime.NewTranscripts(context.Background(), dbtest.New(t))
	if err != nil {
		t.Fatalf("NewTranscripts: %v", err)
	}
	poly, err := newPolyphonySystem(store, polyphonyOptions(0))
	if err != nil {
		t.Fatalf("polyphony: %v", err)
	}
	all := []system{peer, poly, testCluster(t, store)}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, s := range all {
			if err := s.Close(ctx); err != nil {
				t.Errorf("close %s: %v", s.Name(), err)
			}
		}
	})
	return all
}

// testCluster is B4's system: two hubs on one store, sharing rooms through a real NATS server.
func testCluster(t *testing.T, store *realtime.Transcripts) *clusterSystem {
	t.Helper()
	url := natstest.Start(t)
	c := &clusterSystem{}
	for range 2 {
		bus, err := realtime.ConnectNATS(context.Background(), url, realtime.NATSOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c.buses = append(c.buses, bus)
		opts := polyphonyOptions(0)
		opts.Bus = bus
		node, err := newPolyphonySystem(store, opts)
		if err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, node)
	}
	if c.BaseFor(0) == c.BaseFor(1) {
		t.Fatal("a room's members should be split between the instances")
	}
	return c
}

func TestSayRoundTrip(t *testing.T) {
	sent := time.Unix(1700000000, 123456789)
	msg := appendSay(nil, 7, 42, sent)
	sender, n, at, ok := parseSay(msg)
	if !ok || sender != 7 || n != 42 || at != sent.UnixNano() {
		t.Errorf("parseSay(%s) = %d, %d, %d, %v; want 7, 42, %d, true", msg, sender, n, at, ok, sent.UnixNano())
	}
	if _, _, _, ok := parseSay([]byte(`{"type":"ack","id":"m7-42"}`)); ok {
		t.Errorf("parseSay took an ack for a say")
	}
}

// TestFanOutCounts checks that every say reaches every member of its room exactly once, in
// order, and that the step's counts say so, on both hubs.
func TestFanOutCounts(t *testing.T) {
	ctx := context.Background()
	for _, sys := range systems(t) {
		t.Run(sys.Name(), func(t *testing.T) {
			const rooms, perRoom, rate = 2, 3, 20.0
			l, err := startLoad(ctx, sys, "test-"+sys.Name(), rooms, perRoom)
			if err != nil {
				t.Fatalf("startLoad: %v", err)
			}
			l.run(ctx, rate, 400*time.Millisecond)
			res, err := l.finish(ctx, rate)
			if err != nil {
				t.Fatalf("finish: %v", err)
			}
			if res.Sent == 0 {
				t.Fatalf("sent nothing")
			}
			if want := res.Sent * perRoom; res.Expected != want || res.Delivered != want {
				t.Errorf("expected %d, delivered %d; want both %d", res.Expected, res.Delivered, want)
			}
			if res.Anomalies != 0 || res.Closed != 0 {
				t.Errorf("duplicates or gaps %d, closed early %d; want 0, 0", res.Anomalies, res.Closed)
			}
			for _, m := range l.members {
				for _, s := range l.members {
					if s.room == m.room && m.last[s.index] != s.sent {
						t.Errorf("room %d member %d saw %d says of member %d; want %d",
							m.room, m.index, m.last[s.index], s.index, s.sent)
					}
				}
			}
		})
	}
}

func TestTurnTaking(t *testing.T) {
	sys := systems(t)[1]
	res, err := turnTaking(context.Background(), sys, 4, 5)
	if err != nil {
		t.Fatalf("turnTaking: %v", err)
	}
	if res.Rounds != 5 || res.Missing != 0 || res.P99 <= 0 {
		t.Errorf("rounds %d, missing %d, p99 %v; want 5, 0, > 0", res.Rounds, res.Missing, res.P99)
	}
}

// TestIdleCounts checks that B2 holds every connection it counts, on both hubs; the members
// run in this process here, so the memory figure itself means nothing.
func TestIdleCounts(t *testing.T) {
	ctx := context.Background()
	for _, sys := range systems(t)[:2] {
		t.Run(sys.Name(), func(t *testing.T) {
			const n = 50
			held := 0
			spawn := func(ctx context.Context, base, prefix string, n, perRoom int, welcomes bool) (func() error, error) {
				s, err := dialIdle(ctx, base, prefix, n, perRoom, welcomes)
				if err != nil {
					return nil, err
				}
				held = len(s.conns)
				return s.close, nil
			}
			res, err := idleMemory(ctx, sys, sys.Base(), "test-idle-"+sys.Name(), n, 10, spawn)
			if err != nil {
				t.Fatalf("idleMemory: %v", err)
			}
			if res.Conns != n || held != n || res.Rooms != 5 {
				t.Errorf("conns %d, held %d, rooms %d; want %d, %d, 5", res.Conns, held, res.Rooms, n, n)
			}
			if p, ok := sys.(*peerSystem); ok {
				wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				if err := waitFor(wctx, func() bool { return p.joined() == 0 }); err != nil {
					t.Errorf("peer members after close: %d; want 0", p.joined())
				}
			}
		})
	}
}
