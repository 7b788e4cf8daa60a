package courses_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

// TestCoursesOpenEarlierLayout writes trusts, cohorts, memberships, programmes, marks,
// calendar tokens, practice and supervision sessions and an export job as the previous
// release stored them (each a document of its own, found by filters, under random ids and
// unique indexes), opens the store on them, and checks that every page finds them as
// before, that writes go on from them, and that the start-up says in the log, once, that it
// brought them over.
func TestCoursesOpenEarlierLayout(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	insert := func(coll string, docs ...any) {
		t.Helper()
		for _, d := range docs {
			if err := db.Collection(coll).Insert(ctx, d); err != nil {
				t.Fatalf("insert into %s: %v", coll, err)
			}
		}
	}
	unique := func(coll string, fields ...string) {
		t.Helper()
		if err := database.EnsureIndexes(ctx, db.Collection(coll), database.Index{Keys: fields, Unique: true}); err != nil {
			t.Fatal(err)
		}
	}

	const trainee, supervisor = "old-trainee-1", "old-supervisor-1"
	trust := courses.Trust{ID: database.NewID(), Name: "Old Trust", CreatedAt: now}
	cohort := courses.Cohort{ID: database.NewID(), Name: "Old cohort", StartDate: dateOnly(now.AddDate(0, -2, 0)), TrustIDs: []string{trust.ID}, CreatedAt: now, Version: 1}
	insert("trusts", trust)
	insert("cohorts", cohort)
	oldMembership := courses.Membership{ID: database.NewID(), CohortID: cohort.ID, UserID: trainee, Role: accounts.RoleTrainee, Since: now}
	insert("memberships", oldMembership,
		courses.Membership{ID: database.NewID(), CohortID: cohort.ID, UserID: supervisor, Role: accounts.RoleSupervisor, Since: now.Add(time.Second)})
	unique("memberships", "cohortId", "userId")

	type programmeDoc struct {
		ID                string `bson:"_id"`
		courses.Programme `bson:",inline"`
	}
	p := courses.Template(cohort)
	for v := 1; v <= 2; v++ {
		p.CohortID, p.Version, p.SavedAt, p.SavedBy = cohort.ID, v, now, "admin"
		insert("programmes", programmeDoc{ID: database.NewID(), Programme: p})
	}
	unique("programmes", "cohortId", "version")

	type mark struct {
		ID       string       `bson:"_id"`
		CohortID string       `bson:"cohortId"`
		Occasion string       `bson:"occasion"`
		UserID   string       `bson:"userId"`
		Mark     courses.Mark `bson:"mark"`
		Note     string       `bson:"note"`
		TakenBy  string       `bson:"takenBy"`
		TakenAt  time.Time    `bson:"takenAt"`
	}
	const day = "module-1-day-1"
	insert("attendance",
		mark{ID: database.NewID(), CohortID: cohort.ID, Occasion: day, UserID: trainee, Mark: courses.Absent, TakenBy: "fran", TakenAt: now},
		mark{ID: database.NewID(), CohortID: cohort.ID, Occasion: day, UserID: trainee, Mark: courses.Present, Note: "late", TakenBy: "fran", TakenAt: now.Add(time.Minute)})

	type token struct {
		Token     string    `bson:"_id"`
		UserID    string    `bson:"userId"`
		Version   int       `bson:"version"`
		CreatedAt time.Time `bson:"createdAt"`
	}
	// Version 1 was deleted when it was rotated: version 2 is the live one.
	insert("calendar_tokens", token{Token: "oldcalendartoken2", UserID: trainee, Version: 2, CreatedAt: now})
	unique("calendar_tokens", "userId", "version")

	insert("practice_sessions", courses.PracticeSession{ID: "prold1", OwnerID: trainee, Date: dateOnly(now), Minutes: 25, Kind: courses.PracticeSitting, LoggedAt: now, Request: "r"})
	logged := []courses.SupervisionSession{
		{ID: "svold1", TraineeID: trainee, Date: dateOnly(now.AddDate(0, 0, -2)), Minutes: 60, SupervisorID: supervisor, Kind: courses.SupervisionIndividual, LoggedAt: now, Request: "r1"},
		{ID: "svold2", TraineeID: trainee, Date: dateOnly(now.AddDate(0, 0, -1)), Minutes: 30, SupervisorID: supervisor, Kind: courses.SupervisionGroup, LoggedAt: now, Request: "r2"},
	}
	insert("supervision_sessions", logged[0], logged[1])
	insert("supervision_resolutions", bson.M{"_id": "svold1", "traineeId": trainee, "supervisorId": supervisor, "at": now})
	running := courses.ExportJob{ID: "oldexportjob", OwnerID: trainee, Role: accounts.RoleTrainee, State: courses.ExportRunning,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour), Attempt: 1, LeaseUntil: now.Add(time.Hour)}
	insert("exportJobs", running)

	var out strings.Builder
	logger := slog.New(slog.NewTextHandler(&out, nil))
	s, err := courses.NewStore(ctx, db, courses.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	j, err := courses.NewJournals(ctx, db, s, courses.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "course records brought to the layout read by id") || !strings.Contains(out.String(), "memberships=2") {
		t.Errorf("log: %q, want a line saying the records were brought over", out.String())
	}

	// Trusts and cohorts, by name and in the lists; their names stay taken.
	if got, err := s.TrustByName(ctx, "Old Trust"); err != nil || got.ID != trust.ID {
		t.Errorf("trust by name: %+v, %v", got, err)
	}
	if got, err := s.CohortByName(ctx, "Old cohort"); err != nil || got.ID != cohort.ID {
		t.Errorf("cohort by name: %+v, %v", got, err)
	}
	if ts, err := s.Trusts(ctx); err != nil || len(ts) != 1 {
		t.Errorf("trusts: %+v, %v", ts, err)
	}
	if cs, err := s.Cohorts(ctx); err != nil || len(cs) != 1 {
		t.Errorf("cohorts: %+v, %v", cs, err)
	}
	if _, err := s.CreateTrust(ctx, "Old Trust"); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("a new trust of an old name: %v, want ErrConflict", err)
	}
	if _, err := s.CreateCohort(ctx, courses.NewCohort{Name: "Old cohort", StartDate: now}); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("a new cohort of an old name: %v, want ErrConflict", err)
	}

	// Memberships, and enrolling someone already there.
	if ms, err := s.MembershipsOf(ctx, trainee); err != nil || len(ms) != 1 || ms[0].ID != oldMembership.ID {
		t.Errorf("memberships: %+v, %v; want the old one", ms, err)
	}
	if ms, err := s.Members(ctx, cohort.ID); err != nil || len(ms) != 2 || ms[0].UserID != trainee || ms[1].UserID != supervisor {
		t.Errorf("members: %+v, %v; want both, in the order they joined", ms, err)
	}
	if ms, err := s.MembershipsOf(ctx, supervisor); err != nil || len(ms) != 1 || len(ms[0].Supervises) != 1 || ms[0].Supervises[0] != trainee {
		t.Errorf("the supervisor's membership: %+v, %v; want the cohort's trainee given", ms, err)
	}
	if m, err := s.Enrol(ctx, cohort.ID, trainee, accounts.RoleTrainee); err != nil || m.ID != oldMembership.ID {
		t.Errorf("enrolling again: %+v, %v; want the old membership", m, err)
	}

	// The programme, and a save after its latest version.
	got, err := s.Programme(ctx, cohort.ID)
	if err != nil || got.Version != 2 {
		t.Fatalf("programme: version %d, %v; want 2", got.Version, err)
	}
	if _, err := s.SaveProgramme(ctx, got, 1, "fran"); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("save on an old base: %v, want ErrConflict", err)
	}
	if saved, err := s.SaveProgramme(ctx, got, 2, "fran"); err != nil || saved.Version != 3 {
		t.Errorf("save: version %d, %v; want 3", saved.Version, err)
	}

	// The register and the trainee's attendance.
	reg, err := s.Register(ctx, cohort.ID, day)
	if err != nil || len(reg) != 1 || reg[0].Mark != courses.Present || reg[0].Note != "late" {
		t.Errorf("register: %+v, %v; want the trainee present, late", reg, err)
	}
	if hist, err := s.AttendanceHistory(ctx, cohort.ID, day, trainee); err != nil || len(hist) != 2 || hist[0].Mark != courses.Absent {
		t.Errorf("history: %+v, %v; want absent, then present", hist, err)
	}
	if att, err := s.AttendanceOf(ctx, cohort.ID, trainee); err != nil || len(att) == 0 || att[0].Mark != courses.Present {
		t.Errorf("attendance: %+v, %v", att, err)
	}

	// The calendar feed: the live token opens it, a rotation replaces it.
	if u, err := s.CalendarUser(ctx, "oldcalendartoken2"); err != nil || u != trainee {
		t.Errorf("old token: %q, %v", u, err)
	}
	if tok, err := s.CalendarToken(ctx, trainee); err != nil || tok != "oldcalendartoken2" {
		t.Errorf("calendar token: %q, %v; want the old live one", tok, err)
	}
	tok, err := s.RotateCalendarToken(ctx, trainee)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CalendarUser(ctx, "oldcalendartoken2"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("the rotated old token: %v, want ErrNotFound", err)
	}
	if u, err := s.CalendarUser(ctx, tok); err != nil || u != trainee {
		t.Errorf("the new token: %q, %v", u, err)
	}

	// The practice and supervision logs.
	tv := courses.Viewer{UserID: trainee, Role: accounts.RoleTrainee}
	sv := courses.Viewer{UserID: supervisor, Role: accounts.RoleSupervisor}
	if ps, err := j.PracticeSessions(ctx, tv, now.AddDate(0, -1, 0), now); err != nil || len(ps) != 1 || ps[0].ID != "prold1" {
		t.Errorf("practice: %+v, %v", ps, err)
	}
	if log, err := j.SupervisionLog(ctx, tv, trainee); err != nil || len(log) != 2 || !log[0].Confirmed || log[1].Confirmed {
		t.Errorf("supervision log: %+v, %v; want the first confirmed, the second not", log, err)
	}
	todo, err := j.SupervisionToConfirm(ctx, sv)
	if err != nil || len(todo) != 1 || todo[0].ID != "svold2" {
		t.Errorf("to confirm: %+v, %v; want the second session", todo, err)
	}

	// The export job under way is still the trainee's.
	x, err := courses.NewExportJobs(ctx, j, (&memArchives{}).archives(), nil, courses.ExportJobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if job, err := x.Start(ctx, tv); err != nil || job.ID != running.ID {
		t.Errorf("export: %+v, %v; want the one under way", job, err)
	}

	out.Reset()
	if _, err := courses.NewStore(ctx, db, courses.WithLogger(logger)); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("a second start logged %q; the records were brought over once", out.String())
	}
}

func dateOnly(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
