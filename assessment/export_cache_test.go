package assessment

import (
	"polyphony/internal/database"
	"polyphony/internal/lru"
)

// CacheSwitch returns calls that take the store's cache named (papers, attempts, results,
// questions, assessments) away and put it back, keeping what it holds, so that benchmarks
// can serve the same request with the cache and without on one store.
func CacheSwitch(s *Store, name string) (off, on func()) {
	switch name {
	case "papers":
		kept := s.paperCache
		return func() { s.paperCache = lru.New[string, *paper](0, nil) }, func() { s.paperCache = kept }
	case "attempts":
		kept := s.attemptCache
		return func() { s.attemptCache = lru.New[string, *attemptDoc](0, nil) }, func() { s.attemptCache = kept }
	case "results":
		kept := s.resultCache
		return func() { s.resultCache = lru.New[string, *resultDoc](0, nil) }, func() { s.resultCache = kept }
	case "questions":
		kept, none := s.bankQuestions, database.NewCache(s.db, revisionsCollection, 0, cloneQuestions)
		return func() { s.bankQuestions = none }, func() { s.bankQuestions = kept }
	case "assessments":
		kept, none := s.assessments, database.NewCache(s.db, versionsCollection, 0, cloneAssessments)
		return func() { s.assessments = none }, func() { s.assessments = kept }
	}
	panic("no cache " + name)
}
