package progress_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"polyphony/assessment"
	"polyphony/courses"
	"polyphony/courses/progress"
	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/dbtest"
)

// world is a cohort whose nine months are over (so that every register can be taken), with
// trainees, a supervisor of some of them, a facilitator and an assessor, on a real database.
type world struct {
	t          *testing.T
	db         *database.DB
	store      *courses.Store
	journals   *courses.Journals
	tests      *assessment.Store
	svc        *progress.Service
	cohort     courses.Cohort
	programme  courses.Programme
	trainees   []courses.Viewer
	supervisor courses.Viewer
	// cosupervisor supervises every trainee, and confirms their sessions.
	cosupervisor courses.Viewer
	facilitator  courses.Viewer
	assessor     courses.Viewer
	admin        courses.Viewer
}

func newWorld(t *testing.T, trainees int) *world {
	t.Helper()
	return newWorldOn(t, dbtest.New(t), trainees)
}

func newWorldOn(t *testing.T, db *database.DB, trainees int) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, db: db}
	var err error
	if w.store, err = courses.NewStore(ctx, db); err != nil {
		t.Fatal(err)
	}
	pages := func(context.Context, string) (bool, error) { return true, nil }
	if w.journals, err = courses.NewJournals(ctx, db, w.store, courses.JournalOptions{PageExists: pages}); err != nil {
		t.Fatal(err)
	}
	if w.tests, err = assessment.NewStore(ctx, db); err != nil {
		t.Fatal(err)
	}
	if w.svc, err = progress.New(ctx, db, w.store, w.journals, w.tests, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now().AddDate(0, 0, -300)
	if w.cohort, w.programme, err = w.store.CreateCohortFromTemplate(ctx, courses.NewCohort{Name: "Cohort " + fmt.Sprint(time.Now().UnixNano()), StartDate: start}, "admin"); err != nil {
		t.Fatal(err)
	}
	enrol := func(id string, role accounts.Role) courses.Viewer {
		t.Helper()
		if _, err := w.store.Enrol(ctx, w.cohort.ID, id, role); err != nil {
			t.Fatal(err)
		}
		return courses.Viewer{UserID: id, Role: role}
	}
	for i := range trainees {
		w.trainees = append(w.trainees, enrol(fmt.Sprintf("trainee-%02d", i), accounts.RoleTrainee))
	}
	w.supervisor = enrol("sam-supervisor", accounts.RoleSupervisor)
	w.cosupervisor = enrol("cy-supervisor", accounts.RoleSupervisor)
	w.facilitator = enrol("fran-facilitator", accounts.RoleFacilitator)
	w.assessor = enrol("ash-assessor", accounts.RoleAssessor)
	w.admin = courses.Viewer{UserID: "alex-admin", Role: accounts.RoleAdmin}
	if trainees > 0 {
		// The supervisor supervises the first trainee only.
		if _, _, err := w.store.ChangeMember(ctx, w.cohort.ID, w.supervisor.UserID, courses.MemberChange{Role: accounts.RoleSupervisor, Supervises: []string{w.trainees[0].UserID}}); err != nil {
			t.Fatal(err)
		}
		var all []string
		for _, tr := range w.trainees {
			all = append(all, tr.UserID)
		}
		if _, _, err := w.store.ChangeMember(ctx, w.cohort.ID, w.cosupervisor.UserID, courses.MemberChange{Role: accounts.RoleSupervisor, Supervises: all}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// after is a moment after the programme's last day.
func (w *world) after() time.Time {
	last := w.programme.Modules[len(w.programme.Modules)-1].End
	return last.AddDate(0, 0, 3).Add(12 * time.Hour)
}

// at stands the service's clock at t.
func (w *world) at(t time.Time) { w.svc.SetClock(func() time.Time { return t }) }

// occasions are the programme's occasions of the kind.
func (w *world) occasions(kind string) []courses.Occasion {
	var out []courses.Occasion
	for _, o := range w.programme.Occasions() {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// register takes the register of an occasion: each trainee's mark.
func (w *world) register(o courses.Occasion, marks map[string]courses.Mark) {
	w.t.Helper()
	var entries []courses.AttendanceEntry
	for id, m := range marks {
		entries = append(entries, courses.AttendanceEntry{UserID: id, Mark: m})
	}
	if err := w.store.TakeRegister(context.Background(), w.cohort.ID, o.ID, entries, w.facilitator.UserID); err != nil {
		w.t.Fatal(err)
	}
}

// attend marks each trainee present at the first present[i] occasions of the list and absent
// at the rest.
func (w *world) attend(os []courses.Occasion, present ...int) {
	w.t.Helper()
	for j, o := range os {
		marks := map[string]courses.Mark{}
		for i, n := range present {
			marks[w.trainees[i].UserID] = courses.Absent
			if j < n {
				marks[w.trainees[i].UserID] = courses.Present
			}
		}
		w.register(o, marks)
	}
}

// progress is the trainee's progress as the admin sees it.
func (w *world) progress(i int) progress.Progress {
	w.t.Helper()
	p, err := w.svc.Trainee(context.Background(), w.admin, w.cohort.ID, w.trainees[i].UserID)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// result is the trainee's result on the rule of the kind.
func (w *world) result(i int, k progress.Kind) progress.Result {
	w.t.Helper()
	r, ok := w.progress(i).Result(k)
	if !ok {
		w.t.Fatalf("no result for rule %s", k)
	}
	return r
}

// rules saves the cohort's rules, replacing the latest version.
func (w *world) rules(rs ...progress.Rule) progress.Rules {
	w.t.Helper()
	ctx := context.Background()
	cur, err := w.svc.Rules(ctx, w.cohort.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	saved, err := w.svc.SaveRules(ctx, progress.Rules{CohortID: w.cohort.ID, Rules: rs}, cur.Version, w.admin.UserID)
	if err != nil {
		w.t.Fatal(err)
	}
	return saved
}

func wantState(t *testing.T, what string, r progress.Result, state progress.State, count float64) {
	t.Helper()
	if r.State != state || r.Count != count {
		t.Errorf("%s: %s with %v counted (%s; reasons %q); want %s with %v", what, r.State, r.Count, r.Summary, r.Reasons, state, count)
	}
}
