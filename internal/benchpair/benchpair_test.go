package benchpair

import (
	"testing"
	"time"
)

// The speedup reported is the slower way's time over the faster's.
func TestCompareReportsSpeedup(t *testing.T) {
	res := testing.Benchmark(func(b *testing.B) {
		Compare(b, func() { spin(40 * time.Microsecond) }, func() { spin(10 * time.Microsecond) })
	})
	speedup := res.Extra["speedup"]
	if speedup < 1.5 {
		t.Errorf("speedup %.2f for calls taking 4 times as long without, want well above 1", speedup)
	}
	if res.Extra["uncached-ns/op"] < res.Extra["cached-ns/op"] {
		t.Errorf("uncached %.0f ns below cached %.0f ns", res.Extra["uncached-ns/op"], res.Extra["cached-ns/op"])
	}
}

func TestCompareWithBaselineReportsRatios(t *testing.T) {
	res := testing.Benchmark(func(b *testing.B) {
		CompareWithBaseline(b, func() { spin(10 * time.Microsecond) }, func() { spin(40 * time.Microsecond) }, func() { spin(20 * time.Microsecond) })
	})
	if r := res.Extra["uncached-ratio"]; r <= 0 || r > 0.6 {
		t.Errorf("uncached-ratio %.2f for a way four times as slow as the base, want about 0.25", r)
	}
	if r := res.Extra["cached-ratio"]; r < 0.3 || r > 0.9 {
		t.Errorf("cached-ratio %.2f for a way twice as slow as the base, want about 0.5", r)
	}
}

// spin keeps the processor busy for d (a sleep that short lasts as long as the scheduler
// likes).
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}
