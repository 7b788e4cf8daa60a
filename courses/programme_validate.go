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

// Validate checks the programme and returns every problem it finds (joined by
// failure.Problems), each a *failure.InvalidError naming the field as JSON spells it (for
// example "modules[1].start") with a message that names the module by its number and says
// what to change.
func (p Programme) Validate() error {
	if len(p.Modules) != 4 {
		return failure.Problemf("modules", "A programme has 4 residential modules, not %d", len(p.Modules))
	}
	var problems []error
	for i, m := range p.Modules {
		problems = append(problems, p.validateModule(i, m)...)
	}
	if len(problems) > 0 {
		// The periods lie between the modules: with a module's dates wrong, what they say
		// about the periods would only repeat it.
		return failure.Problems(problems...)
	}
	first, last := dateOf(p.Modules[0].Start), dateOf(p.Modules[3].End)
	if limit := first.AddDate(0, maxProgrammeMonths, 0); last.After(limit) {
		return failure.Problemf("modules[3].end", "Module 4 must end within %d months of the start of module 1 on %s: it now ends on %s",
			maxProgrammeMonths, formatDate(first), formatDate(last))
	}
	return p.validatePeriods()
}

// validatePeriods checks the periods between the modules and their activities, and returns
// the first problem of each activity.
func (p Programme) validatePeriods() error {
	if len(p.Periods) != 3 {
		return failure.Invalidf("periods", "a programme has 3 periods, one after each of modules 1 to 3, not %d", len(p.Periods))
	}
	ids := map[string]string{}
	var problems []error
	for i, per := range p.Periods {
		field := fmt.Sprintf("periods[%d]", i)
		if per.AfterModule != i+1 {
			return failure.Invalidf(field+".afterModule", "must be %d: the periods follow modules 1, 2 and 3 in order", i+1)
		}
		for j, a := range per.Activities {
			f := fmt.Sprintf("%s.activities[%d]", field, j)
			if err := p.validateActivity(f, per.AfterModule, a); err != nil {
				problems = append(problems, err)
				continue
			}
			if other, dup := ids[a.ID]; dup {
				problems = append(problems, failure.Invalidf(f+".id", "%q is already the id of %s", a.ID, other))
			}
			ids[a.ID] = f
		}
	}
	return failure.Problems(problems...)
}

// validateModule returns every problem with module i's number, title, dates, venue and days.
func (p Programme) validateModule(i int, m Module) []error {
	f := fmt.Sprintf("modules[%d]", i)
	n := i + 1
	if m.Number != n {
		return []error{failure.Invalidf(f+".number", "must be %d: modules are numbered 1 to 4 in order", n)}
	}
	dates := p.moduleDates(i, m)
	problems := []error{checkText(f+".title", fmt.Sprintf("module %d's title", n), m.Title, maxTitle, true)}
	problems = append(problems, dates...)
	problems = append(problems, checkText(f+".venue", fmt.Sprintf("module %d's venue", n), m.Venue, maxTitle, false))
	if dates != nil {
		// The days are checked against the module's dates: with those wrong, every day
		// would only repeat it.
		return dropNil(problems)
	}
	start, end := dateOf(m.Start), dateOf(m.End)
	var prevDay time.Time
	for j, d := range m.Days {
		df := fmt.Sprintf("%s.days[%d]", f, j)
		if d.Date.IsZero() {
			problems = append(problems, failure.Problemf(df+".date", "Enter the date of day %d of module %d", j+1, n))
			continue
		}
		date := dateOf(d.Date)
		switch {
		case date.Before(start) || date.After(end):
			problems = append(problems, failure.Problemf(df+".date", "Day %d of module %d is on %s, which is not a day of the module (%s to %s)",
				j+1, n, formatDate(date), formatDate(start), formatDate(end)))
		case j > 0 && date.Equal(prevDay):
			problems = append(problems, failure.Problemf(df+".date", "List %s once in module %d's timetable", formatDate(date), n))
		case j > 0 && date.Before(prevDay):
			problems = append(problems, failure.Problemf(df+".date", "List module %d's days in date order: %s comes after %s", n, formatDate(date), formatDate(prevDay)))
		}
		prevDay = date
		if err := validateSlots(df, d.Slots); err != nil {
			problems = append(problems, err)
		}
	}
	return dropNil(problems)
}

