package courses

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// SupervisionKind is the form a supervision session took.
type SupervisionKind string

// The kinds of supervision.
const (
	SupervisionIndividual SupervisionKind = "individual"
	SupervisionGroup      SupervisionKind = "group"
	SupervisionLocalTeam  SupervisionKind = "local-team"
)

// Limits on a supervision session.
const (
	MaxSupervisionMinutes    = 480 // a working day
	MaxSupervisionReflection = 2000
	maxPeerWorkerName        = 120
)

// NewSupervision is what a trainee logs of a supervision session. Date is a UK calendar
// date (midnight UTC, as parsed from "2027-03-04"). PeerWorker names the peer worker who
// co-supervised, if one did. Key is the idempotency key.
type NewSupervision struct {
	Date         time.Time       `json:"date"`
	Minutes      int             `json:"minutes"`
	SupervisorID string          `json:"supervisorId"`
	PeerWorker   string          `json:"peerWorker"`
	Kind         SupervisionKind `json:"kind"`
	Reflection   string          `json:"reflection"`
	Key          string          `json:"key"`
}

// SupervisionSession is a logged session and whether its supervisor has confirmed it.
type SupervisionSession struct {
	ID           string          `bson:"_id" json:"id"`
	TraineeID    string          `bson:"traineeId" json:"traineeId"`
	Date         time.Time       `bson:"date" json:"date"`
	Minutes      int             `bson:"minutes" json:"minutes"`
	SupervisorID string          `bson:"supervisorId" json:"supervisorId"`
	PeerWorker   string          `bson:"peerWorker,omitempty" json:"peerWorker,omitempty"`
	Kind         SupervisionKind `bson:"kind" json:"kind"`
	Reflection   string          `bson:"reflection" json:"reflection"`
	LoggedAt     time.Time       `bson:"loggedAt" json:"loggedAt"`
	Request      string          `bson:"request" json:"-"`
	Confirmed    bool            `bson:"-" json:"confirmed"`
	ConfirmedAt  time.Time       `bson:"-" json:"confirmedAt,omitzero"`
}

// resolutionDoc confirms a session; its _id is the session's, so it is written once.
type resolutionDoc struct {
	ID           string    `bson:"_id"`
	TraineeID    string    `bson:"traineeId"`
	SupervisorID string    `bson:"supervisorId"`
	At           time.Time `bson:"at"`
}

// checkLogDate refuses a missing date, a future one (by the UK calendar) and one more than
// a year before today, and returns the date as a date value.
func checkLogDate(d time.Time, now time.Time) (time.Time, error) {
	if d.IsZero() {
		return time.Time{}, failure.Problem("date", "Enter the date")
	}
	d, today := dateOf(d), ukDate(now)
	if d.After(today) {
		return time.Time{}, failure.Problemf("date", "The date must be today or in the past: %s is in the future", formatDate(d))
	}
	if d.Before(today.AddDate(-1, 0, 0)) {
		return time.Time{}, failure.Problemf("date", "The date must be within the last year: %s is more than a year ago", formatDate(d))
	}
	return d, nil
}

// LogSupervision records a supervision session in the viewer's log. The supervisor must
// be one of the viewer's supervisors in the cohort they are a trainee of. A retry with the same key
// returns the session the first attempt logged.
func (j *Journals) LogSupervision(ctx context.Context, v Viewer, ns NewSupervision) (SupervisionSession, error) {
	if err := signedIn(v); err != nil {
		return SupervisionSession{}, err
	}
	s, err := j.checkSupervision(ctx, v, ns)
	if err != nil {
		return SupervisionSession{}, err
	}
	if err := database.Insert(ctx, j.supervision, s); errors.Is(err, database.ErrDuplicate) {
		first, err := findByID[SupervisionSession](ctx, j.supervision, s.ID)
		if err != nil {
			return SupervisionSession{}, err
		}
		if first.Request != s.Request {
			return SupervisionSession{}, failure.Invalid("key", "was already used for a different session; send a new key with each session")
		}
		first, err = j.withResolution(ctx, first)
		if err != nil {
			return SupervisionSession{}, err
		}
		// The first attempt may have stopped before listing it.
		return first, j.listSupervision(ctx, first)
	} else if err != nil {
		return SupervisionSession{}, fmt.Errorf("log supervision: %w", err)
	}
	return s, j.listSupervision(ctx, s)
}

// Supervision sessions are reached by _id through list documents (supervision_lists),
// written after the session or its confirmation is stored: the trainee's sessions
// (traineeSessionsID), the confirmations of them (resolvedID), and the ids of the sessions
// a supervisor has still to confirm (toConfirmID), from which a confirmation takes its
// session out, so that the list a supervisor's page reads stays short.

