// Package ttlcache keeps values for a short, fixed lifetime in one process.
//
// It is for answers that are read on nearly every request and change rarely, where the
// database is slow to ask: signed-in sessions, a person's memberships, cohorts, and the values
// of a database.Cache (which forgets them all when their stamp changes). Whoever changes such
// a value forgets it here at once; the lifetime bounds how long a change made elsewhere
// (another process on the same database) goes unseen. It is the one such cache; the one
// bounded by recent use is internal/lru.
//
// A load that began before a Forget must not put what it read, which may be exactly what
// was forgotten: read Generation before loading and put with PutIfUnchanged.
package ttlcache

import (
	"sync"
	"time"
)

// Cache maps keys to values that are trusted for ttl after they were put.
type Cache[V any] struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[string]entry[V]
	gen     uint64
}

type entry[V any] struct {
	v  V
	at time.Time
}

// New returns a cache whose values live for ttl, holding at most max of them (a full cache
// drops its expired entries, then everything). A ttl of 0 or less caches nothing.
func New[V any](ttl time.Duration, max int) *Cache[V] {
	return &Cache[V]{ttl: ttl, max: max, entries: map[string]entry[V]{}}
}

// Get returns the value put under key if it was put less than the lifetime before now.
func (c *Cache[V]) Get(key string, now time.Time) (V, bool) {
	var zero V
	if c.ttl <= 0 {
		return zero, false
	}
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if !ok || now.Sub(e.at) >= c.ttl || now.Before(e.at) {
		return zero, false
	}
	return e.v, true
}

// Generation is the count of forgets so far, to read before loading a value.
func (c *Cache[V]) Generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// PutIfUnchanged stores v under key as of now, unless anything was forgotten since gen was
// read.
func (c *Cache[V]) PutIfUnchanged(key string, v V, now time.Time, gen uint64) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if now.Sub(e.at) >= c.ttl {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	c.entries[key] = entry[V]{v: v, at: now}
}

// Update changes the value under key in place, keeping when it was put; a missing key is
// left missing.
func (c *Cache[V]) Update(key string, f func(V) V) {
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		e.v = f(e.v)
		c.entries[key] = e
	}
	c.mu.Unlock()
}

// Forget drops the value under key.
func (c *Cache[V]) Forget(key string) {
	c.mu.Lock()
	c.gen++
	delete(c.entries, key)
	c.mu.Unlock()
}

// ForgetWhere drops every value for which match is true.
func (c *Cache[V]) ForgetWhere(match func(V) bool) {
	c.mu.Lock()
	c.gen++
	for k, e := range c.entries {
		if match(e.v) {
			delete(c.entries, k)
		}
	}
	c.mu.Unlock()
}

// ForgetAll drops every value.
func (c *Cache[V]) ForgetAll() {
	c.mu.Lock()
	c.gen++
	clear(c.entries)
	c.mu.Unlock()
}

// Len is how many values the cache holds, expired ones included.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
