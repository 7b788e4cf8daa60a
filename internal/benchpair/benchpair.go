// Package benchpair measures one request served two ways in the same benchmark run, with a
// cache and without, so that a cache can be judged by what it saves on a machine whose
// speed varies from one run to the next.
package benchpair

import (
	"testing"
	"time"
)

// chunk is how many calls of one way run before the other's turn: the two ways alternate,
// so that a slow spell of the machine falls on both.
const chunk = 64

// Compare runs without and with b.N times each, alternating, and reports each one's time per
// call (uncached-ns/op, cached-ns/op) and speedup, the first divided by the second. It
// never fails on a time.
func Compare(b *testing.B, without, with func()) {
	b.Helper()
	compare(b, nil, without, with)
}

// CompareWithBaseline is Compare with a third way, base (a bare handler serving the same
// answer), run alternately with the other two; it also reports how fast each way is beside
// it (uncached-ratio, cached-ratio: the base's time divided by the way's, so 0.5 is half
// the base's requests per second).
func CompareWithBaseline(b *testing.B, base, without, with func()) {
	b.Helper()
	compare(b, base, without, with)
}

func compare(b *testing.B, base, without, with func()) {
	ways := []func(){without, with}
	if base != nil {
		ways = append(ways, base)
	}
	// One call of each first, so that none pays for what another set up.
	for _, f := range ways {
		f()
	}
	took := make([]time.Duration, len(ways))
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(chunk, b.N-done)
		for i, f := range ways {
			start := time.Now()
			for range n {
				f()
			}
			took[i] += time.Since(start)
		}
		done += n
	}
	b.StopTimer()
	perOp := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
	b.ReportMetric(perOp(took[0]), "uncached-ns/op")
	b.ReportMetric(perOp(took[1]), "cached-ns/op")
	b.ReportMetric(perOp(took[0])/perOp(took[1]), "speedup")
	if base != nil {
		b.ReportMetric(perOp(took[2])/perOp(took[0]), "uncached-ratio")
		b.ReportMetric(perOp(took[2])/perOp(took[1]), "cached-ratio")
	}
}
