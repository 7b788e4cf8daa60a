package courses

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// PracticeKind is a kind of personal (mindfulness) practice.
type PracticeKind string

// The kinds of practice.
const (
	PracticeSitting PracticeKind = "sitting"
	PracticeWalking PracticeKind = "walking"
	PracticeOther   PracticeKind = "other"
)

// Limits on the practice log.
const (
	MaxPracticeMinutes     = 600  // one session
	maxPracticeDayMinutes  = 1440 // one day
	maxPracticeDaySessions = 50
	// MaxPracticeRangeDays bounds the range of one summary: the nine months and some.
	MaxPracticeRangeDays = 400
)

// PracticeVisibility is what a trainee's supervisors may see of their practice log. It is
// never marked, and nobody else sees anything of it.
type PracticeVisibility string

// The choices; PracticeHidden is the default.
const (
	PracticeHidden     PracticeVisibility = "nothing"
	PracticeTotalsOnly PracticeVisibility = "totals"
)

// NewPractice is one practice session to log. Date is a UK calendar date (midnight UTC).
type NewPractice struct {
	Date    time.Time    `json:"date"`
	Minutes int          `json:"minutes"`
	Kind    PracticeKind `json:"kind"`
	Key     string       `json:"key"`
}

// PracticeSession is a logged session.
type PracticeSession struct {
	ID       string       `bson:"_id" json:"id"`
	OwnerID  string       `bson:"ownerId" json:"-"`
	Date     time.Time    `bson:"date" json:"date"`
	Minutes  int          `bson:"minutes" json:"minutes"`
	Kind     PracticeKind `bson:"kind" json:"kind"`
	LoggedAt time.Time    `bson:"loggedAt" json:"loggedAt"`
	Request  string       `bson:"request" json:"-"`
}

// LogPractice adds a practice session to the viewer's log. Its id is made from the
// viewer and the idempotency key, so a retry with the same key (even one racing the first
// attempt) returns the session the first attempt logged and adds nothing.
func (j *Journals) LogPractice(ctx context.Context, v Viewer, np NewPractice) (PracticeSession, error) {
	if err := signedIn(v); err != nil {
		return PracticeSession{}, err
	}
	if err := checkIdemKey(np.Key); err != nil {
		return PracticeSession{}, err
	}
	day, dateErr := checkLogDate(np.Date, j.now())
	var minutesErr, kindErr error
	if np.Minutes < 1 || np.Minutes > MaxPracticeMinutes {
		minutesErr = failure.Problemf("minutes", "Minutes must be from 1 to %d", MaxPracticeMinutes)
	}
	switch np.Kind {
	case PracticeSitting, PracticeWalking, PracticeOther:
	default:
		kindErr = failure.Problem("kind", "Select the kind of practice: sitting, walking or other")
	}
	if err := failure.Problems(dateErr, minutesErr, kindErr); err != nil {
		return PracticeSession{}, err
	}
	s := PracticeSession{
		ID: "pr" + hashOf("practice", v.UserID, np.Key)[:22], OwnerID: v.UserID, Date: day, Minutes: np.Minutes,
		Kind: np.Kind, LoggedAt: j.clock(), Request: hashOf(day.Format(time.DateOnly), fmt.Sprint(np.Minutes), string(np.Kind)),
	}
	sameDay, err := j.practiceBetween(ctx, v.UserID, day, day)
	if err != nil {
		return PracticeSession{}, err
	}
	total := s.Minutes
	for _, other := range sameDay {
		if other.ID == s.ID {
			return practiceReplayed(other, s.Request)
		}
		total += other.Minutes
	}
	if len(sameDay) >= maxPracticeDaySessions || total > maxPracticeDayMinutes {
		return PracticeSession{}, failure.Problemf("minutes", "A day can have at most %d minutes of practice in %d sessions: %s would have %d minutes in %d",
			maxPracticeDayMinutes, maxPracticeDaySessions, formatDate(day), total, len(sameDay)+1)
	}
	if err := database.Insert(ctx, j.practice, s); errors.Is(err, database.ErrDuplicate) {
		first, err := findByID[PracticeSession](ctx, j.practice, s.ID)
		if err != nil {
			return PracticeSession{}, err
		}
		if first.Request == s.Request {
			// The first attempt may have stopped before listing it.
			if err := j.listPractice(ctx, first); err != nil {
				return PracticeSession{}, err
			}
		}
		return practiceReplayed(first, s.Request)
	} else if err != nil {
		return PracticeSession{}, fmt.Errorf("log practice: %w", err)
	}
	if err := j.listPractice(ctx, s); err != nil {
		return PracticeSession{}, err
	}
	return s, nil
}

