package assessment

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
	"polyphony/internal/lru"
)

// The collections (doc.go says how each is written) and the sizes of the caches.
const (
	banksCollection       = "banks"
	revisionsCollection   = "question_revisions"
	versionsCollection    = "assessment_versions"
	papersCollection      = "papers"
	attemptsCollection    = "attempts"
	answersCollection     = "attempt_answers"
	closesCollection      = "attempt_closes"
	resultsCollection     = "attempt_results"
	openCollection        = "open_attempts"
	estimatesCollection   = "angoff_estimates"
	attemptCacheEntries   = 8192
	paperCacheEntries     = 256
	cacheTTL              = time.Minute
	defaultSweepFrequency = 30 * time.Second
)

// Store keeps banks, questions, assessments, attempts, results and standard setting.
type Store struct {
	db        *database.DB
	banks     *database.Collection
	revisions *database.Collection
	versions  *database.Collection
	papers    *database.Collection
	attempts  *database.Collection
	answers   *database.Collection
	closes    *database.Collection
	results   *database.Collection
	open      *database.Collection
	estimates *database.Collection
	lists     *database.Collection

	now func() time.Time
	log *slog.Logger
	w   *writer

	// The caches, each kept for what it saves on the trainees' requests, as measured with
	// it and without in one run (BenchmarkCache: go test -run '^$' -bench Cache ./assessment/):
	//  - bankQuestions (a bank's questions, read by a query over its revisions): starting an
	//    attempt is 2.7–3.8× as fast with it;
	//  - assessments (every assessment, read by a query over all versions): an open
	//    attempt's page 38–220×, starting one 1.1–2.4×;
	//  - paperCache (papers, rendered once each): an open attempt's page 280–460× (0.03–0.09
	//    ms against 15–24 ms), a submitted one's 4,500–7,800×, starting one 3.3–5×;
	//  - attemptCache: an autosave 2.2–8.9×, an open attempt's page 61–81×;
	//  - resultCache: a submitted attempt's page 1,260–2,270×.
	bankQuestions *database.Cache[[]Question]
	assessments   *database.Cache[[]Assessment]
	paperCache    *lru.Cache[string, *paper]
	attemptCache  *lru.Cache[string, *attemptDoc]
	resultCache   *lru.Cache[string, *resultDoc]
	// live holds the latest answers of attempts this instance knows to be open. On FerretDB
	// the store is the only writer of attempts (on an embedded database only the server
	// writes them), so what it knows it need not read back: the trainees' paths then read
	// nothing. Elsewhere (sole false) it is
	// only where reading starts. It is the store's knowledge as the only writer rather than a
	// cache of reads, so it has no benchmark of its own.
	live *lru.Cache[string, *answerSnapshot]
	sole bool
	// shared says that other instances may write attempts too, whatever the database.
	shared bool

	// latestMu guards latest: the highest attempt number seen for "assessment-user" (0 when
	// there was none). Attempts are never removed, so it is a lower bound that saves reading
	// from 1 each time, and, when the store is the only writer, the number itself.
	latestMu sync.Mutex
	latest   map[string]int
}

// StoreOption changes how NewStore sets up the store.
type StoreOption func(*Store)

// WithClock makes the store read the time from now instead of time.Now: tests move it past
// deadlines.
func WithClock(now func() time.Time) StoreOption {
	return func(s *Store) { s.now = now }
}

// WithLogger makes the store log to l instead of slog.Default(): what it brought over from
// an earlier layout of its records.
func WithLogger(l *slog.Logger) StoreOption {
	return func(s *Store) { s.log = l }
}

