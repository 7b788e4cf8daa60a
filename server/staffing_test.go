package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/demo"
)

// TestCohortStaffingAPI staffs a new cohort through the API: two facilitators (one of them
// running the demo cohort already), a supervisor with a trainee, a role refused that is not
// the account's, an administrator refused, a supervisor's trainees changed, a member removed;
// each change in the audit log under the cohort, with the values before and after.
func TestCohortStaffingAPI(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := f.signedIn(t, accounts.RoleAdmin)
	co, err := f.courses.CreateCohort(ctx, courses.NewCohort{Name: "Staffed cohort", StartDate: time.Now().AddDate(0, 3, 0)})
	if err != nil {
		t.Fatal(err)
	}
	person := func(email string, role accounts.Role) accounts.User {
		t.Helper()
		u, err := f.accounts.Users.Create(ctx, accounts.NewUser{Email: email, Name: "Name of " + email[:strings.Index(email, "@")], Role: role, Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	fran := f.userID(t, f.byRole[accounts.RoleFacilitator].Email)
	fiona := person("fiona@nhs.example", accounts.RoleFacilitator).ID
	tom := person("tom@nhs.example", accounts.RoleTrainee).ID
	tess := person("tess@nhs.example", accounts.RoleTrainee).ID
	sid := person("sid@nhs.example", accounts.RoleSupervisor).ID
	members := "/api/v1/cohorts/" + co.ID + "/members"
	add := func(body map[string]any, want int) courses.Membership {
		t.Helper()
		res, answer := admin.do("POST", members, body)
		if res.StatusCode != want {
			t.Fatalf("add %v: %d %s, want %d", body, res.StatusCode, answer, want)
		}
		var m courses.Membership
		json.Unmarshal(answer, &m)
		return m
	}
	add(map[string]any{"userId": fran}, http.StatusCreated)
	add(map[string]any{"userId": fiona, "role": "facilitator"}, http.StatusCreated)
	add(map[string]any{"userId": tom}, http.StatusCreated)
	add(map[string]any{"userId": tess}, http.StatusCreated)
	if m := add(map[string]any{"userId": sid, "supervises": []string{tom}}, http.StatusCreated); !slices.Equal(m.Supervises, []string{tom}) {
		t.Errorf("supervisor added: %+v, want Tom supervised", m)
	}
	// Again, in the same role: the membership back, nothing changed.
	if m := add(map[string]any{"userId": sid}, http.StatusCreated); !slices.Equal(m.Supervises, []string{tom}) {
		t.Errorf("added again: %+v", m)
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		want  int
		field string
	}{
		{"a supervisor as a facilitator", map[string]any{"userId": sid, "role": "facilitator"}, http.StatusBadRequest, "role"},
		{"a facilitator as an assessor", map[string]any{"userId": person("fay@nhs.example", accounts.RoleFacilitator).ID, "role": "assessor"}, http.StatusBadRequest, "role"},
		{"an administrator", map[string]any{"userId": f.userID(t, f.byRole[accounts.RoleAdmin].Email)}, http.StatusBadRequest, "userId"},
		{"an unknown role", map[string]any{"userId": fiona, "role": "boss"}, http.StatusBadRequest, "role"},
		{"supervising a facilitator", map[string]any{"userId": person("sue@nhs.example", accounts.RoleSupervisor).ID, "supervises": []string{fran}}, http.StatusBadRequest, "supervises"},
	} {
		res, answer := admin.do("POST", members, tc.body)
		if res.StatusCode != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, res.StatusCode, answer, tc.want)
		} else if _, field := errorBody(t, answer); field != tc.field {
			t.Errorf("%s: about %q, want %q", tc.name, field, tc.field)
		}
	}
	if ms, _ := f.courses.Members(ctx, co.ID); len(ms) != 5 {
		t.Errorf("%d members after the refusals, want 5", len(ms))
	}

	// The supervisor's trainees changed; a role that is not the account's refused.
	res, answer := admin.do("PUT", members+"/"+sid, map[string]any{"role": "supervisor", "supervises": []string{tess, tom}})
	if res.StatusCode != 200 || !strings.Contains(string(answer), `"supervises":["`+tess+`","`+tom+`"]`) {
		t.Errorf("change: %d %s", res.StatusCode, answer)
	}
	if res, answer := admin.do("PUT", members+"/"+sid, map[string]any{"role": "assessor"}); res.StatusCode != 400 {
		t.Errorf("a supervisor made an assessor: %d %s, want 400", res.StatusCode, answer)
	}
	if res, _ := admin.do("PUT", members+"/nobody", map[string]any{"role": "trainee"}); res.StatusCode != 404 {
		t.Errorf("changing a non-member: %d, want 404", res.StatusCode)
	}
	// Tom leaves, and with him the supervisor's list.
	if res, answer := admin.do("DELETE", members+"/"+tom, nil); res.StatusCode != http.StatusNoContent {
		t.Errorf("remove: %d %s", res.StatusCode, answer)
	}
	if res, _ := admin.do("DELETE", members+"/"+tom, nil); res.StatusCode != 404 {
		t.Errorf("removing again: %d, want 404", res.StatusCode)
	}
	m, err := f.courses.Member(ctx, co.ID, sid)
	if err != nil || !slices.Equal(m.Supervises, []string{tess}) {
		t.Errorf("the supervisor after Tom left: %+v, %v", m, err)
	}
	// Fran runs both cohorts.
	if ms, _ := f.courses.MembershipsOf(ctx, fran); len(ms) != 2 {
		t.Errorf("Fran's memberships: %+v, want two cohorts", ms)
	}

	page, err := f.audit.List(ctx, audit.Filter{SubjectID: co.ID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range page.Entries {
		var cs []string
		for _, c := range e.Changes {
			cs = append(cs, c.Field+":"+c.Before+">"+c.After)
		}
		got = append(got, e.Action+" "+strings.Join(cs, " "))
	}
	slices.Reverse(got)
	want := []string{
		"cohort.member-added member:>Fran Facilitator (facilitator)",
		"cohort.member-added member:>Name of fiona (facilitator)",
		"cohort.member-added member:>Name of tom (trainee)",
		"cohort.member-added member:>Name of tess (trainee)",
		"cohort.member-added member:>Name of sid (supervisor) supervises:>Name of tom",
		"cohort.member-changed member:Name of sid>Name of sid supervises:Name of tom>Name of tess, Name of tom",
		"cohort.member-removed member:Name of tom (trainee)>",
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit log:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestDemoSupervisorSupervisesTheTrainees checks that polyphony demo gives the demo
// supervisor both demo trainees, and that seeding again keeps it so.
func TestDemoSupervisorSupervisesTheTrainees(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cohort := f.demoCohort(t)
	check := func(when string) {
		t.Helper()
		m, err := f.courses.Member(ctx, cohort.ID, f.userID(t, f.byRole[accounts.RoleSupervisor].Email))
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, l := range f.logins {
			if l.Role == accounts.RoleTrainee {
				want = append(want, f.userID(t, l.Email))
			}
		}
		got := slices.Clone(m.Supervises)
		slices.Sort(got)
		slices.Sort(want)
		if len(want) != 2 || !slices.Equal(got, want) {
			t.Errorf("%s: the demo supervisor supervises %v, want the demo trainees %v", when, got, want)
		}
	}
	check("first seed")
	if _, err := demo.Seed(ctx, f.accounts.Users, f.courses, time.Now()); err != nil {
		t.Fatal(err)
	}
	check("second seed")
}
