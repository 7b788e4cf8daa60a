package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"polyphony/assessment"
	"polyphony/assessment/marking"
	"polyphony/courses"
	"polyphony/courses/award"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// FinishedCohortName names the demo's second cohort, whose programme is over.
const FinishedCohortName = "Finished demo cohort"

// The finished cohort's trainees, one in each state an exam board meets.
var finishedTrainees = []person{
	{accounts.RoleTrainee, "Erin Eligible", "eligible@polyphony.example", false},
	{accounts.RoleTrainee, "Ada Awarded", "awarded@polyphony.example", false},
	{accounts.RoleTrainee, "Dev Deferred", "deferred@polyphony.example", true},
}

// Stores are what SeedFinished writes through: the same stores the server uses, so that the
// demo's records are made by the rules every record is made by. Boards must read progress
// with the marking of assessed work wired in.
type Stores struct {
	Users    *accounts.Users
	Courses  *courses.Store
	Journals *courses.Journals
	Tests    *assessment.Store
	Marking  *marking.Store
	Boards   *award.Boards
}

// finished is the finished cohort as SeedFinished works on it.
type finished struct {
	Stores
	now       time.Time
	cohort    courses.Cohort
	programme courses.Programme
	trainees  map[string]string // email -> id
	admin     string
	fran, sam string
	ash       string
}

// SeedFinished creates the finished demo cohort, its programme over, and gives its trainees
// new passwords, returned in the logins. Erin Eligible meets every award rule (every register
// present, the knowledge test passed, supervision confirmed, practice shared, the assessed
// piece marked and released as a pass); Ada Awarded too, and the cohort's exam board awarded
// her the diploma, so her certificate and its verification code exist; Dev Deferred meets every
// rule but supervision, and the board deferred him. The demo's staff (Fran, Sam, Ash) are its
// staff too. Seed must have run first. Running it again adds nothing: what exists is looked
// up before anything is created, and the logs are written with fixed idempotency keys.
func SeedFinished(ctx context.Context, st Stores, now time.Time) ([]Login, error) {
	f := &finished{Stores: st, now: now, trainees: map[string]string{}}
	logins, err := f.cohortAndPeople(ctx)
	if err != nil {
		return nil, err
	}
	for _, step := range []func(context.Context) error{f.registers, f.logs, f.knowledgeTest, f.assessedPiece, f.board} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	return logins, nil
}

// finishedStart is the finished cohort's first day: a Monday 42 weeks ago, so that its last
// module ended some five weeks ago and its first day is within the year the logs go back.
func finishedStart(now time.Time) time.Time {
	d := now.AddDate(0, 0, -7*42)
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, -1)
	}
	y, m, day := d.Date()
	return time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
}

// cohortAndPeople makes the cohort and its trainees' accounts, and enrols the demo's staff.
func (f *finished) cohortAndPeople(ctx context.Context) ([]Login, error) {
	trust, err := f.Courses.TrustByName(ctx, TrustName)
	if err != nil {
		return nil, fmt.Errorf("demo trust: %w", err)
	}
	f.cohort, err = f.Courses.CohortByName(ctx, FinishedCohortName)
	if errors.Is(err, failure.ErrNotFound) {
		f.cohort, _, err = f.Courses.CreateCohortFromTemplate(ctx, courses.NewCohort{Name: FinishedCohortName, StartDate: finishedStart(f.now), TrustIDs: []string{trust.ID}}, "polyphony demo")
	}
	if err != nil {
		return nil, fmt.Errorf("finished demo cohort: %w", err)
	}
	if f.programme, err = f.Courses.Programme(ctx, f.cohort.ID); err != nil {
		return nil, fmt.Errorf("finished demo programme: %w", err)
	}
	var logins []Login
	var ids []string
	for _, p := range finishedTrainees {
		password := NewPassword()
		u, err := f.Users.ByEmail(ctx, p.email)
		switch {
		case errors.Is(err, failure.ErrNotFound):
			u, err = f.Users.Create(ctx, accounts.NewUser{Email: p.email, Name: p.name, Role: p.role, TrustID: trust.ID, PeerWorker: p.peer, Password: password})
		case err == nil:
			err = f.Users.SetPassword(ctx, u.ID, password)
		}
		if err != nil {
			return nil, fmt.Errorf("demo account %s: %w", p.email, err)
		}
		if _, err := f.Courses.Enrol(ctx, f.cohort.ID, u.ID, p.role); err != nil {
			return nil, fmt.Errorf("enrol %s: %w", p.email, err)
		}
		f.trainees[p.email] = u.ID
		ids = append(ids, u.ID)
		logins = append(logins, Login{Role: p.role, Name: p.name, Email: p.email, Password: password})
	}
	staff := map[string]*string{"admin@polyphony.example": &f.admin, "facilitator@polyphony.example": &f.fran,
		"supervisor@polyphony.example": &f.sam, "assessor@polyphony.example": &f.ash}
	for email, id := range staff {
		u, err := f.Users.ByEmail(ctx, email)
		if err != nil {
			return nil, fmt.Errorf("demo account %s: %w", email, err)
		}
		*id = u.ID
		if u.Role == accounts.RoleAdmin {
			continue
		}
		if _, err := f.Courses.Enrol(ctx, f.cohort.ID, u.ID, u.Role); err != nil {
			return nil, fmt.Errorf("enrol %s: %w", email, err)
		}
	}
	if _, _, err := f.Courses.ChangeMember(ctx, f.cohort.ID, f.sam, courses.MemberChange{Role: accounts.RoleSupervisor, Supervises: ids}); err != nil {
		return nil, fmt.Errorf("demo supervisor's trainees: %w", err)
	}
	return logins, nil
}

