package database_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

type thing struct {
	ID   string `bson:"_id"`
	Kind string `bson:"kind"`
	N    int    `bson:"n"`
}

// The calls by id read and write one document each, and say what happened in the domain's
// errors: a missing document is failure.ErrNotFound, a key taken is ErrDuplicate.
func TestCollectionByID(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	coll := db.Collection("things")
	if coll.Name() != "things" {
		t.Fatalf("name %q", coll.Name())
	}

	var got thing
	if err := coll.Get(ctx, "a", &got); !errors.Is(err, failure.ErrNotFound) {
		t.Fatalf("get of a missing document: %v, want ErrNotFound", err)
	}
	if ok, err := coll.Exists(ctx, "a"); ok || err != nil {
		t.Fatalf("exists of a missing document: %v %v", ok, err)
	}
	if err := coll.Insert(ctx, thing{ID: "a", Kind: "x", N: 1}); err != nil {
		t.Fatal(err)
	}
	err := coll.Insert(ctx, thing{ID: "a", Kind: "y"})
	if !errors.Is(err, database.ErrDuplicate) || !errors.Is(err, failure.ErrConflict) {
		t.Fatalf("second insert of a: %v, want ErrDuplicate", err)
	}
	if ok, err := coll.Exists(ctx, "a"); !ok || err != nil {
		t.Fatalf("exists of a: %v %v", ok, err)
	}
	if err := coll.Get(ctx, "a", &got); err != nil || got != (thing{ID: "a", Kind: "x", N: 1}) {
		t.Fatalf("get a: %+v %v", got, err)
	}

	if err := coll.Update(ctx, "a", bson.M{"$inc": bson.M{"n": 2}}); err != nil {
		t.Fatal(err)
	}
	if err := coll.Update(ctx, "missing", bson.M{"$set": bson.M{"n": 9}}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := coll.Exists(ctx, "missing"); ok {
		t.Fatal("Update made a document")
	}
	if err := coll.Upsert(ctx, "b", bson.M{"$max": bson.M{"n": 5}}); err != nil {
		t.Fatal(err)
	}
	if err := coll.Replace(ctx, "none", thing{ID: "none"}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := coll.Exists(ctx, "none"); ok {
		t.Fatal("Replace made a document")
	}
	if err := coll.Put(ctx, "c", thing{ID: "c", Kind: "x", N: 7}); err != nil {
		t.Fatal(err)
	}
	if err := coll.Put(ctx, "c", thing{ID: "c", Kind: "z", N: 8}); err != nil {
		t.Fatal(err)
	}
	if err := coll.Replace(ctx, "b", thing{ID: "b", Kind: "x", N: 6}); err != nil {
		t.Fatal(err)
	}
	want := []thing{{"a", "x", 3}, {"b", "x", 6}, {"c", "z", 8}}
	for _, w := range want {
		var d thing
		if err := coll.Get(ctx, w.ID, &d); err != nil || d != w {
			t.Errorf("%s: %+v %v, want %+v", w.ID, d, err, w)
		}
	}
	all, err := database.FindEachByID[thing](ctx, coll, []string{"c", "gone", "a"})
	if err != nil || !slices.Equal(all, []thing{want[2], want[0]}) {
		t.Errorf("FindEachByID: %+v %v", all, err)
	}

	if gone, err := coll.Delete(ctx, "a"); !gone || err != nil {
		t.Errorf("delete a: %v %v", gone, err)
	}
	if gone, err := coll.Delete(ctx, "a"); gone || err != nil {
		t.Errorf("delete a again: %v %v", gone, err)
	}
}

// InsertMany in order stops at the first refusal; unordered it stores every document whose
// key is free, and a refusal only for taken keys is ErrDuplicate.
func TestCollectionInsertMany(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	coll := db.Collection("many")
	if err := coll.InsertMany(ctx, nil, database.InsertManyOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := coll.Insert(ctx, thing{ID: "b"}); err != nil {
		t.Fatal(err)
	}
	err := coll.InsertMany(ctx, []any{thing{ID: "a"}, thing{ID: "b"}, thing{ID: "c"}}, database.InsertManyOptions{})
	if !errors.Is(err, database.ErrDuplicate) {
		t.Fatalf("ordered: %v, want ErrDuplicate", err)
	}
	if ok, _ := coll.Exists(ctx, "a"); !ok {
		t.Error("ordered: a, before the refusal, was not stored")
	}
	if ok, _ := coll.Exists(ctx, "c"); ok {
		t.Error("ordered: c, after the refusal, was stored")
	}
	err = coll.InsertMany(ctx, []any{thing{ID: "b"}, thing{ID: "c"}, thing{ID: "d"}}, database.InsertManyOptions{Unordered: true})
	if !errors.Is(err, database.ErrDuplicate) {
		t.Fatalf("unordered: %v, want ErrDuplicate", err)
	}
	if n, err := coll.Count(ctx, nil); n != 4 || err != nil {
		t.Errorf("after the unordered insert: %d documents (%v), want 4", n, err)
	}
}

// The scanning calls take a filter, with our own options for order and fields.
func TestCollectionScans(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	coll := db.Collection("scanned")
	docs := []any{thing{"a", "x", 3}, thing{"b", "y", 1}, thing{"c", "x", 2}, thing{"d", "x", 3}}
	if err := coll.InsertMany(ctx, docs, database.InsertManyOptions{}); err != nil {
		t.Fatal(err)
	}
	var xs []thing
	err := coll.ScanAll(ctx, bson.M{"kind": "x"}, database.Scan{Sort: bson.D{{Key: "n", Value: -1}, {Key: "_id", Value: 1}}}, &xs)
	if err != nil || !slices.Equal(xs, []thing{{"a", "x", 3}, {"d", "x", 3}, {"c", "x", 2}}) {
		t.Errorf("ScanAll: %+v %v", xs, err)
	}
	var ids []thing
	if err := coll.ScanAll(ctx, nil, database.Scan{Fields: []string{"n"}, Sort: bson.D{{Key: "_id", Value: 1}}}, &ids); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 4 || ids[0] != (thing{ID: "a", N: 3}) {
		t.Errorf("ScanAll with fields: %+v, want only _id and n", ids)
	}
	var seen []string
	err = coll.ScanEach(ctx, bson.M{"n": bson.M{"$gte": 2}}, database.Scan{Sort: bson.D{{Key: "_id", Value: 1}}}, func(decode func(any) error) error {
		var d thing
		if err := decode(&d); err != nil {
			return err
		}
		seen = append(seen, d.ID)
		return nil
	})
	if err != nil || !slices.Equal(seen, []string{"a", "c", "d"}) {
		t.Errorf("ScanEach: %v %v", seen, err)
	}
	stop := errors.New("stop")
	if err := coll.ScanEach(ctx, nil, database.Scan{}, func(func(any) error) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("ScanEach stopped: %v", err)
	}
	var first thing
	if err := coll.ScanFirst(ctx, bson.M{"kind": "x"}, database.Scan{Sort: bson.D{{Key: "n", Value: 1}}}, &first); err != nil || first.ID != "c" {
		t.Errorf("ScanFirst: %+v %v", first, err)
	}
	if err := coll.ScanFirst(ctx, bson.M{"kind": "none"}, database.Scan{}, &first); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("ScanFirst of nothing: %v, want ErrNotFound", err)
	}
	var kinds []string
	if err := coll.Distinct(ctx, "kind", nil, &kinds); err != nil {
		t.Fatal(err)
	}
	slices.Sort(kinds)
	if !slices.Equal(kinds, []string{"x", "y"}) {
		t.Errorf("Distinct: %v", kinds)
	}
	if n, err := coll.Count(ctx, bson.M{"kind": "x"}); n != 3 || err != nil {
		t.Errorf("Count: %d %v", n, err)
	}
	if n, err := coll.DeleteWhere(ctx, bson.M{"n": 3}); n != 2 || err != nil {
		t.Errorf("DeleteWhere: %d %v", n, err)
	}
	if n, _ := coll.Count(ctx, nil); n != 2 {
		t.Errorf("%d left, want 2", n)
	}
}

// Indexes are made once by name, refuse duplicates when unique, and can be listed and
// dropped for migrations.
func TestCollectionIndexes(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	coll := db.Collection("indexed")
	for range 2 {
		if err := database.EnsureIndexes(ctx, coll,
			database.Index{Keys: []string{"kind", "n"}},
			database.Index{Keys: []string{"n"}, Unique: true, Name: "n_unique"},
		); err != nil {
			t.Fatal(err)
		}
	}
	names, err := coll.IndexNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"_id_", "kind_1_n_1", "n_unique"} {
		if !slices.Contains(names, want) {
			t.Errorf("indexes %v lack %s", names, want)
		}
	}
	if err := coll.Insert(ctx, thing{ID: "a", N: 1}); err != nil {
		t.Fatal(err)
	}
	if err := coll.Insert(ctx, thing{ID: "b", N: 1}); !errors.Is(err, database.ErrDuplicate) {
		t.Errorf("a second n=1: %v, want ErrDuplicate", err)
	}
	if err := coll.DropIndex(ctx, "n_unique"); err != nil {
		t.Fatal(err)
	}
	if err := coll.Insert(ctx, thing{ID: "b", N: 1}); err != nil {
		t.Errorf("n=1 after the unique index was dropped: %v", err)
	}
	if names, _ := coll.IndexNames(ctx); slices.Contains(names, "n_unique") {
		t.Errorf("n_unique still listed: %v", names)
	}
}

// UpdateIf is a compare-and-set: of many writers conditional on the same version exactly one
// wins, whatever the engine, and a condition not met or a missing document changes nothing.
func TestCollectionUpdateIf(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	coll := db.Collection("jobs")
	if err := coll.Insert(ctx, bson.M{"_id": "j", "attempt": 1, "state": "running", "n": 0}); err != nil {
		t.Fatal(err)
	}
	for _, cond := range []bson.M{{"attempt": 2}, {"attempt": 1, "state": "done"}, {"other": 1}} {
		if ok, err := coll.UpdateIf(ctx, "j", cond, bson.M{"$set": bson.M{"n": 9}}); ok || err != nil {
			t.Errorf("condition %v: %v %v, want false", cond, ok, err)
		}
	}
	if ok, err := coll.UpdateIf(ctx, "missing", bson.M{"attempt": 1}, bson.M{"$set": bson.M{"n": 9}}); ok || err != nil {
		t.Errorf("missing document: %v %v", ok, err)
	}
	if ok, _ := coll.Exists(ctx, "missing"); ok {
		t.Error("UpdateIf made a document")
	}
	if _, err := coll.UpdateIf(ctx, "j", bson.M{"a.b": 1}, bson.M{}); err == nil {
		t.Error("a condition on a dotted path was taken")
	}

	const writers = 20
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := coll.UpdateIf(ctx, "j", bson.M{"attempt": 1, "state": "running"},
				bson.M{"$set": bson.M{"attempt": 2, "n": i + 1}})
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d of %d conditional updates on one attempt won, want 1", wins.Load(), writers)
	}
	var doc struct {
		Attempt int `bson:"attempt"`
		N       int `bson:"n"`
	}
	if err := coll.Get(ctx, "j", &doc); err != nil || doc.Attempt != 2 || doc.N == 0 {
		t.Errorf("after the race: %+v %v", doc, err)
	}
}

// The engine's answers that stores used to read themselves: the test server is FerretDB,
// which writes one transaction at a time.
func TestWritesSerially(t *testing.T) {
	db := dbtest.New(t)
	serial, err := db.WritesSerially(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("MONGODB_URI") == "" && !serial {
		t.Error("embedded FerretDB does not write serially")
	}
	if !database.Busy(errors.New("sqlite: SQLITE_BUSY: database is locked")) || database.Busy(nil) || database.Busy(errors.New("other")) {
		t.Error("Busy")
	}
}