func traineeSessionsID(traineeID string) string { return "trainee/" + traineeID }
func resolvedID(traineeID string) string        { return "resolved/" + traineeID }
func toConfirmID(supervisorID string) string    { return "confirm/" + supervisorID }

// supervisionListDoc is one of the supervision lists.
type supervisionListDoc struct {
	ID          string               `bson:"_id"`
	Sessions    []SupervisionSession `bson:"sessions"`
	Resolutions []resolutionDoc      `bson:"resolutions"`
	IDs         []string             `bson:"ids"`
}

func (j *Journals) supervisionList(ctx context.Context, id string) (supervisionListDoc, error) {
	d, err := findByID[supervisionListDoc](ctx, j.db.Collection(supervisionListsColl), id)
	if errors.Is(err, failure.ErrNotFound) {
		return supervisionListDoc{ID: id}, nil
	}
	return d, err
}

// listSupervision adds the session to its trainee's list and, unless it is confirmed, to
// its supervisor's sessions to confirm.
func (j *Journals) listSupervision(ctx context.Context, s SupervisionSession) error {
	lists := j.db.Collection(supervisionListsColl)
	confirmed := s.Confirmed
	s.Confirmed, s.ConfirmedAt = false, time.Time{}
	s.Date, s.LoggedAt = s.Date.UTC(), s.LoggedAt.UTC()
	if err := addOwned(ctx, j.db, lists, traineeSessionsID(s.TraineeID), s.TraineeID, "sessions", s); err != nil {
		return err
	}
	if confirmed {
		return nil
	}
	return addOwned(ctx, j.db, lists, toConfirmID(s.SupervisorID), s.SupervisorID, "ids", s.ID)
}

// traineeSessions reads the trainee's sessions by date, with their confirmations.
func (j *Journals) traineeSessions(ctx context.Context, traineeID string) ([]SupervisionSession, error) {
	list, err := j.supervisionList(ctx, traineeSessionsID(traineeID))
	if err != nil {
		return nil, err
	}
	if len(list.Sessions) == 0 {
		return []SupervisionSession{}, nil
	}
	resolved, err := j.supervisionList(ctx, resolvedID(traineeID))
	if err != nil {
		return nil, err
	}
	at := map[string]time.Time{}
	for _, r := range resolved.Resolutions {
		at[r.ID] = r.At.UTC()
	}
	out := []SupervisionSession{}
	seen := map[string]bool{}
	for _, s := range list.Sessions {
		if seen[s.ID] {
			continue
		}
		seen[s.ID] = true
		s.Date, s.LoggedAt = s.Date.UTC(), s.LoggedAt.UTC()
		if t, ok := at[s.ID]; ok {
			s.Confirmed, s.ConfirmedAt = true, t
		}
		out = append(out, s)
	}
	sortSessions(out)
	return out, nil
}

// sortSessions puts sessions in date order, then in the order they were logged.
func sortSessions(ss []SupervisionSession) {
	sort.SliceStable(ss, func(a, b int) bool {
		if !ss[a].Date.Equal(ss[b].Date) {
			return ss[a].Date.Before(ss[b].Date)
		}
		return ss[a].LoggedAt.Before(ss[b].LoggedAt)
	})
}

func (j *Journals) checkSupervision(ctx context.Context, v Viewer, ns NewSupervision) (SupervisionSession, error) {
	if err := checkIdemKey(ns.Key); err != nil {
		return SupervisionSession{}, err
	}
	var problems []error
	date, err := checkLogDate(ns.Date, j.now())
	problems = append(problems, err)
	if ns.Minutes < 1 || ns.Minutes > MaxSupervisionMinutes {
		problems = append(problems, failure.Problemf("minutes", "The session's length must be from 1 to %d minutes", MaxSupervisionMinutes))
	}
	if ns.SupervisorID == "" {
		problems = append(problems, failure.Problem("supervisorId", "Select your supervisor"))
	} else {
		rel, err := j.relation(ctx, ns.SupervisorID, v.UserID)
		if err != nil {
			return SupervisionSession{}, err
		}
		if !rel.supervisor {
			problems = append(problems, failure.Problem("supervisorId", "Select one of your supervisors from the list"))
		}
	}
	peer := strings.Join(strings.Fields(ns.PeerWorker), " ")
	problems = append(problems, checkLength("peerWorker", "the peer worker's name", peer, maxPeerWorkerName))
	switch ns.Kind {
	case SupervisionIndividual, SupervisionGroup, SupervisionLocalTeam:
	default:
		problems = append(problems, failure.Problem("kind", "Select the kind of supervision: individual, group or local team"))
	}
	reflection := strings.TrimSpace(strings.ReplaceAll(ns.Reflection, "\r\n", "\n"))
	problems = append(problems, checkLength("reflection", "the reflection", reflection, MaxSupervisionReflection))
	if err := failure.Problems(problems...); err != nil {
		return SupervisionSession{}, err
	}
	s := SupervisionSession{
		ID: "sv" + hashOf("supervision", v.UserID, ns.Key)[:22], TraineeID: v.UserID, Date: date,
		Minutes: ns.Minutes, SupervisorID: ns.SupervisorID, PeerWorker: peer, Kind: ns.Kind,
		Reflection: reflection, LoggedAt: j.clock(),
	}
	s.Request = hashOf(date.Format(time.DateOnly), fmt.Sprint(s.Minutes), s.SupervisorID, peer, string(s.Kind), reflection)
	return s, nil
}

