package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// percentile is the p-th percentile (0 < p ≤ 1) of ds by the nearest-rank method.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(i, 0)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

func ratio(year, empty time.Duration) string {
	if empty <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", float64(year)/float64(empty))
}

// writeReport prints B10's table: each request's p50 and p99 on both folders and their
// ratios, then start-up and the concurrent first reads, against the targets.
func writeReport(out io.Writer, o options, year manifest, empty, full *measured, took time.Duration) {
	c := year.Counts
	fmt.Fprintf(out, "B10: the main requests over a year of one trust's data against a nearly empty database (embedded FerretDB)\n")
	fmt.Fprintf(out, "year at scale %g: %d journal revisions, %d room events, %d attempt answers, %d sessions, %d access-log reads, %d comments\n\n",
		year.Scale, c.Revisions, c.Events, c.Answers, c.Sessions, c.AccessReads, c.Comments)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "request\tn\tempty p50 ms\tempty p99 ms\tyear p50 ms\tyear p99 ms\tp50 ratio\tp99 ratio\t")
	for _, name := range requestNames {
		e, y := empty.samples[name], full.samples[name]
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, len(y),
			ms(percentile(e, 0.5)), ms(percentile(e, 0.99)), ms(percentile(y, 0.5)), ms(percentile(y, 0.99)),
			ratio(percentile(y, 0.5), percentile(e, 0.5)), ratio(percentile(y, 0.99), percentile(e, 0.99)))
	}
	fmt.Fprintf(tw, "%d concurrent first reads of one entry\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", o.Readers, full.answered,
		ms(percentile(empty.first, 0.5)), ms(percentile(empty.first, 0.99)), ms(percentile(full.first, 0.5)), ms(percentile(full.first, 0.99)),
		ratio(percentile(full.first, 0.5), percentile(empty.first, 0.5)), ratio(percentile(full.first, 0.99), percentile(empty.first, 0.99)))
	tw.Flush()
	fmt.Fprintf(out, "\nstart-up (exec to listening): empty %s s, year %s s (%s)\n",
		secs(empty.startup), secs(full.startup), ratio(full.startup, empty.startup))
	fmt.Fprintf(out, "targets: each p50 and p99 at a year ≤ 1.5× empty and p99 ≤ 50 ms; start-up ≤ 5 s; %d concurrent first reads all answered, p99 ≤ 250 ms\n", o.Readers)
	var missed []string
	for _, name := range requestNames {
		e, y := empty.samples[name], full.samples[name]
		if len(y) == 0 || len(e) == 0 {
			continue
		}
		if p := percentile(y, 0.99); p > 50*time.Millisecond || float64(p) > 1.5*float64(percentile(e, 0.99)) ||
			float64(percentile(y, 0.5)) > 1.5*float64(percentile(e, 0.5)) {
			missed = append(missed, name)
		}
	}
	if full.startup > 5*time.Second {
		missed = append(missed, "start-up")
	}
	if full.answered < o.Readers || percentile(full.first, 0.99) > 250*time.Millisecond {
		missed = append(missed, "concurrent first reads")
	}
	if len(missed) == 0 {
		fmt.Fprintln(out, "every target met")
	} else {
		fmt.Fprintf(out, "targets missed: %s\n", strings.Join(missed, ", "))
	}
	fmt.Fprintf(out, "measured in %s\n", took.Round(time.Second))
	for _, m := range []struct {
		name string
		r    *measured
	}{{"empty", empty}, {"year", full}} {
		for _, f := range m.r.failures {
			fmt.Fprintf(out, "failed (%s): %s\n", m.name, f)
		}
	}
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }

// failures is an error when any request went unanswered, or a kind of request has no sample.
func failures(rs []*measured) error {
	n := 0
	for _, r := range rs {
		n += len(r.failures)
		for _, name := range requestNames {
			if len(r.samples[name]) == 0 {
				n++
			}
		}
	}
	if n > 0 {
		return errors.New("some requests failed; see the table's last lines")
	}
	return nil
}
