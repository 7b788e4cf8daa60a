package progress

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the programme's days are UK days wherever the zone files are missing

	"polyphony/assessment"
	"polyphony/courses"
)

// State is how a trainee stands against a rule.
type State string

// The states. NotMet is final as the records stand: the rule can no longer be met (too few
// days or sessions remain, a test closed without a pass). AtRisk is a rule not met yet whose
// records show a warning sign, as the rule's Reasons say.
const (
	Met    State = "met"
	NotYet State = "not yet"
	AtRisk State = "at risk"
	NotMet State = "not met"
)

// Records are the stored records the rules read for one trainee of a cohort.
type Records struct {
	CohortID  string
	TraineeID string
	Programme courses.Programme
	// Attendance is the trainee's current mark for each occasion that has begun or is marked.
	Attendance []courses.AttendanceRecord
	// Tests are the knowledge tests set for the cohort, with the trainee's results.
	Tests []TestRecord
	// Pieces are the assessed pieces of work set for the cohort; nil when none exist yet.
	Pieces []PieceResult
	// Supervision is the trainee's supervision log, confirmed or not.
	Supervision []courses.SupervisionSession
	Practice    PracticeRecord
}

// TestRecord is a knowledge test and the trainee's best submitted attempt at it.
type TestRecord struct {
	Test assessment.AssessmentInfo
	// Best is the trainee's best closed attempt, marked against the current pass mark; nil
	// when they have not closed one.
	Best *assessment.TraineeResult
}

// PracticeRecord is what the practice rule may read of the trainee's practice log: whether
// they share its totals with their supervisor, and, only if they do, the days with practice
// logged. Nothing else is read: not the minutes, not the kind.
type PracticeRecord struct {
	Shared bool
	Days   []time.Time
}

// Evidence is one record a rule read. Counts says it counted towards the rule; Path is where
// the trainee sees the record, StaffPath where staff do (empty when there is no such page).
type Evidence struct {
	Label     string    `json:"label"`
	Detail    string    `json:"detail"`
	Date      time.Time `json:"date,omitzero"`
	Counts    bool      `json:"counts"`
	Path      string    `json:"path,omitempty"`
	StaffPath string    `json:"staffPath,omitempty"`
}

// Result is a trainee's standing against one rule: Count so far of Need (in Unit), the
// reasons for AtRisk or NotMet, what to do next and by when, and the evidence.
type Result struct {
	Kind     Kind       `json:"kind"`
	Title    string     `json:"title"`
	State    State      `json:"state"`
	Count    float64    `json:"count"`
	Need     float64    `json:"need"`
	Unit     string     `json:"unit"`
	Summary  string     `json:"summary"`
	Reasons  []string   `json:"reasons"`
	Next     string     `json:"next,omitempty"`
	NextBy   time.Time  `json:"nextBy,omitzero"`
	Evidence []Evidence `json:"evidence"`
}

// Progress is a trainee's standing against every rule of the version RulesVersion, at At.
type Progress struct {
	CohortID     string    `json:"cohortId"`
	TraineeID    string    `json:"traineeId"`
	RulesVersion int       `json:"rulesVersion"`
	At           time.Time `json:"at"`
	Results      []Result  `json:"results"`
	// Met counts the rules met; AtRisk says one is at risk or not met.
	Met    int  `json:"met"`
	AtRisk bool `json:"atRisk"`
}

// Eligible says every rule is met.
func (p Progress) Eligible() bool { return len(p.Results) > 0 && p.Met == len(p.Results) }

// Result finds the result of the rule of the kind.
func (p Progress) Result(k Kind) (Result, bool) {
	for _, r := range p.Results {
		if r.Kind == k {
			return r, true
		}
	}
	return Result{}, false
}

// Evaluate works out the trainee's progress against the rules from the records, at now. It
// reads nothing else and keeps nothing: the same records and time give the same answer.
func Evaluate(rules Rules, rec Records, now time.Time) Progress {
	out := Progress{CohortID: rec.CohortID, TraineeID: rec.TraineeID, RulesVersion: rules.Version, At: now.UTC(), Results: []Result{}}
	for _, r := range rules.Rules {
		var res Result
		switch r.Kind {
		case KindResidential:
			res = residential(r, rec, now)
		case KindDialogue:
			res = dialogue(r, rec, now)
		case KindTests:
			res = tests(r, rec, now)
		case KindPieces:
			res = pieces(rec, now)
		case KindSupervision:
			res = supervision(r, rec, now)
		case KindPractice:
			res = practice(r, rec, now)
		default:
			continue
		}
		res.Kind, res.Title = r.Kind, r.Kind.Title()
		if res.Reasons == nil {
			res.Reasons = []string{}
		}
		if res.Evidence == nil {
			res.Evidence = []Evidence{}
		}
		switch res.State {
		case Met:
			out.Met++
		case AtRisk, NotMet:
			out.AtRisk = true
		}
		out.Results = append(out.Results, res)
	}
	return out
}

