package courses_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

// staffWorld is a store with two cohorts, A and B.
type staffWorld struct {
	s    *courses.Store
	a, b courses.Cohort
}

func newStaffWorld(t *testing.T) staffWorld {
	t.Helper()
	ctx := context.Background()
	s, err := courses.NewStore(ctx, dbtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2027, 1, 11, 0, 0, 0, 0, time.UTC)
	w := staffWorld{s: s}
	if w.a, err = s.CreateCohort(ctx, courses.NewCohort{Name: "Cohort A", StartDate: start}); err != nil {
		t.Fatal(err)
	}
	if w.b, err = s.CreateCohort(ctx, courses.NewCohort{Name: "Cohort B", StartDate: start.AddDate(0, 4, 0)}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w staffWorld) enrol(t *testing.T, c courses.Cohort, userID string, role accounts.Role) courses.Membership {
	t.Helper()
	m, err := w.s.Enrol(context.Background(), c.ID, userID, role)
	if err != nil {
		t.Fatalf("enrol %s as %s in %s: %v", userID, role, c.Name, err)
	}
	return m
}

// roles lists the members of the cohort as "user:role".
func (w staffWorld) roles(t *testing.T, c courses.Cohort) []string {
	t.Helper()
	ms, err := w.s.Members(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.UserID+":"+string(m.Role))
	}
	slices.Sort(out)
	return out
}

// wantProblem checks that err is bad input about field, in words that mention mentions.
func wantProblem(t *testing.T, err error, field, mentions string) {
	t.Helper()
	for _, inv := range failure.Invalids(err) {
		if inv.Field == field && strings.Contains(inv.Error(), mentions) {
			return
		}
	}
	t.Errorf("%v, want a problem with %s mentioning %q", err, field, mentions)
}

// TestPeopleInSeveralCohorts shows who may be in more than one cohort: a facilitator runs
// two (both memberships listed for them and on each cohort), a supervisor and an assessor
// work with two; a trainee is in one at a time, and in another once removed from the first;
// an administrator, and the admin role, are no member's.
func TestPeopleInSeveralCohorts(t *testing.T) {
	ctx := context.Background()
	w := newStaffWorld(t)
	for _, r := range []accounts.Role{accounts.RoleFacilitator, accounts.RoleSupervisor, accounts.RoleAssessor} {
		id := "two-cohort-" + string(r)
		w.enrol(t, w.a, id, r)
		w.enrol(t, w.b, id, r)
		ms, err := w.s.MembershipsOf(ctx, id)
		if err != nil || len(ms) != 2 || ms[0].CohortID != w.a.ID || ms[1].CohortID != w.b.ID {
			t.Errorf("%s's memberships: %+v, %v; want A and B", r, ms, err)
		}
	}
	if got := w.roles(t, w.b); !slices.Equal(got, []string{"two-cohort-assessor:assessor", "two-cohort-facilitator:facilitator", "two-cohort-supervisor:supervisor"}) {
		t.Errorf("cohort B: %v", got)
	}

	w.enrol(t, w.a, "tara", accounts.RoleTrainee)
	_, err := w.s.Enrol(ctx, w.b.ID, "tara", accounts.RoleTrainee)
	wantProblem(t, err, "userId", "a trainee in Cohort A")
	if got := w.roles(t, w.b); len(got) != 3 {
		t.Errorf("cohort B after the refusal: %v", got)
	}
	if _, err := w.s.RemoveMember(ctx, w.a.ID, "tara"); err != nil {
		t.Fatal(err)
	}
	w.enrol(t, w.b, "tara", accounts.RoleTrainee)
	if ms, _ := w.s.MembershipsOf(ctx, "tara"); len(ms) != 1 || ms[0].CohortID != w.b.ID {
		t.Errorf("tara's memberships: %+v, want B only", ms)
	}

	_, err = w.s.Enrol(ctx, w.a.ID, "alex", accounts.RoleAdmin)
	wantProblem(t, err, "role", "Select a role in the cohort")
	wantProblem(t, courses.CheckMemberRole(accounts.RoleAdmin, accounts.RoleFacilitator), "userId", "administrator")
	wantProblem(t, courses.CheckMemberRole(accounts.RoleFacilitator, accounts.RoleSupervisor), "role", "a facilitator in a cohort")
	for _, r := range courses.CohortRoles {
		if err := courses.CheckMemberRole(r, r); err != nil {
			t.Errorf("a %s as a %s: %v", r, r, err)
		}
	}
}

