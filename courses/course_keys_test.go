package courses_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

// memArchives keeps export zips in memory.
type memArchives struct {
	mu   sync.Mutex
	objs map[string][]byte
}

func (m *memArchives) archives() courses.ExportArchives {
	m.objs = map[string][]byte{}
	return courses.ExportArchives{
		Write: func(_ context.Context, key string, r io.Reader) error {
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			m.mu.Lock()
			defer m.mu.Unlock()
			m.objs[key] = b
			return nil
		},
		Open: func(_ context.Context, key string) (io.ReadCloser, int64, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			b, ok := m.objs[key]
			if !ok {
				return nil, 0, fmt.Errorf("%s: %w", key, failure.ErrNotFound)
			}
			return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
		},
		Delete: func(_ context.Context, key string) error {
			m.mu.Lock()
			defer m.mu.Unlock()
			delete(m.objs, key)
			return nil
		},
		RemoveOld: func(context.Context, string, time.Duration, time.Time) error { return nil },
	}
}

// TestCourseRequestsReadByIDOnly runs every request of the store of trusts, cohorts and
// memberships, the programme, the registers, the calendar feed, the practice and
// supervision logs and the exports, as the pages make them, and checks that each read,
// update and delete they send to the database is by _id alone: on embedded FerretDB any
// other filter reads every document of the collection, so the request would slow down with
// everything stored.
func TestCourseRequestsReadByIDOnly(t *testing.T) {
	for _, sole := range []bool{false, true} {
		t.Run(fmt.Sprintf("soleWriter=%v", sole), func(t *testing.T) { testCourseRequestsReadByIDOnly(t, sole) })
	}
}

