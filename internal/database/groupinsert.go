package database

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// GroupInserter stores the documents of many writers with few inserts (a group commit).
// A writer that finds no insert under way stores its documents at once; the writers that
// arrive meanwhile wait, and the next insert stores all of theirs together, at most Max
// documents at a time, with one unordered insertMany per collection. Each writer returns
// only once its own documents are stored, with an error for each of them: nil, ErrDuplicate
// for one whose _id was taken, or the refusal. When a grouped insert fails as a whole (not
// document by document), each writer's documents are inserted again on their own, so that
// one writer's bad document is not everyone's failure.
//
// Embedded FerretDB keeps its records in SQLite, which writes one transaction at a time;
// concurrent writers wait in SQLite's busy handler and starve one another under a burst.
// Grouped, a burst of inserts becomes a few transactions of many records each.
//
// The zero value is ready to use.
type GroupInserter struct {
	// Max bounds the documents of one grouped insert, and so the wait of the writers in it;
	// 0 is DefaultGroupMax. A writer's own documents are never split, whatever their number.
	Max int
	// Timeout bounds one grouped insert, which runs for every writer in it whatever their own
	// contexts say; 0 is 30 seconds.
	Timeout time.Duration
	// Run, when set, carries out each insert: a store that serialises its writes, or tries
	// again when the engine is busy, does it here. Nil calls the insert as it is.
	Run func(insert func() error) error

	mu      sync.Mutex
	waiting []*groupWrite
	leading bool         // an insert is under way; whoever adds a write then only waits
	inserts atomic.Int64 // insertMany calls made, for tests and figures
}

// DefaultGroupMax is the bound on one grouped insert when GroupInserter.Max is 0.
const DefaultGroupMax = 1024

// GroupDoc is one document for a GroupInserter, and the collection it goes into.
type GroupDoc struct {
	Coll *Collection
	Doc  any
}

// groupWrite is one writer's documents waiting to be stored.
type groupWrite struct {
	docs []GroupDoc
	errs []error
	done chan struct{}
}

// Insert stores docs in coll, grouped with other writers', and returns each document's
// outcome in order (see GroupInserter).
func (g *GroupInserter) Insert(ctx context.Context, coll *Collection, docs ...any) []error {
	gd := make([]GroupDoc, len(docs))
	for i, d := range docs {
		gd[i] = GroupDoc{Coll: coll, Doc: d}
	}
	return g.InsertDocs(ctx, gd...)
}

// InsertDocs stores documents that may go into several collections, grouped with other
// writers', and returns each document's outcome in order. Should ctx end first, every
// outcome is ctx's error, and the documents may still be stored by the insert under way.
func (g *GroupInserter) InsertDocs(ctx context.Context, docs ...GroupDoc) []error {
	if len(docs) == 0 {
		return nil
	}
	w := &groupWrite{docs: docs, errs: make([]error, len(docs)), done: make(chan struct{})}
	if g.add(w) {
		g.lead(ctx)
	}
	select {
	case <-w.done:
		return w.errs
	case <-ctx.Done():
		errs := make([]error, len(docs))
		for i := range errs {
			errs[i] = ctx.Err()
		}
		return errs
	}
}

// Inserts is how many insertMany calls the inserter has made.
func (g *GroupInserter) Inserts() int64 { return g.inserts.Load() }

// add queues w and reports whether the caller must lead: store the waiting writes.
func (g *GroupInserter) add(w *groupWrite) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.waiting = append(g.waiting, w)
	if g.leading {
		return false
	}
	g.leading = true
	return true
}

// next takes the writes for one insert, or ends the leadership when none wait.
func (g *GroupInserter) next() []*groupWrite {
	g.mu.Lock()
	defer g.mu.Unlock()
	max := g.Max
	if max <= 0 {
		max = DefaultGroupMax
	}
	n, docs := 0, 0
	for n < len(g.waiting) && (n == 0 || docs+len(g.waiting[n].docs) <= max) {
		docs += len(g.waiting[n].docs)
		n++
	}
	batch := g.waiting[:n:n]
	g.waiting = g.waiting[n:]
	if n == 0 {
		g.waiting, g.leading = nil, false
	}
	return batch
}

// lead stores one group, the leader's own write first in it; if more writes gathered
// meanwhile, a goroutine goes on storing them, so that the leader is not held up by them.
func (g *GroupInserter) lead(ctx context.Context) {
	g.store(context.WithoutCancel(ctx), g.next())
	go func() {
		for batch := g.next(); len(batch) > 0; batch = g.next() {
			g.store(context.Background(), batch)
		}
	}()
}

func (g *GroupInserter) timeout() time.Duration {
	if g.Timeout > 0 {
		return g.Timeout
	}
	return 30 * time.Second
}

// slot is one document of a group: which write it is from and where in that write.
type slot struct {
	w *groupWrite
	i int
}

// store inserts a group, one insertMany per collection in the order they first appear, and
// answers every write in it.
func (g *GroupInserter) store(ctx context.Context, batch []*groupWrite) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout())
	defer cancel()
	var order []*Collection
	slots := map[*Collection][]slot{}
	for _, w := range batch {
		for i, d := range w.docs {
			if slots[d.Coll] == nil {
				order = append(order, d.Coll)
			}
			slots[d.Coll] = append(slots[d.Coll], slot{w, i})
		}
	}
	for _, coll := range order {
		ss := slots[coll]
		docs := make([]any, len(ss))
		for i, s := range ss {
			docs[i] = s.w.docs[s.i].Doc
		}
		err := g.insertMany(ctx, coll, docs)
		if wholeWrite(err) && len(batch) > 1 {
			g.alone(ctx, coll, ss)
			continue
		}
		for i, e := range InsertManyErrors(err, len(ss)) {
			ss[i].w.errs[ss[i].i] = wrapInsert(coll, e)
		}
	}
	for _, w := range batch {
		close(w.done)
	}
}

// alone inserts each write's documents of a failed group on their own.
func (g *GroupInserter) alone(ctx context.Context, coll *Collection, ss []slot) {
	var writes []*groupWrite
	mine := map[*groupWrite][]slot{}
	for _, s := range ss {
		if mine[s.w] == nil {
			writes = append(writes, s.w)
		}
		mine[s.w] = append(mine[s.w], s)
	}
	for _, w := range writes {
		own := mine[w]
		docs := make([]any, len(own))
		for i, s := range own {
			docs[i] = w.docs[s.i].Doc
		}
		for i, e := range InsertManyErrors(g.insertMany(ctx, coll, docs), len(own)) {
			w.errs[own[i].i] = wrapInsert(coll, e)
		}
	}
}

func (g *GroupInserter) insertMany(ctx context.Context, coll *Collection, docs []any) error {
	insert := func() error {
		g.inserts.Add(1)
		_, err := coll.c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		return err
	}
	if g.Run != nil {
		return g.Run(insert)
	}
	return insert()
}

// wholeWrite reports whether err is about the whole insert rather than its documents one by
// one.
func wholeWrite(err error) bool {
	if err == nil {
		return false
	}
	var bulk mongo.BulkWriteException
	return !errors.As(err, &bulk) || bulk.WriteConcernError != nil || len(bulk.WriteErrors) == 0
}

// wrapInsert names the collection in an error; errors.Is still finds ErrDuplicate in it.
func wrapInsert(coll *Collection, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("insert into %s: %w", coll.Name(), err)
}
