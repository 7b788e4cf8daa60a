package server_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/internal/accounts"
)

var hrefRe = regexp.MustCompile(`href="([^"]*)"`)

// menuLinks lists the addresses of the header's menu on a page, in order.
func menuLinks(t *testing.T, body string) []string {
	t.Helper()
	start := strings.Index(body, `aria-label="Menu"`)
	if start < 0 {
		t.Fatalf("the page has no header menu")
	}
	end := strings.Index(body[start:], "</nav>")
	var out []string
	for _, m := range hrefRe.FindAllStringSubmatch(body[start:start+end], -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// currentMenuItem is the address of the menu item marked as the page's own.
func currentMenuItem(body string) string {
	m := regexp.MustCompile(`href="([^"]*)" aria-current="page"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestHeaderMenuByRole checks that each role finds the pages it works in in the header, and
// that each of them opens.
func TestHeaderMenuByRole(t *testing.T) {
	f := newFixture(t)
	want := map[accounts.Role][]string{
		accounts.RoleTrainee:     {"/journal", "/practice", "/supervision", "/assessments", "/marking"},
		accounts.RoleFacilitator: {"/cohorts"},
		accounts.RoleSupervisor:  {"/journal", "/supervision", "/practice"},
		accounts.RoleAssessor:    {"/journal", "/assessments", "/marking"},
		accounts.RoleAdmin:       {"/assessments", "/marking", "/admin"},
	}
	for _, role := range accounts.Roles {
		t.Run(string(role), func(t *testing.T) {
			c := f.signedIn(t, role)
			_, body := pageGet(c, "/")
			links := menuLinks(t, body)
			for _, w := range append([]string{"/", "/programme", "/curriculum", "/schedule", "/reading-list", "/account"}, want[role]...) {
				if !slicesContains(links, w) {
					t.Errorf("the menu %v has no %s", links, w)
				}
			}
			if role != accounts.RoleFacilitator && slicesContains(links, "/cohorts") {
				t.Errorf("a %s has a Cohort item", role)
			}
			for _, l := range links {
				res, body := pageGet(c, l)
				if res.StatusCode == http.StatusSeeOther {
					l = res.Header.Get("Location")
					res, body = pageGet(c, l)
				}
				if res.StatusCode != http.StatusOK {
					t.Errorf("menu item %s: %d", l, res.StatusCode)
					continue
				}
				if got := currentMenuItem(body); got == "" {
					t.Errorf("on %s no menu item is marked as the current page", l)
				}
			}
		})
	}

	t.Run("facilitator's Cohort item opens the cohort they run", func(t *testing.T) {
		c := f.signedIn(t, accounts.RoleFacilitator)
		res, body := pageGet(c, "/cohorts")
		if got, want := redirectedTo(t, res, body), "/cohorts/"+f.demoCohort(t).ID; got != want {
			t.Fatalf("Cohort leads to %s, want %s", got, want)
		}
		_, body = pageGet(c, "/cohorts/"+f.demoCohort(t).ID)
		if got := currentMenuItem(body); got != "/cohorts" {
			t.Errorf("the cohort page marks %q as current, want /cohorts", got)
		}
	})
	t.Run("trainee's supervision and practice are their own items", func(t *testing.T) {
		c := f.signedIn(t, accounts.RoleTrainee)
		for _, p := range []string{"/supervision", "/practice"} {
			if _, body := pageGet(c, p); currentMenuItem(body) != p {
				t.Errorf("%s marks %q as current", p, currentMenuItem(body))
			}
		}
	})
}

// nextSessionOf is the first dialogue session of the programme not over at now, found here
// independently of the server.
func nextSessionOf(p courses.Programme, now time.Time) (courses.Activity, bool) {
	var best courses.Activity
	found := false
	for _, per := range p.Periods {
		for _, a := range per.Activities {
			if a.Session == nil || !now.Before(a.Session.Start.Add(time.Duration(a.Session.Minutes)*time.Minute)) {
				continue
			}
			if !found || a.Session.Start.Before(best.Session.Start) {
				best, found = a, true
			}
		}
	}
	return best, found
}

// TestHomeShowsNextSession checks that a trainee's home page names the next dialogue
// session and links to its room, which opens for them.
func TestHomeShowsNextSession(t *testing.T) {
	f := newFixture(t)
	co := f.demoCohort(t)
	p, err := f.courses.Programme(context.Background(), co.ID)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := nextSessionOf(p, time.Now())
	if !ok {
		t.Fatal("the demo programme has no dialogue session to come")
	}
	room := "/rooms/" + co.ID + "/" + a.ID
	trainee := f.signedIn(t, accounts.RoleTrainee)
	_, body := pageGet(trainee, "/")
	i := strings.Index(body, `id="next-session"`)
	if i < 0 {
		t.Fatalf("the home page shows no next session: %s", pageText(body))
	}
	card := body[i:]
	card = card[:strings.Index(card, "</div>\n</div>")]
	if !strings.Contains(pageText(card), a.Title) {
		t.Errorf("the next session card %q does not name %q", pageText(card), a.Title)
	}
	if !strings.Contains(card, `href="`+room+`"`) {
		t.Errorf("the next session card does not link to %s: %s", room, card)
	}
	if res, _ := pageGet(trainee, room); res.StatusCode != http.StatusOK {
		t.Errorf("the session's room: %d", res.StatusCode)
	}
	// Someone who is not in the rooms is not sent to one.
	_, body = pageGet(f.signedIn(t, accounts.RoleAssessor), "/")
	if strings.Contains(body, `id="next-session"`) {
		t.Errorf("an assessor's home page offers a dialogue room")
	}
}

// TestProgrammeLinksSessionRooms checks that every dialogue session the programme page shows
// links to its own room, for the room's members only.
func TestProgrammeLinksSessionRooms(t *testing.T) {
	f := newFixture(t)
	co := f.demoCohort(t)
	p, err := f.courses.Programme(context.Background(), co.ID)
	if err != nil {
		t.Fatal(err)
	}
	trainee := f.signedIn(t, accounts.RoleTrainee)
	_, body := pageGet(trainee, "/programme")
	linked := 0
	for _, per := range p.Periods {
		for _, a := range per.Activities {
			if a.Session == nil || !strings.Contains(body, html.EscapeString(a.Title)) {
				continue // not in the periods the page shows
			}
			room := "/rooms/" + co.ID + "/" + a.ID
			if !strings.Contains(body, `href="`+room+`"`) {
				t.Errorf("%q is shown without a link to %s", a.Title, room)
				continue
			}
			linked++
			if res, _ := pageGet(trainee, room); res.StatusCode != http.StatusOK {
				t.Errorf("room %s: %d", room, res.StatusCode)
			}
		}
	}
	if linked == 0 {
		t.Fatal("the programme page shows no dialogue session")
	}
	for _, m := range []string{"/modules/1", "/modules/2"} {
		if _, body := pageGet(trainee, m); strings.Contains(body, "Polyphony dialogue") && !strings.Contains(body, `href="/rooms/`+co.ID+`/`) {
			t.Errorf("%s shows sessions without their rooms", m)
		}
	}
	_, body = pageGet(f.signedIn(t, accounts.RoleSupervisor), "/programme")
	if strings.Contains(body, `href="/rooms/`) {
		t.Errorf("a supervisor, who may not enter the rooms, is linked to one")
	}
}

// TestCalendarFeedLinksRooms checks that each dialogue session in a trainee's calendar feed
// carries the full address of its room, and that the address opens the room.
func TestCalendarFeedLinksRooms(t *testing.T) {
	f := newFixture(t)
	co := f.demoCohort(t)
	trainee := f.signedIn(t, accounts.RoleTrainee)
	_, body := trainee.do("GET", "/api/v1/me/calendar", nil)
	var cal struct{ URL string }
	json.Unmarshal(body, &cal)
	res, err := http.Get(cal.URL)
	if err != nil {
		t.Fatal(err)
	}
	feed, _ := io.ReadAll(res.Body)
	res.Body.Close()
	unfolded := strings.ReplaceAll(string(feed), "\r\n ", "")
	sessions := 0
	for _, ev := range strings.Split(unfolded, "BEGIN:VEVENT")[1:] {
		props := map[string]string{}
		for _, l := range strings.Split(ev, "\r\n") {
			if k, v, ok := strings.Cut(l, ":"); ok {
				props[k] = v
			}
		}
		id, _, _ := strings.Cut(props["UID"], "@")
		want := f.ts.URL + "/rooms/" + co.ID + "/" + id
		if !strings.Contains(id, "dialogue") {
			if props["URL"] != "" {
				t.Errorf("%s, no dialogue session, has URL %s", id, props["URL"])
			}
			continue
		}
		sessions++
		if props["URL"] != want {
			t.Errorf("%s: URL %q, want %q", id, props["URL"], want)
		}
		if props["LOCATION"] != want {
			t.Errorf("%s: LOCATION %q, want %q", id, props["LOCATION"], want)
		}
		if !strings.Contains(props["DESCRIPTION"], want) {
			t.Errorf("%s: DESCRIPTION %q does not give the room", id, props["DESCRIPTION"])
		}
	}
	if sessions == 0 {
		t.Fatal("the feed has no dialogue session")
	}
	room := strings.TrimPrefix(f.ts.URL+"/rooms/"+co.ID+"/", f.ts.URL)
	if res, _ := pageGet(trainee, room+"p1-dialogue-1"); res.StatusCode != http.StatusOK {
		t.Errorf("the first session's room from the feed: %d", res.StatusCode)
	}
}
