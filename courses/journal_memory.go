package courses

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
	"polyphony/internal/lru"
)

// revisionCache keeps the latest revision seen of each entry, within a memory budget. A
// revision never changes once stored, so what it holds is always true of that version;
// only whether it is still the latest can go stale, and only when another process saves
// (see JournalOptions.SoleWriter). When over budget it forgets the least recently used.
// Kept: opening an entry is 1.8–6.8× as fast with it (0.13–0.27 ms against 0.9–1.4 ms on a
// quiet machine); an autosave, one insert either way, gains little (0.9–2.1×, about 1.3× on
// a quiet machine; BenchmarkCacheJournal: go test -run '^$' -bench CacheJournal ./courses/).
type revisionCache struct {
	revs *lru.Cache[string, revisionDoc]
}

func newRevisionCache(max int64) *revisionCache {
	return &revisionCache{revs: lru.New(max, func(_ string, d revisionDoc) int64 { return revisionSize(d) })}
}

func revisionSize(d revisionDoc) int64 {
	n := len(d.Body) + len(d.Title) + 512
	for _, t := range d.Tags {
		n += len(t)
	}
	return int64(n + 64*(len(d.Links)+len(d.Attachments)))
}

func (c *revisionCache) get(entryID string) (revisionDoc, bool) {
	return c.revs.Get(entryID)
}

// put keeps d unless a later revision of the entry is already kept.
func (c *revisionCache) put(d revisionDoc) {
	c.revs.PutUnless(d.EntryID, d, func(old revisionDoc) bool { return old.Version >= d.Version })
}

func (c *revisionCache) drop(entryID string) {
	c.revs.Remove(entryID)
}

// headMemo remembers the last document seen of each chain (documents numbered 1, 2, 3 …
// under ids made from the number, never changed once stored), of at most maxHeads chains,
// forgetting the least recently used. Kept: opening an entry is 3.4–3.7× as fast with it
// (1.2× in one run on a busy machine; BenchmarkCacheJournal); without it every chain's head
// is found by a query that reads the whole collection.
type headMemo struct {
	heads *lru.Cache[string, head]
}

type head struct {
	n   int
	doc any
}

const maxHeads = 100_000

func newHeadMemo() *headMemo {
	return &headMemo{heads: lru.New[string, head](maxHeads, nil)}
}

func (m *headMemo) get(chain string) (head, bool) {
	return m.heads.Get(chain)
}

func (m *headMemo) put(chain string, n int, doc any) {
	m.heads.PutUnless(chain, head{n, doc}, func(h head) bool { return h.n > n })
}

func (m *headMemo) drop(chain string) {
	m.heads.Remove(chain)
}

// chainHead reads the last document of a chain, from the database on every call: with
// the query filter (sorted by field "seq"), or, for a store that is the only writer and has
// seen the chain, by probing the number after the one it saw, which on embedded FerretDB is
// a far cheaper read. none is the answer for an empty chain.
func chainHead[T any](ctx context.Context, j *Journals, coll *database.Collection, chain string, filter bson.M, id func(int) string, seq func(T) int, none T) (T, error) {
	get := func(n int) (T, error) { return findByID[T](ctx, coll, id(n)) }
	if h, ok := j.heads.get(chain); ok && j.soleWriter {
		n, doc, err := lastInChain(h.n, h.doc.(T), get)
		if err != nil {
			return none, err
		}
		j.heads.put(chain, n, doc)
		return doc, nil
	}
	doc, err := findLast[T](ctx, coll, filter, "seq")
	if errors.Is(err, failure.ErrNotFound) {
		doc = none
	} else if err != nil {
		return none, err
	}
	j.heads.put(chain, seq(doc), doc)
	return doc, nil
}

// lastInChain finds the last document of a chain numbered 1, 2, 3 … without gaps, given
// that number known exists and is doc (known 0: the chain may be empty). It probes
// known+1, known+3, known+7 … until one is missing, then halves the gap.
func lastInChain[T any](known int, doc T, get func(n int) (T, error)) (int, T, error) {
	lo, loDoc, hi := known, doc, 0
	for step := 1; hi == 0; step *= 2 {
		d, err := get(lo + step)
		switch {
		case errors.Is(err, failure.ErrNotFound):
			hi = lo + step
		case err != nil:
			return 0, loDoc, err
		default:
			lo, loDoc = lo+step, d
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		d, err := get(mid)
		switch {
		case errors.Is(err, failure.ErrNotFound):
			hi = mid
		case err != nil:
			return 0, loDoc, err
		default:
			lo, loDoc = mid, d
		}
	}
	return lo, loDoc, nil
}
