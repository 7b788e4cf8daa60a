package database_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"

	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

type groupDoc struct {
	ID     string `bson:"_id"`
	Writer int    `bson:"writer"`
}

// insertSizes is a command monitor that records how many documents each insert sent.
type insertSizes struct {
	mu    sync.Mutex
	sizes []int
}

func (s *insertSizes) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName != "insert" {
			return
		}
		docs, _ := e.Command.Lookup("documents").Array().Values()
		s.mu.Lock()
		s.sizes = append(s.sizes, len(docs))
		s.mu.Unlock()
	}}
}

func (s *insertSizes) all() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.sizes...)
}

// Writers arriving together share inserts, no insert holds more than Max documents, and
// every writer's documents are stored, in both of the collections it writes to.
func TestGroupInserterStoresEveryWriter(t *testing.T) {
	ctx := context.Background()
	var sizes insertSizes
	db := dbtest.NewMonitored(t, sizes.monitor())
	a, b := db.Collection("group_a"), db.Collection("group_b")
	g := &database.GroupInserter{Max: 8}
	const writers, per = 40, 3
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			var docs []database.GroupDoc
			for i := range per {
				docs = append(docs, database.GroupDoc{Coll: a, Doc: groupDoc{ID: fmt.Sprintf("w%02d-%d", w, i), Writer: w}})
			}
			docs = append(docs, database.GroupDoc{Coll: b, Doc: groupDoc{ID: fmt.Sprintf("w%02d", w), Writer: w}})
			for i, err := range g.InsertDocs(ctx, docs...) {
				if err != nil {
					t.Errorf("writer %d document %d: %v", w, i, err)
				}
			}
		})
	}
	wg.Wait()
	for w := range writers {
		for i := range per {
			if d, err := database.FindByID[groupDoc](ctx, a, fmt.Sprintf("w%02d-%d", w, i)); err != nil || d.Writer != w {
				t.Errorf("writer %d document %d: %+v, %v", w, i, d, err)
			}
		}
		if _, err := database.FindByID[groupDoc](ctx, b, fmt.Sprintf("w%02d", w)); err != nil {
			t.Errorf("writer %d in the second collection: %v", w, err)
		}
	}
	all := sizes.all()
	t.Logf("%d writers stored by %d inserts of %v documents", writers, g.Inserts(), all)
	if g.Inserts() >= 2*writers {
		t.Errorf("%d inserts for %d writers of two collections: none were grouped", g.Inserts(), writers)
	}
	for _, n := range all {
		if n > 8 {
			t.Errorf("an insert of %d documents; Max is 8", n)
		}
	}
}

// Each writer gets its own outcome: ErrDuplicate for its own documents stored already and
// nil for the rest, which are stored even when another writer's document in the same
// insert was refused.
func TestGroupInserterDuplicatesAreEachWritersOwn(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	coll := db.Collection("group_dup")
	const writers = 30
	for w := 0; w < writers; w += 3 {
		if err := database.Insert(ctx, coll, groupDoc{ID: fmt.Sprintf("w%02d-1", w), Writer: -1}); err != nil {
			t.Fatal(err)
		}
	}
	g := &database.GroupInserter{}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			errs := g.Insert(ctx, coll, groupDoc{ID: fmt.Sprintf("w%02d-0", w), Writer: w},
				groupDoc{ID: fmt.Sprintf("w%02d-1", w), Writer: w}, groupDoc{ID: fmt.Sprintf("w%02d-2", w), Writer: w})
			for i, err := range errs {
				dup := w%3 == 0 && i == 1
				switch {
				case dup && !errors.Is(err, database.ErrDuplicate):
					t.Errorf("writer %d document %d: %v, want ErrDuplicate", w, i, err)
				case dup && !errors.Is(err, failure.ErrConflict):
					t.Errorf("writer %d document %d: %v is not a conflict", w, i, err)
				case !dup && err != nil:
					t.Errorf("writer %d document %d: %v, want stored", w, i, err)
				}
			}
		})
	}
	wg.Wait()
	for w := range writers {
		for i := range 3 {
			d, err := database.FindByID[groupDoc](ctx, coll, fmt.Sprintf("w%02d-%d", w, i))
			want := w
			if w%3 == 0 && i == 1 {
				want = -1
			}
			if err != nil || d.Writer != want {
				t.Errorf("writer %d document %d: %+v, %v; want written by %d", w, i, d, err, want)
			}
		}
	}
}

// When a grouped insert fails as a whole, each writer is tried on its own: only the writer
// whose document cannot be stored fails, and the others are stored.
func TestGroupInserterRetriesEachWriterAloneAfterAFailedGroup(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	coll := db.Collection("group_alone")
	g := &database.GroupInserter{}
	// A document the driver cannot encode: it refuses the whole insert.
	bad := bson.M{"_id": "bad", "value": make(chan int)}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		outcome = map[string]error{}
	)
	write := func(w int) {
		var doc any = groupDoc{ID: fmt.Sprintf("w%d", w), Writer: w}
		if w == 4 {
			doc = bad
		}
		err := g.Insert(ctx, coll, doc)[0]
		mu.Lock()
		outcome[fmt.Sprintf("w%d", w)] = err
		mu.Unlock()
	}
	// The first writer's insert is held until the others have gathered behind it, so that
	// they are stored as one group with the unencodable document among them.
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	g.Run = func(insert func() error) error {
		once.Do(func() {
			close(entered)
			<-release
		})
		return insert()
	}
	wg.Go(func() { write(0) })
	<-entered
	for w := 1; w < 10; w++ {
		wg.Go(func() { write(w) })
	}
	time.Sleep(300 * time.Millisecond)
	close(release)
	wg.Wait()
	// One insert for the first writer, one for the group, then one for each of its nine.
	if n := g.Inserts(); n != 11 {
		t.Errorf("%d inserts, want 11: the group of nine was not stored together, then alone", n)
	}
	for w := range 10 {
		id := fmt.Sprintf("w%d", w)
		err := outcome[id]
		if w == 4 {
			if err == nil || errors.Is(err, database.ErrDuplicate) {
				t.Errorf("the unencodable document: %v, want a refusal", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v, want stored despite the unencodable document", id, err)
		}
		if _, err := database.FindByID[groupDoc](ctx, coll, id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}
