package database_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/dbtest"
)

// TestSerializeMakesReadCheckWriteAtomic checks the lock the stores put around a
// read-check-write on one document: under Serialize no $inc is lost, and of several
// compare-and-set updates on the same version exactly one wins. The lock is the process's
// own (embedded FerretDB on its own loses both; see serialize.go), so this is what holds for
// writers in one process, not a property of the database.
func TestSerializeMakesReadCheckWriteAtomic(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	coll := db.Collection("counters")
	if err := coll.Insert(ctx, bson.M{"_id": "c", "n": 0, "version": 1}); err != nil {
		t.Fatal(err)
	}
	const workers = 20
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock := db.Serialize("counters", "c")
			defer unlock()
			if err := coll.Update(ctx, "c", bson.M{"$inc": bson.M{"n": 1}}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var doc struct{ N int }
	coll.Get(ctx, "c", &doc)
	if doc.N != workers {
		t.Errorf("after %d concurrent $inc: n = %d", workers, doc.N)
	}

	var wins atomic.Int32
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock := db.Serialize("counters", "c")
			defer unlock()
			// The driver's own conditional update, under the lock: what UpdateIf does on
			// FerretDB, by hand.
			res, err := database.Driver(coll).UpdateOne(ctx, bson.M{"_id": "c", "version": 1}, bson.M{"$set": bson.M{"version": 2}})
			if err != nil {
				t.Error(err)
				return
			}
			wins.Add(int32(res.ModifiedCount))
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d concurrent compare-and-set updates on version 1: %d won, want exactly 1", workers, wins.Load())
	}
}

// TestSingleDocumentWritesAreWhole checks the database's own single-document atomicity, with
// no lock of ours: an update that sets several fields of one document is seen whole or not at
// all by concurrent readers. The stores rely on it when one update moves a record from one
// state to the next (a job's state with its progress, an attempt's answers with its version).
func TestSingleDocumentWritesAreWhole(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	coll := db.Collection("whole")
	if err := coll.Insert(ctx, bson.M{"_id": "d", "a": 0, "b": 0, "list": bson.A{0}}); err != nil {
		t.Fatal(err)
	}
	const writes = 100
	done := make(chan struct{})
	var torn atomic.Int32
	var reads atomic.Int32
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				var d struct {
					A, B int
					List []int
				}
				if err := coll.Get(ctx, "d", &d); err != nil {
					t.Error(err)
					return
				}
				reads.Add(1)
				if d.A != d.B || len(d.List) != d.A+1 {
					torn.Add(1)
				}
			}
		}()
	}
	for i := 1; i <= writes; i++ {
		list := make(bson.A, i+1)
		for j := range list {
			list[j] = j
		}
		if err := coll.Update(ctx, "d", bson.M{"$set": bson.M{"a": i, "b": i, "list": list}}); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if n := torn.Load(); n > 0 {
		t.Errorf("%d of %d reads saw a document half updated", n, reads.Load())
	}
}

// Of concurrent inserts of one unique key exactly one succeeds: the primitive that
// idempotency keys and append-only records build on.
func TestUniqueInsertRace(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	coll := db.Collection("claims")
	const workers = 20
	var wg sync.WaitGroup
	var wins atomic.Int32
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := coll.Insert(ctx, bson.M{"_id": "only-once"}); err == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d concurrent inserts of one _id: %d succeeded, want 1", workers, wins.Load())
	}
}
