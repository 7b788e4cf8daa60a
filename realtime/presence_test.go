package realtime

import (
	"testing"
	"time"
)

func TestPresence(t *testing.T) {
	t0 := time.Date(2027, 1, 6, 18, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	events := []Event{
		{Type: EventJoined, UserID: "a", At: at(0)},
		{Type: EventJoined, UserID: "b", At: at(5)},
		{Type: EventSay, UserID: "a", At: at(6)},
		{Type: EventLeft, UserID: "a", At: at(30)},
		{Type: EventJoined, UserID: "a", At: at(40)},
		{Type: EventLeft, UserID: "b", At: at(50)},
		{Type: EventJoined, UserID: "c", At: at(89)},
		{Type: EventLeft, UserID: "c", At: at(89)},
	}
	got := Presence(events, at(90))
	want := map[string]time.Duration{"a": 80 * time.Minute, "b": 45 * time.Minute, "c": 0}
	for id, d := range want {
		if got[id] != d {
			t.Errorf("%s: %v, want %v", id, got[id], d)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
}
