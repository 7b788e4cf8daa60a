package content

import (
	"slices"

	"polyphony/internal/lru"
)

// maxCachedSource is the largest source whose rendering is kept; longer ones are rare and
// would crowd out the rest.
const maxCachedSource = 256 << 10

// renderCache keeps the most recently used renderings, keyed by a hash of the source. Each
// entry remembers what the link resolver made of every relative link, so an entry is reused
// only while the links resolve as they did (a page linked to may be created meanwhile).
//
// It earns its place: a hit on the 10 KB page takes 13–24 µs against 1.1–3.1 ms to render
// it (83–126×, BenchmarkCacheRender), and B6's request is 3.6–11× as fast with it, since the
// page cache compares a page's HTML on every hit (BenchmarkCacheRenderB6 in server;
// go test -run '^$' -bench Cache ./content/ ./server/).
type renderCache struct {
	entries *lru.Cache[[32]byte, *cacheEntry]
}

type cacheEntry struct {
	out     Rendered
	targets []string // relative links offered to the resolver, in order
	hrefs   []string // what it made of them; "" when it declined
}

// newRenderCache returns a cache of at most size renderings (0: none).
func newRenderCache(size int) *renderCache {
	return &renderCache{entries: lru.New[[32]byte, *cacheEntry](int64(size), nil)}
}

// get returns the cached rendering of the source with this key, if links still resolves its
// relative links the same way. The resolver is called outside the cache's lock.
func (c *renderCache) get(key [32]byte, links LinkResolver) (Rendered, bool) {
	e, ok := c.entries.Get(key)
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
// changed after it is stored, so readers share it.
func (c *renderCache) put(key [32]byte, out Rendered, targets, hrefs []string, srcLen int) {
	if srcLen > maxCachedSource {
		return
	}
	c.entries.Put(key, &cacheEntry{out: out, targets: targets, hrefs: hrefs})
}

// len is the number of renderings kept.
func (c *renderCache) len() int {
	return c.entries.Len()
}
