package realtime

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/dbtest"
)

// Rooms storing at the same time share inserts, and every room still gets exactly its own
// events back, in order; a replayed batch is not an error and adds nothing.
func TestGroupedAppendsStoreEveryRoom(t *testing.T) {
	ctx := context.Background()
	store, err := NewTranscripts(ctx, dbtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	const rooms, batches, per = 40, 25, 2
	var wg sync.WaitGroup
	errs := make(chan error, rooms)
	for r := range rooms {
		wg.Go(func() {
			room := fmt.Sprintf("room-%02d", r)
			batch := func(b int) []Event {
				var out []Event
				for i := range per {
					seq := uint64(b*per + i + 1)
					out = append(out, Event{Seq: seq, Type: "say", Text: fmt.Sprintf("%s turn %d", room, seq)})
				}
				return out
			}
			for b := range batches {
				if err := store.append(ctx, room, batch(b)); err != nil {
					errs <- fmt.Errorf("%s batch %d: %w", room, b, err)
					return
				}
			}
			if err := store.append(ctx, room, batch(0)); err != nil {
				errs <- fmt.Errorf("%s replay: %w", room, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// One read of the whole collection (reading each event by _id scans it on FerretDB).
	var docs []storedEvent
	if err := store.events.ScanAll(ctx, nil, database.Scan{Sort: bson.D{{Key: "_id", Value: 1}}}, &docs); err != nil {
		t.Fatal(err)
	}
	byRoom := map[string][]Event{}
	for _, d := range docs {
		byRoom[d.Room] = append(byRoom[d.Room], d.Event)
	}
	if len(byRoom) != rooms {
		t.Fatalf("events of %d rooms stored, want %d", len(byRoom), rooms)
	}
	for room, got := range byRoom {
		if len(got) != batches*per {
			t.Fatalf("%s: %d events stored, want %d", room, len(got), batches*per)
		}
		for i, e := range got {
			if want := fmt.Sprintf("%s turn %d", room, i+1); e.Seq != uint64(i+1) || e.Text != want {
				t.Fatalf("%s event %d: seq %d %q, want %q", room, i, e.Seq, e.Text, want)
			}
		}
	}
	requests := int64(rooms * (batches + 1))
	inserts := store.group.Inserts()
	t.Logf("%d appends stored by %d inserts", requests, inserts)
	if inserts >= requests {
		t.Errorf("%d appends made %d inserts: none were grouped", requests, inserts)
	}
}
