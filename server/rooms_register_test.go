package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"polyphony/courses"
	"polyphony/internal/accounts"
)

// dialogueSession is the id of one of the demo cohort's dialogue sessions, in the past or
// in the future.
func dialogueSession(t *testing.T, f *fixture, cohortID string, past bool) string {
	t.Helper()
	p, err := f.courses.Programme(context.Background(), cohortID)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range p.Occasions() {
		if o.Kind == courses.OccasionDialogue && o.Date.Before(time.Now()) == past {
			return o.ID
		}
	}
	t.Fatalf("the demo programme has no dialogue session (past: %v)", past)
	return ""
}

// openWithTrainee opens the room at path as a facilitator and joins it as a trainee, past
// the welcome; the connection closes when the test ends.
func openWithTrainee(t *testing.T, f *fixture, path string) (facil, trainee *client, conn *websocket.Conn) {
	t.Helper()
	facil = f.signedIn(t, accounts.RoleFacilitator)
	if res, body := facil.do("POST", path+"/open", url.Values{"csrf": {facil.csrf}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("open %s: %d %s", path, res.StatusCode, body)
	}
	trainee = f.signedIn(t, accounts.RoleTrainee)
	conn, _, err := trainee.dialRoom(path+"/ws", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	next(t, conn, "welcome")
	return facil, trainee, conn
}

// registerMarks is the session's register as its facilitator reads it through the API.
func registerMarks(t *testing.T, c *client, cohortID, occasion string) map[string]courses.AttendanceRecord {
	t.Helper()
	res, body := c.do("GET", "/api/v1/cohorts/"+cohortID+"/registers/"+occasion, nil)
	if res.StatusCode != 200 {
		t.Fatalf("register: %d %s", res.StatusCode, body)
	}
	var recs []courses.AttendanceRecord
	if err := json.Unmarshal(body, &recs); err != nil {
		t.Fatal(err)
	}
	out := map[string]courses.AttendanceRecord{}
	for _, r := range recs {
		out[r.UserID] = r
	}
	return out
}

// Closing a room before its session's date keeps who was there: the facilitator is shown
// the register the room gives, in plain words, and recording it marks present and absent.
func TestRoomCloseBeforeTheSessionDate(t *testing.T) {
	f := newFixture(t)
	cohort := f.demoCohort(t)
	session := dialogueSession(t, f, cohort.ID, false)
	path := "/rooms/" + cohort.ID + "/" + session
	facil, trainee, _ := openWithTrainee(t, f, path)
	res, _ := facil.do("POST", path+"/close", url.Values{"csrf": {facil.csrf}})
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, path+"/register") {
		t.Fatalf("close before the date: %d %q, want the room's register to confirm", res.StatusCode, loc)
	}
	res, body := facil.do("GET", path+"/register", nil)
	page := string(body)
	me := f.byRole[accounts.RoleTrainee]
	u, err := f.accounts.Users.ByEmail(context.Background(), me.Email)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.Contains(page, me.Name) || !strings.Contains(page, "In the dialogue room for") || !strings.Contains(page, "Absent") {
		t.Fatalf("register from the room: %d %s", res.StatusCode, body)
	}
	if strings.Contains(page, "entries[") || strings.Contains(page, ".mark") {
		t.Errorf("the register page speaks in field names: %s", body)
	}
	if res, _ := trainee.do("GET", path+"/register", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("a trainee reading the room's register: %d, want 403", res.StatusCode)
	}
	if _, body := facil.do("GET", path, nil); !strings.Contains(string(body), `id="room-register-link"`) {
		t.Error("the room's page does not link its facilitators to the register from the room")
	}
	if _, body := trainee.do("GET", path, nil); strings.Contains(string(body), `id="room-register-link"`) {
		t.Error("the room's page links a trainee to the register from the room")
	}
	if got := registerMarks(t, facil, cohort.ID, session); got[u.ID].Mark != "" {
		t.Errorf("before confirming, the register marks %q", got[u.ID].Mark)
	}
	res, _ = facil.do("POST", path+"/register", url.Values{"csrf": {facil.csrf}})
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/cohorts/"+cohort.ID+"/register/"+session) {
		t.Fatalf("record: %d %q", res.StatusCode, loc)
	}
	got := registerMarks(t, facil, cohort.ID, session)
	for id, r := range got {
		want := courses.Absent
		if id == u.ID {
			want = courses.Present
		}
		if r.Mark != want {
			t.Errorf("%s: marked %q (%s), want %q", id, r.Mark, r.Note, want)
		}
	}
	if n := got[u.ID].Note; !strings.HasPrefix(n, "In the dialogue room for") || strings.Contains(n, " 0 minutes") {
		t.Errorf("note %q", n)
	}
}

// Through the API, closing a room before its session's date says the register waits, and
// where to confirm it; confirming takes it.
func TestRoomCloseBeforeTheSessionDateAPI(t *testing.T) {
	f := newFixture(t)
	cohort := f.demoCohort(t)
	session := dialogueSession(t, f, cohort.ID, false)
	api := "/api/v1/rooms/" + cohort.ID + "/" + session
	facil := f.signedIn(t, accounts.RoleFacilitator)
	if res, body := facil.do("POST", api+"/open", nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("open: %d %s", res.StatusCode, body)
	}
	trainee := f.signedIn(t, accounts.RoleTrainee)
	conn, _, err := trainee.dialRoom("/rooms/"+cohort.ID+"/"+session+"/ws", "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	next(t, conn, "welcome")
	if res, _ := trainee.do("POST", api+"/close", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("a trainee closing the room: %d, want 403", res.StatusCode)
	}
	res, body := facil.do("POST", api+"/close", nil)
	var closed struct {
		Register struct {
			Taken, Waiting  bool
			Present, Absent int
			Confirm         string
		} `json:"register"`
	}
	if err := json.Unmarshal(body, &closed); res.StatusCode != 200 || err != nil {
		t.Fatalf("close: %d %s", res.StatusCode, body)
	}
	if r := closed.Register; r.Taken || !r.Waiting || r.Present != 1 || r.Confirm != api+"/register" {
		t.Fatalf("close before the date: %s; want the register waiting, with 1 present and where to confirm", body)
	}
	res, body = facil.do("POST", closed.Register.Confirm, nil)
	if err := json.Unmarshal(body, &closed.Register); res.StatusCode != 200 || err != nil || !closed.Register.Taken || closed.Register.Present != 1 {
		t.Fatalf("confirm: %d %s", res.StatusCode, body)
	}
}
