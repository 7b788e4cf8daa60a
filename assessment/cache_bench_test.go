package assessment_test

import (
	"context"
	"testing"

	"polyphony/assessment"
	"polyphony/internal/benchpair"
)

// BenchmarkCache serves the trainees' requests with each of the store's caches and without
// it, in the same run, on one store (so that what the store knows of open attempts is the
// same both ways):
//
//	go test -run '^$' -bench Cache ./assessment/
//
// save is an autosave of an open attempt's answer, view the attempt page of an open
// attempt, closed the page of a submitted one, and start a trainee's first attempt.
func BenchmarkCache(b *testing.B) {
	ctx := context.Background()
	s, _ := openStore(b)
	bank, qs := fillBank(b, s, 20)
	a := createAssessment(b, s, settings(bank.ID, ids(qs)))
	open := mustStart(b, s, trainee(1), a.ID)
	closed := mustStart(b, s, trainee(2), a.ID)
	if _, err := s.Submit(ctx, trainee(2), closed.ID); err != nil {
		b.Fatal(err)
	}
	option, next := 0, 3
	requests := map[string]func(){
		"save": func() {
			option = (option + 1) % 5
			if _, err := s.SaveAnswer(ctx, trainee(1), open.ID, 0, option); err != nil {
				b.Fatal(err)
			}
		},
		"view": func() {
			if _, err := s.AttemptView(ctx, trainee(1), open.ID); err != nil {
				b.Fatal(err)
			}
		},
		"start": func() {
			next++
			mustStart(b, s, trainee(next), a.ID)
		},
		"closed": func() {
			if _, err := s.AttemptView(ctx, trainee(2), closed.ID); err != nil {
				b.Fatal(err)
			}
		},
	}
	for _, cache := range []string{"papers", "attempts", "results", "questions", "assessments"} {
		for _, req := range []string{"save", "view", "closed", "start"} {
			b.Run(cache+"/"+req, func(b *testing.B) {
				off, on := assessment.CacheSwitch(s, cache)
				defer on()
				serve := requests[req]
				benchpair.Compare(b, func() { off(); serve() }, func() { on(); serve() })
			})
		}
	}
}
