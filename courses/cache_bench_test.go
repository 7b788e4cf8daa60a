package courses

import (
	"context"
	"fmt"
	"testing"
	"time"

	"polyphony/internal/accounts"
	"polyphony/internal/benchpair"
	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/ttlcache"
)

// The caches of the course store, each read with it and without in the same run, on a
// database holding cacheBenchCohorts cohorts with their programmes and
// cacheBenchMembers memberships:
//
//	go test -run '^$' -bench Cache ./courses/
const (
	cacheBenchCohorts = 10
	cacheBenchMembers = 2000
)

// cacheBench returns a store with the caches and another over the same database without
// them, and a cohort and a member of it.
func cacheBench(b *testing.B) (cached, uncached *Store, cohortID, userID string) {
	b.Helper()
	ctx := context.Background()
	db := dbtest.New(b)
	cached, err := NewStore(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	uncached, err = NewStore(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	uncached.membershipCache = ttlcache.New[[]Membership](0, 0)
	uncached.cohortCache = ttlcache.New[Cohort](0, 0)
	uncached.programmeCache = database.NewCache(db, "programmes", 0, Programme.clone)
	start := time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i := range cacheBenchCohorts {
		c, _, err := cached.CreateCohortFromTemplate(ctx, NewCohort{Name: fmt.Sprintf("Cohort %d", i), StartDate: start}, "admin")
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	for i := range cacheBenchMembers {
		if _, err := cached.Enrol(ctx, ids[i%len(ids)], fmt.Sprintf("user-%d", i), accounts.RoleTrainee); err != nil {
			b.Fatal(err)
		}
	}
	return cached, uncached, ids[0], "user-0"
}

// BenchmarkCacheMemberships reads a person's memberships, as every signed-in page that
// shows a programme or the curriculum does.
func BenchmarkCacheMemberships(b *testing.B) {
	cached, uncached, _, userID := cacheBench(b)
	read := func(s *Store) func() {
		return func() {
			if ms, err := s.MembershipsOf(context.Background(), userID); err != nil || len(ms) != 1 {
				b.Fatalf("memberships: %v %v", ms, err)
			}
		}
	}
	benchpair.Compare(b, read(uncached), read(cached))
}

// BenchmarkCacheCohort reads a cohort by id.
func BenchmarkCacheCohort(b *testing.B) {
	cached, uncached, cohortID, _ := cacheBench(b)
	read := func(s *Store) func() {
		return func() {
			if _, err := s.Cohort(context.Background(), cohortID); err != nil {
				b.Fatal(err)
			}
		}
	}
	benchpair.Compare(b, read(uncached), read(cached))
}

// BenchmarkCacheProgramme reads a cohort's programme, as the curriculum and programme pages
// do for the reader's cohort.
func BenchmarkCacheProgramme(b *testing.B) {
	cached, uncached, cohortID, _ := cacheBench(b)
	read := func(s *Store) func() {
		return func() {
			if _, err := s.Programme(context.Background(), cohortID); err != nil {
				b.Fatal(err)
			}
		}
	}
	benchpair.Compare(b, read(uncached), read(cached))
}
