// Package dbtest gives each test a fresh database on a real MongoDB-wire server: embedded
// FerretDB, one per test binary, or the server named by MONGODB_URI when it is set.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"polyphony/internal/database"
)

var (
	once      sync.Once
	sharedURI string
	startErr  error
	// embedded is kept reachable for the life of the test binary: were it collected, its lock
	// file would be closed, and another test binary would take the folder for abandoned.
	embedded *database.Embedded
)

// URI returns the address of the test server, starting embedded FerretDB on first use.
// The embedded server lives until the test binary exits.
func URI(tb testing.TB) string {
	tb.Helper()
	once.Do(func() {
		if uri := os.Getenv("MONGODB_URI"); uri != "" {
			sharedURI = uri
			return
		}
		removeAbandoned()
		dir, err := os.MkdirTemp("", "polyphony-dbtest-")
		if err != nil {
			startErr = err
			return
		}
		embedded, startErr = database.StartEmbedded(dir, "127.0.0.1:0", nil)
		if startErr != nil {
			return
		}
		sharedURI = embedded.URI()
	})
	if startErr != nil {
		tb.Fatalf("start test database: %v", startErr)
	}
	return sharedURI
}

// New returns a connection to a fresh, uniquely named database that is dropped when the test
// ends.
func New(tb testing.TB) *database.DB {
	tb.Helper()
	return NewMonitored(tb, nil)
}

// NewMonitored is New with a command monitor on the connection, which sees every command
// the connection sends; nil is no monitor.
func NewMonitored(tb testing.TB, mon *event.CommandMonitor) *database.DB {
	tb.Helper()
	uri := URI(tb)
	name := "test_" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// On the embedded server the database knows the server's folder, so that its
	// collections get the _id index as they do in a real data folder.
	db, err := database.Open(ctx, database.Config{URI: uri, Name: name, Server: embedded, Monitor: mon})
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
		db.Close(ctx)
	})
	return db
}

// Client returns a bare driver client to the test server, for checks that look under the
// stores.
func Client(tb testing.TB) *mongo.Client {
	tb.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(URI(tb)))
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(func() { c.Disconnect(context.Background()) })
	return c
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// removeAbandoned deletes the folders of earlier test binaries' embedded servers. A test
// binary cannot remove its own at exit, but its lock dies with it: a folder whose lock can be
// taken belongs to no running process.
func removeAbandoned() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "polyphony-dbtest-*"))
	for _, dir := range dirs {
		f, err := os.OpenFile(filepath.Join(dir, "polyphony.lock"), os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.RemoveAll(dir)
		}
		f.Close()
	}
}
