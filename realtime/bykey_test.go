package realtime

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"polyphony/internal/dbtest"
)

// TestRoomRequestsReadByIDOnly starts a room with a history, from a clean stop (a snapshot,
// blocks and a tail) and from a history with no snapshot, then joins it, resumes, and reads
// the transcript as the JSON page and the Markdown export do, and checks that every read,
// update and delete sent to the room's collections is by _id alone: on embedded FerretDB any
// other filter reads every document of the collection, so the request would slow down with
// every room's timeline stored.
func TestRoomRequestsReadByIDOnly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		history func(t *testing.T, store *Transcripts)
	}{
		{"after a clean stop", func(t *testing.T, store *Transcripts) {
			e := newEnvOn(t, store, Options{RatePerSecond: 1e6, Burst: 1e6, SendBuffer: 1024})
			e.open("r1")
			a := e.join("r1", ada, 0)
			for i := range 300 {
				a.send(msg{"type": "say", "id": fmt.Sprint(i), "text": fmt.Sprintf("turn %d", i)})
			}
			a.until("the last ack", func(w wire) bool { return w.Type == "ack" && w.ID == "299" })
			if err := e.hub.Withdraw(context.Background(), "r1", 10, ada.UserID); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := e.hub.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
		}},
		{"from a history without a snapshot", func(t *testing.T, store *Transcripts) {
			events := history(300)
			events[9].UserID = ada.UserID
			if err := store.AppendHistory(context.Background(), "r1", events); err != nil {
				t.Fatal(err)
			}
			if err := store.Withdraw(context.Background(), "r1", 10, ada.UserID); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			log := dbtest.NewFilterLog("room_")
			store, err := NewTranscripts(ctx, dbtest.NewLogged(t, log))
			if err != nil {
				t.Fatal(err)
			}
			tc.history(t, store)

			log.Record(true)
			e := newEnvOn(t, store, Options{RatePerSecond: 1e6, Burst: 1e6, SendBuffer: 1024})
			first := e.join("r1", ben, 0)
			if first.welcome.LastSeq < 300 {
				t.Fatalf("first join: lastSeq %d, want at least 300", first.welcome.LastSeq)
			}
			resumed := e.join("r1", cal, 250)
			if len(resumed.welcome.Events) == 0 {
				t.Fatal("resume from 250: no events")
			}
			if err := e.hub.Flush(ctx, "r1"); err != nil {
				t.Fatal(err)
			}
			events, err := e.store.Events(ctx, "r1", 0, 1001)
			if err != nil {
				t.Fatal(err)
			}
			withdrawn := 0
			for _, ev := range events {
				if ev.Withdrawn {
					withdrawn++
				}
			}
			if len(events) < 300 || withdrawn != 1 {
				t.Fatalf("transcript: %d events, %d withdrawn; want 300 or more, 1", len(events), withdrawn)
			}
			md, err := e.store.Markdown(ctx, "r1")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(md), "(withdrawn by the speaker)") {
				t.Errorf("the Markdown does not mark the withdrawn turn:\n%.400s", md)
			}
			log.Check(t, "a room request")
		})
	}
}
