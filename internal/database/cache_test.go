package database_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/dbtest"
)

func TestCacheFollowsStamp(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	loads := 0
	value := "first"
	load := func(context.Context) (string, error) { loads++; return value, nil }
	c := database.NewCache(db, "things", time.Hour, func(s string) string { return s })
	other := database.NewCache(db, "things", time.Hour, func(s string) string { return s }) // another instance

	for range 3 {
		if got, _ := c.Get(ctx, "k", load); got != "first" {
			t.Fatalf("got %q", got)
		}
	}
	if loads != 1 {
		t.Errorf("loads = %d, want 1 while nothing changed", loads)
	}
	other.Get(ctx, "k", load)
	value = "second"
	if err := db.Touch(ctx, "things"); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(ctx, "k", load); got != "second" {
		t.Errorf("after a change: %q, want second", got)
	}
	if got, _ := other.Get(ctx, "k", load); got != "second" {
		t.Errorf("another instance after a change: %q, want second", got)
	}

	short := database.NewCache(db, "things", time.Millisecond, func(s string) string { return s })
	short.Get(ctx, "k", load)
	value = "third" // changed without a touch, as by a writer that died mid-way
	time.Sleep(5 * time.Millisecond)
	if got, _ := short.Get(ctx, "k", load); got != "third" {
		t.Errorf("after the time limit: %q, want third", got)
	}
}

// A change touched through another connection (another instance, a command-line tool) is
// seen once StampRecheck has passed; until then the cache answers without reading the stamp.
func TestCacheSeesOtherProcessesWithinRecheck(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	elsewhere, err := database.Open(ctx, database.Config{URI: dbtest.URI(t), Name: db.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { elsewhere.Close(context.Background()) })

	loads := 0
	value := "first"
	load := func(context.Context) (string, error) { loads++; return value, nil }
	c := database.NewCache(db, "things", time.Hour, func(s string) string { return s })
	if got, _ := c.Get(ctx, "k", load); got != "first" {
		t.Fatalf("got %q", got)
	}
	value = "second"
	if err := elsewhere.Touch(ctx, "things"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(database.StampRecheck + 2*time.Second)
	for {
		got, err := c.Get(ctx, "k", load)
		if err != nil {
			t.Fatal(err)
		}
		if got == "second" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a change touched elsewhere was not seen within %s", database.StampRecheck)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if loads != 2 {
		t.Errorf("loads = %d, want 2", loads)
	}
}

// A load that was under way when a change was seen must not put back what it read: the
// value it read may be the one the change replaced.
func TestCacheRefusesALoadOverlappingAChange(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	c := database.NewCache(db, "things", time.Hour, func(s string) string { return s })
	value, loads := "old", 0
	var load func(context.Context) (string, error)
	load = func(ctx context.Context) (string, error) {
		loads++
		read := value
		if loads == 1 {
			// The change lands while this load is under way, and another request sees it.
			value = "new"
			if err := db.Touch(ctx, "things"); err != nil {
				return "", err
			}
			if got, err := c.Get(ctx, "k", load); err != nil || got != "new" {
				return "", fmt.Errorf("the request after the change: %q %v", got, err)
			}
		}
		return read, nil
	}
	if _, err := c.Get(ctx, "k", load); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(ctx, "k", load); got != "new" {
		t.Errorf("after a load overlapping a change the cache gives %q, want new", got)
	}
	if loads != 2 {
		t.Errorf("loads = %d, want 2", loads)
	}
}

// A cache with no lifetime loads every time.
func TestCacheWithoutLifetimeLoadsEveryTime(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	loads := 0
	c := database.NewCache(db, "things", 0, func(s string) string { return s })
	for range 3 {
		c.Get(ctx, "k", func(context.Context) (string, error) { loads++; return "v", nil })
	}
	if loads != 3 {
		t.Errorf("loads = %d, want 3", loads)
	}
}