// TestChangeAndRemoveMembers gives a supervisor trainees (only the cohort's), changes roles
// and removes members, and checks both lists and the record after each step.
func TestChangeAndRemoveMembers(t *testing.T) {
	ctx := context.Background()
	w := newStaffWorld(t)
	w.enrol(t, w.a, "t1", accounts.RoleTrainee)
	w.enrol(t, w.a, "t2", accounts.RoleTrainee)
	w.enrol(t, w.b, "t3", accounts.RoleTrainee)
	w.enrol(t, w.a, "fac", accounts.RoleFacilitator)
	sup := w.enrol(t, w.a, "sup", accounts.RoleSupervisor)
	if len(sup.Supervises) != 0 {
		t.Errorf("a new supervisor supervises %v, want nobody", sup.Supervises)
	}
	change := func(userID string, role accounts.Role, trainees ...string) (courses.Membership, error) {
		_, m, err := w.s.ChangeMember(ctx, w.a.ID, userID, courses.MemberChange{Role: role, Supervises: trainees})
		return m, err
	}
	_, err := change("sup", accounts.RoleSupervisor, "t1", "t3")
	wantProblem(t, err, "supervises", "Select trainees of this cohort")
	_, err = change("sup", accounts.RoleSupervisor, "fac")
	wantProblem(t, err, "supervises", "Select trainees of this cohort")
	_, err = change("fac", accounts.RoleFacilitator, "t1")
	wantProblem(t, err, "supervises", "Only a supervisor")
	_, err = change("sup", accounts.RoleAdmin)
	wantProblem(t, err, "role", "Select a role")
	if _, _, err := w.s.ChangeMember(ctx, w.a.ID, "nobody", courses.MemberChange{Role: accounts.RoleTrainee}); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("changing a non-member: %v, want ErrNotFound", err)
	}
	m, err := change("sup", accounts.RoleSupervisor, "t1", "t2", "t1")
	if err != nil || !slices.Equal(m.Supervises, []string{"t1", "t2"}) {
		t.Fatalf("supervises %v, %v; want t1 and t2", m.Supervises, err)
	}
	supervises := func(where string) []string {
		t.Helper()
		mine, err := w.s.MembershipsOf(ctx, "sup")
		if err != nil || len(mine) != 1 {
			t.Fatalf("%s: the supervisor's memberships %+v, %v", where, mine, err)
		}
		listed, err := w.s.Member(ctx, w.a.ID, "sup")
		if err != nil || !slices.Equal(listed.Supervises, mine[0].Supervises) {
			t.Errorf("%s: the cohort lists %v, the person %v (%v)", where, listed.Supervises, mine[0].Supervises, err)
		}
		return mine[0].Supervises
	}
	if got := supervises("set"); !slices.Equal(got, []string{"t1", "t2"}) {
		t.Errorf("listed: %v", got)
	}
	// A trainee who leaves, or stops being a trainee, leaves the supervisor's list.
	if _, err := w.s.RemoveMember(ctx, w.a.ID, "t1"); err != nil {
		t.Fatal(err)
	}
	if got := supervises("t1 removed"); !slices.Equal(got, []string{"t2"}) {
		t.Errorf("after t1 left: %v, want t2", got)
	}
	if _, err := w.s.Member(ctx, w.a.ID, "t1"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("removed member: %v, want ErrNotFound", err)
	}
	if ms, _ := w.s.MembershipsOf(ctx, "t1"); len(ms) != 0 {
		t.Errorf("t1's memberships after removal: %+v", ms)
	}
	if _, err := w.s.RemoveMember(ctx, w.a.ID, "t1"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("removing again: %v, want ErrNotFound", err)
	}
	if _, err := change("t2", accounts.RoleAssessor); err != nil {
		t.Fatal(err)
	}
	if got := supervises("t2 an assessor"); len(got) != 0 {
		t.Errorf("after t2 became an assessor: %v, want nobody", got)
	}
	if got := w.roles(t, w.a); !slices.Equal(got, []string{"fac:facilitator", "sup:supervisor", "t2:assessor"}) {
		t.Errorf("cohort A: %v", got)
	}
	// Becoming a trainee again follows the one-cohort rule; t3 is B's.
	if _, err := w.s.Enrol(ctx, w.a.ID, "t3", accounts.RoleAssessor); err != nil {
		t.Fatal(err)
	}
	_, err = change("t3", accounts.RoleTrainee)
	wantProblem(t, err, "role", "a trainee in Cohort B")
	// Removed and enrolled again: a fresh membership, in the new role.
	if _, err := w.s.RemoveMember(ctx, w.a.ID, "sup"); err != nil {
		t.Fatal(err)
	}
	again := w.enrol(t, w.a, "sup", accounts.RoleAssessor)
	if again.Role != accounts.RoleAssessor || len(again.Supervises) != 0 {
		t.Errorf("enrolled again: %+v, want an assessor", again)
	}
	if ms, _ := w.s.MembershipsOf(ctx, "sup"); len(ms) != 1 || ms[0].Role != accounts.RoleAssessor {
		t.Errorf("memberships after enrolling again: %+v", ms)
	}
}

