package content

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// dateLayout is how a release date is written.
const dateLayout = "2006-01-02"

// errReleaseRule explains the rules a release can follow.
var errReleaseRule = errors.New(`write "immediately", a date such as 2025-09-01, or "after module 1" to "after module 4"`)

// Release says when trainees may read a page. The zero Release means immediately; From is
// a date (midnight UTC) from which the page is readable; AfterModule is a residential module
// (1 to 4) from the day after whose end it is readable. At most one of From and AfterModule
// is set.
type Release struct {
	From        time.Time
	AfterModule int
}

// ParseRelease reads a release rule as written in front matter or a form: "immediately" (or
// nothing), "YYYY-MM-DD", or "after module N".
func ParseRelease(s string) (Release, error) {
	s = strings.TrimSpace(s)
	lower := strings.ToLower(s)
	if lower == "" || lower == "immediately" {
		return Release{}, nil
	}
	if f := strings.Fields(lower); len(f) == 3 && f[0] == "after" && f[1] == "module" {
		n, err := strconv.Atoi(f[2])
		if err != nil || n < 1 || n > 4 {
			return Release{}, fmt.Errorf("%q: there are residential modules 1 to 4 only; %w", s, errReleaseRule)
		}
		return Release{AfterModule: n}, nil
	}
	d, err := time.Parse(dateLayout, s)
	if err != nil {
		if looksLikeDate(s) {
			return Release{}, fmt.Errorf("%q is not a date in the calendar; write the date as YYYY-MM-DD", s)
		}
		return Release{}, fmt.Errorf("%q is not a release rule: %w", s, errReleaseRule)
	}
	return Release{From: d}, nil
}

// looksLikeDate reports whether s has the shape of a date (digits and dashes), so that a
// mistyped date gets a message about dates.
func looksLikeDate(s string) bool {
	return s != "" && strings.Trim(s, "0123456789-") == "" && strings.Contains(s, "-")
}

// String writes the rule the way ParseRelease reads it.
func (r Release) String() string {
	switch {
	case r.AfterModule != 0:
		return "after module " + strconv.Itoa(r.AfterModule)
	case !r.From.IsZero():
		return r.From.Format(dateLayout)
	default:
		return "immediately"
	}
}

// IsImmediate reports whether the page is readable as soon as it is published.
func (r Release) IsImmediate() bool { return r.AfterModule == 0 && r.From.IsZero() }

// normalize checks a Release built by hand and puts From at midnight UTC of its own date.
func (r Release) normalize() (Release, error) {
	if r.AfterModule < 0 || r.AfterModule > 4 {
		return r, fmt.Errorf("module %d: %w", r.AfterModule, errReleaseRule)
	}
	if r.AfterModule != 0 && !r.From.IsZero() {
		return r, fmt.Errorf("give either a date or a module, not both: %w", errReleaseRule)
	}
	if !r.From.IsZero() {
		y, m, d := r.From.Date()
		r.From = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return r, nil
}

// released reports whether the rule lets trainees read the page at now. moduleEnd gives the
// last day of a residential module, when the cohort's dates are known.
func (r Release) released(now time.Time, moduleEnd func(module int) (time.Time, bool)) bool {
	switch {
	case r.AfterModule != 0:
		if moduleEnd == nil {
			return false
		}
		end, ok := moduleEnd(r.AfterModule)
		if !ok {
			return false
		}
		y, m, d := end.UTC().Date()
		return !now.Before(time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC))
	case !r.From.IsZero():
		return !now.Before(r.From)
	default:
		return true
	}
}