// moduleDates checks module i's first and last day, on their own and against the module
// before it.
func (p Programme) moduleDates(i int, m Module) []error {
	f := fmt.Sprintf("modules[%d]", i)
	n := i + 1
	var problems []error
	if m.Start.IsZero() {
		problems = append(problems, failure.Problemf(f+".start", "Enter the first day of module %d", n))
	}
	if m.End.IsZero() {
		problems = append(problems, failure.Problemf(f+".end", "Enter the last day of module %d", n))
	}
	if problems != nil {
		return problems
	}
	start, end := dateOf(m.Start), dateOf(m.End)
	if end.Before(start) {
		return []error{failure.Problemf(f+".end", "Module %d's last day must be on or after its first day, %s", n, formatDate(start))}
	}
	if days := daysBetween(start, end) + 1; days > maxModuleDays {
		return []error{failure.Problemf(f+".end", "Module %d must end within %d days of its start: it starts on %s and ends on %s, %d days",
			n, maxModuleDays, formatDate(start), formatDate(end), days)}
	}
	if i == 0 {
		return nil
	}
	prev := p.Modules[i-1]
	if prev.Start.IsZero() || prev.End.IsZero() {
		return nil
	}
	if prevEnd := dateOf(prev.End); !start.After(prevEnd) {
		return []error{failure.Problemf(f+".start", "Module %d must start after module %d ends on %s: its first day is %s",
			n, n-1, formatDate(prevEnd), formatDate(start))}
	}
	return nil
}

// dropNil keeps the problems found.
func dropNil(errs []error) []error {
	out := errs[:0]
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

func validateSlots(field string, slots []Slot) error {
	prevEnd, prevTitle := -1, ""
	for k, s := range slots {
		f := fmt.Sprintf("%s.slots[%d]", field, k)
		start, ok := parseClock(s.Start)
		if !ok {
			return failure.Problemf(f+".start", "Enter the slot's start time like 09:30, not %q", s.Start)
		}
		end, ok := parseClock(s.End)
		if !ok {
			return failure.Problemf(f+".end", "Enter the slot's end time like 16:45, not %q", s.End)
		}
		if end <= start {
			return failure.Problemf(f+".end", "A slot must end after it starts: this one starts at %s and ends at %s", s.Start, s.End)
		}
		if start < prevEnd {
			return failure.Problemf(f+".start", "A slot must start after the one before it ends: this one starts at %s, before %q ends at %02d:%02d",
				s.Start, prevTitle, prevEnd/60, prevEnd%60)
		}
		prevEnd, prevTitle = end, s.Title
		if err := checkText(f+".title", "the title of each timetable slot", s.Title, maxTitle, true); err != nil {
			return err
		}
		if err := checkText(f+".kind", "the kind of each timetable slot", s.Kind, 50, false); err != nil {
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
	if err := checkText(f+".title", "the activity's title", a.Title, maxTitle, true); err != nil {
		return err
	}
	if err := checkText(f+".description", "the activity's description", a.Description, maxDescription, false); err != nil {
		return err
	}
	start, end := p.PeriodDates(afterModule)
	nextStart := end.AddDate(0, 0, 1)
	if !a.Due.IsZero() {
		if due := ukDate(a.Due); due.Before(start) || due.After(nextStart) {
			return failure.Problemf(f+".due", "%q is due on %s, outside the period after module %d (%s to %s): move its due date into the period, or the module dates",
				a.Title, formatDate(due), afterModule, formatDate(start), formatDate(end))
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
	if err := checkText(f+".authors", "the reading's authors", c.Authors, maxTitle, true); err != nil {
		return err
	}
	if c.Year < 1800 || c.Year > 2100 {
		return failure.Invalidf(f+".year", "%d is not a year of publication", c.Year)
	}
	if err := checkText(f+".title", "the reading's title", c.Title, 300, false); err != nil {
		return err
	}
	if err := checkText(f+".source", "the reading's source", c.Source, 300, false); err != nil {
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
		return failure.Problem(f+".start", "Enter the session's start")
	}
	if day := ukDate(s.Start); day.Before(start) || day.After(end) {
		return failure.Problemf(f+".start", "The dialogue session on %s is outside the period after module %d (%s to %s): move the session into the period, or the module dates",
			formatDate(day), afterModule, formatDate(start), formatDate(end))
	}
	if s.Minutes < 15 || s.Minutes > 240 {
		return failure.Problemf(f+".minutes", "A session must last from 15 to 240 minutes, not %d", s.Minutes)
	}
	return checkText(f+".room", "the session's room", s.Room, 120, true)
}

func knownActivityKind(k ActivityKind) bool {
	for _, known := range ActivityKinds {
		if k == known {
			return true
		}
	}
	return false
}

// checkText refuses an empty required value, and one longer than max characters; what
// names the value in the form's words ("module 2's venue") for the message.
func checkText(field, what, s string, max int, required bool) error {
	switch n := utf8.RuneCountInString(strings.TrimSpace(s)); {
	case n == 0 && required:
		return failure.Problem(field, "Enter "+what)
	case n > max:
		return failure.Problemf(field, "%s must be %d characters or fewer: it has %d", upperFirst(what), max, n)
	case !utf8.ValidString(s):
		return failure.Problemf(field, "%s contains characters that cannot be read: type it again", upperFirst(what))
	}
	return nil
}
