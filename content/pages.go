package content

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// revisionsCollection holds every revision of every page. Nothing in it is ever updated:
// saving inserts the next revision, and the unique index on (slug, revision) lets exactly one
// of two saves on the same base win, on engines whose updates are not atomic too.
const revisionsCollection = "page_revisions"

// indexCollection reaches the revisions by _id: the list document "slugs" names every page,
// and "head/<slug>" is the hint of a page's latest revision, written after it is stored. A
// missing or stale hint costs a few more reads, never a wrong answer: the reader goes on
// from it while the next revision exists. On embedded FerretDB any filter but exactly
// {_id: <string>} reads the whole collection, so every read of a page is by _id.
const indexCollection = "page_index"

const slugsList = "slugs"

// pagesLayoutMark is the _id, in the index, of the document that says the index lists
// every page. A data folder written before the index lacks it, and the first start lists
// its pages once (see migrate).
const pagesLayoutMark = "layout:pages-by-id-1"

func headID(slug string) string { return "head/" + slug }

// Pages stores curriculum pages as revisions; the highest revision of a slug is the page.
type Pages struct {
	db    *database.DB
	coll  *database.Collection
	index *database.Collection
	now   func() time.Time
	cache *database.Cache[[]Page]
}

// PagesOption changes how NewPages opens the store.
type PagesOption func(*pagesOptions)

type pagesOptions struct{ log *slog.Logger }

// WithLogger gives the store the logger that hears what the start-up does to the data
// folder (pages listed from an earlier layout).
func WithLogger(l *slog.Logger) PagesOption { return func(o *pagesOptions) { o.log = l } }

