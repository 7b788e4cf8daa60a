package courses

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"polyphony/internal/failure"
)

// Limits on what a programme may hold.
const (
	maxTitle       = 200
	maxDescription = 20000
	maxModuleDays  = 7
	// The diploma runs over nine months; a little slack lets a module move for a holiday.
	maxProgrammeMonths = 10
)

var (
	activityIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	slugPattern       = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,99}$`)
)

// Validate checks the programme and returns its first problem as a *failure.InvalidError
// naming the field as JSON spells it (for example "modules[1].start").
func (p Programme) Validate() error {
	if len(p.Modules) != 4 {
		return failure.Invalidf("modules", "a programme has 4 residential modules, not %d", len(p.Modules))
	}
	for i, m := range p.Modules {
		if err := p.validateModule(i, m); err != nil {
			return err
		}
	}
	first, last := dateOf(p.Modules[0].Start), dateOf(p.Modules[3].End)
	if limit := first.AddDate(0, maxProgrammeMonths, 0); last.After(limit) {
		return failure.Invalidf("modules[3].end", "the programme would end on %s, more than %d months after module 1 starts on %s",
			formatDate(last), maxProgrammeMonths, formatDate(first))
	}
	if len(p.Periods) != 3 {
		return failure.Invalidf("periods", "a programme has 3 periods, one after each of modules 1 to 3, not %d", len(p.Periods))
	}
	ids := map[string]string{}
	for i, per := range p.Periods {
		field := fmt.Sprintf("periods[%d]", i)
		if per.AfterModule != i+1 {
			return failure.Invalidf(field+".afterModule", "must be %d: the periods follow modules 1, 2 and 3 in order", i+1)
		}
		for j, a := range per.Activities {
			f := fmt.Sprintf("%s.activities[%d]", field, j)
			if err := p.validateActivity(f, per.AfterModule, a); err != nil {
				return err
			}
			if other, dup := ids[a.ID]; dup {
				return failure.Invalidf(f+".id", "%q is already the id of %s", a.ID, other)
			}
			ids[a.ID] = f
		}
	}
	return nil
}

func (p Programme) validateModule(i int, m Module) error {
	f := fmt.Sprintf("modules[%d]", i)
	if m.Number != i+1 {
		return failure.Invalidf(f+".number", "must be %d: modules are numbered 1 to 4 in order", i+1)
	}
	if err := checkText(f+".title", m.Title, maxTitle, true); err != nil {
		return err
	}
	if m.Start.IsZero() {
		return failure.Invalid(f+".start", "is required")
	}
	if m.End.IsZero() {
		return failure.Invalid(f+".end", "is required")
	}
	start, end := dateOf(m.Start), dateOf(m.End)
	if end.Before(start) {
		return failure.Invalidf(f+".end", "module %d ends on %s, before it starts on %s", m.Number, formatDate(end), formatDate(start))
	}
	if n := daysBetween(start, end) + 1; n > maxModuleDays {
		return failure.Invalidf(f+".end", "module %d would last %d days; a residential module lasts at most %d", m.Number, n, maxModuleDays)
	}
	if i > 0 {
		prev := p.Modules[i-1]
		prevStart, prevEnd := dateOf(prev.Start), dateOf(prev.End)
		switch {
		case start.Before(prevStart):
			return failure.Invalidf(f+".start", "module %d starts on %s, before module %d starts on %s: modules must be in date order",
				m.Number, formatDate(start), prev.Number, formatDate(prevStart))
		case start.Equal(prevEnd):
			return failure.Invalidf(f+".start", "module %d starts on %s, the day module %d ends: modules must not overlap",
				m.Number, formatDate(start), prev.Number)
		case start.Before(prevEnd):
			return failure.Invalidf(f+".start", "module %d starts on %s, before module %d ends on %s",
				m.Number, formatDate(start), prev.Number, formatDate(prevEnd))
		}
	}
	if err := checkText(f+".venue", m.Venue, maxTitle, false); err != nil {
		return err
	}
	var prevDay time.Time
	for j, d := range m.Days {
		df := fmt.Sprintf("%s.days[%d]", f, j)
		if d.Date.IsZero() {
			return failure.Invalid(df+".date", "is required")
		}
		date := dateOf(d.Date)
		if date.Before(start) || date.After(end) {
			return failure.Invalidf(df+".date", "%s is not a day of module %d (%s to %s)",
				formatDate(date), m.Number, formatDate(start), formatDate(end))
		}
		switch {
		case j > 0 && date.Equal(prevDay):
			return failure.Invalidf(df+".date", "%s is already listed: list each day once", formatDate(date))
		case j > 0 && date.Before(prevDay):
			return failure.Invalidf(df+".date", "%s is listed after %s: list the days in date order", formatDate(date), formatDate(prevDay))
		}
		prevDay = date
		if err := validateSlots(df, d.Slots); err != nil {
			return err
		}
	}
	return nil
}

func validateSlots(field string, slots []Slot) error {
	prevEnd, prevTitle := -1, ""
	for k, s := range slots {
		f := fmt.Sprintf("%s.slots[%d]", field, k)
		start, ok := parseClock(s.Start)
		if !ok {
			return failure.Invalidf(f+".start", "%q is not a time: write it like 09:30", s.Start)
		}
		end, ok := parseClock(s.End)
		if !ok {
			return failure.Invalidf(f+".end", "%q is not a time: write it like 16:45", s.End)
		}
		if end <= start {
			return failure.Invalidf(f+".end", "the slot ends at %s, not after it starts at %s", s.End, s.Start)
		}
		if start < prevEnd {
			return failure.Invalidf(f+".start", "the slot starts at %s, before %q ends at %02d:%02d: slots must not overlap",
				s.Start, prevTitle, prevEnd/60, prevEnd%60)
		}
		prevEnd, prevTitle = end, s.Title
		if err := checkText(f+".title", s.Title, maxTitle, true); err != nil {
			return err
		}
		if err := checkText(f+".kind", s.Kind, 50, false); err != nil {
			return err
		}
	}
	return nil
}

func (p Programme) validateActivity(f string, afterModule int, a Activity) error {
	switch {
	case a.ID == "":
		return failure.Invalid(f+".id", "is required")
	case !activityIDPattern.MatchString(a.ID):
		return failure.Invalidf(f+".id", "%q is not an id: use up to 64 lower-case letters, digits and hyphens", a.ID)
	case strings.HasPrefix(a.ID, "module-"):
		return failure.Invalidf(f+".id", "%q could be mistaken for a module day: choose an id that does not start with \"module-\"", a.ID)
	}
	if !knownActivityKind(a.Kind) {
		return failure.Invalidf(f+".kind", "%q is not an activity kind; use reading, collaboration, dialogue or practice", a.Kind)
	}
	if err := checkText(f+".title", a.Title, maxTitle, true); err != nil {
		return err
	}
	if err := checkText(f+".description", a.Description, maxDescription, false); err != nil {
		return err
	}
	start, end := p.PeriodDates(afterModule)
	nextStart := end.AddDate(0, 0, 1)
	if !a.Due.IsZero() {
		if due := ukDate(a.Due); due.Before(start) || due.After(nextStart) {
			return failure.Invalidf(f+".due", "%s is outside the period after module %d (%s to %s, or by the start of module %d)",
				formatDate(due), afterModule, formatDate(start), formatDate(end), afterModule+1)
		}
	}
	if a.Kind == ActivityReading && a.Reading == nil {
		return failure.Invalid(f+".reading", "a reading needs its citation: at least the authors and the year")
	}
	if a.Reading != nil {
		if err := validateCitation(f+".reading", *a.Reading); err != nil {
			return err
		}
	}
	switch {
	case a.Kind == ActivityDialogue && a.Session == nil:
		return failure.Invalid(f+".session", "a facilitated dialogue needs its session: start, minutes and room")
	case a.Kind != ActivityDialogue && a.Session != nil:
		return failure.Invalidf(f+".session", "only a dialogue activity has a session, and this one is a %s activity", a.Kind)
	case a.Session != nil:
		if err := validateSession(f+".session", *a.Session, afterModule, start, end); err != nil {
			return err
		}
	}
	if a.CurriculumSlug != "" && !slugPattern.MatchString(a.CurriculumSlug) {
		return failure.Invalidf(f+".curriculumSlug", "%q is not a curriculum page: use its slug, such as module-1-overview", a.CurriculumSlug)
	}
	return nil
}

func validateCitation(f string, c Citation) error {
	if err := checkText(f+".authors", c.Authors, maxTitle, true); err != nil {
		return err
	}
	if c.Year < 1800 || c.Year > 2100 {
		return failure.Invalidf(f+".year", "%d is not a year of publication", c.Year)
	}
	if err := checkText(f+".title", c.Title, 300, false); err != nil {
		return err
	}
	if err := checkText(f+".source", c.Source, 300, false); err != nil {
		return err
	}
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(c.URL) > 2000 {
			return failure.Invalidf(f+".url", "%q is not a web address (https://…)", c.URL)
		}
	}
	return nil
}

func validateSession(f string, s DialogueSession, afterModule int, start, end time.Time) error {
	if s.Start.IsZero() {
		return failure.Invalid(f+".start", "is required")
	}
	if day := ukDate(s.Start); day.Before(start) || day.After(end) {
		return failure.Invalidf(f+".start", "the session on %s is outside the period after module %d (%s to %s)",
			formatDate(day), afterModule, formatDate(start), formatDate(end))
	}
	if s.Minutes < 15 || s.Minutes > 240 {
		return failure.Invalidf(f+".minutes", "a session lasts 15 to 240 minutes, not %d", s.Minutes)
	}
	return checkText(f+".room", s.Room, 120, true)
}

func knownActivityKind(k ActivityKind) bool {
	for _, known := range ActivityKinds {
		if k == known {
			return true
		}
	}
	return false
}

// checkText refuses an empty required value, and one longer than max characters.
func checkText(field, s string, max int, required bool) error {
	switch n := utf8.RuneCountInString(strings.TrimSpace(s)); {
	case n == 0 && required:
		return failure.Invalid(field, "is required")
	case n > max:
		return failure.Invalidf(field, "must be at most %d characters, not %d", max, n)
	case !utf8.ValidString(s):
		return failure.Invalid(field, "is not valid UTF-8 text")
	}
	return nil
}
