package courses

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Occasion is something a register is taken for: a day of a residential module
// ("module-2-day-3") or a facilitated dialogue session (the activity's id).
type Occasion struct {
	ID    string    `json:"id"`
	Title string    `json:"title"`
	Date  time.Time `json:"date"` // a date for a module day, the start for a session
	Kind  string    `json:"kind"`
}

// The kinds of occasion.
const (
	OccasionResidential = "residential"
	OccasionDialogue    = "dialogue"
)

// Occasions lists every occasion of the programme in date order: each day of each module,
// from its start to its end, and each facilitated dialogue session.
func (p Programme) Occasions() []Occasion {
	var out []Occasion
	for _, m := range p.Modules {
		start, end := dateOf(m.Start), dateOf(m.End)
		for d, date := 1, start; !date.After(end) && d <= maxModuleDays; d, date = d+1, date.AddDate(0, 0, 1) {
			out = append(out, Occasion{
				ID:    fmt.Sprintf("module-%d-day-%d", m.Number, d),
				Title: fmt.Sprintf("Module %d, day %d: %s", m.Number, d, m.Title),
				Date:  date, Kind: OccasionResidential,
			})
		}
	}
	for _, per := range p.Periods {
		for _, a := range per.Activities {
			if a.Kind == ActivityDialogue && a.Session != nil {
				out = append(out, Occasion{ID: a.ID, Title: a.Title, Date: a.Session.Start, Kind: OccasionDialogue})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date.Before(out[j].Date) })
	return out
}

// occasion finds the occasion with the id.
func (p Programme) occasion(id string) (Occasion, bool) {
	for _, o := range p.Occasions() {
		if o.ID == id {
			return o, true
		}
	}
	return Occasion{}, false
}

// begun reports whether the occasion has started at now: a module day from its UK
// morning, a session from its start.
func (o Occasion) begun(now time.Time) bool {
	if o.Kind == OccasionResidential {
		return !ukDate(now).Before(o.Date)
	}
	return !now.Before(o.Date)
}

// Mark is what the register says of a trainee on an occasion.
type Mark string

// The marks. Only Excused can be recorded before an occasion, for an absence agreed in
// advance.
const (
	Present Mark = "present"
	Absent  Mark = "absent"
	Excused Mark = "excused"
)

func (m Mark) known() bool { return m == Present || m == Absent || m == Excused }

// AttendanceEntry is one line of a register as a facilitator takes it.
type AttendanceEntry struct {
	UserID string `json:"userId"`
	Mark   Mark   `json:"mark"`
	Note   string `json:"note"`
}

// AttendanceRecord is a trainee's current mark for one occasion. Mark is empty when no
// register has marked them yet.
type AttendanceRecord struct {
	Occasion string    `json:"occasion"`
	Title    string    `json:"title"`
	Date     time.Time `json:"date"`
	UserID   string    `json:"userId"`
	Mark     Mark      `json:"mark"`
	Note     string    `json:"note,omitempty"`
	TakenBy  string    `json:"takenBy,omitempty"`
	TakenAt  time.Time `json:"takenAt,omitzero"`
}

// attendanceDoc is one mark as taken. Marks are only ever added: the newest for an occasion
// and a trainee is the current one, and the earlier ones are the history. Each mark is kept
// in two list documents (attendance_registers), so that a page reads one document by _id:
// the register of its occasion (registerID) and the trainee's marks in the cohort
// (traineeMarksID). The register is written first; a retaken register adds the marks to
// both again.
type attendanceDoc struct {
	ID       string    `bson:"_id"`
	CohortID string    `bson:"cohortId"`
	Occasion string    `bson:"occasion"`
	UserID   string    `bson:"userId"`
	Mark     Mark      `bson:"mark"`
	Note     string    `bson:"note"`
	TakenBy  string    `bson:"takenBy"`
	TakenAt  time.Time `bson:"takenAt"`
}

const maxAttendanceNote = 500

// TakeRegister records the marks of trainees of the cohort for one occasion of its
// programme. Taking a register again corrects it: the new marks count from then on, and
// the earlier ones stay in the history.
func (s *Store) TakeRegister(ctx context.Context, cohortID, occasion string, entries []AttendanceEntry, by string) error {
	if strings.TrimSpace(by) == "" {
		return failure.Invalid("takenBy", "is required")
	}
	_, o, err := s.programmeOccasion(ctx, cohortID, occasion)
	if err != nil {
		return err
	}
	return s.takeRegister(ctx, cohortID, o, entries, by, false)
}

// takeRegister stores the marks for o. Before o, only Excused is taken unless held says
// that the occasion has in fact taken place (a dialogue room used before its session's date).
func (s *Store) takeRegister(ctx context.Context, cohortID string, o Occasion, entries []AttendanceEntry, by string, held bool) error {
	occasion := o.ID
	if len(entries) == 0 {
		return failure.Invalid("entries", "mark at least one trainee")
	}
	roles, err := s.memberRoles(ctx, cohortID)
	if err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	seen := map[string]int{}
	docs := make([]any, 0, len(entries))
	for i, e := range entries {
		f := fmt.Sprintf("entries[%d]", i)
		e.Note = strings.TrimSpace(e.Note)
		if err := checkEntry(f, e, roles, seen, o, now, held); err != nil {
			return err
		}
		seen[e.UserID] = i
		docs = append(docs, attendanceDoc{
			ID: database.NewID(), CohortID: cohortID, Occasion: occasion, UserID: e.UserID,
			Mark: e.Mark, Note: e.Note, TakenBy: by, TakenAt: now,
		})
	}
	if err := s.db.AddToList(ctx, s.registers, registerID(cohortID, occasion), "marks", bson.M{"$each": docs}); err != nil {
		return fmt.Errorf("take register for %s: %w", occasion, err)
	}
	for _, d := range docs {
		d := d.(attendanceDoc)
		if err := s.db.AddToList(ctx, s.registers, traineeMarksID(cohortID, d.UserID), "marks", d); err != nil {
			return fmt.Errorf("take register for %s: %w", occasion, err)
		}
	}
	return nil
}

// registerID is the _id of the list of every mark taken for the occasion in the cohort.
func registerID(cohortID, occasion string) string { return "register/" + cohortID + "/" + occasion }

// traineeMarksID is the _id of the list of every mark taken for the trainee in the cohort.
func traineeMarksID(cohortID, userID string) string { return "trainee/" + cohortID + "/" + userID }

// marksDoc is a list of marks.
type marksDoc struct {
	ID    string          `bson:"_id"`
	Marks []attendanceDoc `bson:"marks"`
}

// marksIn reads a list of marks, oldest first; a missing list has none. Marks taken in the
// same millisecond fall back on their ids, which grow with time.
func (s *Store) marksIn(ctx context.Context, id string) ([]attendanceDoc, error) {
	d, err := database.FindByID[marksDoc](ctx, s.registers, id)
	if errors.Is(err, failure.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sort.SliceStable(d.Marks, func(i, j int) bool {
		a, b := d.Marks[i], d.Marks[j]
		return a.TakenAt.Before(b.TakenAt) || (a.TakenAt.Equal(b.TakenAt) && a.ID < b.ID)
	})
	for i := range d.Marks {
		d.Marks[i].TakenAt = d.Marks[i].TakenAt.UTC()
	}
	return d.Marks, nil
}

func checkEntry(f string, e AttendanceEntry, roles map[string]accounts.Role, seen map[string]int, o Occasion, now time.Time, held bool) error {
	role, member := roles[e.UserID]
	switch {
	case e.UserID == "":
		return failure.Invalid(f+".userId", "is required")
	case !member:
		return failure.Invalidf(f+".userId", "%q is not a member of this cohort", e.UserID)
	case role != accounts.RoleTrainee:
		return failure.Invalidf(f+".userId", "%q is a %s in this cohort, not a trainee", e.UserID, strings.ToLower(role.Label()))
	}
	if j, dup := seen[e.UserID]; dup {
		return failure.Invalidf(f+".userId", "%q is already marked in entries[%d]", e.UserID, j)
	}
	if !e.Mark.known() {
		return failure.Invalidf(f+".mark", "%q is not a mark; use present, absent or excused", e.Mark)
	}
	if e.Mark != Excused && !held && !o.begun(now) {
		return failure.Invalidf(f+".mark", "%s has not happened yet: before it, only an agreed absence (excused) can be recorded", o.Title)
	}
	if n := utf8.RuneCountInString(e.Note); n > maxAttendanceNote {
		return failure.Invalidf(f+".note", "must be at most %d characters, not %d", maxAttendanceNote, n)
	}
	return nil
}

// programmeOccasion finds the cohort's programme and the occasion in it.
func (s *Store) programmeOccasion(ctx context.Context, cohortID, occasion string) (Programme, Occasion, error) {
	if _, err := s.Cohort(ctx, cohortID); err != nil {
		return Programme{}, Occasion{}, err
	}
	p, err := s.Programme(ctx, cohortID)
	if errors.Is(err, failure.ErrNotFound) {
		return Programme{}, Occasion{}, failure.Invalid("occasion", "the cohort has no programme yet, so it has nothing to take a register for")
	}
	if err != nil {
		return Programme{}, Occasion{}, err
	}
	o, ok := p.occasion(occasion)
	if !ok {
		return Programme{}, Occasion{}, failure.Invalidf("occasion", "%q is neither a module day nor a dialogue session of this cohort's programme", occasion)
	}
	return p, o, nil
}

// memberRoles maps each member of the cohort to their role.
func (s *Store) memberRoles(ctx context.Context, cohortID string) (map[string]accounts.Role, error) {
	members, err := s.Members(ctx, cohortID)
	if err != nil {
		return nil, err
	}
	roles := make(map[string]accounts.Role, len(members))
	for _, m := range members {
		roles[m.UserID] = m.Role
	}
	return roles, nil
}

// Register is the current register of an occasion: one record for each trainee of the
// cohort, in the order they joined, with an empty mark for those not marked yet.
func (s *Store) Register(ctx context.Context, cohortID, occasion string) ([]AttendanceRecord, error) {
	_, o, err := s.programmeOccasion(ctx, cohortID, occasion)
	if err != nil {
		return nil, err
	}
	members, err := s.Members(ctx, cohortID)
	if err != nil {
		return nil, err
	}
	current, err := s.currentMarks(ctx, registerID(cohortID, occasion))
	if err != nil {
		return nil, err
	}
	out := []AttendanceRecord{}
	for _, m := range members {
		if m.Role == accounts.RoleTrainee {
			out = append(out, record(o, m.UserID, current[markKey{occasion, m.UserID}]))
		}
	}
	return out, nil
}

// AttendanceOf is a trainee's attendance: every occasion of the cohort's programme that has
// begun, and any later one already marked, with the current mark. A person who is not a
// trainee of the cohort is failure.ErrNotFound.
func (s *Store) AttendanceOf(ctx context.Context, cohortID, userID string) ([]AttendanceRecord, error) {
	roles, err := s.memberRoles(ctx, cohortID)
	if err != nil {
		return nil, err
	}
	if roles[userID] != accounts.RoleTrainee {
		return nil, fmt.Errorf("trainee %s of cohort %s: %w", userID, cohortID, failure.ErrNotFound)
	}
	p, err := s.Programme(ctx, cohortID)
	if errors.Is(err, failure.ErrNotFound) {
		return []AttendanceRecord{}, nil
	}
	if err != nil {
		return nil, err
	}
	current, err := s.currentMarks(ctx, traineeMarksID(cohortID, userID))
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []AttendanceRecord{}
	for _, o := range p.Occasions() {
		doc, marked := current[markKey{o.ID, userID}]
		if o.begun(now) || marked {
			out = append(out, record(o, userID, doc))
		}
	}
	return out, nil
}

// AttendanceHistory lists every mark ever taken for the trainee on the occasion, oldest
// first: the corrections a retaken register made, and who made them.
func (s *Store) AttendanceHistory(ctx context.Context, cohortID, occasion, userID string) ([]AttendanceRecord, error) {
	_, o, err := s.programmeOccasion(ctx, cohortID, occasion)
	if err != nil {
		return nil, err
	}
	docs, err := s.marksIn(ctx, traineeMarksID(cohortID, userID))
	if err != nil {
		return nil, err
	}
	out := []AttendanceRecord{}
	for _, d := range docs {
		if d.Occasion == occasion {
			out = append(out, record(o, userID, d))
		}
	}
	return out, nil
}

type markKey struct{ occasion, userID string }

// currentMarks folds the marks of a list into the newest for each occasion and trainee.
func (s *Store) currentMarks(ctx context.Context, listID string) (map[markKey]attendanceDoc, error) {
	docs, err := s.marksIn(ctx, listID)
	if err != nil {
		return nil, err
	}
	current := make(map[markKey]attendanceDoc, len(docs))
	for _, d := range docs {
		current[markKey{d.Occasion, d.UserID}] = d // oldest first: the last is the newest
	}
	return current, nil
}

func record(o Occasion, userID string, d attendanceDoc) AttendanceRecord {
	return AttendanceRecord{
		Occasion: o.ID, Title: o.Title, Date: o.Date, UserID: userID,
		Mark: d.Mark, Note: d.Note, TakenBy: d.TakenBy, TakenAt: d.TakenAt,
	}
}
