package courses

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	_ "time/tzdata" // the programme runs on UK time wherever the server's zone files are missing

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Programme is a cohort's nine months: four residential modules and the three periods
// between them. Every save stores a new version; the highest version is the programme.
type Programme struct {
	CohortID string    `bson:"cohortId" json:"cohortId"`
	Modules  []Module  `bson:"modules" json:"modules"`
	Periods  []Period  `bson:"periods" json:"periods"`
	Version  int       `bson:"version" json:"version"`
	SavedAt  time.Time `bson:"savedAt" json:"savedAt"`
	SavedBy  string    `bson:"savedBy" json:"savedBy"`
}

// Module is one residential week. Start and End are dates (midnight UTC); End is the last
// day of the module, not the day after.
type Module struct {
	Number int       `bson:"number" json:"number"`
	Title  string    `bson:"title" json:"title"`
	Start  time.Time `bson:"start" json:"start"`
	End    time.Time `bson:"end" json:"end"`
	Venue  string    `bson:"venue" json:"venue"`
	Days   []Day     `bson:"days" json:"days"`
}

// Day is the timetable of one day of a module; Date is a date (midnight UTC).
type Day struct {
	Date  time.Time `bson:"date" json:"date"`
	Slots []Slot    `bson:"slots" json:"slots"`
}

// Slot is one part of a module day. Start and End are UK local times written "09:30".
type Slot struct {
	Start string `bson:"start" json:"start"`
	End   string `bson:"end" json:"end"`
	Title string `bson:"title" json:"title"`
	Kind  string `bson:"kind" json:"kind"`
}

// The kinds of slot the template uses; a facilitator may write others.
const (
	SlotDialogue       = "dialogue"
	SlotTeaching       = "teaching"
	SlotReflectingTeam = "reflecting team"
	SlotPractice       = "practice"
	SlotBreak          = "break"
)

// Period is the time between module AfterModule and the next one: reading, online
// collaboration, facilitated dialogue and personal practice. Its dates follow from the
// modules' (see Programme.PeriodDates).
type Period struct {
	AfterModule int        `bson:"afterModule" json:"afterModule"`
	Activities  []Activity `bson:"activities" json:"activities"`
}

// ActivityKind says what a trainee does for an activity.
type ActivityKind string

// The kinds of activity of an inter-module period.
const (
	ActivityReading       ActivityKind = "reading"
	ActivityCollaboration ActivityKind = "collaboration"
	ActivityDialogue      ActivityKind = "dialogue"
	ActivityPractice      ActivityKind = "practice"
)

// ActivityKinds lists every activity kind, in the order pages show them.
var ActivityKinds = []ActivityKind{ActivityReading, ActivityCollaboration, ActivityDialogue, ActivityPractice}

// Activity is one thing to do in a period. A reading carries its Citation, a facilitated
// dialogue its Session. ID is stable across versions of the programme, so attendance and
// calendar entries keep pointing at the same activity.
type Activity struct {
	ID             string           `bson:"id" json:"id"`
	Kind           ActivityKind     `bson:"kind" json:"kind"`
	Title          string           `bson:"title" json:"title"`
	Description    string           `bson:"description" json:"description"` // Markdown
	Due            time.Time        `bson:"due" json:"due,omitzero"`
	Reading        *Citation        `bson:"reading,omitempty" json:"reading,omitempty"`
	Session        *DialogueSession `bson:"session,omitempty" json:"session,omitempty"`
	CurriculumSlug string           `bson:"curriculumSlug,omitempty" json:"curriculumSlug,omitempty"`
}

// Citation is a source to read, cited as far as it is known.
type Citation struct {
	Authors string `bson:"authors" json:"authors"`
	Year    int    `bson:"year" json:"year"`
	Title   string `bson:"title,omitempty" json:"title,omitempty"`
	Source  string `bson:"source,omitempty" json:"source,omitempty"`
	URL     string `bson:"url,omitempty" json:"url,omitempty"`
}

