package main

import (
	"fmt"
	"io"
	"runtime"
	"time"
)

// report gathers the figures of a run.
type report struct {
	cfg   config
	knee  map[string]kneeResult
	idle  map[string]idleResult
	turns *turnResult
	notes []string
	took  time.Duration
}

// kneeResult is B1 for one system: the best level that passed, and every level tried.
type kneeResult struct {
	Best  stepResult
	Steps []stepResult
}

func newReport(cfg config) *report {
	return &report{cfg: cfg, knee: map[string]kneeResult{}, idle: map[string]idleResult{}}
}

func (r stepResult) String() string {
	verdict := "pass"
	if !r.Pass {
		verdict = "FAIL"
	}
	lag := ""
	if r.Lagged {
		lag = " senders-lagged"
	}
	return fmt.Sprintf("%7.2f says/s/member  %9.0f deliveries/s  p50 %6.1f ms  p99 %6.1f ms  delivered %d/%d  dup/gap %d  closed %d%s  %s  (setup %.1fs, settle %.1fs)",
		r.Rate, r.PerSecond, ms(r.P50), ms(r.P99), r.Delivered, r.Expected, r.Anomalies, r.Closed, lag, verdict,
		r.Setup.Seconds(), r.Settle.Seconds())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func (r *report) write(w io.Writer) {
	c := r.cfg
	fmt.Fprintf(w, "\npolyphony-bench  %s/%s, %d CPUs, %s, took %s\n", runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), runtime.Version(), r.took.Round(time.Second))
	fmt.Fprintf(w, "parameters: B1 %d rooms × %d members, %d-byte texts, %s per level, at most %d levels, first level %.0f deliveries/s;\n",
		c.Rooms, c.Members, textSize, c.StepTime, c.MaxSteps, c.StartRate)
	fmt.Fprintf(w, "            B2 %d idle connections in rooms of %d; B3 %d members, %d rounds\n",
		c.Idle, c.Members, c.TurnMembers, c.Rounds)
	buf := "64 (default)"
	if c.SendBuffer > 0 {
		buf = fmt.Sprint(c.SendBuffer)
	}
	fmt.Fprintf(w, "Polyphony: transcripts on (embedded FerretDB), rate limit lifted to 1e6/s burst 1e6, send buffer %s;\n", buf)
	fmt.Fprintf(w, "peer: chat-example hub, send buffer %d. Clients of B1 and B3 run in this process.\n\n", peerSendBuffer)

	fmt.Fprintf(w, "%-4s %-44s %14s %14s %8s  %s\n", "#", "figure", "peer", "polyphony", "ratio", "target")
	if p, q := r.knee["peer"], r.knee["polyphony"]; len(p.Steps)+len(q.Steps) > 0 {
		fmt.Fprintf(w, "%-4s %-44s %14.0f %14.0f %8s  %s\n", "B1", "deliveries/s at p99 ≤ 50 ms, no drops",
			p.Best.PerSecond, q.Best.PerSecond, ratio(q.Best.PerSecond, p.Best.PerSecond), "≥ 0.80×")
		fmt.Fprintf(w, "%-4s %-44s %14.2f %14.2f %8s\n", "", "  at says/s per member", p.Best.Rate, q.Best.Rate, "")
		fmt.Fprintf(w, "%-4s %-44s %14.1f %14.1f %8s\n", "", "  p99 ms at that level", ms(p.Best.P99), ms(q.Best.P99), "")
	}
	if one, two := r.knee["polyphony"], r.knee["polyphony×2"]; len(two.Steps) > 0 {
		fmt.Fprintf(w, "%-4s %-44s %14s %14s %8s  %s\n", "B4", "two instances via NATS, members split", "one instance", "two", "", "")
		fmt.Fprintf(w, "%-4s %-44s %14.0f %14.0f %8s  %s\n", "", "  deliveries/s at p99 ≤ 50 ms, no drops",
			one.Best.PerSecond, two.Best.PerSecond, ratio(two.Best.PerSecond, one.Best.PerSecond), "≥ 0.60×")
		fmt.Fprintf(w, "%-4s %-44s %14.2f %14.2f\n", "", "  at says/s per member", one.Best.Rate, two.Best.Rate)
		fmt.Fprintf(w, "%-4s %-44s %14.1f %14.1f\n", "", "  p99 ms at that level", ms(one.Best.P99), ms(two.Best.P99))
	}
	if p, q := r.idle["peer"], r.idle["polyphony"]; p.Conns+q.Conns > 0 {
		fmt.Fprintf(w, "%-4s %-44s %14.1f %14.1f %8s  %s\n", "B2", "KiB per idle connection (server side)",
			p.KiBPerConn, q.KiBPerConn, ratio(q.KiBPerConn, p.KiBPerConn), "≤ 1.00× (aim 15 KiB)")
	}
	if t := r.turns; t != nil {
		fmt.Fprintf(w, "%-4s %-44s %14s %14s %8s  %s\n", "B3", "hand raised → all see queue, p50 ms",
			"-", fmt.Sprintf("%.1f", ms(t.P50)), "", "")
		fmt.Fprintf(w, "%-4s %-44s %14s %14s %8s  %s\n", "", "hand raised → all see queue, p99 ms",
			"-", fmt.Sprintf("%.1f", ms(t.P99)), "", "≤ 50 ms")
		fmt.Fprintf(w, "%-4s %-44s %14s %14s\n", "", "  rounds / rounds not seen by all in 5 s", "",
			fmt.Sprintf("%d / %d", t.Rounds, t.Missing))
		fmt.Fprintf(w, "%-4s %-44s %14s %14.0f\n", "", "  background deliveries/s", "", t.Background.PerSecond)
		fmt.Fprintf(w, "%-4s %-44s %14s %14.1f\n", "", "  background p99 ms", "", ms(t.Background.P99))
	}
	for _, name := range []string{"peer", "polyphony", "polyphony×2"} {
		k, ok := r.knee[name]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "\nB1 levels, %s:\n", name)
		for _, s := range k.Steps {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	for _, n := range r.notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}
