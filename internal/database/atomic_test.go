package database_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/dbtest"
)

// The stores rely on single-document atomicity instead of transactions: under Serialize a
// $inc is never lost, and of several compare-and-set updates on the same version exactly one
// wins. (Without it, embedded FerretDB loses both; see serialize.go.)
func TestSingleDocumentAtomicity(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	coll := db.Collection("counters")
	if _, err := coll.InsertOne(ctx, bson.M{"_id": "c", "n": 0, "version": 1}); err != nil {
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
			if _, err := coll.UpdateOne(ctx, bson.M{"_id": "c"}, bson.M{"$inc": bson.M{"n": 1}}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var doc struct{ N int }
	coll.FindOne(ctx, bson.M{"_id": "c"}).Decode(&doc)
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
			res, err := coll.UpdateOne(ctx, bson.M{"_id": "c", "version": 1}, bson.M{"$set": bson.M{"version": 2}})
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
			if _, err := coll.InsertOne(ctx, bson.M{"_id": "only-once"}); err == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d concurrent inserts of one _id: %d succeeded, want 1", workers, wins.Load())
	}
}