// NewStore returns the store, creating its indexes if they are missing, and brings records
// written in an earlier layout to the current one (see migrateLayout).
func NewStore(ctx context.Context, db *database.DB, opts ...StoreOption) (*Store, error) {
	s := &Store{
		db:        db,
		banks:     db.Collection(banksCollection),
		revisions: db.Collection(revisionsCollection),
		versions:  db.Collection(versionsCollection),
		papers:    db.Collection(papersCollection),
		attempts:  db.Collection(attemptsCollection),
		answers:   db.Collection(answersCollection),
		closes:    db.Collection(closesCollection),
		results:   db.Collection(resultsCollection),
		open:      db.Collection(openCollection),
		estimates: db.Collection(estimatesCollection),
		lists:     db.Collection(listsCollection),
		now:       time.Now,
		log:       slog.Default(),
		latest:    map[string]int{},
	}
	for _, o := range opts {
		o(s)
	}
	index := func(coll *database.Collection, unique bool, keys ...string) error {
		return database.EnsureIndexes(ctx, coll, database.Index{Keys: keys, Unique: unique})
	}
	for _, ix := range []struct {
		coll   *database.Collection
		unique bool
		keys   []string
	}{
		{s.banks, true, []string{"name"}},
		{s.revisions, false, []string{"bankId"}},
		{s.versions, false, []string{"assessmentId"}},
		{s.results, false, []string{"assessmentId"}},
		{s.open, false, []string{"deadline"}},
		{s.open, false, []string{"assessmentId"}},
		{s.estimates, false, []string{"assessmentId"}},
	} {
		if err := index(ix.coll, ix.unique, ix.keys...); err != nil {
			return nil, err
		}
	}
	if err := db.EnsureCollections(ctx); err != nil {
		return nil, err
	}
	s.bankQuestions = database.NewCache(db, revisionsCollection, cacheTTL, cloneQuestions)
	s.assessments = database.NewCache(db, versionsCollection, cacheTTL, cloneAssessments)
	s.paperCache = lru.New[string, *paper](paperCacheEntries, nil)
	s.attemptCache = lru.New[string, *attemptDoc](attemptCacheEntries, nil)
	s.resultCache = lru.New[string, *resultDoc](attemptCacheEntries, nil)
	s.live = lru.New[string, *answerSnapshot](attemptCacheEntries, nil)
	w, err := newWriter(ctx, db)
	if err != nil {
		return nil, err
	}
	s.w, s.sole = w, w.serial && !s.shared
	if err := s.migrateLayout(ctx, s.log); err != nil {
		return nil, err
	}
	return s, nil
}

// clock is the store's current time, to the millisecond that the database keeps.
func (s *Store) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func cloneQuestions(qs []Question) []Question {
	out := make([]Question, len(qs))
	for i, q := range qs {
		out[i] = q.clone()
	}
	return out
}

// findOne reads the document with the id into v; a missing one is failure.ErrNotFound.
func findOne(ctx context.Context, coll *database.Collection, id string, v any) error {
	return coll.Get(ctx, id, v)
}

// findAll reads every document matching filter, in the order of sort. On embedded FerretDB
// it reads the whole collection: only start-up and the background sweep use it.
func findAll[T any](ctx context.Context, coll *database.Collection, filter bson.M, sort bson.D) ([]T, error) {
	out := []T{}
	if err := coll.ScanAll(ctx, filter, database.Scan{Sort: sort}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// insertOnce inserts doc; if a document with its _id exists already it reads that one into
// existing instead (when existing is not nil) and reports false. This is how contended
// records are written: of many writers, exactly one inserts, and the others see what it
// inserted.
func (s *Store) insertOnce(ctx context.Context, coll *database.Collection, id string, doc any, existing any) (inserted bool, err error) {
	err = s.w.insert(ctx, coll, doc)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, errExists) {
		return false, err
	}
	if existing == nil {
		return false, nil
	}
	return false, findOne(ctx, coll, id, existing)
}

// touch records that the records stamped name changed (database.Touch), through the writer.
func (s *Store) touch(ctx context.Context, name string) error {
	return s.w.run(func() error { return s.db.Touch(ctx, name) })
}

func isNotFound(err error) bool { return errors.Is(err, failure.ErrNotFound) }