// DialogueSession is a facilitated dialogue among the cohort, held in a dialogue room.
type DialogueSession struct {
	Start   time.Time `bson:"start" json:"start"`
	Minutes int       `bson:"minutes" json:"minutes"`
	Room    string    `bson:"room" json:"room"`
}

// End is when the session finishes.
func (d DialogueSession) End() time.Time { return d.Start.Add(time.Duration(d.Minutes) * time.Minute) }

// london is the programme's clock: slot times are UK local times, and a day of the
// programme is a UK day.
var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err) // cannot happen: time/tzdata is linked in
	}
	return loc
}()

// dateOf is the calendar date of a date value (midnight UTC), whatever its clock time.
func dateOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ukDate is the UK calendar date of an instant, as a date value.
func ukDate(t time.Time) time.Time {
	y, m, d := t.In(london).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// daysBetween counts the days from date a to date b.
func daysBetween(a, b time.Time) int {
	return int(dateOf(b).Sub(dateOf(a)).Hours()/24 + 0.5)
}

// formatDate writes a date the way pages do: "3 March 2027".
func formatDate(t time.Time) string { return t.Format("2 January 2006") }

// ModuleEnd is the last day of module n.
func (p Programme) ModuleEnd(n int) (time.Time, bool) {
	m, ok := p.module(n)
	return dateOf(m.End), ok
}

// Move gives the module new dates, keeping its timetable: each day moves with the start
// (day 1 stays day 1), and days that no longer fall within the module are dropped. The
// periods' activities do not move; Validate says which of them no longer fit.
func (m Module) Move(start, end time.Time) Module {
	shift := daysBetween(m.Start, start)
	m.Start, m.End = dateOf(start), dateOf(end)
	days := []Day{}
	for _, d := range m.Days {
		d.Date = dateOf(d.Date).AddDate(0, 0, shift)
		if !d.Date.Before(m.Start) && !d.Date.After(m.End) {
			d.Slots = append([]Slot{}, d.Slots...)
			days = append(days, d)
		}
	}
	m.Days = days
	return m
}

func (p Programme) module(n int) (Module, bool) {
	for _, m := range p.Modules {
		if m.Number == n {
			return m, true
		}
	}
	return Module{}, false
}

// PeriodDates is the first and last day of the period after module n: from the day after
// module n ends to the day before module n+1 starts. Both are zero when either module is
// missing.
func (p Programme) PeriodDates(n int) (start, end time.Time) {
	before, ok1 := p.module(n)
	after, ok2 := p.module(n + 1)
	if !ok1 || !ok2 {
		return time.Time{}, time.Time{}
	}
	return dateOf(before.End).AddDate(0, 0, 1), dateOf(after.Start).AddDate(0, 0, -1)
}

// Activity finds the activity with the id, and the number of the module its period follows.
func (p Programme) Activity(id string) (Activity, int, bool) {
	for _, per := range p.Periods {
		for _, a := range per.Activities {
			if a.ID == id {
				return a, per.AfterModule, true
			}
		}
	}
	return Activity{}, 0, false
}

// The phases of a programme, as Position reports them.
const (
	PhaseBefore = "before"
	PhaseModule = "module"
	PhasePeriod = "period"
	PhaseAfter  = "after"
)

// Position is where a cohort is in its programme on a given day. Module is the module
// under way (PhaseModule), the one the current period follows (PhasePeriod), the last one
// (PhaseAfter), or 0 (PhaseBefore); Day counts the days of the module from 1.
type Position struct {
	Phase  string    `json:"phase"`
	Module int       `json:"module,omitempty"`
	Day    int       `json:"day,omitempty"`
	Next   *Upcoming `json:"next,omitempty"`
}

// Upcoming is the next module or facilitated dialogue session. Kind is "module" or
// "dialogue"; Start is when it begins (a module's first slot, UK time).
type Upcoming struct {
	Title string    `json:"title"`
	Start time.Time `json:"start"`
	Kind  string    `json:"kind"`
}

// Now says where the programme stands at the instant now, judged by the UK calendar.
func (p Programme) Now(now time.Time) Position {
	today := ukDate(now)
	pos := Position{Phase: PhaseAfter}
	if n := len(p.Modules); n > 0 {
		pos.Module = p.Modules[n-1].Number
	}
	for i, m := range p.Modules {
		start, end := dateOf(m.Start), dateOf(m.End)
		if today.Before(start) {
			pos = Position{Phase: PhaseBefore}
			if i > 0 {
				pos = Position{Phase: PhasePeriod, Module: p.Modules[i-1].Number}
			}
			break
		}
		if !today.After(end) {
			pos = Position{Phase: PhaseModule, Module: m.Number, Day: daysBetween(start, today) + 1}
			break
		}
	}
	pos.Next = p.next(now)
	return pos
}

// next is the first module or dialogue session that begins after now.
func (p Programme) next(now time.Time) *Upcoming {
	var best *Upcoming
	consider := func(u Upcoming) {
		if u.Start.After(now) && (best == nil || u.Start.Before(best.Start)) {
			best = &u
		}
	}
	for _, m := range p.Modules {
		consider(Upcoming{Title: fmt.Sprintf("Module %d: %s", m.Number, m.Title), Start: moduleBegins(m), Kind: PhaseModule})
	}
	for _, per := range p.Periods {
		for _, a := range per.Activities {
			if a.Session != nil {
				consider(Upcoming{Title: a.Title, Start: a.Session.Start, Kind: string(ActivityDialogue)})
			}
		}
	}
	return best
}

// NextSession is the first dialogue session that has not ended at now: one under way counts,
// since that is when its room matters most. ok is false when none is left.
func (p Programme) NextSession(now time.Time) (a Activity, ok bool) {
	for _, per := range p.Periods {
		for _, act := range per.Activities {
			if act.Session == nil || !act.Session.End().After(now) {
				continue
			}
			if !ok || act.Session.Start.Before(a.Session.Start) {
				a, ok = act, true
			}
		}
	}
	return a, ok
}

// moduleBegins is the start of the first slot of a module's first day, or the start of
// that day when it has no timetable.
func moduleBegins(m Module) time.Time {
	start := dateOf(m.Start)
	for _, d := range m.Days {
		if dateOf(d.Date).Equal(start) && len(d.Slots) > 0 {
			if at, ok := slotInstant(start, d.Slots[0].Start); ok {
				return at
			}
		}
	}
	return time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, london)
}

