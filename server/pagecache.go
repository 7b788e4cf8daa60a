package server

import (
	"container/list"
	"sync"
)

// pageCache keeps whole rendered pages, for pages that people read again and again (the
// curriculum). An entry is found by a key that names everything the page shows, the
// reader's name, role and CSRF token included, so an entry is never served to anyone but
// the reader it was made for, and a change to any part makes a new key rather than a stale
// hit. The large part, the page's HTML, is not in the key: it is kept in the entry and
// compared on every hit (cheap, since a hit usually holds the very same string).
type pageCache struct {
	mu       sync.Mutex
	maxBytes int
	bytes    int
	order    *list.List // of *pageEntry, most recently used first
	entries  map[string]*list.Element
}

type pageEntry struct {
	key  string
	html string
	out  []byte
}

// pageCacheBytes bounds the memory the page cache holds: about 1,300 pages of 12 KB.
const pageCacheBytes = 16 << 20

func newPageCache(maxBytes int) *pageCache {
	return &pageCache{maxBytes: maxBytes, order: list.New(), entries: map[string]*list.Element{}}
}

// get returns the page stored under key for exactly this HTML.
func (c *pageCache) get(key, html string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*pageEntry)
	if e.html != html {
		return nil, false
	}
	c.order.MoveToFront(el)
	return e.out, true
}

// put stores a page, dropping the least recently used ones past the size bound. The
// caller must not change out afterwards.
func (c *pageCache) put(key, html string, out []byte) {
	size := len(key) + len(out) // the HTML is shared with the render cache
	if size > c.maxBytes/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		old := el.Value.(*pageEntry)
		c.bytes -= len(old.key) + len(old.out)
		c.order.Remove(el)
	}
	c.entries[key] = c.order.PushFront(&pageEntry{key: key, html: html, out: out})
	c.bytes += size
	for c.bytes > c.maxBytes {
		el := c.order.Back()
		e := el.Value.(*pageEntry)
		c.order.Remove(el)
		delete(c.entries, e.key)
		c.bytes -= len(e.key) + len(e.out)
	}
}