// registers marks every trainee present at every day and session of the programme, leaving
// alone a register already taken for them.
func (f *finished) registers(ctx context.Context) error {
	marked := map[string]map[string]bool{}
	for _, id := range f.trainees {
		recs, err := f.Courses.AttendanceOf(ctx, f.cohort.ID, id)
		if err != nil {
			return err
		}
		marked[id] = map[string]bool{}
		for _, r := range recs {
			marked[id][r.Occasion] = r.Mark != ""
		}
	}
	for _, o := range f.programme.Occasions() {
		var entries []courses.AttendanceEntry
		for _, id := range f.trainees {
			if !marked[id][o.ID] {
				entries = append(entries, courses.AttendanceEntry{UserID: id, Mark: courses.Present})
			}
		}
		if len(entries) > 0 {
			if err := f.Courses.TakeRegister(ctx, f.cohort.ID, o.ID, entries, f.fran); err != nil {
				return fmt.Errorf("finished demo register of %s: %w", o.ID, err)
			}
		}
	}
	return nil
}

// logs writes each trainee's supervision (75 minutes a fortnight, confirmed by Sam; Dev's
// only for the first four months, too few hours) and practice (ten minutes each week, shared
// as totals), over the programme's weeks. A log already written in full is left alone, so a
// run long after the programme, when its first days are more than the year back that a log
// accepts, still succeeds.
func (f *finished) logs(ctx context.Context) error {
	start := f.programme.Modules[0].Start
	last := f.programme.Modules[len(f.programme.Modules)-1].End
	for email, id := range f.trainees {
		trainee := courses.Viewer{UserID: id, Role: accounts.RoleTrainee}
		until := last
		if email == "deferred@polyphony.example" {
			until = start.AddDate(0, 4, 0)
		}
		var sessions, weeks []time.Time
		for d := start.AddDate(0, 0, 3); !d.After(until); d = d.AddDate(0, 0, 14) {
			sessions = append(sessions, d)
		}
		for d := start.AddDate(0, 0, 1); !d.After(last); d = d.AddDate(0, 0, 7) {
			weeks = append(weeks, d)
		}
		if err := f.supervision(ctx, trainee, sessions); err != nil {
			return err
		}
		if err := f.practice(ctx, trainee, weeks, start, last); err != nil {
			return err
		}
		if err := f.Journals.SetPracticeVisibility(ctx, trainee, courses.PracticeTotalsOnly); err != nil {
			return err
		}
	}
	return nil
}

// supervision logs a session on each of the days, each confirmed by Sam, unless every one is
// logged and confirmed already.
func (f *finished) supervision(ctx context.Context, trainee courses.Viewer, days []time.Time) error {
	have, err := f.Journals.SupervisionLog(ctx, trainee, trainee.UserID)
	if err != nil {
		return err
	}
	confirmed := 0
	for _, s := range have {
		if s.Confirmed {
			confirmed++
		}
	}
	if confirmed >= len(days) {
		return nil
	}
	supervisor := courses.Viewer{UserID: f.sam, Role: accounts.RoleSupervisor}
	for i, d := range days {
		s, err := f.Journals.LogSupervision(ctx, trainee, courses.NewSupervision{Date: d, Minutes: 75, SupervisorID: f.sam,
			Kind: courses.SupervisionIndividual, Reflection: "A demo session.", Key: fmt.Sprintf("demo-finished-supervision-%03d", i)})
		if err != nil {
			return fmt.Errorf("finished demo supervision: %w", err)
		}
		if _, err := f.Journals.ConfirmSupervision(ctx, supervisor, s.ID); err != nil && !errors.Is(err, failure.ErrConflict) {
			return fmt.Errorf("finished demo supervision confirmed: %w", err)
		}
	}
	return nil
}

// practice logs ten minutes on each of the days, unless each day has practice already.
func (f *finished) practice(ctx context.Context, trainee courses.Viewer, days []time.Time, from, to time.Time) error {
	sum, err := f.Journals.PracticeSummary(ctx, trainee, trainee.UserID, from, to)
	if err != nil {
		return err
	}
	logged := 0
	for _, d := range sum.Days {
		if d.Minutes > 0 {
			logged++
		}
	}
	if logged >= len(days) {
		return nil
	}
	for i, d := range days {
		if _, err := f.Journals.LogPractice(ctx, trainee, courses.NewPractice{Date: d, Minutes: 10, Kind: courses.PracticeSitting, Key: fmt.Sprintf("demo-finished-practice-%03d", i)}); err != nil {
			return fmt.Errorf("finished demo practice: %w", err)
		}
	}
	return nil
}
