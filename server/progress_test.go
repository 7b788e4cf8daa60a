package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/courses/progress"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/demo"
)

// TestProgressPages follows the demo cohort's progress from the registers to a trainee's page,
// the cohort's grid sorted and filtered, its CSV, a trainee's page for staff, and a change of
// the award rules through the API and the form, in the audit log.
func TestProgressPages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	co := f.demoCohort(t)
	tara, pat := f.userID(t, "trainee@polyphony.example"), f.userID(t, "peer@polyphony.example")
	trainee, admin := f.signedIn(t, accounts.RoleTrainee), f.signedIn(t, accounts.RoleAdmin)
	facilitator, supervisor, assessor := f.signedIn(t, accounts.RoleFacilitator), f.signedIn(t, accounts.RoleSupervisor), f.signedIn(t, accounts.RoleAssessor)

	// The standard rules first: a trainee's page names every rule and its state in words.
	res, body := pageGet(trainee, "/progress")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Your progress towards the award") || !strings.Contains(body, "Personal practice") || !strings.Contains(body, `id="state-residential"`) {
		t.Fatalf("trainee's page: %d %.400s", res.StatusCode, body)
	}
	if !strings.Contains(body, "Not counted: the practice log&#39;s totals are not shared") {
		t.Errorf("the practice rule does not say it reads nothing unshared")
	}

	// Rules saved through the API: a day present, and two dialogue sessions.
	path := "/api/v1/cohorts/" + co.ID + "/award-rules"
	res, raw := admin.send("GET", path, nil, nil)
	wantStatus(t, "read the rules", res, raw, http.StatusOK)
	if res.Header.Get("ETag") != `"0"` {
		t.Fatalf("standard rules' ETag %q, want \"0\"", res.Header.Get("ETag"))
	}
	rules := map[string]any{"rules": []map[string]any{{"kind": "residential", "days": 1}, {"kind": "dialogue", "sessions": 2}}}
	res, raw = admin.send("PUT", path, rules, map[string]string{"If-Match": `"0"`})
	wantStatus(t, "save the rules", res, raw, http.StatusOK)
	res, raw = admin.send("PUT", path, rules, map[string]string{"If-Match": `"0"`})
	wantStatus(t, "save on a stale version", res, raw, http.StatusConflict)
	res, raw = facilitator.send("PUT", path, rules, map[string]string{"If-Match": `"1"`})
	if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
		t.Errorf("a facilitator changes the rules: %d %s", res.StatusCode, raw)
	}
	page, err := f.audit.List(ctx, audit.Filter{SubjectID: co.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) == 0 || page.Entries[0].Action != audit.AwardRulesChanged {
		t.Errorf("audit log %+v, want the change of rules", page.Entries)
	}

	// Registers: Tara present on the first day; Pat absent then, and at two sessions in a row.
	facID := f.userID(t, f.byRole[accounts.RoleFacilitator].Email)
	take := func(occasion string, marks ...courses.AttendanceEntry) {
		t.Helper()
		if err := f.courses.TakeRegister(ctx, co.ID, occasion, marks, facID); err != nil {
			t.Fatal(err)
		}
	}
	take("module-1-day-1", courses.AttendanceEntry{UserID: tara, Mark: courses.Present}, courses.AttendanceEntry{UserID: pat, Mark: courses.Absent})
	take("p1-dialogue-1", courses.AttendanceEntry{UserID: pat, Mark: courses.Absent})
	take("p1-dialogue-2", courses.AttendanceEntry{UserID: pat, Mark: courses.Absent})

	res, raw = trainee.send("GET", "/api/v1/me/progress", nil, nil)
	wantStatus(t, "my progress", res, raw, http.StatusOK)
	mine := decodeAs[progress.Progress](t, raw)
	if r, _ := mine.Result(progress.KindResidential); r.State != progress.Met || r.Count != 1 || mine.RulesVersion != 1 || mine.Met != 1 {
		t.Errorf("Tara's progress: %+v", mine)
	}
	_, body = pageGet(trainee, "/progress")
	if !strings.Contains(body, `href="/schedule#occasion-module-1-day-1"`) || !strings.Contains(body, ">Met</strong>") {
		t.Errorf("the met rule does not link to its register: %.2000s", body)
	}

	// The grid: both trainees by name; by rules met, Tara first; at risk, only Pat.
	grid := "/cohorts/" + co.ID + "/progress"
	res, body = pageGet(facilitator, grid)
	if res.StatusCode != http.StatusOK || strings.Index(body, "Pat Peer") > strings.Index(body, "Tara Trainee") || strings.Index(body, "Pat Peer") < 0 {
		t.Fatalf("the grid by name: %d %.600s", res.StatusCode, body)
	}
	for _, want := range []string{`role="img"`, "<title id=\"chart-attendance-title\">Attendance in each month</title>", `id="attendance-table"`, ">At risk</strong>", "1 of 2"} {
		if !strings.Contains(body, want) {
			t.Errorf("the grid has no %s", want)
		}
	}
	_, body = pageGet(facilitator, grid+"?sort=met")
	if strings.Index(body, "Tara Trainee") > strings.Index(body, "Pat Peer") {
		t.Errorf("sorted by rules met, Pat comes before Tara")
	}
	_, body = pageGet(facilitator, grid+"?show=at-risk")
	if !strings.Contains(body, "Pat Peer") || strings.Contains(body, "Tara Trainee") || !strings.Contains(body, "1 of 2 trainee(s) shown") {
		t.Errorf("filtered to those at risk: %.3000s", body)
	}
	res, raw = facilitator.send("GET", grid+".csv?sort=met", nil, nil)
	wantStatus(t, "CSV", res, raw, http.StatusOK)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || len(lines) != 3 || !strings.HasPrefix(lines[1], "Tara Trainee,1 of 2,no,met,1,1,") || !strings.HasPrefix(lines[2], "Pat Peer,0 of 2,yes,") {
		t.Errorf("CSV %q:\n%s", res.Header.Get("Content-Type"), raw)
	}

	// Who sees the grid: the supervisor of both, yes; the assessor and a trainee, no.
	if res, _ := pageGet(supervisor, grid); res.StatusCode != http.StatusOK {
		t.Errorf("the supervisor's grid: %d", res.StatusCode)
	}
	for name, c := range map[string]*client{"assessor": assessor, "trainee": trainee} {
		if res, _ := pageGet(c, grid); res.StatusCode != http.StatusNotFound {
			t.Errorf("the %s opens the grid: %d", name, res.StatusCode)
		}
	}

	// A trainee's page for staff links to the registers.
	res, body = pageGet(facilitator, grid+"/"+pat)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Progress of Pat Peer") || !strings.Contains(body, `href="/cohorts/`+co.ID+`/register/p1-dialogue-2"`) || !strings.Contains(body, "The last two sessions were both missed.") {
		t.Errorf("Pat's page for staff: %d %.3000s", res.StatusCode, body)
	}

	// The supervisor reads the same page, without links to registers they cannot open.
	res, body = pageGet(supervisor, grid+"/"+pat)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "The last two sessions were both missed.") || strings.Contains(body, "/register/") {
		t.Errorf("Pat's page for the supervisor: %d %.3000s", res.StatusCode, body)
	}

	// The rules' form: a word for a number is refused naming the field; a number is saved.
	form := url.Values{"version": {"1"}, "include-residential": {"on"}, "residential-days": {"many"}}
	res, raw = admin.do("POST", "/cohorts/"+co.ID+"/award-rules", form)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), `href="#residential-days"`) {
		t.Errorf("a word for a number: %d %.300s", res.StatusCode, raw)
	}
	form.Set("residential-days", "21")
	if res, raw = admin.do("POST", "/cohorts/"+co.ID+"/award-rules", form); res.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), "only 20 residential days") {
		t.Errorf("more days than the programme has: %d %.300s", res.StatusCode, raw)
	}
	form.Set("residential-days", "18")
	res, raw = admin.do("POST", "/cohorts/"+co.ID+"/award-rules", form)
	if got := redirectedTo(t, res, string(raw)); got != grid {
		t.Errorf("saved, then to %s", got)
	}
	if r, _ := f.progress.Rules(ctx, co.ID); r.Version != 2 || len(r.Rules) != 1 || r.Rules[0].Days != 18 {
		t.Errorf("rules after the form: %+v", r)
	}
}

