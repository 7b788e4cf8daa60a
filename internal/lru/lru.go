// Package lru keeps the most recently used values in one process, within a bound on their
// total cost (a count, or bytes), for values that are expensive to make again.
package lru

import (
	"container/list"
	"sync"
)

// Cache maps keys to values, dropping the least recently used once the values' total cost
// passes the bound. It is safe for concurrent use. Values are stored and returned as they
// are: a caller that shares a value through the cache must not change it.
type Cache[K comparable, V any] struct {
	max  int64
	cost func(K, V) int64

	mu    sync.Mutex
	used  int64
	order *list.List // of *entry[K, V], most recently used first
	items map[K]*list.Element
}

type entry[K comparable, V any] struct {
	key  K
	val  V
	cost int64
}

// New returns a cache whose values cost at most max in all, each costing what cost says
// (nil: 1 each, so that max is a count). A max of 0 or less keeps nothing.
func New[K comparable, V any](max int64, cost func(K, V) int64) *Cache[K, V] {
	if cost == nil {
		cost = func(K, V) int64 { return 1 }
	}
	return &Cache[K, V]{max: max, cost: cost, order: list.New(), items: map[K]*list.Element{}}
}

// Get returns the value under key and makes it the most recently used.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry[K, V]).val, true
}

// Put stores val under key, replacing what was there, and drops the least recently used
// values past the bound. A value costing more than the whole bound is not kept (and
// whatever was under key is dropped).
func (c *Cache[K, V]) Put(key K, val V) {
	c.PutUnless(key, val, func(V) bool { return false })
}

// PutUnless is Put, unless the value already under key is one that keep says to keep (a
// later version of the same thing, say): it reports whether val was stored. The check and
// the store are one step, so that of two callers putting at once the later version wins;
// keep runs with the cache locked, so it must not use the cache.
func (c *Cache[K, V]) PutUnless(key K, val V, keep func(held V) bool) bool {
	n := c.cost(key, val)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		if keep(el.Value.(*entry[K, V]).val) {
			c.order.MoveToFront(el)
			return false
		}
		c.removeLocked(el)
	}
	if n > c.max {
		return false
	}
	c.items[key] = c.order.PushFront(&entry[K, V]{key: key, val: val, cost: n})
	c.used += n
	for c.used > c.max {
		c.removeLocked(c.order.Back())
	}
	return true
}

// Remove drops the value under key, if any.
func (c *Cache[K, V]) Remove(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.removeLocked(el)
	}
}

func (c *Cache[K, V]) removeLocked(el *list.Element) {
	e := el.Value.(*entry[K, V])
	c.order.Remove(el)
	delete(c.items, e.key)
	c.used -= e.cost
}

// Len is how many values the cache holds.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// Cost is the total cost of the values the cache holds.
func (c *Cache[K, V]) Cost() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}
