package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestB10Quick runs the whole benchmark on a tiny year, so the tool cannot rot: every request
// must be answered and the table must have every row. It never looks at a time.
func TestB10Quick(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two folders and starts the binary twice")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var out, log bytes.Buffer
	o := options{Year: filepath.Join(t.TempDir(), "year"), Scale: 0.002, Samples: 2, Readers: 5}
	if err := run(ctx, o, &out, &log); err != nil {
		t.Fatalf("run: %v\n%s\n%s", err, out.String(), log.String())
	}
	report := out.String()
	for _, name := range append(requestNames, "concurrent first reads of one entry", "start-up") {
		if !strings.Contains(report, name) {
			t.Errorf("the table has no row %q:\n%s", name, report)
		}
	}
	if strings.Contains(report, "failed (") {
		t.Errorf("some requests failed:\n%s", report)
	}
	m, err := readManifest(o.Year)
	if err != nil {
		t.Fatal(err)
	}
	if m.Counts.Revisions == 0 || m.Counts.Events == 0 || m.Counts.Answers == 0 || m.Counts.Sessions == 0 {
		t.Errorf("the year's folder holds too little: %+v", m.Counts)
	}

	// A second run reuses the year's folder rather than building it again.
	log.Reset()
	out.Reset()
	if err := run(ctx, options{Year: o.Year, Scale: o.Scale, Samples: 1, Readers: 1, Build: true}, &out, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "reusing the year's folder") {
		t.Errorf("a second run built the year again:\n%s", log.String())
	}
}
