package assessment_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"polyphony/assessment"
)

// sitMany has n trainees, numbered from first, each start an attempt at the assessment,
// answer the first answered questions and submit.
func sitMany(tb testing.TB, s *assessment.Store, assessmentID string, first, n, answered int) {
	tb.Helper()
	ctx := context.Background()
	parallel(tb, n, 4, func(i int) error {
		who := trainee(first + i)
		v, err := s.Start(ctx, who, assessmentID)
		if err != nil {
			return err
		}
		for q := range min(answered, len(v.Questions)) {
			if _, err := s.SaveAnswer(ctx, who, v.ID, q, (i+q)%len(v.Questions[q].Options)); err != nil {
				return err
			}
		}
		_, err = s.Submit(ctx, who, v.ID)
		return err
	})
}

// BenchmarkReports times the results and the item analysis of an assessment of 50 questions
// that 90 trainees sat (answering ten questions each), alone in the database ("empty") and beside 2,000 attempts at 20
// other assessments ("year"). What they cost should not grow with the other attempts.
// ResultsFirstRead is the results read by a store that has read nothing yet, as after a
// restart.
func BenchmarkReports(b *testing.B) {
	for _, others := range []int{0, 2000} {
		name := map[int]string{0: "empty", 2000: "year"}[others]
		b.Run(name, func(b *testing.B) {
			s, clock, db := openStoreDB(b)
			bank, qs := fillBank(b, s, 50)
			in := settings(bank.ID, ids(qs))
			in.AttemptsAllowed = 2
			a := createAssessment(b, s, in)
			sitMany(b, s, a.ID, 0, 90, 10)
			for k := range 20 {
				in.Title = fmt.Sprintf("Other %d", k)
				o := createAssessment(b, s, in)
				sitMany(b, s, o.ID, 1000+k*others/20, others/20, 0)
			}
			// Past every deadline, as a report read days later is.
			clock.Set(t0.Add(48 * time.Hour))
			ctx := context.Background()
			// As after a restart: a store that has read nothing yet, opened afresh before each
			// ResultsFirstRead.
			var fresh *assessment.Store
			reopen := func() {
				var err error
				if fresh, err = assessment.NewStore(ctx, db, assessment.WithClock(clock.Now)); err != nil {
					b.Fatal(err)
				}
			}
			for _, r := range []struct {
				name string
				run  func() error
			}{
				{"Results", func() error {
					rs, err := s.Results(ctx, assessor, a.ID, assessment.PickFirst)
					if err == nil && len(rs) != 90 {
						err = fmt.Errorf("%d results, want 90", len(rs))
					}
					return err
				}},
				{"ResultsFirstRead", func() error {
					rs, err := fresh.Results(ctx, assessor, a.ID, assessment.PickFirst)
					if err == nil && len(rs) != 90 {
						err = fmt.Errorf("%d results, want 90", len(rs))
					}
					return err
				}},
				{"ItemAnalysis", func() error {
					an, err := s.Analysis(ctx, assessor, a.ID, assessment.PickFirst)
					if err == nil && an.N != 90 {
						err = fmt.Errorf("analysis of %d attempts, want 90", an.N)
					}
					return err
				}},
			} {
				b.Run(r.name, func(b *testing.B) {
					var ds []time.Duration
					for range b.N {
						if r.name == "ResultsFirstRead" {
							reopen()
						}
						began := time.Now()
						if err := r.run(); err != nil {
							b.Fatal(err)
						}
						ds = append(ds, time.Since(began))
					}
					b.ReportMetric(float64(percentile(ds, 0.50).Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(percentile(ds, 0.99).Microseconds())/1000, "p99-ms")
				})
			}
		})
	}
}
