package database_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

func TestTranslate(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	coll := db.Collection("things")
	if err := database.EnsureIndexes(ctx, coll, database.Index{Keys: []string{"email"}, Unique: true}); err != nil {
		t.Fatal(err)
	}
	// A second call must be harmless: indexes are created at every start.
	if err := database.EnsureIndexes(ctx, coll, database.Index{Keys: []string{"email"}, Unique: true}); err != nil {
		t.Fatalf("second EnsureIndexes: %v", err)
	}
	if err := coll.Insert(ctx, bson.M{"email": "a@example.org"}); err != nil {
		t.Fatal(err)
	}
	err := coll.Insert(ctx, bson.M{"email": "a@example.org"})
	if got := database.Translate(err); !errors.Is(got, failure.ErrConflict) {
		t.Errorf("duplicate insert: got %v, want ErrConflict", got)
	}
	if got := database.Translate(err); !errors.Is(got, database.ErrDuplicate) {
		t.Errorf("duplicate insert: got %v, want ErrDuplicate", got)
	}
	var none bson.M
	err = coll.ScanFirst(ctx, bson.M{"email": "nobody"}, database.Scan{}, &none)
	if got := database.Translate(err); !errors.Is(got, failure.ErrNotFound) {
		t.Errorf("missing find: got %v, want ErrNotFound", got)
	}
}

// A grouped insert is a duplicate only when every document it refused was one; each
// document's own outcome is in InsertManyErrors, in the same kinds.
func TestTranslateGroupedInserts(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	// The driver's own errors, which Translate translates.
	coll := database.Driver(db.Collection("grouped"))
	if _, err := coll.InsertOne(ctx, bson.M{"_id": "a"}); err != nil {
		t.Fatal(err)
	}
	unordered := options.InsertMany().SetOrdered(false)

	_, err := coll.InsertMany(ctx, []any{bson.M{"_id": "a"}, bson.M{"_id": "b"}}, unordered)
	if got := database.Translate(err); !errors.Is(got, database.ErrDuplicate) || !errors.Is(got, failure.ErrConflict) {
		t.Errorf("only a duplicate refused: got %v, want ErrDuplicate (a conflict)", got)
	}
	errs := database.InsertManyErrors(err, 2)
	if !errors.Is(errs[0], database.ErrDuplicate) || errs[1] != nil {
		t.Errorf("each document: %v, want [ErrDuplicate <nil>]", errs)
	}

	// An _id that is an array is refused for another reason than a duplicate.
	_, err = coll.InsertMany(ctx, []any{bson.M{"_id": "a"}, bson.M{"_id": bson.A{1}}, bson.M{"_id": "c"}}, unordered)
	if err == nil {
		t.Fatal("an array _id was stored")
	}
	if got := database.Translate(err); errors.Is(got, failure.ErrConflict) {
		t.Errorf("a duplicate and another refusal: got %v, want no conflict", got)
	}
	errs = database.InsertManyErrors(err, 3)
	if !errors.Is(errs[0], database.ErrDuplicate) || errs[1] == nil || errors.Is(errs[1], failure.ErrConflict) {
		t.Errorf("each document: %v, want [ErrDuplicate, another refusal, ...]", errs)
	}
	if errs := database.InsertManyErrors(nil, 2); errs[0] != nil || errs[1] != nil {
		t.Errorf("no error: %v", errs)
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"mongodb://127.0.0.1:27017/", "mongodb://127.0.0.1:27017/"},
		{"mongodb://user:secret@db.example:27017/x", "mongodb://user:xxxxx@db.example:27017/x"},
		{"mongodb+srv://u:p@h/?a=b@c", "mongodb+srv://u:xxxxx@h/?a=b@c"},
		{"mongodb://u:pa/ss@h/", "mongodb://u:xxxxx@h/"},
	} {
		if got := database.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A second opener of the same folder must not open the SQLite files under the first one; with
// Share set it reaches the first one's listener and sees the same records.
func TestEmbeddedFolderIsShared(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	ctx := context.Background()
	first, err := database.Open(ctx, database.Config{Dir: dir, Listen: "127.0.0.1:0", Name: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close(ctx)
	if err := first.Collection("c").Insert(ctx, bson.M{"_id": "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := database.Open(ctx, database.Config{Dir: dir, Listen: "127.0.0.1:0", Name: "p"}); !errors.Is(err, database.ErrInUse) {
		t.Fatalf("second open without Share: got %v, want ErrInUse", err)
	}
	second, err := database.Open(ctx, database.Config{Dir: dir, Listen: "127.0.0.1:0", Name: "p", Share: true})
	if err != nil {
		t.Fatalf("second open with Share: %v", err)
	}
	defer second.Close(ctx)
	if !second.Shared() || second.Embedded() {
		t.Errorf("second: shared=%v embedded=%v, want true false", second.Shared(), second.Embedded())
	}
	n, err := second.Collection("c").Count(ctx, bson.M{"_id": "x"})
	if err != nil || n != 1 {
		t.Errorf("count through shared listener = %d, %v; want 1", n, err)
	}

	// After the holder stops, the folder can be opened again and the record survived.
	first.Close(ctx)
	third, err := database.Open(ctx, database.Config{Dir: dir, Listen: "127.0.0.1:0", Name: "p"})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer third.Close(ctx)
	n, _ = third.Collection("c").Count(ctx, bson.M{"_id": "x"})
	if n != 1 {
		t.Errorf("after restart count = %d, want 1", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "listener.json")); err != nil {
		t.Errorf("listener.json while running: %v", err)
	}
	_ = time.Second
}