// NewPages returns the page store, creating its indexes if they are missing and listing
// the pages of an earlier layout.
func NewPages(ctx context.Context, db *database.DB, opts ...PagesOption) (*Pages, error) {
	o := pagesOptions{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	coll := db.Collection(revisionsCollection)
	err := database.EnsureIndexes(ctx, coll, database.Index{
		Keys: []string{"slug", "revision"}, Unique: true, Name: "slug_revision_unique",
	})
	// Pages are read on almost every request and change rarely: the current pages are kept
	// in memory while the revisions' stamp is unchanged. Listing them reads the slug list and
	// each page's latest revision by _id, a read per page; BenchmarkCachePages times Get with
	// the cache and without (go test -run '^$' -bench CachePages ./content/).
	cache := database.NewCache(db, revisionsCollection, time.Minute, func(ps []Page) []Page { return append([]Page(nil), ps...) })
	s := &Pages{db: db, coll: coll, index: db.Collection(indexCollection), now: time.Now, cache: cache}
	if err == nil {
		err = s.migrate(ctx, o.log)
	}
	if err == nil {
		err = db.EnsureCollections(ctx)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// migrate lists the pages of a data folder written before the index existed, once: it
// reads the revisions once, at start-up, and says so in the log.
func (s *Pages) migrate(ctx context.Context, log *slog.Logger) error {
	switch done, err := s.index.Exists(ctx, pagesLayoutMark); {
	case err != nil:
		return fmt.Errorf("pages layout: %w", err)
	case done:
		return nil
	}
	var docs []struct {
		Slug     string `bson:"slug"`
		Revision int    `bson:"revision"`
	}
	if err := s.coll.ScanAll(ctx, nil, database.Scan{Fields: []string{"slug", "revision"}}, &docs); err != nil {
		return fmt.Errorf("pages layout: %w", err)
	}
	latest := map[string]int{}
	for _, d := range docs {
		latest[d.Slug] = max(latest[d.Slug], d.Revision)
	}
	for _, slug := range slices.Sorted(maps.Keys(latest)) {
		if err := s.db.AddToList(ctx, s.index, slugsList, "slugs", slug); err != nil {
			return err
		}
		s.noteHead(ctx, slug, latest[slug])
	}
	if err := database.InsertOnce(ctx, s.index, bson.M{"_id": pagesLayoutMark}); err != nil {
		return err
	}
	if len(latest) > 0 {
		log.Info("curriculum pages listed in the layout read by id", "pages", len(latest), "revisions", len(docs))
	}
	return nil
}

// noteHead raises the hint of the page's latest revision to n. The revision is stored
// already, so a failure here loses nothing.
func (s *Pages) noteHead(ctx context.Context, slug string, n int) {
	_ = s.index.Upsert(ctx, headID(slug), bson.M{"$max": bson.M{"revision": n}})
}

// revisionDoc is a stored revision.
type revisionDoc struct {
	ID                 string     `bson:"_id"` // slug/revision
	Slug               string     `bson:"slug"`
	Revision           int        `bson:"revision"`
	Title              string     `bson:"title"`
	Module             int        `bson:"module"`
	Order              int        `bson:"order"`
	ReadingMinutes     int        `bson:"readingMinutes"`
	ReleaseFrom        *time.Time `bson:"releaseFrom,omitempty"`
	ReleaseAfterModule int        `bson:"releaseAfterModule,omitempty"`
	Body               string     `bson:"body"`
	SavedAt            time.Time  `bson:"savedAt"`
	SavedBy            string     `bson:"savedBy"`
	Hash               string     `bson:"hash"`
}

func revisionID(slug string, revision int) string { return slug + "/" + strconv.Itoa(revision) }

func toDoc(p Page) revisionDoc {
	d := revisionDoc{
		ID: revisionID(p.Slug, p.Revision), Slug: p.Slug, Revision: p.Revision, Title: p.Title,
		Module: p.Module, Order: p.Order, ReadingMinutes: p.ReadingMinutes,
		ReleaseAfterModule: p.Release.AfterModule, Body: p.Body,
		SavedAt: p.SavedAt, SavedBy: p.SavedBy, Hash: p.Hash,
	}
	if !p.Release.From.IsZero() {
		from := p.Release.From
		d.ReleaseFrom = &from
	}
	return d
}

func (d revisionDoc) page() Page {
	p := Page{
		Slug: d.Slug, Revision: d.Revision, Title: d.Title, Module: d.Module, Order: d.Order,
		ReadingMinutes: d.ReadingMinutes, Release: Release{AfterModule: d.ReleaseAfterModule},
		Body: d.Body, SavedAt: d.SavedAt.UTC(), SavedBy: d.SavedBy, Hash: d.Hash,
	}
	if d.ReleaseFrom != nil {
		p.Release.From = d.ReleaseFrom.UTC()
	}
	return p
}

// Save checks p as the pack loader would (title, slug, module, release, and links to pages
// that exist) and stores it as revision baseRevision+1; baseRevision 0 creates the page. If
// the page's latest revision is not baseRevision, because someone saved it meanwhile, Save
// returns a *ConflictError holding the latest, and stores nothing.
func (s *Pages) Save(ctx context.Context, p Page, baseRevision int, by string) (Page, error) {
	p, links, err := p.normalize()
	if err != nil {
		return Page{}, err
	}
	if len(links) > 0 {
		known, err := s.slugs(ctx)
		if err != nil {
			return Page{}, err
		}
		if err := checkLinks(p.Slug, links, func(slug string) bool { return known[slug] > 0 }); err != nil {
			return Page{}, err
		}
	}
	return s.insert(ctx, p, baseRevision, by)
}

// insert stores a checked page as the revision after baseRevision.
func (s *Pages) insert(ctx context.Context, p Page, baseRevision int, by string) (Page, error) {
	if baseRevision < 0 {
		return Page{}, failure.Invalid("baseRevision", "must be 0 for a new page or the revision the change was made to")
	}
	cur, err := s.latest(ctx, p.Slug)
	switch {
	case errors.Is(err, failure.ErrNotFound) && baseRevision > 0:
		return Page{}, fmt.Errorf("page %q: %w", p.Slug, failure.ErrNotFound)
	case errors.Is(err, failure.ErrNotFound):
	case err != nil:
		return Page{}, err
	case cur.Revision != baseRevision:
		return Page{}, &ConflictError{Current: cur, created: baseRevision == 0}
	}
	p.Revision = baseRevision + 1
	p.SavedAt = s.now().UTC().Truncate(time.Millisecond)
	p.SavedBy = by
	// Listed before it is stored: a listed page without a revision is passed over.
	if err := s.db.AddToList(ctx, s.index, slugsList, "slugs", p.Slug); err != nil {
		return Page{}, fmt.Errorf("save page %q: %w", p.Slug, err)
	}
	err = s.coll.Insert(ctx, toDoc(p))
	if errors.Is(err, database.ErrDuplicate) {
		// Another save on the same base won between the read and the insert.
		cur, err := s.latest(ctx, p.Slug)
		if err != nil {
			return Page{}, err
		}
		return Page{}, &ConflictError{Current: cur, created: baseRevision == 0}
	}
	if err != nil {
		return Page{}, fmt.Errorf("save page %q: %w", p.Slug, err)
	}
	s.noteHead(ctx, p.Slug, p.Revision)
	if err := s.db.Touch(ctx, revisionsCollection); err != nil {
		return Page{}, err
	}
	return p, nil
}

// Get returns the latest revision of a page.
func (s *Pages) Get(ctx context.Context, slug string) (Page, error) {
	pages, err := s.List(ctx)
	if err != nil {
		return Page{}, err
	}
	for _, p := range pages {
		if p.Slug == slug {
			return p, nil
		}
	}
	return Page{}, fmt.Errorf("page %q: %w", slug, failure.ErrNotFound)
}

// latest reads a page's newest revision from the database itself, for the checks a save
// makes: the revision the hint names, then the next ones by id while they exist.
func (s *Pages) latest(ctx context.Context, slug string) (Page, error) {
	get := func(n int) (revisionDoc, error) {
		return database.FindByID[revisionDoc](ctx, s.coll, revisionID(slug, n))
	}
	known, doc := 0, revisionDoc{}
	var head struct {
		Revision int `bson:"revision"`
	}
	switch err := s.index.Get(ctx, headID(slug), &head); {
	case err == nil && head.Revision > 0:
		d, err := get(head.Revision)
		if err == nil {
			known, doc = head.Revision, d
		} else if !errors.Is(err, failure.ErrNotFound) {
			return Page{}, err
		}
	case err != nil && !errors.Is(err, failure.ErrNotFound):
		return Page{}, fmt.Errorf("page %q: %w", slug, err)
	}
	n, d, err := lastRevision(known, doc, get)
	if err != nil {
		return Page{}, err
	}
	if n == 0 {
		return Page{}, fmt.Errorf("page %q: %w", slug, failure.ErrNotFound)
	}
	if n > known {
		s.noteHead(ctx, slug, n)
	}
	return d.page(), nil
}

// lastRevision finds the last revision of a page, numbered 1, 2, 3 … without gaps, given
// that revision known exists and is doc (known 0: the page may have none). It probes
// known+1, known+3, known+7 … until one is missing, then halves the gap.
func lastRevision(known int, doc revisionDoc, get func(n int) (revisionDoc, error)) (int, revisionDoc, error) {
	lo, loDoc, hi := known, doc, 0
	probe := func(n int) (bool, error) {
		d, err := get(n)
		switch {
		case errors.Is(err, failure.ErrNotFound):
			return false, nil
		case err != nil:
			return false, err
		}
		lo, loDoc = n, d
		return true, nil
	}
	for step := 1; hi == 0; step *= 2 {
		n := lo + step
		found, err := probe(n)
		if err != nil {
			return 0, loDoc, err
		}
		if !found {
			hi = n
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		found, err := probe(mid)
		if err != nil {
			return 0, loDoc, err
		}
		if !found {
			hi = mid
		}
	}
	return lo, loDoc, nil
}

// Revision returns revision n of a page.
func (s *Pages) Revision(ctx context.Context, slug string, n int) (Page, error) {
	d, err := database.FindByID[revisionDoc](ctx, s.coll, revisionID(slug, n))
	if err != nil {
		return Page{}, fmt.Errorf("page %q revision %d: %w", slug, n, err)
	}
	return d.page(), nil
}

// Revisions returns every revision of a page, newest first.
func (s *Pages) Revisions(ctx context.Context, slug string) ([]Page, error) {
	latest, err := s.latest(ctx, slug)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, latest.Revision)
	for n := latest.Revision; n >= 1; n-- {
		ids = append(ids, revisionID(slug, n))
	}
	docs, err := database.FindEachByID[revisionDoc](ctx, s.coll, ids)
	if err != nil {
		return nil, fmt.Errorf("revisions of page %q: %w", slug, err)
	}
	pages := make([]Page, len(docs))
	for i, d := range docs {
		pages[i] = d.page()
	}
	return pages, nil
}

// List returns the latest revision of every page, by module, then order, then title.
func (s *Pages) List(ctx context.Context) ([]Page, error) {
	return s.cache.Get(ctx, "list", s.list)
}

func (s *Pages) list(ctx context.Context) ([]Page, error) {
	var listed struct {
		Slugs []string `bson:"slugs"`
	}
	err := s.index.Get(ctx, slugsList, &listed)
	if err != nil && !errors.Is(err, failure.ErrNotFound) {
		return nil, fmt.Errorf("list pages: %w", err)
	}
	if len(listed.Slugs) == 0 {
		return nil, nil
	}
	pages := make([]Page, 0, len(listed.Slugs))
	for _, slug := range listed.Slugs {
		p, err := s.latest(ctx, slug)
		if errors.Is(err, failure.ErrNotFound) {
			continue // listed by a save that stopped before storing it
		}
		if err != nil {
			return nil, err
		}
		pages = append(pages, p)
	}
	sort.Slice(pages, func(i, j int) bool {
		a, b := pages[i], pages[j]
		if a.Module != b.Module {
			return a.Module < b.Module
		}
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		if a.Title != b.Title {
			return a.Title < b.Title
		}
		return a.Slug < b.Slug
	})
	return pages, nil
}

// Exists reports whether the curriculum has a page with the slug (in any state of release).
func (s *Pages) Exists(ctx context.Context, slug string) (bool, error) {
	_, err := s.Get(ctx, slug)
	if errors.Is(err, failure.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// slugs maps every page's slug to its latest revision.
func (s *Pages) slugs(ctx context.Context) (map[string]int, error) {
	pages, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	latest := make(map[string]int, len(pages))
	for _, p := range pages {
		latest[p.Slug] = p.Revision
	}
	return latest, nil
}

// Restore saves revision n's content as a new revision after baseRevision, with the same
// conflict rule as Save.
func (s *Pages) Restore(ctx context.Context, slug string, n, baseRevision int, by string) (Page, error) {
	old, err := s.Revision(ctx, slug, n)
	if err != nil {
		return Page{}, err
	}
	return s.Save(ctx, old, baseRevision, by)
}

// ImportResult counts what an import did to each page of the pack.
type ImportResult struct {
	Created   int
	Updated   int
	Unchanged int
}

// Import saves every page of a pack whose content differs from its latest revision, so
// that importing the same pack again changes nothing. The whole pack is checked before
// anything is saved; links may point at pages of the pack or pages already stored.
func (s *Pages) Import(ctx context.Context, pack Pack, by string) (ImportResult, error) {
	known, err := s.slugs(ctx)
	if err != nil {
		return ImportResult{}, err
	}
	inPack := map[string]bool{}
	for _, pp := range pack.Pages {
		if inPack[pp.Slug] {
			return ImportResult{}, failure.Invalidf("slug", "%q is the slug of two pages of the pack", pp.Slug)
		}
		inPack[pp.Slug] = true
	}
	isKnown := func(slug string) bool { return inPack[slug] || known[slug] > 0 }
	pages := make([]Page, len(pack.Pages))
	for i, pp := range pack.Pages {
		p, links, err := Page{Slug: pp.Slug, Title: pp.Title, Module: pp.Module, Order: pp.Order,
			ReadingMinutes: pp.ReadingMinutes, Release: pp.Release, Body: pp.Body}.normalize()
		if err == nil {
			err = checkLinks(p.Slug, links, isKnown)
		}
		if err != nil {
			return ImportResult{}, fmt.Errorf("%s: %w", pp.File, err)
		}
		pages[i] = p
	}
	var res ImportResult
	for _, p := range pages {
		cur, err := s.latest(ctx, p.Slug)
		switch {
		case errors.Is(err, failure.ErrNotFound):
			if _, err := s.insert(ctx, p, 0, by); err != nil {
				return res, err
			}
			res.Created++
		case err != nil:
			return res, err
		case cur.Hash == p.Hash:
			res.Unchanged++
		default:
			if _, err := s.insert(ctx, p, cur.Revision, by); err != nil {
				return res, err
			}
			res.Updated++
		}
	}
	return res, nil
}
