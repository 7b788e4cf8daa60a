package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/demo"
)

func (f *fixture) demoCohort(t *testing.T) courses.Cohort {
	t.Helper()
	c, err := f.courses.CohortByName(context.Background(), demo.CohortName)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestProgrammeAPI(t *testing.T) {
	f := newFixture(t)
	cohort := f.demoCohort(t)
	trainee := f.signedIn(t, accounts.RoleTrainee)
	res, body := trainee.do("GET", "/api/v1/cohorts/"+cohort.ID+"/programme", nil)
	if res.StatusCode != 200 {
		t.Fatalf("programme: %d %s", res.StatusCode, body)
	}
	var got struct {
		Programme courses.Programme `json:"programme"`
		Position  courses.Position  `json:"position"`
	}
	json.Unmarshal(body, &got)
	if len(got.Programme.Modules) != 4 || len(got.Programme.Periods) != 3 {
		t.Fatalf("modules %d, periods %d; want 4 and 3", len(got.Programme.Modules), len(got.Programme.Periods))
	}
	// The demo cohort started about fourteen weeks ago: between modules 2 and 3.
	if got.Position.Phase != "period" || got.Position.Module != 2 {
		t.Errorf("position %+v, want the period after module 2", got.Position)
	}
	etag := res.Header.Get("ETag")

	if res, _ := trainee.do("PUT", "/api/v1/cohorts/"+cohort.ID+"/programme", map[string]any{"modules": got.Programme.Modules, "periods": got.Programme.Periods}); res.StatusCode != http.StatusForbidden {
		t.Errorf("trainee changing the programme: %d, want 403", res.StatusCode)
	}

	facil := f.signedIn(t, accounts.RoleFacilitator)
	mods := got.Programme.Modules
	mods[1].Start, mods[1].End = mods[0].Start.AddDate(0, 0, 2), mods[0].End.AddDate(0, 0, 2)
	req := map[string]any{"modules": mods, "periods": got.Programme.Periods}
	res, body = facil.putIfMatch("/api/v1/cohorts/"+cohort.ID+"/programme", etag, req)
	if msg, field := errorBody(t, body); res.StatusCode != 400 || !strings.HasPrefix(field, "modules[1]") {
		t.Errorf("overlapping modules: %d %q %q, want 400 naming modules[1]", res.StatusCode, field, msg)
	}
	res, _ = facil.do("PUT", "/api/v1/cohorts/"+cohort.ID+"/programme", req)
	if res.StatusCode != 400 {
		t.Errorf("PUT without If-Match: %d, want 400", res.StatusCode)
	}

	// A change to the timetable and to an activity is saved as the next version.
	res, body = facil.do("GET", "/api/v1/cohorts/"+cohort.ID+"/programme", nil)
	json.Unmarshal(body, &got)
	got.Programme.Modules[2].Days[0].Slots[0].Title = "Opening circle in the garden room"
	got.Programme.Periods[1].Activities[0].Title = "Read Seikkula on the seven principles"
	res, body = facil.putIfMatch("/api/v1/cohorts/"+cohort.ID+"/programme", res.Header.Get("ETag"),
		map[string]any{"modules": got.Programme.Modules, "periods": got.Programme.Periods})
	if res.StatusCode != 200 {
		t.Fatalf("timetable change: %d %s", res.StatusCode, body)
	}
	_, body = trainee.do("GET", "/api/v1/cohorts/"+cohort.ID+"/programme", nil)
	if !strings.Contains(string(body), "Opening circle in the garden room") || !strings.Contains(string(body), "Read Seikkula on the seven principles") {
		t.Error("the trainee does not see the changed timetable and activity")
	}
	// The same base version again is stale.
	res, _ = facil.putIfMatch("/api/v1/cohorts/"+cohort.ID+"/programme", etag, map[string]any{"modules": got.Programme.Modules, "periods": got.Programme.Periods})
	if res.StatusCode != http.StatusConflict {
		t.Errorf("save on a stale version: %d, want 409", res.StatusCode)
	}
}

func (c *client) putIfMatch(path, etag string, body any) (*http.Response, []byte) {
	c.t.Helper()
	return c.doWith("PUT", path, body, map[string]string{"If-Match": etag})
}

func TestUnreleasedPagesAreInvisibleToTrainees(t *testing.T) {
	f := newFixture(t)
	trainee := f.signedIn(t, accounts.RoleTrainee)
	facil := f.signedIn(t, accounts.RoleFacilitator)
	// Module 4's pages are released after module 3, which the demo cohort has not reached.
	for _, path := range []string{"/curriculum/risk-and-governance", "/api/v1/curriculum/risk-and-governance"} {
		if res, _ := trainee.do("GET", path, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("trainee %s: %d, want 404", path, res.StatusCode)
		}
		if res, _ := facil.do("GET", path, nil); res.StatusCode != http.StatusOK {
			t.Errorf("facilitator %s: %d, want 200", path, res.StatusCode)
		}
	}
	_, body := trainee.do("GET", "/api/v1/curriculum", nil)
	if strings.Contains(string(body), "risk-and-governance") {
		t.Error("the trainee's curriculum list names an unreleased page")
	}
	if !strings.Contains(string(body), "dialogism-and-polyphony") {
		t.Error("the trainee's list lacks a page released after module 1")
	}
	_, page := trainee.do("GET", "/curriculum", nil)
	if strings.Contains(string(page), "risk-and-governance") {
		t.Error("the curriculum page links an unreleased page")
	}
	// Released pages render, with internal links rewritten to page addresses.
	res, body := trainee.do("GET", "/api/v1/curriculum/dialogism-and-polyphony", nil)
	var pg struct {
		HTML string `json:"html"`
	}
	json.Unmarshal(body, &pg)
	if res.StatusCode != 200 || !strings.Contains(pg.HTML, `href="/curriculum/`) || strings.Contains(pg.HTML, `.md"`) {
		t.Errorf("rendered page %d: links not rewritten", res.StatusCode)
	}
}

func TestCurriculumSaveConflict(t *testing.T) {
	f := newFixture(t)
	a := f.signedIn(t, accounts.RoleFacilitator)
	b := f.signedIn(t, accounts.RoleAdmin)
	res, body := a.do("GET", "/api/v1/curriculum/immediate-help", nil)
	etag := res.Header.Get("ETag")
	var pg struct {
		Title    string `json:"title"`
		Markdown string `json:"markdown"`
		Module   int    `json:"module"`
		Order    int    `json:"order"`
		Release  string `json:"release"`
	}
	json.Unmarshal(body, &pg)
	edit := func(text string) map[string]any {
		return map[string]any{"title": pg.Title, "module": pg.Module, "order": pg.Order, "release": pg.Release, "markdown": pg.Markdown + "\n\n" + text}
	}
	if res, body := a.putIfMatch("/api/v1/curriculum/immediate-help", etag, edit("First edit.")); res.StatusCode != 200 {
		t.Fatalf("first save: %d %s", res.StatusCode, body)
	}
	res, body = b.putIfMatch("/api/v1/curriculum/immediate-help", etag, edit("Second edit, from an old copy."))
	if res.StatusCode != http.StatusConflict || !strings.Contains(string(body), "First edit.") {
		t.Fatalf("stale save: %d %s; want 409 with the newer text", res.StatusCode, body)
	}
	_, body = b.do("GET", "/api/v1/curriculum/immediate-help", nil)
	if !strings.Contains(string(body), "First edit.") || strings.Contains(string(body), "Second edit") {
		t.Error("the stale save overwrote the page")
	}
	res, body = b.do("GET", "/api/v1/curriculum/immediate-help/revisions", nil)
	var revs []struct{ Revision int }
	json.Unmarshal(body, &revs)
	if res.StatusCode != 200 || len(revs) != 2 {
		t.Fatalf("revisions: %d %s", res.StatusCode, body)
	}
	res, body = b.do("POST", "/api/v1/curriculum/immediate-help/revisions/1/restore", nil)
	if res.StatusCode != 400 {
		t.Errorf("restore without If-Match: %d %s", res.StatusCode, body)
	}
	req, _ := http.NewRequest("POST", b.base+"/api/v1/curriculum/immediate-help/revisions/1/restore", nil)
	req.Header.Set("If-Match", `"2"`)
	req.Header.Set("X-CSRF-Token", b.csrf)
	if res, err := b.http.Do(req); err != nil || res.StatusCode != 200 {
		t.Errorf("restore: %v %v", res.StatusCode, err)
	}
	_, body = b.do("GET", "/api/v1/curriculum/immediate-help", nil)
	if strings.Contains(string(body), "First edit.") {
		t.Error("restore of revision 1 kept the later text")
	}
	trainee := f.signedIn(t, accounts.RoleTrainee)
	if res, _ := trainee.putIfMatch("/api/v1/curriculum/immediate-help", `"3"`, edit("x")); res.StatusCode != http.StatusForbidden {
		t.Errorf("trainee editing: %d, want 403", res.StatusCode)
	}
}

func TestRegisterAndAttendance(t *testing.T) {
	f := newFixture(t)
	cohort := f.demoCohort(t)
	ctx := context.Background()
	p, _ := f.courses.Programme(ctx, cohort.ID)
	occasion := p.Occasions()[0] // module 1, day 1: in the past for the demo cohort
	tr, _ := f.accounts.Users.ByEmail(ctx, f.byRole[accounts.RoleTrainee].Email)

	trainee := f.signedIn(t, accounts.RoleTrainee)
	entries := map[string]any{"entries": []map[string]string{{"userId": tr.ID, "mark": "present", "note": "arrived late"}}}
	if res, _ := trainee.do("PUT", "/api/v1/cohorts/"+cohort.ID+"/registers/"+occasion.ID, entries); res.StatusCode != http.StatusForbidden {
		t.Errorf("trainee taking a register: %d, want 403", res.StatusCode)
	}
	facil := f.signedIn(t, accounts.RoleFacilitator)
	if res, body := facil.do("PUT", "/api/v1/cohorts/"+cohort.ID+"/registers/"+occasion.ID, entries); res.StatusCode != 200 {
		t.Fatalf("register: %d %s", res.StatusCode, body)
	}
	res, body := trainee.do("GET", "/api/v1/me/attendance", nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"present"`) || !strings.Contains(string(body), "arrived late") {
		t.Errorf("my attendance: %d %s", res.StatusCode, body)
	}
	_, page := trainee.do("GET", "/schedule", nil)
	if !strings.Contains(string(page), "Present") {
		t.Error("the schedule page does not show the mark")
	}
	bad := map[string]any{"entries": []map[string]string{{"userId": "nobody", "mark": "present"}}}
	if res, body := facil.do("PUT", "/api/v1/cohorts/"+cohort.ID+"/registers/"+occasion.ID, bad); res.StatusCode != 400 {
		t.Errorf("register for a non-member: %d %s", res.StatusCode, body)
	}
	if res, _ := facil.do("PUT", "/api/v1/cohorts/"+cohort.ID+"/registers/no-such-day", entries); res.StatusCode != 400 && res.StatusCode != 404 {
		t.Errorf("unknown occasion: %d", res.StatusCode)
	}

	// Someone outside the cohort sees none of it.
	if _, err := f.accounts.Users.Create(ctx, accounts.NewUser{Email: "outsider@nhs.example", Name: "Out", Role: accounts.RoleFacilitator, Password: "outsider password"}); err != nil {
		t.Fatal(err)
	}
	out := f.client(t)
	res, body = out.do("POST", "/api/v1/session", map[string]string{"email": "outsider@nhs.example", "password": "outsider password"})
	var me struct{ CSRFToken string }
	json.Unmarshal(body, &me)
	out.csrf = me.CSRFToken
	for _, path := range []string{"/api/v1/cohorts/" + cohort.ID + "/programme", "/api/v1/cohorts/" + cohort.ID + "/registers/" + occasion.ID, "/cohorts/" + cohort.ID} {
		if res, _ := out.do("GET", path, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("unassigned facilitator %s: %d, want 404", path, res.StatusCode)
		}
	}
}

func TestCalendarFeed(t *testing.T) {
	f := newFixture(t)
	trainee := f.signedIn(t, accounts.RoleTrainee)
	_, body := trainee.do("GET", "/api/v1/me/calendar", nil)
	var cal struct{ URL string }
	json.Unmarshal(body, &cal)
	res, err := http.Get(cal.URL)
	if err != nil {
		t.Fatal(err)
	}
	ics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") || strings.Count(string(ics), "BEGIN:VEVENT") < 20 {
		t.Fatalf("feed: %d %q, %d events", res.StatusCode, res.Header.Get("Content-Type"), strings.Count(string(ics), "BEGIN:VEVENT"))
	}
	_, body = trainee.do("POST", "/api/v1/me/calendar", nil)
	var rotated struct{ URL string }
	json.Unmarshal(body, &rotated)
	if rotated.URL == cal.URL {
		t.Fatal("rotation kept the address")
	}
	if res, _ := http.Get(cal.URL); res.StatusCode != http.StatusNotFound {
		t.Errorf("old calendar address: %d, want 404", res.StatusCode)
	}
	if res, _ := http.Get(rotated.URL); res.StatusCode != 200 {
		t.Errorf("new calendar address: %d", res.StatusCode)
	}
}

// TestCalendarFeedOfSeveralCohorts puts the demo facilitator in a second cohort and reads
// their feed: every event of both programmes, each cohort's under its own UIDs and named
// with its cohort, and the rooms of both linked; a supervisor of one of them gets that
// cohort's events without rooms.
func TestCalendarFeedOfSeveralCohorts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	demoCohort := f.demoCohort(t)
	second, p2, err := f.courses.CreateCohortFromTemplate(ctx, courses.NewCohort{Name: "Second cohort", StartDate: demoCohort.StartDate.AddDate(0, 6, 0)}, "test")
	if err != nil {
		t.Fatal(err)
	}
	fac := f.byRole[accounts.RoleFacilitator]
	if _, err := f.courses.Enrol(ctx, second.ID, f.userID(t, fac.Email), accounts.RoleFacilitator); err != nil {
		t.Fatal(err)
	}
	p1, err := f.courses.Programme(ctx, demoCohort.ID)
	if err != nil {
		t.Fatal(err)
	}
	feed := func(c *client) string {
		t.Helper()
		_, body := c.do("GET", "/api/v1/me/calendar", nil)
		var cal struct{ URL string }
		json.Unmarshal(body, &cal)
		res, err := http.Get(cal.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		ics, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("feed: %d", res.StatusCode)
		}
		// Unfold the lines (RFC 5545 3.1), so that a long one is read whole.
		return strings.ReplaceAll(strings.ReplaceAll(string(ics), "\r\n ", ""), "\\,", ",")
	}
	ics := feed(f.signedIn(t, accounts.RoleFacilitator))
	n1, n2 := len(p1.Occasions()), len(p2.Occasions())
	if got := strings.Count(ics, "BEGIN:VEVENT"); got != n1+n2 {
		t.Errorf("%d events, want %d of the demo cohort and %d of the second", got, n1, n2)
	}
	for _, c := range []courses.Cohort{demoCohort, second} {
		if got := strings.Count(ics, "@"+c.ID+".polyphony"); got != map[string]int{demoCohort.ID: n1, second.ID: n2}[c.ID] {
			t.Errorf("%s: %d events", c.Name, got)
		}
		if !strings.Contains(ics, "SUMMARY:"+c.Name+": ") {
			t.Errorf("no event named with %s", c.Name)
		}
		if !strings.Contains(ics, "URL:"+f.ts.URL+"/rooms/"+c.ID+"/") {
			t.Errorf("no room of %s linked", c.Name)
		}
	}
	if !strings.Contains(ics, "X-WR-CALNAME:POD programme: "+demo.CohortName+", Second cohort") {
		t.Errorf("calendar name: want both cohorts in %q", ics[:400])
	}

	sup := feed(f.signedIn(t, accounts.RoleSupervisor))
	if got := strings.Count(sup, "BEGIN:VEVENT"); got != n1 || strings.Contains(sup, "URL:") || strings.Contains(sup, "Second cohort") {
		t.Errorf("supervisor's feed: %d events (want %d), rooms or the second cohort in it", got, n1)
	}
}
