package database_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

type rec struct {
	ID   string `bson:"_id"`
	Text string `bson:"text"`
}

type list struct {
	ID    string   `bson:"_id"`
	Items []string `bson:"items"`
}

// TestRecordsByID checks the calls the stores reach their records with: each sends only a
// filter of exactly {_id: id}, a missing record is failure.ErrNotFound, and a second insert
// under one _id is database.ErrDuplicate (a failure.ErrConflict) or, for InsertOnce, nothing.
func TestRecordsByID(t *testing.T) {
	ctx := context.Background()
	log := dbtest.NewFilterLog("records")
	db := dbtest.NewLogged(t, log)
	coll := db.Collection("records")
	log.Record(true)

	if err := database.Insert(ctx, coll, rec{ID: "a", Text: "first"}); err != nil {
		t.Fatal(err)
	}
	err := database.Insert(ctx, coll, rec{ID: "a", Text: "second"})
	if !errors.Is(err, database.ErrDuplicate) || !errors.Is(err, failure.ErrConflict) {
		t.Fatalf("second insert: %v, want ErrDuplicate", err)
	}
	if err := database.InsertOnce(ctx, coll, rec{ID: "a", Text: "third"}); err != nil {
		t.Fatalf("InsertOnce of a stored id: %v", err)
	}
	if err := database.InsertOnce(ctx, coll, rec{ID: "b", Text: "b"}); err != nil {
		t.Fatal(err)
	}
	got, err := database.FindByID[rec](ctx, coll, "a")
	if err != nil || got.Text != "first" {
		t.Fatalf("FindByID: %+v, %v; want the first insert", got, err)
	}
	if _, err := database.FindByID[rec](ctx, coll, "missing"); !errors.Is(err, failure.ErrNotFound) {
		t.Fatalf("missing: %v, want ErrNotFound", err)
	}
	each, err := database.FindEachByID[rec](ctx, coll, []string{"b", "missing", "a"})
	if err != nil || len(each) != 2 || each[0].ID != "b" || each[1].ID != "a" {
		t.Fatalf("FindEachByID: %+v, %v; want b then a", each, err)
	}
	if err := database.DeleteByID(ctx, coll, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := database.FindByID[rec](ctx, coll, "b"); !errors.Is(err, failure.ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
	log.Record(false)
	if bad := log.NotByID(); len(bad) > 0 || len(log.All()) == 0 {
		t.Fatalf("commands not by _id: %v (of %d)", bad, len(log.All()))
	}
}

// TestListDocumentsLoseNoAdd adds to one list document from many goroutines at once, the
// first of them making it: every item is there once, and an item added twice is there once.
func TestListDocumentsLoseNoAdd(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	coll := db.Collection("lists")
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.AddToList(ctx, coll, "owner", "items", fmt.Sprintf("i%02d", i%20))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	l, err := database.FindByID[list](ctx, coll, "owner")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(l.Items)
	if len(l.Items) != 20 || len(slices.Compact(slices.Clone(l.Items))) != 20 || l.Items[0] != "i00" || l.Items[19] != "i19" {
		t.Fatalf("items: %v, want i00..i19 once each", l.Items)
	}
	if err := db.RemoveFromList(ctx, coll, "owner", "items", "i05"); err != nil {
		t.Fatal(err)
	}
	l, _ = database.FindByID[list](ctx, coll, "owner")
	if len(l.Items) != 19 || slices.Contains(l.Items, "i05") {
		t.Fatalf("after removing i05: %v", l.Items)
	}
}
