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

// BenchmarkTimelineRead reads a room's whole timeline of 500 and of 5,000 events in the
// ways the store could: through its packed blocks (and the tail of the last), through
// blocks of the earlier layout (an array of event documents), with one read by _id per
// event, and with the same reads eight at a time (a bounded batch: embedded FerretDB
// answers only {_id: <string>} through an index, so a batch cannot be one query). The
// figures decide whether events are kept in blocks as well as one by one (see blockSize).
func BenchmarkTimelineRead(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{500, 5000} {
		store, err := NewTranscripts(ctx, dbtest.New(b))
		if err != nil {
			b.Fatal(err)
		}
		events := history(n)
		if err := store.AppendHistory(ctx, "packed", events); err != nil {
			b.Fatal(err)
		}
		if err := store.AppendHistory(ctx, "earlier", events); err != nil {
			b.Fatal(err)
		}
		for first := 1; first+blockSize-1 <= n; first += blockSize {
			id := blockKey("earlier", uint64(first))
			if err := store.blocks.Replace(ctx, id, bson.M{"_id": id, "room": "earlier",
				"first": first, "events": events[first-1 : first-1+blockSize]}); err != nil {
				b.Fatal(err)
			}
		}
		check := func(b *testing.B, got int) {
			if got != n {
				b.Fatalf("read %d events, want %d", got, n)
			}
		}
		b.Run(fmt.Sprintf("events=%d/blocks", n), func(b *testing.B) {
			for b.Loop() {
				got, err := store.storedEvents(ctx, "packed", 0, n+1)
				if err != nil {
					b.Fatal(err)
				}
				check(b, len(got))
			}
		})
		b.Run(fmt.Sprintf("events=%d/earlier-blocks", n), func(b *testing.B) {
			for b.Loop() {
				got, err := store.storedEvents(ctx, "earlier", 0, n+1)
				if err != nil {
					b.Fatal(err)
				}
				check(b, len(got))
			}
		})
		b.Run(fmt.Sprintf("events=%d/by-id", n), func(b *testing.B) {
			for b.Loop() {
				got := 0
				for seq := 1; seq <= n; seq++ {
					if _, err := database.FindByID[storedEvent](ctx, store.events, eventKey("packed", uint64(seq))); err != nil {
						b.Fatal(err)
					}
					got++
				}
				check(b, got)
			}
		})
		b.Run(fmt.Sprintf("events=%d/by-id-8-at-a-time", n), func(b *testing.B) {
			for b.Loop() {
				var mu sync.Mutex
				var wg sync.WaitGroup
				got := 0
				for w := range 8 {
					wg.Go(func() {
						for seq := 1 + w; seq <= n; seq += 8 {
							if _, err := database.FindByID[storedEvent](ctx, store.events, eventKey("packed", uint64(seq))); err != nil {
								b.Error(err)
								return
							}
							mu.Lock()
							got++
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				check(b, got)
			}
		})
	}
}