// ConfirmSupervision records that the supervisor agrees the session took place. Only the
// supervisor the session names may confirm it, while still a supervisor of the trainee;
// confirming again changes nothing.
func (j *Journals) ConfirmSupervision(ctx context.Context, v Viewer, sessionID string) (SupervisionSession, error) {
	if err := signedIn(v); err != nil {
		return SupervisionSession{}, err
	}
	s, err := findByID[SupervisionSession](ctx, j.supervision, sessionID)
	if err != nil {
		return SupervisionSession{}, err
	}
	switch {
	case s.TraineeID == v.UserID:
		return SupervisionSession{}, fmt.Errorf("only the supervisor can confirm a session: %w", failure.ErrForbidden)
	case s.SupervisorID != v.UserID:
		return SupervisionSession{}, fmt.Errorf("supervision session %s: %w", sessionID, failure.ErrNotFound)
	}
	rel, err := j.relation(ctx, v.UserID, s.TraineeID)
	if err != nil {
		return SupervisionSession{}, err
	}
	if !rel.supervisor {
		return SupervisionSession{}, fmt.Errorf("you are no longer one of this trainee's supervisors: %w", failure.ErrForbidden)
	}
	doc := resolutionDoc{ID: s.ID, TraineeID: s.TraineeID, SupervisorID: v.UserID, At: j.clock()}
	if err := insertOnce(ctx, j.resolutions, doc); err != nil {
		return SupervisionSession{}, err
	}
	s, err = j.withResolution(ctx, s)
	if err != nil {
		return SupervisionSession{}, err
	}
	if err := j.listResolution(ctx, s); err != nil {
		return SupervisionSession{}, err
	}
	return s, nil
}

// listResolution adds a confirmed session's confirmation to its trainee's list and takes
// the session out of its supervisor's sessions to confirm.
func (j *Journals) listResolution(ctx context.Context, s SupervisionSession) error {
	lists := j.db.Collection(supervisionListsColl)
	r := resolutionDoc{ID: s.ID, TraineeID: s.TraineeID, SupervisorID: s.SupervisorID, At: s.ConfirmedAt.UTC()}
	if err := addOwned(ctx, j.db, lists, resolvedID(s.TraineeID), s.TraineeID, "resolutions", r); err != nil {
		return err
	}
	return j.db.RemoveFromList(ctx, lists, toConfirmID(s.SupervisorID), "ids", s.ID)
}

func (j *Journals) withResolution(ctx context.Context, s SupervisionSession) (SupervisionSession, error) {
	r, err := findByID[resolutionDoc](ctx, j.resolutions, s.ID)
	if errors.Is(err, failure.ErrNotFound) {
		return s, nil
	}
	if err != nil {
		return SupervisionSession{}, err
	}
	s.Confirmed, s.ConfirmedAt = true, r.At.UTC()
	return s, nil
}

// SupervisionLog lists a trainee's supervision sessions by date: all of them for the
// trainee, and for anyone else those that name them as supervisor (logged as a read).
func (j *Journals) SupervisionLog(ctx context.Context, v Viewer, traineeID string) ([]SupervisionSession, error) {
	if err := signedIn(v); err != nil {
		return nil, err
	}
	all, err := j.traineeSessions(ctx, traineeID)
	if err != nil {
		return nil, err
	}
	sessions := all
	if v.UserID != traineeID {
		sessions = []SupervisionSession{}
		for _, s := range all {
			if s.SupervisorID == v.UserID {
				sessions = append(sessions, s)
			}
		}
	}
	if v.UserID != traineeID && len(sessions) > 0 {
		if err := j.logAccess(ctx, AccessRecord{OwnerID: traineeID, ViewerID: v.UserID, As: AccessSupervisor, What: "supervision log"}); err != nil {
			return nil, err
		}
	}
	return sessions, nil
}

