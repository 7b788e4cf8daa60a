package database

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/failure"
	"polyphony/internal/ttlcache"
)

// A stamp is a small document that changes whenever a set of records does, so that a cache
// in any instance can tell with one read by _id whether what it holds is still current.
// Reading by _id is the one query embedded FerretDB answers without a scan; filters, sorts
// and even counts read every document of a collection.

const stampsCollection = "stamps"

// StampRecheck is how often a cache asks the database for its stamp. A change made through
// this DB is seen at once, without asking; one made by another process on the same database
// (another instance, a command-line tool) is seen within this time.
const StampRecheck = time.Second

// touchCounts counts, per stamp name, the changes made through this DB.
type touchCounts struct {
	mu sync.Mutex
	n  map[string]uint64
}

func (t *touchCounts) get(name string) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n[name]
}

func (t *touchCounts) bump(name string) {
	t.mu.Lock()
	t.n[name]++
	t.mu.Unlock()
}

// Touch records that the records named by name changed. Call it after the change is stored.
func (db *DB) Touch(ctx context.Context, name string) error {
	// Counted even if the stamp cannot be written: this process's caches reload either way.
	defer db.touched.bump(name)
	b := make([]byte, 12)
	rand.Read(b)
	err := db.Collection(stampsCollection).Upsert(ctx, name, bson.M{"$set": bson.M{"v": hex.EncodeToString(b)}})
	if err != nil {
		return fmt.Errorf("stamp %s: %w", name, err)
	}
	return nil
}

func (db *DB) stamp(ctx context.Context, name string) (string, error) {
	var doc struct {
		V string `bson:"v"`
	}
	err := db.Collection(stampsCollection).Get(ctx, name, &doc)
	if errors.Is(err, failure.ErrNotFound) {
		return "", nil
	}
	return doc.V, err
}

// Cache keeps values loaded from the records named by a stamp, for as long as the stamp is
// unchanged and at most ttl after each was loaded (which bounds staleness should a writer die
// between storing a change and touching the stamp). The stamp itself is read at most once per
// StampRecheck, and at once after a Touch through the same DB. Values are cloned on the way
// out, so callers may change what they get. A ttl of 0 or less keeps nothing.
//
// The values live in a ttlcache.Cache, whose generation rule keeps a load that began before
// the stamp was seen to change from putting back what it read.
type Cache[T any] struct {
	db     *DB
	name   string
	clone  func(T) T
	values *ttlcache.Cache[T]

	mu      sync.Mutex
	stamp   string
	checked time.Time // when the stamp was last read
	touches uint64    // this DB's touch count for the stamp when it was last read
}

// maxCacheValues bounds each Cache (the keys are few: a list, a cohort's programme, a bank).
const maxCacheValues = 10_000

// NewCache returns a cache of values read from the records stamped name.
func NewCache[T any](db *DB, name string, ttl time.Duration, clone func(T) T) *Cache[T] {
	return &Cache[T]{db: db, name: name, clone: clone, values: ttlcache.New[T](ttl, maxCacheValues)}
}

// Get returns the value for key, calling load when the cache has no current one.
func (c *Cache[T]) Get(ctx context.Context, key string, load func(context.Context) (T, error)) (T, error) {
	touches := c.db.touched.get(c.name)
	now := time.Now()
	c.mu.Lock()
	current := touches == c.touches && now.Sub(c.checked) < StampRecheck && !now.Before(c.checked)
	c.mu.Unlock()
	if current {
		if v, ok := c.values.Get(key, now); ok {
			return c.clone(v), nil
		}
	}

	stamp, err := c.db.stamp(ctx, c.name)
	if err != nil {
		var zero T
		return zero, err
	}
	c.mu.Lock()
	if stamp != c.stamp {
		c.stamp = stamp
		c.values.ForgetAll()
	}
	// The touch count was read before the stamp, so a touch in between makes the next Get
	// read the stamp again.
	c.checked, c.touches = now, touches
	// Read under the lock, so that a Get that sees the stamp change after this point
	// refuses what this one loads.
	gen := c.values.Generation()
	c.mu.Unlock()
	if v, ok := c.values.Get(key, now); ok {
		return c.clone(v), nil
	}
	// Loaded after the stamp was read, so the value is at least as new as the stamp says.
	v, err := load(ctx)
	if err != nil {
		return v, err
	}
	c.values.PutIfUnchanged(key, v, now, gen)
	return c.clone(v), nil
}
