package content

import (
	"testing"
	"time"
)

func TestParseRelease(t *testing.T) {
	sep1 := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]Release{
		"":                 {},
		"immediately":      {},
		" Immediately ":    {},
		"2025-09-01":       {From: sep1},
		"after module 1":   {AfterModule: 1},
		"After  Module 4 ": {AfterModule: 4},
	} {
		got, err := ParseRelease(in)
		if err != nil || got != want {
			t.Errorf("ParseRelease(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		again, err := ParseRelease(got.String())
		if err != nil || again != got {
			t.Errorf("ParseRelease(%q.String() = %q) = %+v, %v", in, got.String(), again, err)
		}
	}
	for _, in := range []string{"soon", "after module 0", "after module 5", "after module two", "2025-02-30", "01/09/2025", "2025-9-1", "after 1"} {
		if r, err := ParseRelease(in); err == nil {
			t.Errorf("ParseRelease(%q) = %+v, want an error", in, r)
		}
	}
	if s := (Release{}).String(); s != "immediately" {
		t.Errorf("zero Release = %q", s)
	}
}

func TestReleased(t *testing.T) {
	end := time.Date(2025, 10, 10, 16, 0, 0, 0, time.UTC) // module 1 ends on 10 October
	moduleEnd := func(n int) (time.Time, bool) { return end, n == 1 }
	day := func(d, h, m int) time.Time { return time.Date(2025, 10, d, h, m, 0, 0, time.UTC) }
	for _, tc := range []struct {
		release Release
		now     time.Time
		want    bool
	}{
		{Release{}, day(1, 0, 0), true},
		{Release{From: time.Date(2025, 10, 5, 0, 0, 0, 0, time.UTC)}, day(4, 23, 59), false},
		{Release{From: time.Date(2025, 10, 5, 0, 0, 0, 0, time.UTC)}, day(5, 0, 0), true},
		{Release{AfterModule: 1}, day(10, 12, 0), false},
		{Release{AfterModule: 1}, day(10, 23, 59), false},
		{Release{AfterModule: 1}, day(11, 0, 0), true},
		{Release{AfterModule: 2}, day(30, 0, 0), false}, // module 2's dates are not known
	} {
		p := Page{Release: tc.release}
		if got := p.Released(tc.now, moduleEnd); got != tc.want {
			t.Errorf("%v at %v: released = %v, want %v", tc.release, tc.now, got, tc.want)
		}
	}
	if (Page{Release: Release{AfterModule: 1}}).Released(day(30, 0, 0), nil) {
		t.Error("released after a module with no calendar at all")
	}
}