// slotInstant is the instant of a slot time ("09:30", UK time) on a date.
func slotInstant(date time.Time, hhmm string) (time.Time, bool) {
	mins, ok := parseClock(hhmm)
	if !ok {
		return time.Time{}, false
	}
	y, m, d := date.Date()
	return time.Date(y, m, d, mins/60, mins%60, 0, 0, london).UTC(), true
}

// parseClock reads "HH:MM" (24-hour, two digits each) as minutes after midnight.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	digit := func(b byte) (int, bool) { return int(b - '0'), b >= '0' && b <= '9' }
	h1, ok1 := digit(s[0])
	h2, ok2 := digit(s[1])
	m1, ok3 := digit(s[3])
	m2, ok4 := digit(s[4])
	h, m := h1*10+h2, m1*10+m2
	if !ok1 || !ok2 || !ok3 || !ok4 || h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// programmeDoc is a stored version of a programme.
type programmeDoc struct {
	ID        string `bson:"_id"`
	Programme `bson:",inline"`
}

// openProgrammes prepares the collections of programmes, attendance and calendar tokens.
// A programme's versions are stored under ids made from the cohort and the version
// (programmeID), which also keeps two saves of one version apart; the unique index on
// (cohortId, version) that did so before is dropped by migrateProgrammes, and the calendar
// tokens' on (userId, version) by migrateCalendarTokens.
func (s *Store) openProgrammes(ctx context.Context, db *database.DB) error {
	s.programmes = db.Collection("programmes")
	// Every page a member opens needs the cohort's programme; it changes rarely. Kept: 490–6,900×
	// (0.02–0.4 ms against 140–190 ms, BenchmarkCacheProgramme: go test -run '^$' -bench Cache ./courses/).
	s.programmeCache = database.NewCache(db, "programmes", time.Minute, Programme.clone)
	s.attendance = db.Collection("attendance")
	s.registers = db.Collection(registersColl)
	s.calendarTokens = db.Collection("calendar_tokens")
	s.calendarVersions = db.Collection(calendarVersionsColl)
	// The attendance collection holds the marks of the layout before the registers' lists,
	// read once by migrateAttendance.
	return database.EnsureIndexes(ctx, s.attendance,
		database.Index{Keys: []string{"cohortId", "occasion", "userId"}},
		database.Index{Keys: []string{"cohortId", "userId"}},
	)
}

