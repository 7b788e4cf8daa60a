package courses

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"polyphony/internal/accounts"
	"polyphony/internal/benchpair"
	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/lru"
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

// BenchmarkCacheJournal autosaves a journal entry (B8's request) and opens one, with each
// of the journal's memories (latest revisions, chain heads) and without it, among B8's 10k
// stored entries. The two ways work on different entries of different trainees, so that
// neither finds the other's saves.
func BenchmarkCacheJournal(b *testing.B) {
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
	body := strings.Repeat("A reflective paragraph about the network meeting. ", 40)
	seeded := seedB8(b, db, body)
	revs, heads := j.latestRevs, j.heads
	noRevs, noHeads := newRevisionCache(0), &headMemo{heads: lru.New[string, head](0, nil)}
	kept := func() { j.latestRevs, j.heads = revs, heads }
	without := map[string]func(){
		"revisions": func() { j.latestRevs, j.heads = noRevs, heads },
		"heads":     func() { j.latestRevs, j.heads = revs, noHeads },
	}
	version := map[string]int{}
	for _, rev := range seeded[:8] {
		version[rev.EntryID] = rev.Version
	}
	save := func(rev revisionDoc, switchTo func()) func() {
		return func() {
			switchTo()
			d := Draft{Title: "Entry", Body: fmt.Sprintf("%s %d", body, version[rev.EntryID])}
			e, err := j.Save(ctx, Viewer{UserID: rev.OwnerID, Role: accounts.RoleTrainee}, rev.EntryID, d, version[rev.EntryID], database.NewID())
			if err != nil {
				b.Fatal(err)
			}
			version[rev.EntryID] = e.Version
		}
	}
	open := func(rev revisionDoc, switchTo func()) func() {
		return func() {
			switchTo()
			if _, err := j.ReadEntry(ctx, Viewer{UserID: rev.OwnerID}, rev.EntryID); err != nil {
				b.Fatal(err)
			}
		}
	}
	defer kept()
	for i, memory := range []string{"revisions", "heads"} {
		none := without[memory]
		first := seeded[4*i:]
		b.Run(memory+"/save", func(b *testing.B) { benchpair.Compare(b, save(first[1], none), save(first[0], kept)) })
		b.Run(memory+"/open", func(b *testing.B) { benchpair.Compare(b, open(first[3], none), open(first[2], kept)) })
	}
}