// TestDemoProgress seeds the demo's progress twice: Tara is on track, Pat at risk, and the
// second run adds no mark.
func TestDemoProgress(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	co := f.demoCohort(t)
	for range 2 {
		if err := demo.SeedProgress(ctx, f.accounts.Users, f.courses, f.journals, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	admin := courses.Viewer{UserID: f.userID(t, "admin@polyphony.example"), Role: accounts.RoleAdmin}
	tara, err := f.progress.Trainee(ctx, admin, co.ID, f.userID(t, "trainee@polyphony.example"))
	if err != nil {
		t.Fatal(err)
	}
	if tara.AtRisk {
		t.Errorf("Tara is at risk: %+v", tara.Results)
	}
	if r, _ := tara.Result(progress.KindSupervision); r.Count < 2 {
		t.Errorf("Tara's supervision: %+v", r)
	}
	if r, _ := tara.Result(progress.KindPractice); r.Count < 2 {
		t.Errorf("Tara's practice: %+v", r)
	}
	pat, err := f.progress.Trainee(ctx, admin, co.ID, f.userID(t, "peer@polyphony.example"))
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := pat.Result(progress.KindDialogue); !pat.AtRisk || r.State != progress.AtRisk {
		t.Errorf("Pat's dialogue: %+v", r)
	}
	hist, err := f.courses.AttendanceHistory(ctx, co.ID, "module-1-day-1", f.userID(t, "trainee@polyphony.example"))
	if err != nil || len(hist) != 1 {
		t.Errorf("the first day's marks for Tara after two runs: %d, %v", len(hist), err)
	}
}