// programmeID is the _id of version n of the cohort's programme.
func programmeID(cohortID string, n int) string { return fmt.Sprintf("%s/%06d", cohortID, n) }

// programmeHeadID is the _id, among the list documents, of the hint of the cohort's latest
// programme version.
func programmeHeadID(cohortID string) string { return "programme/" + cohortID }

// programmeHead is the hint of a cohort's latest programme version, written after the
// version is stored. A missing or stale hint costs a few more reads, never a wrong answer:
// the reader goes on from it while the next version exists.
type programmeHead struct {
	ID      string `bson:"_id"`
	Version int    `bson:"version"`
}

// Programme returns the latest version of the cohort's programme; failure.ErrNotFound when
// none has been saved.
func (s *Store) Programme(ctx context.Context, cohortID string) (Programme, error) {
	return s.programmeCache.Get(ctx, cohortID, func(ctx context.Context) (Programme, error) {
		return s.latestProgramme(ctx, cohortID)
	})
}

// latestProgramme reads the newest version from the database itself: the version the
// hint names, then the next ones by id while they exist.
func (s *Store) latestProgramme(ctx context.Context, cohortID string) (Programme, error) {
	get := func(n int) (programmeDoc, error) {
		return database.FindByID[programmeDoc](ctx, s.programmes, programmeID(cohortID, n))
	}
	known, doc := 0, programmeDoc{}
	h, err := database.FindByID[programmeHead](ctx, s.lists, programmeHeadID(cohortID))
	switch {
	case err == nil && h.Version > 0:
		d, err := get(h.Version)
		if err == nil {
			known, doc = h.Version, d
		} else if !errors.Is(err, failure.ErrNotFound) {
			return Programme{}, err
		}
	case err != nil && !errors.Is(err, failure.ErrNotFound):
		return Programme{}, err
	}
	n, d, err := lastInChain(known, doc, get)
	if err != nil {
		return Programme{}, err
	}
	if n == 0 {
		return Programme{}, fmt.Errorf("programme of cohort %s: %w", cohortID, failure.ErrNotFound)
	}
	if n > known {
		s.noteProgramme(ctx, cohortID, n)
	}
	return d.Programme, nil
}

// noteProgramme raises the hint of the cohort's latest programme version to n. The version
// is stored already, so a failure here loses nothing.
func (s *Store) noteProgramme(ctx context.Context, cohortID string, n int) {
	_ = s.lists.Upsert(ctx, programmeHeadID(cohortID), bson.M{"$max": bson.M{"version": n}})
}

