package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"

	// FerretDB's own SQLite driver; the second connection must use the same library, whose
	// locks are shared by every connection to a file within one process.
	_ "modernc.org/sqlite"
)

// idIndexes gives every collection of one embedded FerretDB database the index that
// FerretDB's own reads by _id can use.
//
// FerretDB 1.24 on SQLite keeps each collection as a table of JSON documents in one column,
// _ferretdb_sjson. It pushes down to SQLite only a filter that is exactly
// {_id: <string or ObjectID>}, and then as WHERE _ferretdb_sjson->'$._id' = ? (the same for
// its updates and deletes by _id); everything else it filters in Go. But the unique index it
// makes for _id is on _ferretdb_sjson->"_id", and SQLite uses an index on an expression only
// for that expression written the same way, so every read by _id scans the table: on 20,000
// documents a find by _id took 0.4 ms for the first row and 95 ms for a missing one. An index
// on exactly _ferretdb_sjson->'$._id' makes the same reads take under a millisecond wherever
// the row is. FerretDB cannot make that index itself, so it is made here, over a second SQLite
// connection to the database's file, on the table that FerretDB's _ferretdb_collections names
// for each collection. FerretDB lists only the indexes it made, so clients never see this one;
// dropping a collection drops its table and the index with it, so the index is made again
// whenever a collection is made (EnsureCollections). Nothing of this runs on MongoDB, which
// indexes _id itself.
type idIndexes struct {
	// file is the database's SQLite file, <folder>/<database>.sqlite.
	file string
}

const (
	// idExpr is the expression FerretDB's pushdown compares, written exactly as FerretDB does.
	idExpr = "_ferretdb_sjson->'$._id'"
	// idIndexSuffix names the index: the table's name and this, apart from FerretDB's own
	// indexes, which are named the table's name, "_" and the index's name.
	idIndexSuffix = "__polyphony_id"
	// collectionsTable is FerretDB's list of collections and their tables.
	collectionsTable = "_ferretdb_collections"
)

// newIDIndexes returns the indexer for database name in the embedded server's folder dir.
func newIDIndexes(dir, name string) (*idIndexes, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return &idIndexes{file: filepath.Join(abs, name+".sqlite")}, nil
}

// open connects to the database's file. It waits for FerretDB's writes rather than failing
// (FerretDB keeps the file in WAL mode, so its readers are not held up), and never makes
// the file: FerretDB makes it with the database's first collection.
func (x *idIndexes) open() (*sql.DB, error) {
	q := url.Values{}
	q.Add("mode", "rw")
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+x.file+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// ensure makes the index on the tables of the collections named, or of every collection when
// names is nil, where it is missing. It returns the collections it made it for.
func (x *idIndexes) ensure(ctx context.Context, names []string) ([]string, error) {
	if _, err := os.Stat(x.file); errors.Is(err, os.ErrNotExist) {
		return nil, nil // no collection yet
	}
	db, err := x.open()
	if err != nil {
		return nil, err
	}
	defer db.Close()
	tables, err := x.tables(ctx, db)
	if err != nil {
		return nil, err
	}
	have, err := x.indexes(ctx, db)
	if err != nil {
		return nil, err
	}
	if names == nil {
		for name := range tables {
			names = append(names, name)
		}
	}
	var added []string
	for _, name := range names {
		table, ok := tables[name]
		if !ok || have[table+idIndexSuffix] {
			continue
		}
		q := fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)", quote(table+idIndexSuffix), quote(table), idExpr)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return added, fmt.Errorf("index _id of %s: %w", name, err)
		}
		added = append(added, name)
	}
	return added, nil
}

// tables maps each collection's name to its table's, as FerretDB records them.
func (x *idIndexes) tables(ctx context.Context, db *sql.DB) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT name, table_name FROM "+quote(collectionsTable))
	if err != nil {
		return nil, fmt.Errorf("list collections of %s: %w", x.file, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, table string
		if err := rows.Scan(&name, &table); err != nil {
			return nil, err
		}
		out[name] = table
	}
	return out, rows.Err()
}

// indexes lists the names of the file's indexes.
func (x *idIndexes) indexes(ctx context.Context, db *sql.DB) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'index'")
	if err != nil {
		return nil, fmt.Errorf("list indexes of %s: %w", x.file, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out[name] = true
	}
	return out, rows.Err()
}

// quote makes s an SQLite identifier.
func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Collection returns the named collection and remembers that the application uses it, so
// that EnsureCollections makes it and its _id index. Stores get every collection here when
// they are constructed.
func (db *DB) Collection(name string) *Collection {
	db.names.Store(name, struct{}{})
	return &Collection{db: db, c: db.mdb.Collection(name)}
}

// ferret reports whether the server is FerretDB on SQLite: embedded in this process, in
// another (Share), or shared by several databases (Config.Server).
func (db *DB) ferret() bool { return db.ids != nil }

// EnsureCollections makes every collection got through Collection that does not exist yet
// and, on embedded FerretDB, gives each the _id index FerretDB's reads can use (see
// idIndexes). It is safe to call at any time and as often as wanted; store constructors call
// it once they have their collections.
func (db *DB) EnsureCollections(ctx context.Context) error {
	if db.ids == nil {
		return nil
	}
	var names []string
	db.names.Range(func(k, _ any) bool {
		names = append(names, k.(string))
		return true
	})
	existing, err := db.mdb.ListCollectionNames(ctx, map[string]any{})
	if err != nil {
		return fmt.Errorf("list collections: %w", err)
	}
	exists := map[string]bool{}
	for _, n := range existing {
		exists[n] = true
	}
	for _, n := range names {
		if exists[n] {
			continue
		}
		err := db.mdb.CreateCollection(ctx, n)
		var se mongo.ServerError
		if err != nil && !(errors.As(err, &se) && se.HasErrorCode(namespaceExists)) {
			return fmt.Errorf("create collection %s: %w", n, err)
		}
	}
	if _, err := db.ids.ensure(ctx, names); err != nil {
		return err
	}
	return nil
}

// namespaceExists is the server's code for a collection made already (by another instance).
const namespaceExists = 48