// A person's practice sessions are listed, after each is stored, in a document per
// calendar month (practiceMonthID), so that a range of days is read a month at a time by
// _id. A month holds at most maxPracticeDaySessions a day.

// practiceMonthID is the _id of the list of the person's sessions in the month of day.
func practiceMonthID(ownerID string, day time.Time) string {
	return "month/" + ownerID + "/" + day.UTC().Format("2006-01")
}

// practiceMonthDoc lists a person's sessions of one month.
type practiceMonthDoc struct {
	ID       string            `bson:"_id"`
	Sessions []PracticeSession `bson:"sessions"`
}

// practiceMonthsID is the _id of the list of the months of the person's sessions, which
// the export reads; a month is listed before its session is.
func practiceMonthsID(ownerID string) string { return "months/" + ownerID }

// listPractice adds the session to its month's list, and the month to the person's months.
func (j *Journals) listPractice(ctx context.Context, s PracticeSession) error {
	s.Date, s.LoggedAt = s.Date.UTC(), s.LoggedAt.UTC()
	months, month := j.db.Collection(practiceMonthsColl), practiceMonthID(s.OwnerID, s.Date)
	if err := addOwned(ctx, j.db, months, practiceMonthsID(s.OwnerID), s.OwnerID, "ids", month); err != nil {
		return err
	}
	return addOwned(ctx, j.db, months, month, s.OwnerID, "sessions", s)
}

