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
	specs, _ := db.Collection("memberships").Indexes().ListSpecifications(context.Background())
	for _, s := range specs {
		if s.Name == "name_1" {
			t.Errorf("memberships has an index named name_1 (%s): options were shared between indexes", s.KeysDocument)
		}
	}
}