// SupervisionToConfirm lists the sessions that name the viewer as supervisor and that
// they have not confirmed yet, oldest first. Each trainee whose sessions are listed has
// the read in their access log.
func (j *Journals) SupervisionToConfirm(ctx context.Context, v Viewer) ([]SupervisionSession, error) {
	if err := signedIn(v); err != nil {
		return nil, err
	}
	list, err := j.supervisionList(ctx, toConfirmID(v.UserID))
	if err != nil {
		return nil, err
	}
	listed, err := findEachByID[SupervisionSession](ctx, j.supervision, list.IDs)
	if err != nil {
		return nil, err
	}
	all := make([]SupervisionSession, 0, len(listed))
	for _, s := range listed {
		if s.SupervisorID != v.UserID {
			continue
		}
		if s, err = j.withResolution(ctx, s); err != nil {
			return nil, err
		}
		if s.Confirmed {
			// A confirmation that stopped before it was listed: list it now.
			if err := j.listResolution(ctx, s); err != nil {
				return nil, err
			}
		}
		s.Date, s.LoggedAt = s.Date.UTC(), s.LoggedAt.UTC()
		all = append(all, s)
	}
	sortSessions(all)
	out := []SupervisionSession{}
	var reads []AccessRecord
	seen := map[string]bool{}
	for _, s := range all {
		if s.Confirmed {
			continue
		}
		out = append(out, s)
		if !seen[s.TraineeID] {
			seen[s.TraineeID] = true
			reads = append(reads, AccessRecord{OwnerID: s.TraineeID, ViewerID: v.UserID, As: AccessSupervisor, What: "supervision sessions to confirm"})
		}
	}
	return out, j.logAccess(ctx, reads...)
}

// findEachByID reads the documents with the ids, one read by _id each, leaving out those
// that do not exist (erased with their trainee's account).
func findEachByID[T any](ctx context.Context, coll *database.Collection, ids []string) ([]T, error) {
	return database.FindEachByID[T](ctx, coll, slices.Compact(slices.Sorted(slices.Values(ids))))
}

// SupervisionTotal adds up sessions.
type SupervisionTotal struct {
	Sessions          int `json:"sessions"`
	Minutes           int `json:"minutes"`
	ConfirmedSessions int `json:"confirmedSessions"`
	ConfirmedMinutes  int `json:"confirmedMinutes"`
}

func (t *SupervisionTotal) add(s SupervisionSession) {
	t.Sessions++
	t.Minutes += s.Minutes
	if s.Confirmed {
		t.ConfirmedSessions++
		t.ConfirmedMinutes += s.Minutes
	}
}

// SupervisionMonth is the total of one calendar month, written "2027-03".
type SupervisionMonth struct {
	Month string `json:"month"`
	SupervisionTotal
}

// SupervisionTotals is the total of each month that has sessions, in order, and overall.
type SupervisionTotals struct {
	Months  []SupervisionMonth `json:"months"`
	Overall SupervisionTotal   `json:"overall"`
}

// TotalSupervision adds up sessions by the month of their date and overall.
func TotalSupervision(sessions []SupervisionSession) SupervisionTotals {
	byMonth := map[string]*SupervisionTotal{}
	var out SupervisionTotals
	for _, s := range sessions {
		m := dateOf(s.Date).Format("2006-01")
		if byMonth[m] == nil {
			byMonth[m] = &SupervisionTotal{}
		}
		byMonth[m].add(s)
		out.Overall.add(s)
	}
	out.Months = []SupervisionMonth{}
	for m, t := range byMonth {
		out.Months = append(out.Months, SupervisionMonth{Month: m, SupervisionTotal: *t})
	}
	sort.Slice(out.Months, func(a, b int) bool { return out.Months[a].Month < out.Months[b].Month })
	return out
}

// SupervisionTotals adds up the sessions of a trainee's log that the viewer may see (see
// SupervisionLog).
func (j *Journals) SupervisionTotals(ctx context.Context, v Viewer, traineeID string) (SupervisionTotals, error) {
	sessions, err := j.SupervisionLog(ctx, v, traineeID)
	if err != nil {
		return SupervisionTotals{}, err
	}
	return TotalSupervision(sessions), nil
}
