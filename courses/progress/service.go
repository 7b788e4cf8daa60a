package progress

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"polyphony/assessment"
	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// The outcomes of an assessed piece of work, as its marking releases them.
const (
	OutcomePass  = "pass"
	OutcomeRefer = "refer"
)

// PieceResult is a trainee's assessed piece of work as the award reads it: Outcome is
// OutcomePass, OutcomeRefer or empty (not agreed yet), and counts only once Released. Path is
// where the trainee sees the piece, StaffPath where its markers do.
type PieceResult struct {
	PieceID   string
	Title     string
	Due       time.Time
	Outcome   string
	Released  bool
	Submitted bool
	Path      string
	StaffPath string
}

// PieceResults gives each assessed piece set for the cohort with the trainee's standing in
// it; nil when no assessed pieces exist yet. The marking of assessed work provides it.
type PieceResults interface {
	Released(ctx context.Context, cohortID, traineeID string) ([]PieceResult, error)
}

// Service keeps the award rules and works out progress against them.
type Service struct {
	rules    *database.Collection
	courses  *courses.Store
	journals *courses.Journals
	tests    *assessment.Store
	pieces   PieceResults
	now      func() time.Time
}

// New opens the award rules' collection. pieces may be nil until assessed work is marked in
// Polyphony: the rule on assessed pieces then finds none.
func New(ctx context.Context, db *database.DB, cs *courses.Store, js *courses.Journals, tests *assessment.Store, pieces PieceResults) (*Service, error) {
	s := &Service{rules: db.Collection("award_rules"), courses: cs, journals: js, tests: tests, pieces: pieces, now: time.Now}
	if err := db.EnsureCollections(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// SetClock replaces the service's clock; tests use it to stand at a day of the programme.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// SetPieces wires the marking of assessed work in.
func (s *Service) SetPieces(p PieceResults) { s.pieces = p }

// reader is who the progress rules read the records as. The results of the knowledge tests
// are staff's to read; the progress rules read them for everyone they decide may see a
// trainee's progress (see Trainee and Cohort), and show no more of them than pass or fail,
// the percentage and the attempt.
var reader = assessment.Actor{ID: "progress", Role: accounts.RoleAdmin}

// testsOf reads the knowledge tests set for the cohort and, for each, the best closed attempt
// of each trainee (by user id).
func (s *Service) testsOf(ctx context.Context, cohortID string) ([]assessment.AssessmentInfo, map[string]map[string]assessment.TraineeResult, error) {
	infos, err := s.tests.AssessmentInfos(ctx)
	if err != nil {
		return nil, nil, err
	}
	var mine []assessment.AssessmentInfo
	best := map[string]map[string]assessment.TraineeResult{}
	for _, a := range infos {
		if a.CohortID != cohortID {
			continue
		}
		mine = append(mine, a)
		rs, err := s.tests.Results(ctx, reader, a.ID, assessment.PickBest)
		if err != nil {
			return nil, nil, err
		}
		best[a.ID] = map[string]assessment.TraineeResult{}
		for _, r := range rs {
			best[a.ID][r.UserID] = r
		}
	}
	slices.SortStableFunc(mine, func(a, b assessment.AssessmentInfo) int { return a.Opens.Compare(b.Opens) })
	return mine, best, nil
}

// records reads the records the rules read for one trainee; tests and best are the cohort's
// knowledge tests and results (testsOf), read once for a whole cohort.
func (s *Service) records(ctx context.Context, p courses.Programme, traineeID string, tests []assessment.AssessmentInfo, best map[string]map[string]assessment.TraineeResult) (Records, error) {
	rec := Records{CohortID: p.CohortID, TraineeID: traineeID, Programme: p}
	var err error
	if rec.Attendance, err = s.courses.AttendanceOf(ctx, p.CohortID, traineeID); err != nil {
		return Records{}, err
	}
	for _, a := range tests {
		t := TestRecord{Test: a}
		if r, ok := best[a.ID][traineeID]; ok {
			t.Best = &r
		}
		rec.Tests = append(rec.Tests, t)
	}
	if s.pieces != nil {
		if rec.Pieces, err = s.pieces.Released(ctx, p.CohortID, traineeID); err != nil {
			return Records{}, err
		}
	}
	// Read as the trainee's own log: the rule keeps the confirmed minutes of each session
	// and its date, never the reflection, so the read is not one a supervisor makes.
	self := courses.Viewer{UserID: traineeID, Role: accounts.RoleTrainee}
	if rec.Supervision, err = s.journals.SupervisionLog(ctx, self, traineeID); err != nil {
		return Records{}, err
	}
	if rec.Practice, err = s.practiceOf(ctx, p, self); err != nil {
		return Records{}, err
	}
	return rec, nil
}

// practiceOf reads the days with practice logged in the programme's weeks, only when the
// trainee shares their practice totals with their supervisor.
func (s *Service) practiceOf(ctx context.Context, p courses.Programme, self courses.Viewer) (PracticeRecord, error) {
	vis, err := s.journals.PracticeVisibility(ctx, self)
	if err != nil || vis != courses.PracticeTotalsOnly {
		return PracticeRecord{}, err
	}
	weeks := programmeWeeks(p)
	if len(weeks) == 0 {
		return PracticeRecord{Shared: true}, nil
	}
	from := weeks[0]
	to := weeks[len(weeks)-1].AddDate(0, 0, 6)
	if limit := from.AddDate(0, 0, courses.MaxPracticeRangeDays-1); to.After(limit) {
		to = limit
	}
	sum, err := s.journals.PracticeSummary(ctx, self, self.UserID, from, to)
	if err != nil {
		return PracticeRecord{}, err
	}
	out := PracticeRecord{Shared: true}
	for _, d := range sum.Days {
		if d.Minutes > 0 {
			out.Days = append(out.Days, d.Date)
		}
	}
	return out, nil
}

// Seeing says which of a cohort's trainees a person may see the progress of: Whole for the
// cohort's facilitators and administrators; Trainees, the ones they supervise, for its
// supervisors. A trainee sees only their own (Trainee), never the cohort's; assessors see
// none, since the rules read supervision and practice, which are not theirs to see, and
// they read the marks in the assessments' own results.
type Seeing struct {
	Whole    bool
	Trainees []string
}

// Sees reports whether the trainee is among those seen.
func (s Seeing) Sees(traineeID string) bool { return s.Whole || slices.Contains(s.Trainees, traineeID) }

// Seen is whose progress in the cohort the viewer may see; failure.ErrNotFound for someone
// who may see none of it, as if the cohort's progress did not exist.
func (s *Service) Seen(ctx context.Context, v courses.Viewer, cohortID string) (Seeing, error) {
	notFound := fmt.Errorf("progress of cohort %s: %w", cohortID, failure.ErrNotFound)
	members, err := s.courses.Members(ctx, cohortID)
	if err != nil {
		return Seeing{}, err
	}
	for _, m := range members {
		if m.UserID != v.UserID {
			continue
		}
		switch m.Role {
		case accounts.RoleFacilitator:
			return Seeing{Whole: true}, nil
		case accounts.RoleSupervisor:
			return Seeing{Trainees: slices.Clone(m.Supervises)}, nil
		}
	}
	if v.Role == accounts.RoleAdmin {
		return Seeing{Whole: true}, nil
	}
	return Seeing{}, notFound
}

// Trainee is the trainee's progress in the cohort, for the trainee themself, the cohort's
// facilitators and administrators, and the trainee's supervisors; failure.ErrNotFound for
// anyone else, and for someone who is not a trainee of the cohort.
func (s *Service) Trainee(ctx context.Context, v courses.Viewer, cohortID, traineeID string) (Progress, error) {
	notFound := fmt.Errorf("progress of %s in cohort %s: %w", traineeID, cohortID, failure.ErrNotFound)
	if v.UserID == "" {
		return Progress{}, notFound
	}
	if v.UserID != traineeID {
		seeing, err := s.Seen(ctx, v, cohortID)
		if err != nil {
			return Progress{}, err
		}
		if !seeing.Sees(traineeID) {
			return Progress{}, notFound
		}
	}
	m, err := s.courses.Member(ctx, cohortID, traineeID)
	if errors.Is(err, failure.ErrNotFound) || err == nil && m.Role != accounts.RoleTrainee {
		return Progress{}, notFound
	}
	if err != nil {
		return Progress{}, err
	}
	p, err := s.courses.Programme(ctx, cohortID)
	if err != nil {
		return Progress{}, err
	}
	rules, err := s.rulesOf(ctx, p)
	if err != nil {
		return Progress{}, err
	}
	tests, best, err := s.testsOf(ctx, cohortID)
	if err != nil {
		return Progress{}, err
	}
	rec, err := s.records(ctx, p, traineeID, tests, best)
	if err != nil {
		return Progress{}, err
	}
	return Evaluate(rules, rec, s.now()), nil
}

// Grid is the progress of the trainees of a cohort one person may see, in the order they
// joined the cohort, with the rules they are judged by and the attendance of each month.
type Grid struct {
	CohortID   string            `json:"cohortId"`
	Rules      Rules             `json:"rules"`
	Whole      bool              `json:"whole"`
	Trainees   []Progress        `json:"trainees"`
	Attendance []MonthAttendance `json:"attendance"`
}

// MonthAttendance is the registers of one calendar month ("2027-03") for the trainees of a
// grid: the marks taken (present, absent or excused) and how many of them were present.
// Occasions not marked yet are left out.
type MonthAttendance struct {
	Month   string `json:"month"`
	Marked  int    `json:"marked"`
	Present int    `json:"present"`
}

// Percent is the share of the month's marks that were present; 0 for a month without any.
func (m MonthAttendance) Percent() float64 {
	if m.Marked == 0 {
		return 0
	}
	return 100 * float64(m.Present) / float64(m.Marked)
}

// Cohort is the progress grid of the cohort as the viewer may see it (Seen):
// failure.ErrNotFound for someone who may see none of it, and for a cohort without a
// programme.
func (s *Service) Cohort(ctx context.Context, v courses.Viewer, cohortID string) (Grid, error) {
	seeing, err := s.Seen(ctx, v, cohortID)
	if err != nil {
		return Grid{}, err
	}
	p, err := s.courses.Programme(ctx, cohortID)
	if err != nil {
		return Grid{}, err
	}
	rules, err := s.rulesOf(ctx, p)
	if err != nil {
		return Grid{}, err
	}
	members, err := s.courses.Members(ctx, cohortID)
	if err != nil {
		return Grid{}, err
	}
	tests, best, err := s.testsOf(ctx, cohortID)
	if err != nil {
		return Grid{}, err
	}
	g := Grid{CohortID: cohortID, Rules: rules, Whole: seeing.Whole, Trainees: []Progress{}}
	now := s.now()
	months := monthsOf(p)
	for _, m := range members {
		if m.Role != accounts.RoleTrainee || !seeing.Sees(m.UserID) {
			continue
		}
		rec, err := s.records(ctx, p, m.UserID, tests, best)
		if err != nil {
			return Grid{}, err
		}
		g.Trainees = append(g.Trainees, Evaluate(rules, rec, now))
		countMonths(months, rec.Attendance)
	}
	for _, m := range months {
		g.Attendance = append(g.Attendance, *m)
	}
	if g.Attendance == nil {
		g.Attendance = []MonthAttendance{}
	}
	return g, nil
}

// monthsOf lists the calendar months the programme spans, in order, with nothing counted.
func monthsOf(p courses.Programme) []*MonthAttendance {
	first, last, ok := programmeSpan(p)
	if !ok {
		return nil
	}
	var out []*MonthAttendance
	for m := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(last); m = m.AddDate(0, 1, 0) {
		out = append(out, &MonthAttendance{Month: m.Format("2006-01")})
	}
	return out
}

// countMonths adds a trainee's marks to the months they fall in (by the UK date).
func countMonths(months []*MonthAttendance, recs []courses.AttendanceRecord) {
	for _, r := range recs {
		if r.Mark == "" {
			continue
		}
		key := ukDate(r.Date).Format("2006-01")
		if r.Date.Equal(dateOf(r.Date)) {
			key = r.Date.Format("2006-01") // a module day is a date already
		}
		for _, m := range months {
			if m.Month == key {
				m.Marked++
				if r.Mark == courses.Present {
					m.Present++
				}
			}
		}
	}
}

// AtRisk is the progress of each trainee of the cohort who is at risk, in the order they
// joined it, for the weekly email to its facilitators; it decides nothing about who reads
// it, so it is for the platform's own jobs, not for a request.
func (s *Service) AtRisk(ctx context.Context, cohortID string) ([]Progress, error) {
	g, err := s.Cohort(ctx, courses.Viewer{UserID: "progress", Role: accounts.RoleAdmin}, cohortID)
	if err != nil {
		return nil, err
	}
	var out []Progress
	for _, p := range g.Trainees {
		if p.AtRisk {
			out = append(out, p)
		}
	}
	return out, nil
}
