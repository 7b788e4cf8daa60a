// Command polyphony-b10 measures B10 (README, Performance): the main requests over a year of
// one trust's data against the same requests on a nearly empty database, both on embedded
// FerretDB, in one run, each through the real binary started on a free loopback port.
//
// The year is built once, through the domain stores, into a folder that later runs reuse
// (copied before each run, since the run writes to it); the nearly empty folder is built
// afresh each run. -scale builds a fraction of the year (0.05 checks the tool in a minute).
// It prints the figures, never asserts them, and exits 0 when every request was answered.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// options are what a run builds and measures.
type options struct {
	Year    string  // folder of the year's data, built when missing or of another scale
	Scale   float64 // fraction of the year
	Samples int     // timed requests of each kind
	Readers int     // concurrent first reads of one entry
	Binary  string  // polyphony binary; built into a temporary folder when empty
	Build   bool    // only build the year's folder
}

func main() {
	var o options
	flag.StringVar(&o.Year, "year", ".cache/b10-year", "folder of the year's synthetic data (built when missing)")
	flag.Float64Var(&o.Scale, "scale", 1, "fraction of a year's data to build (0.05 for a check in a minute)")
	flag.IntVar(&o.Samples, "n", 200, "timed requests of each kind")
	flag.IntVar(&o.Readers, "readers", 50, "concurrent first reads of one entry")
	flag.StringVar(&o.Binary, "bin", "", "polyphony binary to start (default: go build ./cmd/polyphony)")
	flag.BoolVar(&o.Build, "build", false, "build the year's folder and stop")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "polyphony-b10: %v\n", err)
		os.Exit(1)
	}
}

// run builds what is missing, measures both folders and writes the table to out.
func run(ctx context.Context, o options, out, log io.Writer) error {
	if o.Scale <= 0 || o.Samples < 1 || o.Readers < 1 {
		return fmt.Errorf("-scale, -n and -readers must be above 0")
	}
	if err := ensureYear(ctx, o, log); err != nil {
		return err
	}
	if o.Build {
		return nil
	}
	tmp, err := os.MkdirTemp("", "polyphony-b10-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := o.Binary
	if bin == "" {
		if bin, err = buildBinary(ctx, tmp, log); err != nil {
			return err
		}
	}
	empty, year := tmp+"/empty", tmp+"/year"
	fmt.Fprintf(log, "building the nearly empty folder\n")
	if _, err := build(ctx, empty, o.Scale, false, log); err != nil {
		return fmt.Errorf("nearly empty folder: %w", err)
	}
	if err := copyDir(o.Year, year); err != nil {
		return fmt.Errorf("copy the year's folder: %w", err)
	}
	started := time.Now()
	var results []*measured
	for _, f := range []struct{ name, dir string }{{"empty", empty}, {"year", year}} {
		fmt.Fprintf(log, "measuring the %s folder\n", f.name)
		m, err := measure(ctx, bin, f.dir, o, log)
		if err != nil {
			return fmt.Errorf("%s folder: %w", f.name, err)
		}
		results = append(results, m)
	}
	yearMan, _ := readManifest(year)
	writeReport(out, o, yearMan, results[0], results[1], time.Since(started))
	return failures(results)
}

// ensureYear builds the year's folder unless one of the same scale is there.
func ensureYear(ctx context.Context, o options, log io.Writer) error {
	if m, err := readManifest(o.Year); err == nil && m.Bulk && m.Scale == o.Scale {
		fmt.Fprintf(log, "reusing the year's folder %s (scale %g, built in %s)\n", o.Year, m.Scale, m.BuildTime)
		return nil
	}
	if err := os.RemoveAll(o.Year); err != nil {
		return err
	}
	fmt.Fprintf(log, "building the year's folder %s at scale %g\n", o.Year, o.Scale)
	m, err := build(ctx, o.Year, o.Scale, true, log)
	if err != nil {
		os.RemoveAll(o.Year) // half a year would be measured as a year next time
		return err
	}
	fmt.Fprintf(log, "built in %s: %+v\n", m.BuildTime, m.Counts)
	return nil
}
