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
	// One call of each first, so that neither pays for what the other set up.
	without()
	with()
	var tWithout, tWith time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(chunk, b.N-done)
		start := time.Now()
		for range n {
			without()
		}
		mid := time.Now()
		for range n {
			with()
		}
		tWithout += mid.Sub(start)
		tWith += time.Since(mid)
		done += n
	}
	b.StopTimer()
	uncached := float64(tWithout.Nanoseconds()) / float64(b.N)
	cached := float64(tWith.Nanoseconds()) / float64(b.N)
	b.ReportMetric(uncached, "uncached-ns/op")
	b.ReportMetric(cached, "cached-ns/op")
	b.ReportMetric(uncached/cached, "speedup")
}