// TestSupervisorsWithoutTraineesOpenEarlierLayout writes a cohort, its trainees and its
// supervisors as the release before the supervisors' own lists stored them (lists of
// memberships without "supervises", no mark), opens the store, and checks that each
// supervisor was given every trainee of the cohort, once, with a line in the log; a
// supervisor set to supervise nobody afterwards stays so at the next start.
func TestSupervisorsWithoutTraineesOpenEarlierLayout(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	put := func(coll string, doc bson.M) {
		t.Helper()
		if err := db.Collection(coll).Insert(ctx, doc); err != nil {
			t.Fatalf("insert into %s: %v", coll, err)
		}
	}
	const cohortID = "old-cohort-1"
	put("course_keys", bson.M{"_id": "layout:courses-by-id-1"})
	put("course_keys", bson.M{"_id": "cohort/Earlier cohort", "id": cohortID})
	put("cohorts", bson.M{"_id": cohortID, "name": "Earlier cohort", "startDate": dateOnly(now), "trustIds": bson.A{}, "createdAt": now, "version": int64(1)})
	put("course_lists", bson.M{"_id": "cohorts", "ids": bson.A{cohortID}})
	people := []struct {
		user string
		role accounts.Role
	}{{"t-1", accounts.RoleTrainee}, {"t-2", accounts.RoleTrainee}, {"s-1", accounts.RoleSupervisor}, {"s-2", accounts.RoleSupervisor}, {"f-1", accounts.RoleFacilitator}}
	var members bson.A
	for i, p := range people {
		m := bson.M{"_id": "m/" + cohortID + "/" + p.user, "cohortId": cohortID, "userId": p.user, "role": string(p.role), "since": now.Add(time.Duration(i) * time.Second)}
		put("memberships", m)
		put("course_lists", bson.M{"_id": "user/" + p.user, "memberships": bson.A{m}})
		members = append(members, m)
	}
	put("course_lists", bson.M{"_id": "cohort/" + cohortID, "members": members})

	var out strings.Builder
	logger := slog.New(slog.NewTextHandler(&out, nil))
	s, err := courses.NewStore(ctx, db, courses.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "supervisors given every trainee of their cohort") || !strings.Contains(out.String(), "supervisors=2") {
		t.Errorf("log: %q, want a line saying the supervisors were given their cohort's trainees", out.String())
	}
	for _, sup := range []string{"s-1", "s-2"} {
		ms, err := s.MembershipsOf(ctx, sup)
		if err != nil || len(ms) != 1 || !slices.Equal(ms[0].Supervises, []string{"t-1", "t-2"}) {
			t.Errorf("%s: %+v, %v; want both trainees", sup, ms, err)
		}
		var rec courses.Membership
		if err := db.Collection("memberships").Get(ctx, "m/"+cohortID+"/"+sup, &rec); err != nil || len(rec.Supervises) != 2 {
			t.Errorf("%s's record: %+v, %v", sup, rec, err)
		}
	}
	if m, err := s.Member(ctx, cohortID, "f-1"); err != nil || len(m.Supervises) != 0 {
		t.Errorf("facilitator: %+v, %v; want no trainees", m, err)
	}
	// The trainees' entries shared with "my supervisor" still reach both.
	j, err := courses.NewJournals(ctx, db, s, courses.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tv := courses.Viewer{UserID: "t-1", Role: accounts.RoleTrainee}
	e, err := j.Create(ctx, tv, courses.Draft{Title: "Shared", Body: "for my supervisor"}, newKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.SetSharing(ctx, tv, e.ID, courses.AudienceSupervisor, true); err != nil {
		t.Fatal(err)
	}
	if _, err := j.ReadEntry(ctx, courses.Viewer{UserID: "s-2", Role: accounts.RoleSupervisor}, e.ID); err != nil {
		t.Errorf("a supervisor brought over reads the shared entry: %v", err)
	}

	if _, _, err := s.ChangeMember(ctx, cohortID, "s-2", courses.MemberChange{Role: accounts.RoleSupervisor}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.ReadEntry(ctx, courses.Viewer{UserID: "s-2", Role: accounts.RoleSupervisor}, e.ID); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("a supervisor who no longer supervises the trainee: %v, want ErrNotFound", err)
	}
	out.Reset()
	s, err = courses.NewStore(ctx, db, courses.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("a second start logged %q; the supervisors were brought over once", out.String())
	}
	if m, err := s.Member(ctx, cohortID, "s-2"); err != nil || len(m.Supervises) != 0 {
		t.Errorf("s-2 after the second start: %+v, %v; want nobody still", m, err)
	}
}
