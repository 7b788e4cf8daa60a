package courses_test

import (
	"context"
	"testing"

	"polyphony/courses"
	"polyphony/internal/dbtest"
)

// Indexes are ensured at every start: opening the store twice must work.
func TestNewStoreTwice(t *testing.T) {
	db := dbtest.New(t)
	for i := range 2 {
		if _, err := courses.NewStore(context.Background(), db); err != nil {
			t.Fatalf("open %d: %v", i+1, err)
		}
	}
	names, err := db.Collection("memberships").IndexNames(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n == "name_1" {
			t.Errorf("memberships has an index named name_1: options were shared between indexes")
		}
	}
}