var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err) // cannot happen: time/tzdata is linked in
	}
	return loc
}()

// ukDate is the UK calendar date of an instant, as a date (midnight UTC), the way the
// programme's dates are stored.
func ukDate(t time.Time) time.Time {
	y, m, d := t.In(london).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func dateOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// programmeSpan is the first day of the first module and the last day of the last.
func programmeSpan(p courses.Programme) (first, last time.Time, ok bool) {
	for _, m := range p.Modules {
		if !ok || m.Start.Before(first) {
			first = dateOf(m.Start)
		}
		if !ok || m.End.After(last) {
			last = dateOf(m.End)
		}
		ok = true
	}
	return first, last, ok
}

// programmeWeeks lists the Mondays of the weeks the programme spans, from the week of its
// first day to the week of its last.
func programmeWeeks(p courses.Programme) []time.Time {
	first, last, ok := programmeSpan(p)
	if !ok {
		return nil
	}
	var out []time.Time
	for w := monday(first); !w.After(last); w = w.AddDate(0, 0, 7) {
		out = append(out, w)
	}
	return out
}

func monday(d time.Time) time.Time {
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

func day(t time.Time) string { return t.Format("2 January 2006") }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// registerLinks are where a mark on an occasion is seen: the trainee's schedule, and the
// occasion's register for its facilitators.
func registerLinks(cohortID, occasion string) (string, string) {
	return "/schedule#occasion-" + occasion, "/cohorts/" + cohortID + "/register/" + occasion
}

func markWord(m courses.Mark) string {
	switch m {
	case courses.Present:
		return "present"
	case courses.Absent:
		return "absent"
	case courses.Excused:
		return "absent with agreement (excused)"
	}
	return "register not taken yet"
}

// occasionTally is what the registers say of a trainee across some occasions: present
// counts; absent and excused are missed; an occasion that has begun with no mark yet, and one
// still to come, may yet count.
type occasionTally struct {
	present, missed, pending, future int
	evidence                         []Evidence
	next                             *courses.Occasion
}

func (t occasionTally) possible() int { return t.present + t.pending + t.future }

func tally(rec Records, kind string, now time.Time, include func(courses.Occasion) bool) occasionTally {
	marks := map[string]courses.Mark{}
	for _, a := range rec.Attendance {
		marks[a.Occasion] = a.Mark
	}
	var t occasionTally
	for _, o := range rec.Programme.Occasions() {
		if o.Kind != kind || (include != nil && !include(o)) {
			continue
		}
		begun := !now.Before(o.Date)
		if kind == courses.OccasionResidential {
			begun = !ukDate(now).Before(o.Date)
		}
		mark := marks[o.ID]
		path, staff := registerLinks(rec.CohortID, o.ID)
		switch {
		case mark == courses.Present:
			t.present++
		case mark == courses.Absent || mark == courses.Excused:
			t.missed++
		case begun:
			t.pending++
		default:
			t.future++
			if t.next == nil {
				o := o
				t.next = &o
			}
			continue // nothing to show of an occasion still to come
		}
		t.evidence = append(t.evidence, Evidence{Label: o.Title, Detail: markWord(mark), Date: o.Date, Counts: mark == courses.Present, Path: path, StaffPath: staff})
	}
	return t
}

// residential: present on at least Days of the residential days, and on a day of every
// module when EveryModule. Only "present" counts; "absent" and "excused" (an absence agreed in
// advance) are both days missed. Not met when too few days remain to reach Days, or a module
// is over without a day present; at risk when no more days can be missed.
func residential(r Rule, rec Records, now time.Time) Result {
	t := tally(rec, courses.OccasionResidential, now, nil)
	res := Result{Count: float64(t.present), Need: float64(r.Days), Unit: "days", Evidence: t.evidence}
	total := t.present + t.missed + t.pending + t.future
	res.Summary = fmt.Sprintf("%s present of the %d needed (the programme has %d)", plural(t.present, "day", "days"), r.Days, total)
	var missingModules []string
	modulesOK := true
	if r.EveryModule {
		for _, m := range rec.Programme.Modules {
			mt := tally(rec, courses.OccasionResidential, now, func(o courses.Occasion) bool {
				return strings.HasPrefix(o.ID, fmt.Sprintf("module-%d-day-", m.Number))
			})
			if mt.present > 0 {
				continue
			}
			modulesOK = false
			if mt.possible() == 0 {
				missingModules = append(missingModules, strconv.Itoa(m.Number))
			}
		}
	}
	switch {
	case t.present >= r.Days && modulesOK:
		res.State = Met
	case t.possible() < r.Days:
		res.State = NotMet
		res.Reasons = append(res.Reasons, fmt.Sprintf("Only %s can still count, fewer than the %d needed.", plural(t.possible(), "day", "days"), r.Days))
	case len(missingModules) > 0:
		res.State = NotMet
		res.Reasons = append(res.Reasons, "No day present in module "+strings.Join(missingModules, ", ")+", which is over.")
	case t.possible() == r.Days && t.missed > 0:
		res.State = AtRisk
		res.Reasons = append(res.Reasons, "No more residential days can be missed.")
	default:
		res.State = NotYet
	}
	if res.State != Met && res.State != NotMet && t.next != nil {
		res.Next, res.NextBy = "Attend "+t.next.Title, t.next.Date
	}
	return res
}

// dialogue: present at at least Sessions of the facilitated dialogue sessions. Only
// "present" counts. Not met when too few sessions remain; at risk when the last two sessions
// marked were both missed (absent or excused), or when no more can be missed.
func dialogue(r Rule, rec Records, now time.Time) Result {
	t := tally(rec, courses.OccasionDialogue, now, nil)
	res := Result{Count: float64(t.present), Need: float64(r.Sessions), Unit: "sessions", Evidence: t.evidence}
	total := t.present + t.missed + t.pending + t.future
	res.Summary = fmt.Sprintf("%s attended of the %d needed (the programme has %d)", plural(t.present, "session", "sessions"), r.Sessions, total)
	var marked []Evidence
	for _, e := range t.evidence {
		if e.Detail != markWord("") {
			marked = append(marked, e)
		}
	}
	inARow := len(marked) >= 2 && !marked[len(marked)-1].Counts && !marked[len(marked)-2].Counts
	switch {
	case t.present >= r.Sessions:
		res.State = Met
	case t.possible() < r.Sessions:
		res.State = NotMet
		res.Reasons = append(res.Reasons, fmt.Sprintf("Only %s can still count, fewer than the %d needed.", plural(t.possible(), "session", "sessions"), r.Sessions))
	default:
		res.State = NotYet
		if inARow {
			res.State = AtRisk
			res.Reasons = append(res.Reasons, "The last two sessions were both missed.")
		}
		if t.possible() == r.Sessions && t.missed > 0 {
			res.State = AtRisk
			res.Reasons = append(res.Reasons, "No more sessions can be missed.")
		}
	}
	if res.State != Met && res.State != NotMet && t.next != nil {
		res.Next, res.NextBy = "Join "+t.next.Title, t.next.Date
	}
	return res
}

// percent writes a percentage as pages do: "62.5%".
func percent(p float64) string { return strconv.FormatFloat(math.Round(p*10)/10, 'f', -1, 64) + "%" }

// tests: each knowledge test passed at its pass mark, judged on the trainee's best submitted
// attempt (an attempt closed by its time limit counts as submitted). The best, not the last:
// a test allows the attempts it allows so that a trainee may sit it again, and a pass at a
// later attempt is not undone by a weaker one after it. Not met when a test has closed, or
// its attempts are used up, without a pass; at risk when an attempt failed and another may be
// made.
func tests(r Rule, rec Records, now time.Time) Result {
	res := Result{Unit: "tests"}
	byID := map[string]TestRecord{}
	for _, t := range rec.Tests {
		byID[t.Test.ID] = t
	}
	var named []TestRecord
	var missing []string
	if len(r.AssessmentIDs) == 0 {
		named = rec.Tests
	} else {
		for _, id := range r.AssessmentIDs {
			if t, ok := byID[id]; ok {
				named = append(named, t)
			} else {
				missing = append(missing, id)
			}
		}
	}
	need := len(named) + len(missing)
	res.Need = float64(need)
	if need == 0 {
		res.State, res.Summary = NotYet, "No knowledge test is set for the cohort yet."
		return res
	}
	passed, atRisk, notMet := 0, false, false
	for _, t := range named {
		a := t.Test
		closed := !a.Closes.IsZero() && !now.Before(a.Closes)
		staff := "/assessments/" + a.ID + "/results"
		if t.Best == nil {
			ev := Evidence{Label: a.Title, Detail: "not sat yet", Path: "/assessments/" + a.ID, StaffPath: staff}
			if closed {
				notMet, ev.Detail = true, "not sat; closed on "+day(a.Closes)
				res.Reasons = append(res.Reasons, a.Title+" closed without an attempt.")
			} else if res.Next == "" {
				res.Next, res.NextBy = "Sit "+a.Title, a.Closes
			}
			res.Evidence = append(res.Evidence, ev)
			continue
		}
		b := t.Best
		ev := Evidence{Label: a.Title, Date: b.ClosedAt, Path: "/attempts/" + b.AttemptID + "/summary", StaffPath: staff}
		switch {
		case b.Passed == nil:
			ev.Detail = fmt.Sprintf("%s (attempt %d); the test has no pass mark yet", percent(b.Percent), b.Attempt)
		case *b.Passed:
			passed++
			ev.Counts, ev.Detail = true, fmt.Sprintf("passed with %s (attempt %d; pass mark %s)", percent(b.Percent), b.Attempt, percent(a.PassMark))
		default:
			ev.Detail = fmt.Sprintf("best attempt %s, below the pass mark of %s (%s)", percent(b.Percent), percent(a.PassMark), plural(b.Attempts, "attempt", "attempts"))
			usedUp := a.AttemptsAllowed > 0 && b.Attempts >= a.AttemptsAllowed
			if closed || usedUp {
				notMet = true
				res.Reasons = append(res.Reasons, a.Title+" was not passed, and no attempt is left.")
			} else {
				atRisk = true
				res.Reasons = append(res.Reasons, a.Title+" is not passed yet.")
				if res.Next == "" {
					res.Next, res.NextBy = "Sit "+a.Title+" again", a.Closes
				}
			}
		}
		res.Evidence = append(res.Evidence, ev)
	}
	for _, id := range missing {
		res.Evidence = append(res.Evidence, Evidence{Label: id, Detail: "named by the rules, but no such test is set for the cohort"})
	}
	res.Count = float64(passed)
	res.Summary = fmt.Sprintf("%d of %s passed", passed, plural(need, "test", "tests"))
	switch {
	case passed == need:
		res.State = Met
	case notMet:
		res.State = NotMet
	case atRisk:
		res.State = AtRisk
	default:
		res.State = NotYet
	}
	return res
}

// pieces: every assessed piece agreed and released as a pass. At risk when a piece is past
// its due date and not submitted, or was released as referred.
func pieces(rec Records, now time.Time) Result {
	res := Result{Unit: "pieces", Need: float64(len(rec.Pieces))}
	if len(rec.Pieces) == 0 {
		res.State, res.Summary = NotYet, "No assessed piece of work is set for the cohort yet."
		return res
	}
	passed := 0
	for _, p := range rec.Pieces {
		ev := Evidence{Label: p.Title, Date: p.Due, Path: p.Path, StaffPath: p.StaffPath}
		switch {
		case p.Released && p.Outcome == OutcomePass:
			passed++
			ev.Counts, ev.Detail = true, "agreed and released as a pass"
		case p.Released && p.Outcome == OutcomeRefer:
			ev.Detail = "released as referred"
			res.Reasons = append(res.Reasons, p.Title+" was referred.")
		case p.Submitted:
			ev.Detail = "submitted; marking not released yet"
		case !p.Due.IsZero() && now.After(p.Due):
			ev.Detail = "past due (" + day(p.Due) + ") and not submitted"
			res.Reasons = append(res.Reasons, p.Title+" is past due and not submitted.")
		default:
			ev.Detail = "not submitted yet"
			if res.Next == "" || (!p.Due.IsZero() && (res.NextBy.IsZero() || p.Due.Before(res.NextBy))) {
				res.Next, res.NextBy = "Submit "+p.Title, p.Due
			}
		}
		res.Evidence = append(res.Evidence, ev)
	}
	res.Count = float64(passed)
	res.Summary = fmt.Sprintf("%d of %s passed", passed, plural(len(rec.Pieces), "piece", "pieces"))
	switch {
	case passed == len(rec.Pieces):
		res.State = Met
	case len(res.Reasons) > 0:
		res.State = AtRisk
	default:
		res.State = NotYet
	}
	return res
}

// hours writes minutes as hours to a tenth, rounded down so that 119 minutes never read as 2 hours.
func hours(minutes int) float64 { return math.Floor(float64(minutes)/6) / 10 }

func hoursText(h float64) string {
	s := strconv.FormatFloat(h, 'f', -1, 64)
	if h == 1 {
		return s + " hour"
	}
	return s + " hours"
}

// supervision: at least Hours of supervision that the supervisor has confirmed; sessions
// awaiting confirmation are listed but do not count. At risk when the confirmed hours are
// behind the pace needed to reach Hours by the programme's last day (Hours × the share of the
// programme gone, in whole hours); not met when the programme is over and the hours logged,
// confirmed or not, fall short.
func supervision(r Rule, rec Records, now time.Time) Result {
	res := Result{Need: float64(r.Hours), Unit: "hours"}
	confirmed, logged := 0, 0
	for _, s := range rec.Supervision {
		logged += s.Minutes
		ev := Evidence{Label: fmt.Sprintf("Supervision on %s", day(s.Date)), Date: s.Date, Path: "/supervision", StaffPath: "/supervision"}
		if s.Confirmed {
			confirmed += s.Minutes
			ev.Counts, ev.Detail = true, fmt.Sprintf("%d minutes, confirmed", s.Minutes)
		} else {
			ev.Detail = fmt.Sprintf("%d minutes, awaiting the supervisor's confirmation", s.Minutes)
		}
		res.Evidence = append(res.Evidence, ev)
	}
	res.Count = hours(confirmed)
	res.Summary = fmt.Sprintf("%s confirmed of the %d needed", hoursText(res.Count), r.Hours)
	first, last, ok := programmeSpan(rec.Programme)
	today := ukDate(now)
	switch {
	case confirmed >= r.Hours*60:
		res.State = Met
		return res
	case ok && today.After(last) && logged < r.Hours*60:
		res.State = NotMet
		res.Reasons = append(res.Reasons, fmt.Sprintf("The programme ended on %s with %s logged.", day(last), hoursText(hours(logged))))
		return res
	}
	res.State = NotYet
	if ok {
		span := last.Sub(first).Hours()/24 + 1
		gone := math.Min(math.Max(today.Sub(first).Hours()/24+1, 0), span)
		due := math.Floor(float64(r.Hours) * gone / span)
		if float64(confirmed) < due*60 {
			res.State = AtRisk
			res.Reasons = append(res.Reasons, fmt.Sprintf("Behind the pace needed: %s should be confirmed by now to reach %d by %s.", hoursText(due), r.Hours, day(last)))
		}
		res.Next, res.NextBy = fmt.Sprintf("Have %s more confirmed", hoursText(float64(r.Hours)-res.Count)), last
	}
	return res
}

// practice: practice logged in at least Weeks of the programme's weeks (Monday to Sunday,
// from the week of its first day to that of its last). The rule reads only the days on which
// practice is logged, and only when the trainee shares their practice totals with their
// supervisor; it never reads the minutes or the kind. Not met when too few weeks remain; at
// risk when no more weeks can be missed.
func practice(r Rule, rec Records, now time.Time) Result {
	res := Result{Need: float64(r.Weeks), Unit: "weeks"}
	weeks := programmeWeeks(rec.Programme)
	if !rec.Practice.Shared {
		res.State = NotYet
		res.Summary = "Not counted: the practice log's totals are not shared with the supervisor."
		res.Next = "Choose to share your practice totals with your supervisor, on your practice page"
		return res
	}
	logged := map[time.Time]bool{}
	for _, d := range rec.Practice.Days {
		logged[monday(dateOf(d))] = true
	}
	today := ukDate(now)
	count, remaining := 0, 0
	for _, w := range weeks {
		switch {
		case logged[w]:
			count++
			res.Evidence = append(res.Evidence, Evidence{Label: "Week of " + day(w), Detail: "practice logged", Date: w, Counts: true, Path: "/practice"})
		case !w.AddDate(0, 0, 6).Before(today):
			remaining++
		}
	}
	res.Count = float64(count)
	res.Summary = fmt.Sprintf("%s with practice of the %d needed (the programme has %d)", plural(count, "week", "weeks"), r.Weeks, len(weeks))
	switch {
	case count >= r.Weeks:
		res.State = Met
	case count+remaining < r.Weeks:
		res.State = NotMet
		res.Reasons = append(res.Reasons, fmt.Sprintf("Only %s remain, fewer than the %d still needed.", plural(remaining, "week", "weeks"), r.Weeks-count))
	case count+remaining == r.Weeks && count+remaining < len(weeks):
		res.State = AtRisk
		res.Reasons = append(res.Reasons, "No more weeks can be missed.")
	default:
		res.State = NotYet
	}
	if res.State == NotYet || res.State == AtRisk {
		end := monday(today).AddDate(0, 0, 6)
		res.Next, res.NextBy = "Log practice this week", end
	}
	return res
}