// allPractice reads every session of the person, by date, through their list of months.
func (j *Journals) allPractice(ctx context.Context, ownerID string) ([]PracticeSession, error) {
	months := j.db.Collection(practiceMonthsColl)
	list, err := database.FindByID[idListDoc](ctx, months, practiceMonthsID(ownerID))
	if errors.Is(err, failure.ErrNotFound) {
		return []PracticeSession{}, nil
	}
	if err != nil {
		return nil, err
	}
	docs, err := database.FindEachByID[practiceMonthDoc](ctx, months, list.IDs)
	if err != nil {
		return nil, err
	}
	out := []PracticeSession{}
	seen := map[string]bool{}
	for _, d := range docs {
		for _, s := range d.Sessions {
			if !seen[s.ID] {
				seen[s.ID] = true
				s.Date, s.LoggedAt = s.Date.UTC(), s.LoggedAt.UTC()
				out = append(out, s)
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if !out[a].Date.Equal(out[b].Date) {
			return out[a].Date.Before(out[b].Date)
		}
		return out[a].ID < out[b].ID
	})
	return out, nil
}

// practiceChoices reads every visibility choice of the person, oldest first, by the ids of
// their numbers.
func (j *Journals) practiceChoices(ctx context.Context, ownerID string) ([]practiceSettingDoc, error) {
	cur, err := j.practiceVisibility(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, cur.Seq)
	for n := 1; n <= cur.Seq; n++ {
		ids = append(ids, practiceSettingID(ownerID, n))
	}
	return database.FindEachByID[practiceSettingDoc](ctx, j.practiceSettings, ids)
}

func practiceReplayed(first PracticeSession, request string) (PracticeSession, error) {
	if first.Request != request {
		return PracticeSession{}, failure.Invalid("key", "was already used for a different session; send a new key with each session")
	}
	first.Date, first.LoggedAt = first.Date.UTC(), first.LoggedAt.UTC()
	return first, nil
}

// practiceBetween reads the person's sessions from one date to another, by date.
func (j *Journals) practiceBetween(ctx context.Context, ownerID string, from, to time.Time) ([]PracticeSession, error) {
	months := j.db.Collection(practiceMonthsColl)
	out := []PracticeSession{}
	seen := map[string]bool{}
	first := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	for m := first; !m.After(to); m = m.AddDate(0, 1, 0) {
		d, err := database.FindByID[practiceMonthDoc](ctx, months, practiceMonthID(ownerID, m))
		if errors.Is(err, failure.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, s := range d.Sessions {
			s.Date, s.LoggedAt = s.Date.UTC(), s.LoggedAt.UTC()
			if !s.Date.Before(from) && !s.Date.After(to) && !seen[s.ID] {
				seen[s.ID] = true
				out = append(out, s)
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if !out[a].Date.Equal(out[b].Date) {
			return out[a].Date.Before(out[b].Date)
		}
		return out[a].LoggedAt.Before(out[b].LoggedAt)
	})
	return out, nil
}

// checkRange refuses a range that is back to front or longer than MaxPracticeRangeDays,
// and returns it as dates.
func checkRange(from, to time.Time) (time.Time, time.Time, error) {
	if from.IsZero() || to.IsZero() {
		return time.Time{}, time.Time{}, failure.Invalid("from", "the range needs a first and a last day")
	}
	from, to = dateOf(from), dateOf(to)
	if to.Before(from) {
		return time.Time{}, time.Time{}, failure.Invalid("to", "is before the first day of the range")
	}
	if n := daysBetween(from, to) + 1; n > MaxPracticeRangeDays {
		return time.Time{}, time.Time{}, failure.Invalidf("to", "the range has %d days; at most %d at a time", n, MaxPracticeRangeDays)
	}
	return from, to, nil
}

// PracticeSessions lists the viewer's own sessions from one date to another, by date.
func (j *Journals) PracticeSessions(ctx context.Context, v Viewer, from, to time.Time) ([]PracticeSession, error) {
	if err := signedIn(v); err != nil {
		return nil, err
	}
	from, to, err := checkRange(from, to)
	if err != nil {
		return nil, err
	}
	return j.practiceBetween(ctx, v.UserID, from, to)
}

// PracticeDay is the minutes practised on one day, for the calendar heat map.
type PracticeDay struct {
	Date    time.Time `json:"date"`
	Minutes int       `json:"minutes"`
}

// PracticeSummary is a trainee's practice over a range of days. For the trainee it is
// complete; a supervisor allowed to see totals gets TotalsOnly with Minutes and Sessions.
type PracticeSummary struct {
	From, To      time.Time            `json:"-"`
	Minutes       int                  `json:"minutes"`
	Sessions      int                  `json:"sessions"`
	ByKind        map[PracticeKind]int `json:"byKind,omitempty"`
	CurrentStreak int                  `json:"currentStreak,omitempty"`
	LongestStreak int                  `json:"longestStreak,omitempty"`
	Days          []PracticeDay        `json:"days,omitempty"` // every day of the range
	TotalsOnly    bool                 `json:"totalsOnly,omitempty"`
}

// PracticeSummary sums a trainee's practice from one date to another. The trainee gets
// the totals by kind, the streaks (counted in UK days, up to today) and the minutes of
// every day; one of the trainee's supervisors gets the totals only, and only when the
// trainee has chosen PracticeTotalsOnly (logged as a read). Anyone else gets
// failure.ErrNotFound.
func (j *Journals) PracticeSummary(ctx context.Context, v Viewer, ownerID string, from, to time.Time) (PracticeSummary, error) {
	notFound := fmt.Errorf("practice log: %w", failure.ErrNotFound)
	if err := signedIn(v); err != nil {
		return PracticeSummary{}, err
	}
	from, to, err := checkRange(from, to)
	if err != nil {
		return PracticeSummary{}, err
	}
	if v.UserID != ownerID {
		ok, err := j.seesPracticeTotals(ctx, v, ownerID)
		if err != nil {
			return PracticeSummary{}, err
		}
		if !ok {
			return PracticeSummary{}, notFound
		}
	}
	sessions, err := j.practiceBetween(ctx, ownerID, from, to)
	if err != nil {
		return PracticeSummary{}, err
	}
	sum := PracticeSummary{From: from, To: to, ByKind: map[PracticeKind]int{}, Days: []PracticeDay{}, Sessions: len(sessions)}
	byDay := map[time.Time]int{}
	for _, s := range sessions {
		byDay[dateOf(s.Date)] += s.Minutes
		sum.ByKind[s.Kind] += s.Minutes
		sum.Minutes += s.Minutes
	}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		sum.Days = append(sum.Days, PracticeDay{Date: d, Minutes: byDay[d]})
	}
	if v.UserID != ownerID {
		rec := AccessRecord{OwnerID: ownerID, ViewerID: v.UserID, As: AccessSupervisor, What: "practice totals"}
		if err := j.logAccess(ctx, rec); err != nil {
			return PracticeSummary{}, err
		}
		return PracticeSummary{From: from, To: to, Minutes: sum.Minutes, Sessions: sum.Sessions, TotalsOnly: true}, nil
	}
	sum.CurrentStreak, sum.LongestStreak = PracticeStreaks(sum.Days, ukDate(j.now()))
	return sum, nil
}

func (j *Journals) seesPracticeTotals(ctx context.Context, v Viewer, ownerID string) (bool, error) {
	vis, err := j.practiceVisibility(ctx, ownerID)
	if err != nil || vis.Visibility != PracticeTotalsOnly {
		return false, err
	}
	rel, err := j.relation(ctx, v.UserID, ownerID)
	return rel.supervisor, err
}

// PracticeStreaks counts runs of consecutive days with practice: the longest, and the
// current one, which ends today, or yesterday while today has no practice yet (a day is
// not missed until it is over). Days are UK calendar dates.
func PracticeStreaks(days []PracticeDay, today time.Time) (current, longest int) {
	practised := map[time.Time]bool{}
	var dates []time.Time
	for _, d := range days {
		if d.Minutes > 0 && !practised[dateOf(d.Date)] {
			practised[dateOf(d.Date)] = true
			dates = append(dates, dateOf(d.Date))
		}
	}
	sort.Slice(dates, func(a, b int) bool { return dates[a].Before(dates[b]) })
	run := 0
	for i, d := range dates {
		if i > 0 && daysBetween(dates[i-1], d) == 1 {
			run++
		} else {
			run = 1
		}
		longest = max(longest, run)
	}
	d := dateOf(today)
	if !practised[d] {
		d = d.AddDate(0, 0, -1)
	}
	for practised[d] {
		current++
		d = d.AddDate(0, 0, -1)
	}
	return current, longest
}

// practiceSettingDoc is one choice of visibility, under the _id pv/ownerID/000002; the
// last is the current choice, and of two changes made at once one is stored.
type practiceSettingDoc struct {
	ID         string             `bson:"_id" json:"-"`
	OwnerID    string             `bson:"ownerId" json:"-"`
	Seq        int                `bson:"seq" json:"seq"`
	Visibility PracticeVisibility `bson:"visibility" json:"visibility"`
	At         time.Time          `bson:"at" json:"at"`
}

func practiceSettingID(ownerID string, n int) string { return fmt.Sprintf("pv/%s/%06d", ownerID, n) }

// practiceVisibility reads the trainee's current choice (PracticeHidden, Seq 0, if none),
// from the database on every call: the choices are numbered from 1 without a gap, so the
// last is found by probing numbers by _id, from the one this store last saw when it is the
// database's only writer, from the start otherwise.
func (j *Journals) practiceVisibility(ctx context.Context, ownerID string) (practiceSettingDoc, error) {
	none := practiceSettingDoc{OwnerID: ownerID, Visibility: PracticeHidden}
	chain := "pv:" + ownerID
	known, doc := 0, none
	if h, ok := j.heads.get(chain); ok && j.soleWriter {
		known, doc = h.n, h.doc.(practiceSettingDoc)
	}
	n, d, err := lastInChain(known, doc, func(n int) (practiceSettingDoc, error) {
		return findByID[practiceSettingDoc](ctx, j.practiceSettings, practiceSettingID(ownerID, n))
	})
	if err != nil {
		return none, err
	}
	j.heads.put(chain, n, d)
	return d, nil
}

// PracticeVisibility is the viewer's current choice of what supervisors see.
func (j *Journals) PracticeVisibility(ctx context.Context, v Viewer) (PracticeVisibility, error) {
	if err := signedIn(v); err != nil {
		return "", err
	}
	doc, err := j.practiceVisibility(ctx, v.UserID)
	return doc.Visibility, err
}

// SetPracticeVisibility chooses what the viewer's supervisors see of their practice log:
// PracticeHidden (nothing) or PracticeTotalsOnly. It takes effect on the next request.
func (j *Journals) SetPracticeVisibility(ctx context.Context, v Viewer, vis PracticeVisibility) error {
	if err := signedIn(v); err != nil {
		return err
	}
	if vis != PracticeHidden && vis != PracticeTotalsOnly {
		return failure.Invalidf("visibility", "%q is not a choice; use nothing or totals", vis)
	}
	for range 10 {
		cur, err := j.practiceVisibility(ctx, v.UserID)
		if err != nil {
			return err
		}
		if cur.Visibility == vis {
			return nil
		}
		doc := practiceSettingDoc{ID: practiceSettingID(v.UserID, cur.Seq+1), OwnerID: v.UserID, Seq: cur.Seq + 1, Visibility: vis, At: j.clock()}
		err = j.practiceSettings.Insert(ctx, doc)
		if err == nil {
			j.heads.put("pv:"+v.UserID, doc.Seq, doc)
			return nil
		}
		if !errors.Is(err, database.ErrDuplicate) {
			return fmt.Errorf("choose practice visibility: %w", err)
		}
	}
	return failure.Conflict("the choice is being changed elsewhere; try again")
}
