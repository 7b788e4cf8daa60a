package assessment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"polyphony/internal/database"
)

// writer funnels the store's writes. Inserts wait in a queue, and whoever finds no one
// inserting takes everything queued and inserts it with one insertMany per collection; then
// it hands the turn to the first of those who queued meanwhile. On FerretDB (serial), writes
// also run one at a time.
//
// Embedded FerretDB keeps its records in SQLite, which writes one transaction at a time; the
// others wait in SQLite's busy handler, sleeping up to 100 ms between tries, and give up with
// SQLITE_BUSY after ten seconds. When every trainee submits at the deadline, hundreds of
// writers each waiting their turn in that handler starve one another. Queued here instead,
// a burst of inserts becomes a few transactions of many records each.
type writer struct {
	serial bool
	gate   sync.Mutex // held around each write when serial

	mu        sync.Mutex
	queue     []*queuedInsert
	inserting bool
}

type queuedInsert struct {
	coll *mongo.Collection
	doc  any
	done chan error
	turn chan struct{}
}

// errExists reports that a record with the same _id (or unique key) was there already.
var errExists = errors.New("a record with this key exists")

// writeTimeout bounds a batch of inserts, which runs for everyone queued whatever their own
// contexts say.
const writeTimeout = 30 * time.Second

// newWriter returns the store's writer; writes are serial on FerretDB, which says so in its
// buildInfo.
func newWriter(ctx context.Context, db *database.DB) (*writer, error) {
	var info bson.M
	if err := db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return nil, fmt.Errorf("ask the database what it is: %w", err)
	}
	_, ferret := info["ferretdbVersion"]
	return &writer{serial: ferret || db.Embedded() || db.Shared()}, nil
}

// insert inserts doc into coll, reporting errExists if its _id (or another unique key) is
// taken.
func (w *writer) insert(ctx context.Context, coll *mongo.Collection, doc any) error {
	return w.insertAll(ctx, insertion{coll, doc})[0]
}

// insertion is one record to insert.
type insertion struct {
	coll *mongo.Collection
	doc  any
}

// insertAll inserts the records in the same turn, each with its own outcome.
func (w *writer) insertAll(ctx context.Context, ins ...insertion) []error {
	qs := make([]*queuedInsert, len(ins))
	for i, in := range ins {
		qs[i] = &queuedInsert{coll: in.coll, doc: in.doc, done: make(chan error, 1), turn: make(chan struct{}, 1)}
	}
	w.mu.Lock()
	w.queue = append(w.queue, qs...)
	mine := !w.inserting
	w.inserting = true
	w.mu.Unlock()
	errs := make([]error, len(qs))
	if !mine {
		// Queued together, the records are inserted in one turn: when the first is done, so
		// are the others; or the first is given the turn, and this caller inserts them all.
		select {
		case errs[0] = <-qs[0].done:
			for i, q := range qs[1:] {
				errs[i+1] = <-q.done
			}
			return errs
		case <-qs[0].turn:
		}
	}
	w.mu.Lock()
	batch := w.queue
	w.queue = nil
	w.mu.Unlock()
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	w.flush(flushCtx, batch)
	cancel()
	w.mu.Lock()
	if len(w.queue) > 0 {
		w.queue[0].turn <- struct{}{}
	} else {
		w.inserting = false
	}
	w.mu.Unlock()
	for i, q := range qs {
		errs[i] = <-q.done
	}
	return errs
}

// flush inserts a batch, one insertMany for each collection, and tells each its outcome.
func (w *writer) flush(ctx context.Context, batch []*queuedInsert) {
	var order []*mongo.Collection
	groups := map[*mongo.Collection][]*queuedInsert{}
	for _, q := range batch {
		if groups[q.coll] == nil {
			order = append(order, q.coll)
		}
		groups[q.coll] = append(groups[q.coll], q)
	}
	for _, coll := range order {
		qs := groups[coll]
		docs := make([]any, len(qs))
		for i, q := range qs {
			docs[i] = q.doc
		}
		errs := make([]error, len(qs))
		err := w.run(func() error {
			_, err := coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
			return err
		})
		for i, e := range database.InsertManyErrors(err, len(qs)) {
			switch {
			case e == nil:
			case errors.Is(e, database.ErrDuplicate):
				errs[i] = errExists
			default:
				errs[i] = fmt.Errorf("insert into %s: %w", coll.Name(), e)
			}
		}
		for i, q := range qs {
			q.done <- errs[i]
		}
	}
}

// run carries out one write, alone when writes are serial, trying again a few times if
// SQLite reports itself busy (every write here is safe to repeat).
func (w *writer) run(f func() error) error {
	if w.serial {
		w.gate.Lock()
		defer w.gate.Unlock()
	}
	delay := 20 * time.Millisecond
	for try := 1; ; try++ {
		err := f()
		if err == nil || try == 5 || !busy(err) {
			return err
		}
		time.Sleep(delay)
		delay *= 2
	}
}

func busy(err error) bool {
	s := err.Error()
	return strings.Contains(s, "SQLITE_BUSY") || strings.Contains(s, "database is locked")
}
