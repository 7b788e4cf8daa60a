// Package database connects Polyphony to its MongoDB-wire server (MongoDB itself, or FerretDB
// embedded in the process) and translates the driver's errors into the domain's.
package database

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"polyphony/internal/failure"
)

// Config says where the records live.
type Config struct {
	// URI of a MongoDB-wire server; empty means embedded FerretDB in Dir.
	URI string
	// Name of the database.
	Name string
	// Dir holds the embedded server's files.
	Dir string
	// Listen is the embedded server's loopback listener (host:port).
	Listen string
	// Logger receives the embedded server's log.
	Logger *slog.Logger
	// Share lets a command use the listener of another process that holds Dir.
	Share bool
	// Server is an embedded server already running in this process, to hold several
	// databases on one server (tests, benchmarks); it is used instead of URI and Dir, and
	// Close leaves it running.
	Server *Embedded
	// Monitor, when set, sees every command the client sends; tests use it to check what
	// a store asks the database.
	Monitor *event.CommandMonitor
}

// DB is one client and the database every store works in.
type DB struct {
	// mdb is the driver's database; no store sees it (Collection is their way in).
	mdb      *mongo.Database
	client   *mongo.Client
	embedded *Embedded
	uri      string
	shared   bool
	locks    *serializer
	logger   *slog.Logger
	touched  *touchCounts
	// ids makes the _id indexes on embedded FerretDB; nil on MongoDB.
	ids *idIndexes
	// names holds every collection got through Collection.
	names sync.Map
}

// Open connects to the configured server, starting the embedded one when no URI is given.
// With Share set and the folder held by a running server, it connects to that server's
// listener instead.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Name == "" {
		cfg.Name = "polyphony"
	}
	db := &DB{uri: cfg.URI, locks: &serializer{}, logger: cfg.Logger, touched: &touchCounts{n: map[string]uint64{}}}
	if cfg.Server != nil {
		db.uri, cfg.Dir = cfg.Server.URI(), cfg.Server.dir
	}
	if db.uri == "" {
		emb, err := StartEmbedded(cfg.Dir, cfg.Listen, cfg.Logger)
		var inUse *InUseError
		switch {
		case errors.As(err, &inUse) && cfg.Share && inUse.URI != "":
			db.uri, db.shared = inUse.URI, true
		case errors.As(err, &inUse):
			return nil, fmt.Errorf("%w (stop that process first, or set MONGODB_URI)", err)
		case err != nil:
			return nil, err
		default:
			db.embedded, db.uri = emb, emb.URI()
		}
	}
	client, err := mongo.Connect(options.Client().ApplyURI(db.uri).
		SetServerSelectionTimeout(10 * time.Second).
		SetAppName("polyphony").
		SetMonitor(cfg.Monitor))
	if err != nil {
		db.stopEmbedded()
		return nil, fmt.Errorf("connect to %s: %w", Redact(db.uri), err)
	}
	db.client = client
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := client.Ping(pingCtx, readpref.Primary()); err != nil {
		db.Close(context.Background())
		return nil, fmt.Errorf("reach database at %s: %w", Redact(db.uri), err)
	}
	db.mdb = client.Database(cfg.Name)
	if db.embedded != nil || db.shared || cfg.Server != nil {
		if err := db.locks.openStripes(cfg.Dir); err != nil {
			db.Close(context.Background())
			return nil, err
		}
		if err := db.startIDIndexes(ctx, cfg); err != nil {
			db.Close(context.Background())
			return nil, err
		}
	}
	return db, nil
}

// startIDIndexes gives the collections already in an embedded database the _id index they
// lack (a folder written before the index was made, or a collection made by a write that no
// store announced), and says so in the log.
func (db *DB) startIDIndexes(ctx context.Context, cfg Config) error {
	ids, err := newIDIndexes(cfg.Dir, cfg.Name)
	if err != nil {
		return err
	}
	db.ids = ids
	db.Collection(stampsCollection)
	db.Collection(secretsCollection)
	added, err := ids.ensure(ctx, nil)
	if err != nil {
		return err
	}
	if len(added) > 0 && cfg.Logger != nil {
		cfg.Logger.Info("added the _id index that embedded FerretDB reads by", "collections", len(added))
	}
	return nil
}

// URI is the server address, with any password removed.
func (db *DB) URI() string { return Redact(db.uri) }

// Embedded reports whether this process runs the database server itself.
func (db *DB) Embedded() bool { return db.embedded != nil }

// Shared reports whether the connection goes through another process's embedded server.
func (db *DB) Shared() bool { return db.shared }

// Ping checks that the server answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.client.Ping(ctx, readpref.Primary())
}

// Name is the database's name.
func (db *DB) Name() string { return db.mdb.Name() }

