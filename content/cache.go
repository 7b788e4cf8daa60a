package content

import (
	"container/list"
	"slices"
	"sync"
)

// maxCachedSource is the largest source whose rendering is kept; longer ones are rare and
// would crowd out the rest.
const maxCachedSource = 256 << 10

// renderCache keeps the most recently used renderings, keyed by a hash of the source. Each
// entry remembers what the link resolver made of every relative link, so an entry is reused
// only while the links resolve as they did (a page linked to may be created meanwhile).
type renderCache struct {
	mu      sync.Mutex
	size    int
	order   *list.List // of *cacheEntry, most recently used first
	entries map[[32]byte]*list.Element
}

type cacheEntry struct {
	key     [32]byte
	out     Rendered
	targets []string // relative links offered to the resolver, in order
	hrefs   []string // what it made of them; "" when it declined
}

func newRenderCache(size int) *renderCache {
	return &renderCache{size: size, order: list.New(), entries: map[[32]byte]*list.Element{}}
}

// get returns the cached rendering of the source with this key, if links still resolves its
// relative links the same way. The resolver is called outside the lock.
func (c *renderCache) get(key [32]byte, links LinkResolver) (Rendered, bool) {
	c.mu.Lock()
	el, ok := c.entries[key]
	var e *cacheEntry
	if ok {
		c.order.MoveToFront(el)
		e = el.Value.(*cacheEntry)
	}
	c.mu.Unlock()
	if !ok {
		return Rendered{}, false
	}
	res := newResolution(links)
	for _, t := range e.targets {
		res.resolve(t)
	}
	if !slices.Equal(res.hrefs, e.hrefs) {
		return Rendered{}, false
	}
	return e.out.clone(), true
}

// put stores a rendering, dropping the least recently used when full. The entry is never
// changed after it is stored, so readers may use it without the lock.
func (c *renderCache) put(key [32]byte, out Rendered, targets, hrefs []string, srcLen int) {
	if srcLen > maxCachedSource {
		return
	}
	e := &cacheEntry{key: key, out: out, targets: targets, hrefs: hrefs}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		el.Value = e
		c.order.MoveToFront(el)
		return
	}
	c.entries[key] = c.order.PushFront(e)
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.entries, last.Value.(*cacheEntry).key)
	}
}

// len is the number of renderings kept.
func (c *renderCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
