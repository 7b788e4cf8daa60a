package assessment

import (
	"context"
	"errors"
	"sync"
	"time"

	"polyphony/internal/database"
)

// writer funnels the store's writes. Inserts go through one database.GroupInserter: the
// inserts that arrive while one is under way are stored together by the next, with one
// insertMany per collection. On FerretDB (serial), writes also run one at a time.
//
// Embedded FerretDB keeps its records in SQLite, which writes one transaction at a time; the
// others wait in SQLite's busy handler, sleeping up to 100 ms between tries, and give up with
// SQLITE_BUSY after ten seconds. When every trainee submits at the deadline, hundreds of
// writers each waiting their turn in that handler starve one another. Grouped here instead,
// a burst of inserts becomes a few transactions of many records each.
type writer struct {
	serial bool
	gate   sync.Mutex // held around each write when serial
	group  *database.GroupInserter
}

// errExists reports that a record with the same _id (or unique key) was there already.
var errExists = errors.New("a record with this key exists")

// writeTimeout bounds a group of inserts, which runs for everyone in it whatever their own
// contexts say.
const writeTimeout = 30 * time.Second

// newWriter returns the store's writer; writes are serial where the database writes one
// transaction at a time (database.DB.WritesSerially).
func newWriter(ctx context.Context, db *database.DB) (*writer, error) {
	serial, err := db.WritesSerially(ctx)
	if err != nil {
		return nil, err
	}
	w := &writer{serial: serial}
	w.group = &database.GroupInserter{Timeout: writeTimeout, Run: w.run}
	return w, nil
}

// insert inserts doc into coll, reporting errExists if its _id (or another unique key) is
// taken.
func (w *writer) insert(ctx context.Context, coll *database.Collection, doc any) error {
	return w.insertAll(ctx, insertion{coll, doc})[0]
}

// insertion is one record to insert.
type insertion struct {
	coll *database.Collection
	doc  any
}

// insertAll inserts the records in the same group, each with its own outcome.
func (w *writer) insertAll(ctx context.Context, ins ...insertion) []error {
	docs := make([]database.GroupDoc, len(ins))
	for i, in := range ins {
		docs[i] = database.GroupDoc{Coll: in.coll, Doc: in.doc}
	}
	errs := w.group.InsertDocs(ctx, docs...)
	for i, err := range errs {
		if errors.Is(err, database.ErrDuplicate) {
			errs[i] = errExists
		}
	}
	return errs
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
		if err == nil || try == 5 || !database.Busy(err) {
			return err
		}
		time.Sleep(delay)
		delay *= 2
	}
}
