package database_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	_ "modernc.org/sqlite"

	"polyphony/assessment"
	"polyphony/content"
	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/realtime"
)

// openFolder starts embedded FerretDB on dir with the database "p", closed when the test ends.
func openFolder(t testing.TB, dir string, log *slog.Logger) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), database.Config{Dir: dir, Listen: "127.0.0.1:0", Name: "p", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return db
}

// sqliteFile opens the SQLite file that FerretDB keeps the database "p" in, beside FerretDB.
func sqliteFile(t testing.TB, dir string) *sql.DB {
	t.Helper()
	f, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "p.sqlite")+"?mode=rw&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// collectionTables maps every collection FerretDB has made to its table.
func collectionTables(t testing.TB, f *sql.DB) map[string]string {
	t.Helper()
	rows, err := f.Query(`SELECT name, table_name FROM _ferretdb_collections`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, table string
		if err := rows.Scan(&name, &table); err != nil {
			t.Fatal(err)
		}
		out[name] = table
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// plan is SQLite's EXPLAIN QUERY PLAN of q, its details joined.
func plan(t testing.TB, f *sql.DB, q string, args ...any) string {
	t.Helper()
	rows, err := f.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var details []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		details = append(details, detail)
	}
	return strings.Join(details, "; ")
}

// idStatements are the statements FerretDB 1.24 issues for a find, an update and a delete by
// _id (internal/backends/sqlite/collection.go), for table.
func idStatements(table string) []string {
	return []string{
		fmt.Sprintf(`SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`, table),
		fmt.Sprintf(`SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ? LIMIT ?`, table),
		fmt.Sprintf(`UPDATE %q SET _ferretdb_sjson = ? WHERE _ferretdb_sjson->'$._id' = ?`, table),
		fmt.Sprintf(`DELETE FROM %q WHERE _ferretdb_sjson->'$._id' IN (?)`, table),
	}
}

// checkIDSearches fails the test for each collection whose reads by _id would scan.
func checkIDSearches(t *testing.T, f *sql.DB, tables map[string]string) {
	t.Helper()
	for name, table := range tables {
		for _, q := range idStatements(table) {
			args := []any{`"x"`, `"x"`}
			if strings.HasPrefix(q, "DELETE") {
				args = args[:1]
			}
			if p := plan(t, f, q, args...); !strings.Contains(p, "USING INDEX") || strings.Contains(p, "SCAN") {
				t.Errorf("collection %s: %s\n  plan %q, want a SEARCH using an index", name, q, p)
			}
		}
	}
}

// Every collection a fresh database gets once the stores are constructed, in the order
// `polyphony serve` constructs them, is read by _id through an index.
func TestEveryCollectionIsReadByIDThroughAnIndex(t *testing.T) {
	dir := t.TempDir()
	db := openFolder(t, dir, nil)
	ctx := context.Background()
	if _, err := accounts.NewService(ctx, db, accounts.Config{}); err != nil {
		t.Fatal(err)
	}
	cohorts, err := courses.NewStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := content.NewPages(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := assessment.NewStore(ctx, db); err != nil {
		t.Fatal(err)
	}
	journals, err := courses.NewJournals(ctx, db, cohorts, courses.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := realtime.NewTranscripts(ctx, db); err != nil {
		t.Fatal(err)
	}
	exports, err := courses.NewExportJobs(ctx, journals, courses.ExportArchives{}, nil, courses.ExportJobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	exports.Close()

	tables := collectionTables(t, sqliteFile(t, dir))
	for _, name := range []string{"users", "sessions", "cohorts", "programmes", "journal_revisions", "room_events", "attempts", "attempt_answers", "exportJobs", "supervision_sessions", "stamps", "secrets"} {
		if _, ok := tables[name]; !ok {
			t.Errorf("no collection %s after the stores were constructed; have %v", name, tables)
		}
	}
	checkIDSearches(t, sqliteFile(t, dir), tables)

	// FerretDB's reads by _id still find what they should, by string and by ObjectID.
	coll := database.Driver(db.Collection("journal_revisions"))
	oid := bson.NewObjectID()
	if _, err := coll.InsertMany(ctx, []any{bson.M{"_id": "s1", "n": 1}, bson.M{"_id": oid, "n": 2}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []any{"s1", oid} {
		var doc struct{ N int }
		if err := coll.FindOne(ctx, bson.M{"_id": id}).Decode(&doc); err != nil || doc.N == 0 {
			t.Errorf("find %v: %v, %+v", id, err, doc)
		}
	}
	if _, err := coll.InsertOne(ctx, bson.M{"_id": "s1"}); !mongo.IsDuplicateKeyError(err) {
		t.Errorf("a second s1: %v, want a duplicate key", err)
	}
}

// A collection dropped and made again gets its index again: the index goes with the table.
func TestIDIndexIsMadeAgainWithItsCollection(t *testing.T) {
	dir := t.TempDir()
	db := openFolder(t, dir, nil)
	ctx := context.Background()
	coll := database.Driver(db.Collection("things"))
	if err := db.EnsureCollections(ctx); err != nil {
		t.Fatal(err)
	}
	f := sqliteFile(t, dir)
	checkIDSearches(t, f, map[string]string{"things": collectionTables(t, f)["things"]})
	if err := coll.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureCollections(ctx); err != nil {
		t.Fatal(err)
	}
	// Idempotent: a second call changes nothing and fails nothing.
	if err := db.EnsureCollections(ctx); err != nil {
		t.Fatal(err)
	}
	tables := collectionTables(t, f)
	if tables["things"] == "" {
		t.Fatalf("things was not made again: %v", tables)
	}
	checkIDSearches(t, f, map[string]string{"things": tables["things"]})
}

// A data folder written before the index was made (the index dropped over SQLite, as the
// previous release left it) opens with every record, and the first start adds the indexes
// and says so in the log.
func TestFolderWithoutIDIndexesGetsThem(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	const perCollection = 300
	names := []string{"users", "journal_revisions", "room_events"}
	first, err := database.Open(ctx, database.Config{Dir: dir, Listen: "127.0.0.1:0", Name: "p"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		docs := make([]any, perCollection)
		for i := range docs {
			docs[i] = bson.M{"_id": fmt.Sprintf("%s-%d", name, i), "n": i}
		}
		if _, err := database.Driver(first.Collection(name)).InsertMany(ctx, docs); err != nil {
			t.Fatal(err)
		}
	}
	oid := bson.NewObjectID()
	if _, err := database.Driver(first.Collection("users")).InsertOne(ctx, bson.M{"_id": oid, "n": -1}); err != nil {
		t.Fatal(err)
	}
	first.Close(ctx)

	// Take away what this release adds, leaving the folder as the previous release wrote it.
	old, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "p.sqlite")+"?mode=rw&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := old.Query(`SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%__polyphony_id'`)
	if err != nil {
		t.Fatal(err)
	}
	var dropped []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		dropped = append(dropped, n)
	}
	rows.Close()
	for _, n := range dropped {
		if _, err := old.Exec(fmt.Sprintf("DROP INDEX %q", n)); err != nil {
			t.Fatal(err)
		}
	}
	tables := collectionTables(t, old)
	for name, table := range tables {
		if p := plan(t, old, idStatements(table)[0], `"x"`); !strings.Contains(p, "SCAN") {
			t.Fatalf("collection %s before the start: plan %q, want a scan as the previous release had", name, p)
		}
	}
	old.Close()

	var logged bytes.Buffer
	db := openFolder(t, dir, slog.New(slog.NewTextHandler(&logged, nil)))
	if got := strings.Count(logged.String(), "added the _id index"); got != 1 {
		t.Errorf("log after the first start: %d lines about the index, want 1\n%s", got, logged.String())
	}
	if !strings.Contains(logged.String(), fmt.Sprintf("collections=%d", len(tables))) {
		t.Errorf("log does not count the %d collections: %s", len(tables), logged.String())
	}
	for _, name := range names {
		coll := database.Driver(db.Collection(name))
		n, err := coll.CountDocuments(ctx, bson.M{})
		want := int64(perCollection)
		if name == "users" {
			want++
		}
		if err != nil || n != want {
			t.Errorf("%s: %d records, %v; want %d", name, n, err, want)
		}
		for _, i := range []int{0, perCollection / 2, perCollection - 1} {
			var doc struct{ N int }
			if err := coll.FindOne(ctx, bson.M{"_id": fmt.Sprintf("%s-%d", name, i)}).Decode(&doc); err != nil || doc.N != i {
				t.Errorf("%s record %d: %+v, %v", name, i, doc, err)
			}
		}
	}
	var doc struct{ N int }
	if err := database.Driver(db.Collection("users")).FindOne(ctx, bson.M{"_id": oid}).Decode(&doc); err != nil || doc.N != -1 {
		t.Errorf("record by ObjectID: %+v, %v", doc, err)
	}
	checkIDSearches(t, sqliteFile(t, dir), tables)

	// The next start has nothing to add and says nothing.
	db.Close(ctx)
	logged.Reset()
	openFolder(t, dir, slog.New(slog.NewTextHandler(&logged, nil)))
	if strings.Contains(logged.String(), "added the _id index") {
		t.Errorf("second start logged again: %s", logged.String())
	}
}

// BenchmarkFindByID reads one document by _id out of 20,000, at the first, middle and last
// row and for a missing id, with the index and without it (as FerretDB leaves a collection).
// It measures; it never fails on a time.
func BenchmarkFindByID(b *testing.B) {
	dir := b.TempDir()
	db := openFolder(b, dir, nil)
	ctx := context.Background()
	const n = 20_000
	coll := database.Driver(db.Collection("bench"))
	for start := 0; start < n; start += 1000 {
		docs := make([]any, 1000)
		for i := range docs {
			docs[i] = bson.M{"_id": fmt.Sprintf("d%06d", start+i), "text": strings.Repeat("x", 100)}
		}
		if _, err := coll.InsertMany(ctx, docs); err != nil {
			b.Fatal(err)
		}
	}
	f := sqliteFile(b, dir)
	table := collectionTables(b, f)["bench"]
	for _, indexed := range []bool{true, false} {
		mode := "indexed"
		if indexed {
			if err := db.EnsureCollections(ctx); err != nil {
				b.Fatal(err)
			}
		} else {
			mode = "scan"
			if _, err := f.Exec(fmt.Sprintf("DROP INDEX %q", table+"__polyphony_id")); err != nil {
				b.Fatal(err)
			}
		}
		for _, at := range []struct {
			name string
			id   string
		}{{"first", "d000000"}, {"middle", fmt.Sprintf("d%06d", n/2)}, {"last", fmt.Sprintf("d%06d", n-1)}, {"missing", "none"}} {
			b.Run(mode+"/"+at.name, func(b *testing.B) {
				for b.Loop() {
					err := coll.FindOne(ctx, bson.M{"_id": at.id}).Err()
					if err != nil && at.name != "missing" {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// A database on an embedded server that this process already runs for others gets the
// index too, and closing it leaves the server running.
func TestDatabaseOnARunningServerGetsIDIndexes(t *testing.T) {
	dir := t.TempDir()
	server, err := database.StartEmbedded(dir, "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Stop()
	ctx := context.Background()
	db, err := database.Open(ctx, database.Config{Server: server, Name: "p"})
	if err != nil {
		t.Fatal(err)
	}
	db.Collection("things")
	if err := db.EnsureCollections(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close(ctx)
	f := sqliteFile(t, dir)
	checkIDSearches(t, f, collectionTables(t, f))
	again, err := database.Open(ctx, database.Config{Server: server, Name: "p"})
	if err != nil {
		t.Fatalf("open after the first closed: %v", err)
	}
	defer again.Close(ctx)
	if err := again.Ping(ctx); err != nil {
		t.Errorf("server stopped with the first database: %v", err)
	}
}