func testCourseRequestsReadByIDOnly(t *testing.T, sole bool) {
	ctx := context.Background()
	log := dbtest.NewFilterLog()
	db := dbtest.NewLogged(t, log)
	w := newJournalWorldOn(t, db, sole)
	var arch memArchives
	x, err := courses.NewExportJobs(ctx, w.j, arch.archives(), nil, courses.ExportJobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	log.Record(true)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	s := w.store

	// Trusts, cohorts and memberships: the admin pages and every signed-in page.
	tr, err := s.CreateTrust(ctx, "Keys Trust")
	must("create trust", err)
	if _, err := s.CreateTrust(ctx, "Keys Trust"); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("second trust of the name: %v, want ErrConflict", err)
	}
	_, err = s.TrustByName(ctx, " Keys  Trust ")
	must("trust by name", err)
	ts, err := s.Trusts(ctx)
	must("trusts", err)
	if len(ts) != 1 || ts[0].ID != tr.ID {
		t.Errorf("trusts: %+v, want the one created", ts)
	}
	c, _, err := s.CreateCohortFromTemplate(ctx, courses.NewCohort{Name: "Keys cohort", StartDate: time.Now().AddDate(0, -1, 0), TrustIDs: []string{tr.ID}}, "admin")
	must("create cohort", err)
	if _, err := s.CreateCohort(ctx, courses.NewCohort{Name: "Keys cohort", StartDate: time.Now()}); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("second cohort of the name: %v, want ErrConflict", err)
	}
	byName, err := s.CohortByName(ctx, "Keys cohort")
	must("cohort by name", err)
	if byName.ID != c.ID {
		t.Errorf("cohort by name: %s, want %s", byName.ID, c.ID)
	}
	cs, err := s.Cohorts(ctx)
	must("cohorts", err)
	if len(cs) != 3 {
		t.Errorf("cohorts: %d, want 3", len(cs))
	}
	m1, err := s.Enrol(ctx, c.ID, w.facilitator.UserID, accounts.RoleFacilitator)
	must("enrol", err)
	m2, err := s.Enrol(ctx, c.ID, w.facilitator.UserID, accounts.RoleFacilitator)
	must("enrol again", err)
	if m1.ID != m2.ID {
		t.Errorf("enrolling again: %s, want the first membership %s", m2.ID, m1.ID)
	}
	ms, err := s.MembershipsOf(ctx, w.facilitator.UserID)
	must("memberships", err)
	if len(ms) != 2 {
		t.Errorf("memberships of the facilitator: %d, want 2", len(ms))
	}
	members, err := s.Members(ctx, w.near.ID)
	must("members", err)
	if len(members) != 7 {
		t.Errorf("members of the near cohort: %d, want 7", len(members))
	}
	// Staffing: a trainee refused a second cohort, a supervisor given trainees, a member
	// removed.
	if _, err := s.Enrol(ctx, c.ID, w.trainee.UserID, accounts.RoleTrainee); err == nil {
		t.Error("a trainee of the near cohort enrolled as a trainee of another")
	}
	_, err = s.Enrol(ctx, c.ID, "keys-trainee", accounts.RoleTrainee)
	must("enrol a trainee", err)
	_, err = s.Enrol(ctx, c.ID, w.supervisor.UserID, accounts.RoleSupervisor)
	must("enrol a supervisor", err)
	_, after, err := s.ChangeMember(ctx, c.ID, w.supervisor.UserID, courses.MemberChange{Role: accounts.RoleSupervisor, Supervises: []string{"keys-trainee"}})
	must("change member", err)
	if len(after.Supervises) != 1 {
		t.Errorf("supervises %v, want the trainee", after.Supervises)
	}
	_, err = s.Member(ctx, c.ID, w.supervisor.UserID)
	must("member", err)
	_, err = s.RemoveMember(ctx, c.ID, "keys-trainee")
	must("remove member", err)
	if m, err := s.Member(ctx, c.ID, w.supervisor.UserID); err != nil || len(m.Supervises) != 0 {
		t.Errorf("supervisor after the trainee left: %+v, %v; want no trainees", m, err)
	}

	// The programme and its modules.
	p, err := s.Programme(ctx, w.near.ID)
	must("programme", err)
	p2, err := s.SaveProgramme(ctx, p, p.Version, "fran")
	must("save programme", err)
	if _, err := s.SaveProgramme(ctx, p, p.Version, "fran"); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("stale save: %v, want ErrConflict", err)
	}
	if got, err := s.Programme(ctx, w.near.ID); err != nil || got.Version != p2.Version {
		t.Errorf("programme after the save: version %d, %v; want %d", got.Version, err, p2.Version)
	}

	// Registers and attendance.
	day := "module-1-day-1"
	marks := []courses.AttendanceEntry{{UserID: w.trainee.UserID, Mark: courses.Present}, {UserID: w.otherTrainee.UserID, Mark: courses.Absent}}
	must("take register", s.TakeRegister(ctx, w.near.ID, day, marks, w.facilitator.UserID))
	marks[1].Mark = courses.Excused
	must("retake register", s.TakeRegister(ctx, w.near.ID, day, marks, w.facilitator.UserID))
	reg, err := s.Register(ctx, w.near.ID, day)
	must("register", err)
	if len(reg) != 2 || reg[1].Mark != courses.Excused {
		t.Errorf("register: %+v, want two trainees, the second excused", reg)
	}
	att, err := s.AttendanceOf(ctx, w.near.ID, w.otherTrainee.UserID)
	must("attendance", err)
	if len(att) == 0 || att[0].Mark != courses.Excused {
		t.Errorf("attendance: %+v, want the first day excused", att)
	}
	hist, err := s.AttendanceHistory(ctx, w.near.ID, day, w.otherTrainee.UserID)
	must("history", err)
	if len(hist) != 2 {
		t.Errorf("history: %d marks, want 2", len(hist))
	}
	var session string
	for _, o := range p2.Occasions() {
		if o.Kind == courses.OccasionDialogue {
			session = o.ID
			break
		}
	}
	inRoom := map[string]time.Duration{w.trainee.UserID: 40 * time.Minute}
	_, err = s.PlanRoomRegister(ctx, w.near.ID, session, inRoom)
	must("plan room register", err)
	_, err = s.TakeRoomRegister(ctx, w.near.ID, session, inRoom, w.facilitator.UserID, true)
	must("room register", err)

	// The calendar feed.
	tok, err := s.CalendarToken(ctx, w.trainee.UserID)
	must("calendar token", err)
	if again, err := s.CalendarToken(ctx, w.trainee.UserID); err != nil || again != tok {
		t.Errorf("calendar token again: %v; want the same token", err)
	}
	if u, err := s.CalendarUser(ctx, tok); err != nil || u != w.trainee.UserID {
		t.Errorf("calendar user: %q, %v", u, err)
	}
	tok2, err := s.RotateCalendarToken(ctx, w.trainee.UserID)
	must("rotate", err)
	if _, err := s.CalendarUser(ctx, tok); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("the replaced token: %v, want ErrNotFound", err)
	}
	if u, err := s.CalendarUser(ctx, tok2); err != nil || u != w.trainee.UserID {
		t.Errorf("the new token: %q, %v", u, err)
	}

	// The practice log.
	today := time.Now().UTC().Truncate(24 * time.Hour)
	np := courses.NewPractice{Date: today, Minutes: 20, Kind: courses.PracticeSitting, Key: newKey()}
	for range 2 { // a log and its replay
		_, err = w.j.LogPractice(ctx, w.trainee, np)
		must("log practice", err)
	}
	_, err = w.j.LogPractice(ctx, w.trainee, courses.NewPractice{Date: today.AddDate(0, -1, 0), Minutes: 15, Kind: courses.PracticeWalking, Key: newKey()})
	must("log earlier practice", err)
	ps, err := w.j.PracticeSessions(ctx, w.trainee, today.AddDate(0, -2, 0), today)
	must("practice sessions", err)
	if len(ps) != 2 {
		t.Errorf("practice sessions: %d, want 2", len(ps))
	}
	must("practice visibility", w.j.SetPracticeVisibility(ctx, w.trainee, courses.PracticeTotalsOnly))
	_, err = w.j.PracticeVisibility(ctx, w.trainee)
	must("read practice visibility", err)
	sum, err := w.j.PracticeSummary(ctx, w.trainee, w.trainee.UserID, today.AddDate(0, -2, 0), today)
	must("own summary", err)
	if sum.Minutes != 35 {
		t.Errorf("own summary: %d minutes, want 35", sum.Minutes)
	}
	sum, err = w.j.PracticeSummary(ctx, w.supervisor, w.trainee.UserID, today.AddDate(0, -2, 0), today)
	must("supervisor's summary", err)
	if !sum.TotalsOnly || sum.Minutes != 35 {
		t.Errorf("supervisor's summary: %+v, want the totals only", sum)
	}

	// The supervision log.
	ns := courses.NewSupervision{Date: today, Minutes: 60, SupervisorID: w.supervisor.UserID, Kind: courses.SupervisionIndividual, Reflection: "keys", Key: newKey()}
	var sv courses.SupervisionSession
	for range 2 { // a log and its replay
		sv, err = w.j.LogSupervision(ctx, w.trainee, ns)
		must("log supervision", err)
	}
	todo, err := w.j.SupervisionToConfirm(ctx, w.supervisor)
	must("to confirm", err)
	if len(todo) != 1 || todo[0].ID != sv.ID {
		t.Errorf("to confirm: %+v, want the session logged", todo)
	}
	_, err = w.j.ConfirmSupervision(ctx, w.supervisor, sv.ID)
	must("confirm", err)
	if todo, err := w.j.SupervisionToConfirm(ctx, w.supervisor); err != nil || len(todo) != 0 {
		t.Errorf("to confirm after confirming: %d, %v; want none", len(todo), err)
	}
	for _, v := range []courses.Viewer{w.trainee, w.supervisor} {
		logged, err := w.j.SupervisionLog(ctx, v, w.trainee.UserID)
		must("supervision log", err)
		if len(logged) != 1 || !logged[0].Confirmed {
			t.Errorf("supervision log for %s: %+v, want the session, confirmed", v.UserID, logged)
		}
		_, err = w.j.SupervisionTotals(ctx, v, w.trainee.UserID)
		must("supervision totals", err)
	}

	// Exports.
	job, err := x.Start(ctx, w.trainee)
	must("start export", err)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		job, err = x.Status(ctx, w.trainee, job.ID)
		must("export status", err)
		if job.State != courses.ExportRunning || time.Now().After(deadline) {
			break
		}
	}
	if job.State != courses.ExportReady {
		t.Fatalf("export: %s, want ready", job.State)
	}
	rc, _, err := x.Open(ctx, w.trainee, job.ID)
	must("open export", err)
	rc.Close()
	again, err := x.Start(ctx, w.trainee)
	must("export again", err)
	if again.ID == job.ID {
		t.Error("a second export after the first finished answered with the first")
	}
	must("tend exports", x.Tend(ctx))
	must("erase exports", x.Erase(ctx, w.admin, w.trainee.UserID))
	if _, err := x.Status(ctx, w.trainee, again.ID); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("an erased export: %v, want ErrNotFound", err)
	}
	log.Record(false)

	if len(log.All()) == 0 {
		t.Fatal("nothing was recorded; the check below could not fail")
	}
	// The zip itself is written in the background, once per export, by a worker that reads
	// the comments the person wrote on others' entries by author (Journals.Export), which
	// no list names; that is its read, not a request's.
	elsewhere := fmt.Sprintf(`{"$ne": "%s"}`, w.trainee.UserID)
	for _, f := range log.NotByID() {
		if strings.HasPrefix(f, "find journal_comments ") && strings.Contains(f, elsewhere) {
			continue
		}
		if !db.Embedded() && strings.HasPrefix(f, "update exportJobs") {
			// On MongoDB a worker's write names the attempt it belongs to in the filter,
			// beside the _id: the server answers it by the primary key.
			continue
		}
		t.Errorf("a request filtered by something other than _id: %s", f)
	}
}

// TestCourseCollectionsMadeAtStart checks that the collections the requests above write
// their keys and lists to exist once the stores are open, before any request: the
// embedded engine reads a collection by _id through the index EnsureCollections gives the
// collections named at start-up, and one first made by a request's write would lack it.
// The folder is in the current layout already, as on every start after the first, so that
// nothing is brought over.
func TestCourseCollectionsMadeAtStart(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	if err := db.Collection("course_keys").Insert(ctx, map[string]any{"_id": "layout:courses-by-id-1"}); err != nil {
		t.Fatal(err)
	}
	s, err := courses.NewStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	j, err := courses.NewJournals(ctx, db, s, courses.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x, err := courses.NewExportJobs(ctx, j, (&memArchives{}).archives(), nil, courses.ExportJobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x.Close()
	names, err := db.CollectionNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, n := range []string{"course_keys", "course_lists", "attendance_registers", "calendar_versions", "practice_months", "supervision_lists", "exportLists"} {
		if !have[n] {
			t.Errorf("no collection %s once the stores are open; have %v", n, names)
		}
	}
}