// SaveProgramme stores p as the version after baseVersion (0 for a cohort's first
// programme), after checking it. When someone saved another version since baseVersion the
// save is refused with failure.ErrConflict and nothing is lost: the caller can reload and
// apply the change again. Of simultaneous saves on one base exactly one wins, because
// versions are inserted under ids made from the cohort and the version rather than updated
// in place.
func (s *Store) SaveProgramme(ctx context.Context, p Programme, baseVersion int, by string) (Programme, error) {
	if baseVersion < 0 {
		return Programme{}, failure.Invalid("version", "must be 0 or more")
	}
	if _, err := s.Cohort(ctx, p.CohortID); err != nil {
		return Programme{}, err
	}
	p = p.normalised()
	if err := p.Validate(); err != nil {
		return Programme{}, err
	}
	latest, err := s.latestProgramme(ctx, p.CohortID)
	switch {
	case errors.Is(err, failure.ErrNotFound):
		latest = Programme{}
	case err != nil:
		return Programme{}, err
	}
	stale := func(current int) error {
		return failure.Conflict(fmt.Sprintf("someone else saved the programme (now version %d) after you opened version %d: reload it and make your changes again", current, baseVersion))
	}
	if latest.Version != baseVersion {
		return Programme{}, stale(latest.Version)
	}
	p.Version = baseVersion + 1
	p.SavedAt = s.now().UTC().Truncate(time.Millisecond)
	p.SavedBy = by
	if err := database.Insert(ctx, s.programmes, programmeDoc{ID: programmeID(p.CohortID, p.Version), Programme: p}); err != nil {
		if errors.Is(err, database.ErrDuplicate) {
			return Programme{}, stale(p.Version)
		}
		return Programme{}, fmt.Errorf("save programme of cohort %s: %w", p.CohortID, err)
	}
	s.noteProgramme(ctx, p.CohortID, p.Version)
	if err := s.db.Touch(ctx, "programmes"); err != nil {
		return Programme{}, err
	}
	return p, nil
}

// CreateCohortFromTemplate creates the cohort and saves the standard programme for it as
// version 1. Without transactions the two are separate writes: should the second fail, the
// cohort exists without a programme, and the error says so.
func (s *Store) CreateCohortFromTemplate(ctx context.Context, nc NewCohort, by string) (Cohort, Programme, error) {
	c, err := s.CreateCohort(ctx, nc)
	if err != nil {
		return Cohort{}, Programme{}, err
	}
	p, err := s.SaveProgramme(ctx, Template(c), 0, by)
	if err != nil {
		return c, Programme{}, fmt.Errorf("cohort %q was created, but its programme was not saved: %w", c.Name, err)
	}
	return c, p, nil
}

// normalised is p as stored: dates at midnight UTC, instants in UTC to the millisecond
// (what the database keeps), and never a nil list.
func (p Programme) normalised() Programme {
	ms := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Time{}
		}
		return t.UTC().Truncate(time.Millisecond)
	}
	date := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Time{}
		}
		return dateOf(t)
	}
	out := p
	out.Modules = make([]Module, len(p.Modules))
	for i, m := range p.Modules {
		m.Start, m.End = date(m.Start), date(m.End)
		days := make([]Day, len(m.Days))
		for j, d := range m.Days {
			d.Date = date(d.Date)
			d.Slots = append([]Slot{}, d.Slots...)
			days[j] = d
		}
		m.Days = days
		out.Modules[i] = m
	}
	out.Periods = make([]Period, len(p.Periods))
	for i, per := range p.Periods {
		acts := make([]Activity, len(per.Activities))
		for j, a := range per.Activities {
			a.Due = ms(a.Due)
			if a.Reading != nil {
				r := *a.Reading
				a.Reading = &r
			}
			if a.Session != nil {
				sess := *a.Session
				sess.Start = ms(sess.Start)
				a.Session = &sess
			}
			acts[j] = a
		}
		per.Activities = acts
		out.Periods[i] = per
	}
	return out
}

// clone copies the programme deeply, so a cached one cannot be changed through a copy.
func (p Programme) clone() Programme {
	out := p
	out.Modules = slices.Clone(p.Modules)
	for i, m := range out.Modules {
		out.Modules[i].Days = slices.Clone(m.Days)
		for j, d := range out.Modules[i].Days {
			out.Modules[i].Days[j].Slots = slices.Clone(d.Slots)
		}
	}
	out.Periods = slices.Clone(p.Periods)
	for i, per := range out.Periods {
		out.Periods[i].Activities = slices.Clone(per.Activities)
		for j, a := range out.Periods[i].Activities {
			if a.Reading != nil {
				r := *a.Reading
				out.Periods[i].Activities[j].Reading = &r
			}
			if a.Session != nil {
				d := *a.Session
				out.Periods[i].Activities[j].Session = &d
			}
		}
	}
	return out
}
