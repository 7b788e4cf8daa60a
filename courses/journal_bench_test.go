package courses

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/dbtest"
)

// B8 (README, Performance): journal autosave with 10k entries stored, on embedded FerretDB, against
// a raw insert of a revision-sized document into the same collection, in one run.
//
//	go test -run '^$' -bench B8 -benchtime 3000x ./courses/
const (
	b8Entries  = 10_000
	b8Trainees = 500
	b8Workers  = 8 // trainees typing at once
	// b8SessionSaves is how many autosaves an editing session makes: one every few
	// seconds for a minute or two.
	b8SessionSaves = 20
)

func BenchmarkB8Autosave(b *testing.B) {
	ctx := context.Background()
	db := dbtest.New(b)
	store, err := NewStore(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	j, err := NewJournals(ctx, db, store, JournalOptions{SoleWriter: true})
	if err != nil {
		b.Fatal(err)
	}
	body := strings.Repeat("A reflective paragraph about the network meeting. ", 40) // about 2 KB
	seeded := seedB8(b, db, body)
	ids := make([]string, len(seeded))
	for i, rev := range seeded {
		ids[i] = rev.EntryID
	}
	versions := make([]int, len(ids))
	for i := range versions {
		versions[i] = 1
	}

	// Each worker is a trainee autosaving one entry after another. The entries are open in
	// their editors: the store has seen their latest revision (BenchmarkJournalOpenCold
	// measures opening one it has not).
	for _, rev := range seeded {
		j.latestRevs.put(rev)
	}
	b.Run("save", func(b *testing.B) {
		var next [b8Workers]int
		runB8(b, func(w int) (time.Duration, error) {
			i := w + b8Workers*(next[w]%(len(ids)/b8Workers))
			next[w]++
			owner := Viewer{UserID: fmt.Sprintf("b8-trainee-%d", i%b8Trainees), Role: accounts.RoleTrainee}
			d := Draft{Title: "Entry", Body: fmt.Sprintf("%s %d", body, versions[i])}
			t0 := time.Now()
			e, err := j.Save(ctx, owner, ids[i], d, versions[i], fmt.Sprintf("b8-%d-%d", i, versions[i]))
			took := time.Since(t0)
			versions[i] = e.Version
			return took, err
		})
	})
	b.Run("raw-insert", func(b *testing.B) {
		coll := db.Collection(journalRevisionsColl)
		runB8(b, func(int) (time.Duration, error) {
			doc := revisionDoc{
				ID: database.NewID(), EntryID: "raw", OwnerID: "raw", Version: 1, Kind: revSave,
				Title: "Entry", Body: body, Tags: []string{}, Links: []Link{}, Attachments: []Attachment{},
				CreatedAt: time.Now(), SavedAt: time.Now(), Idem: database.NewID(), Request: "r",
			}
			t0 := time.Now()
			err := coll.Insert(ctx, doc)
			return time.Since(t0), err
		})
	})
}

// seedB8 stores b8Entries entries of b8Trainees trainees, each at version 1, in two
// InsertMany calls per thousand, and returns their revisions.
func seedB8(b *testing.B, db *database.DB, body string) []revisionDoc {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	seeded := make([]revisionDoc, 0, b8Entries)
	for start := 0; start < b8Entries; start += 1000 {
		var entries, revisions []any
		for i := start; i < start+1000; i++ {
			owner := fmt.Sprintf("b8-trainee-%d", i%b8Trainees)
			id := newEntryID(owner, fmt.Sprintf("seed-%d", i))
			entries = append(entries, entryDoc{ID: id, OwnerID: owner, CreatedAt: now})
			rev := revisionDoc{EntryID: id, OwnerID: owner, CreatedAt: now}.next(Draft{Title: "Entry", Body: body}, revSave, now)
			rev.Idem, rev.Request = fmt.Sprintf("seed-%d", i), "seed"
			revisions = append(revisions, rev)
			seeded = append(seeded, rev)
		}
		if err := db.Collection(journalEntriesColl).InsertMany(ctx, entries, database.InsertManyOptions{}); err != nil {
			b.Fatal(err)
		}
		if err := db.Collection(journalRevisionsColl).InsertMany(ctx, revisions, database.InsertManyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	n, err := db.Collection(journalRevisionsColl).Count(ctx, bson.M{})
	if err != nil || n != b8Entries {
		b.Fatalf("seeded %d revisions, %v", n, err)
	}
	return seeded
}

// BenchmarkJournalOpenCold opens (ReadEntry) entries that the store has not seen, among
// 10k stored: what the first open of an entry after a restart costs, and every open when
// the store is not the database's only writer.
//
//	go test -run '^$' -bench OpenCold -benchtime 20x ./courses/
func BenchmarkJournalOpenCold(b *testing.B) {
	ctx := context.Background()
	db := dbtest.New(b)
	store, err := NewStore(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	j, err := NewJournals(ctx, db, store, JournalOptions{SoleWriter: true})
	if err != nil {
		b.Fatal(err)
	}
	seeded := seedB8(b, db, strings.Repeat("A reflective paragraph about the network meeting. ", 40))
	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		rev := seeded[(i*7919)%len(seeded)]
		t0 := time.Now()
		if _, err := j.ReadEntry(ctx, Viewer{UserID: rev.OwnerID}, rev.EntryID); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(t0)
		j.latestRevs.drop(rev.EntryID)
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
}

// runB8 runs b.N operations on b8Workers goroutines (op gets the worker's number and
// says how long its save took) and reports the saves per second of the time spent saving
// and the 50th and 99th percentile latency.
func runB8(b *testing.B, op func(worker int) (time.Duration, error)) {
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	var busy [b8Workers]time.Duration
	b.ResetTimer()
	for w := range b8Workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				took, err := op(w)
				if err != nil {
					b.Error(err)
					return
				}
				lat[i] = took
				busy[w] += took
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	var total time.Duration
	for _, d := range busy {
		total += d
	}
	// With b8Workers saving at once, the rate is saves over the mean time a worker spent
	// saving (opening entries excluded).
	perWorker := total / b8Workers
	slices.Sort(lat)
	pct := func(p int) float64 { return float64(lat[min(len(lat)-1, len(lat)*p/100)].Microseconds()) / 1000 }
	b.ReportMetric(float64(b.N)/perWorker.Seconds(), "saves/s")
	b.ReportMetric(pct(50), "p50-ms")
	b.ReportMetric(pct(99), "p99-ms")
}
