package database_test

import (
	"context"
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
