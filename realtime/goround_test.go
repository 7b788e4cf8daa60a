package realtime

import "testing"

// The go-round follows the order the facilitator gives; whoever is present and not named
// follows in the order they came in, and a name no longer present is passed over.
func TestGoRoundOrderFromFacilitator(t *testing.T) {
	e := newEnv(t, Options{})
	e.open("r1")
	f := e.join("r1", fac1, 0)
	a := e.join("r1", ada, 0)
	e.join("r1", ben, 0)
	e.join("r1", cal, 0)
	f.send(msg{"type": "start_go_round", "order": []string{"u3", "gone", "u1", "u3"}})
	g := f.expect(EventGoRound)
	if got, want := memberIDs(g.Order), "u3,u1,f1,u2"; got != want || g.Target.UserID != "u3" {
		t.Fatalf("go-round order %s held by %v, want %s held by u3", got, g.Target, want)
	}
	a.send(msg{"type": "say", "id": "early", "text": "me?"})
	a.expectError("the floor is with Cal")
	f.send(msg{"type": "end_go_round"})
	f.expect(EventGoRound)

	// Without an order the round follows presence: a person who left and came back is last.
	a.conn.Close()
	f.until("Ada leaving", func(w wire) bool { return w.Type == EventLeft && w.UserID == "u1" })
	e.join("r1", ada, 0)
	f.send(msg{"type": "start_go_round"})
	if got, want := memberIDs(f.expect(EventGoRound).Order), "f1,u2,u3,u1"; got != want {
		t.Fatalf("go-round order %s, want %s (the order people are present in)", got, want)
	}
}