// CollectionNames lists the collections the database holds, for tests and tools.
func (db *DB) CollectionNames(ctx context.Context) ([]string, error) {
	names, err := db.mdb.ListCollectionNames(ctx, bson.M{})
	if err != nil {
		return nil, fmt.Errorf("list collections: %w", err)
	}
	return names, nil
}

// Drop removes the database and everything in it (a test's, a benchmark's).
func (db *DB) Drop(ctx context.Context) error {
	if err := db.mdb.Drop(ctx); err != nil {
		return fmt.Errorf("drop database %s: %w", db.Name(), err)
	}
	return nil
}

// Close disconnects and stops the embedded server, if any.
func (db *DB) Close(ctx context.Context) error {
	var err error
	if db.client != nil {
		err = db.client.Disconnect(ctx)
	}
	db.stopEmbedded()
	db.locks.close()
	return err
}

func (db *DB) stopEmbedded() {
	if db.embedded != nil {
		db.embedded.Stop()
		db.embedded = nil
	}
}

// ErrDuplicate means a write found its unique key taken: the record is stored already (a
// retry, another instance) or someone else made it first. It is a failure.ErrConflict, and
// Translate is the one place that recognises the server's duplicate-key refusals.
var ErrDuplicate = fmt.Errorf("already stored: %w", failure.ErrConflict)

// Translate turns the driver's errors into the domain's: no document → failure.ErrNotFound;
// a duplicate key, or a grouped insert refused only for duplicate keys → ErrDuplicate (a
// failure.ErrConflict). Other errors come back wrapped as they are.
func Translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return failure.ErrNotFound
	case isDuplicate(err):
		return fmt.Errorf("%w: %w", ErrDuplicate, err)
	default:
		return err
	}
}

// isDuplicate reports whether err is nothing but duplicate-key refusals.
func isDuplicate(err error) bool {
	var bulk mongo.BulkWriteException
	if errors.As(err, &bulk) {
		if bulk.WriteConcernError != nil || len(bulk.WriteErrors) == 0 {
			return false
		}
		for _, we := range bulk.WriteErrors {
			if !mongo.IsDuplicateKeyError(we) {
				return false
			}
		}
		return true
	}
	return mongo.IsDuplicateKeyError(err)
}

// InsertManyErrors splits the error of an unordered InsertMany of n documents into each
// document's, translated: nil for one stored, ErrDuplicate for one stored already, the
// server's refusal for any other. An error about the whole write is every document's.
func InsertManyErrors(err error, n int) []error {
	errs := make([]error, n)
	if err == nil {
		return errs
	}
	var bulk mongo.BulkWriteException
	if errors.As(err, &bulk) && bulk.WriteConcernError == nil && len(bulk.WriteErrors) > 0 {
		for _, we := range bulk.WriteErrors {
			if we.Index >= 0 && we.Index < n {
				errs[we.Index] = Translate(we)
			}
		}
		return errs
	}
	for i := range errs {
		errs[i] = Translate(err)
	}
	return errs
}

// Redact removes the password from a connection string.
func Redact(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return uri
	}
	// The user information ends at the last "@" before the options; a password with a stray
	// "/" (which should be escaped) is still hidden.
	authority, _, _ := strings.Cut(rest, "?")
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return uri
	}
	userinfo := rest[:at]
	if user, _, hasPass := strings.Cut(userinfo, ":"); hasPass {
		return scheme + "://" + user + ":xxxxx" + rest[at:]
	}
	return uri
}

// secretsCollection holds the secrets SharedSecret makes.
const secretsCollection = "secrets"

// NewID returns a new record id: an ObjectID in hex, so ids sort by creation time.
func NewID() string { return bson.NewObjectID().Hex() }

// SharedSecret returns the secret stored under name, making and storing a random one of size
// bytes the first time. Every instance on the same database gets the same secret.
func SharedSecret(ctx context.Context, db *DB, name string, size int) ([]byte, error) {
	coll := db.Collection(secretsCollection)
	var doc struct {
		Value []byte `bson:"value"`
	}
	err := coll.Get(ctx, name, &doc)
	if err == nil {
		return doc.Value, nil
	}
	if !errors.Is(err, failure.ErrNotFound) {
		return nil, fmt.Errorf("read secret %s: %w", name, err)
	}
	value := make([]byte, size)
	if _, err := rand.Read(value); err != nil {
		return nil, err
	}
	err = coll.Insert(ctx, bson.M{"_id": name, "value": value})
	if errors.Is(err, ErrDuplicate) {
		// Another instance made it first: use theirs.
		return SharedSecret(ctx, db, name, size)
	}
	if err != nil {
		return nil, fmt.Errorf("store secret %s: %w", name, err)
	}
	return value, nil
}
