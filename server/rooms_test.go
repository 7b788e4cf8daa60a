package server_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/realtime"
)

// dialRoom opens a room's websocket as the signed-in client, from this site's origin unless
// origin says otherwise.
func (c *client) dialRoom(path, origin string) (*websocket.Conn, *http.Response, error) {
	u := mustURL(c.base)
	h := http.Header{}
	if origin == "" {
		origin = c.base
	}
	h.Set("Origin", origin)
	for _, ck := range c.http.Jar.Cookies(u) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	return websocket.DefaultDialer.Dial("ws://"+u.Host+path, h)
}

// next reads messages until one of the given type arrives.
func next(t *testing.T, conn *websocket.Conn, typ string) map[string]any {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var m map[string]any
		if err := conn.ReadJSON(&m); err != nil {
			t.Fatalf("waiting for %q: %v", typ, err)
		}
		if m["type"] == typ {
			return m
		}
	}
}

func TestRoomSocket(t *testing.T) {
	f := newFixture(t)
	cohort := f.demoCohort(t)
	path := "/rooms/" + cohort.ID + "/cohort"

	anon := f.client(t)
	if _, res, err := anon.dialRoom(path+"/ws", ""); err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous upgrade: %v %v, want 401", err, res)
	}
	trainee := f.signedIn(t, accounts.RoleTrainee)
	if _, res, err := trainee.dialRoom(path+"/ws", "https://evil.example"); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Origin: %v %v, want 403", err, res)
	}
	for _, role := range []accounts.Role{accounts.RoleAdmin, accounts.RoleAssessor, accounts.RoleSupervisor} {
		c := f.signedIn(t, role)
		if _, res, err := c.dialRoom(path+"/ws", ""); err == nil || res == nil || res.StatusCode != http.StatusNotFound {
			t.Errorf("%s joining a room: %v, want 404 (the meter is never shown to them)", role, res)
		}
	}
	if res, _ := trainee.do("POST", path+"/open", url.Values{"csrf": {trainee.csrf}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("trainee opening the room: %d, want 403", res.StatusCode)
	}
	facil := f.signedIn(t, accounts.RoleFacilitator)
	if res, body := facil.do("POST", path+"/open", url.Values{"csrf": {facil.csrf}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("open: %d %s", res.StatusCode, body)
	}

	conn, _, err := trainee.dialRoom(path+"/ws?lastSeq=0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	next(t, conn, "welcome")
	if err := conn.WriteJSON(map[string]string{"type": "say", "text": "I notice I am hopeful", "id": "m1"}); err != nil {
		t.Fatal(err)
	}
	ack := next(t, conn, "ack")
	seq := uint64(ack["ackSeq"].(float64))
	if err := conn.WriteJSON(map[string]string{"type": "set_phase", "phase": "team_reflects"}); err != nil {
		t.Fatal(err)
	}
	if e := next(t, conn, "error"); !strings.Contains(e["error"].(string), "facilitator") {
		t.Errorf("trainee changing the phase: %v", e)
	}

	res, body := facil.do("GET", path+"/transcript.md", nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), "I notice I am hopeful") {
		t.Errorf("transcript export: %d %s", res.StatusCode, body)
	}
	if md := string(body); !strings.HasPrefix(md, "# Cohort dialogue room\n") || !strings.Contains(md, "- Present: ") || strings.Contains(md, "joined") {
		t.Errorf("the export is not a document with a title and who was present:\n%s", md)
	}
	withdraw := path + "/transcript/" + strconv.FormatUint(seq, 10) + "/withdraw"
	if res, _ := facil.do("POST", withdraw, url.Values{"csrf": {facil.csrf}}); res.StatusCode != http.StatusBadRequest {
		t.Errorf("withdrawing someone else's turn: %d, want 400", res.StatusCode)
	}
	if res, _ := trainee.do("POST", withdraw, url.Values{"csrf": {trainee.csrf}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("withdrawing my own turn: %d, want 303", res.StatusCode)
	}
	_, body = facil.do("GET", path+"/transcript.md", nil)
	if strings.Contains(string(body), "I notice I am hopeful") {
		t.Error("a withdrawn turn is still in the export")
	}

	// Signing out closes the person's room connections.
	trainee.do("POST", "/signout", url.Values{"csrf": {trainee.csrf}})
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
			t.Errorf("after signing out: %v, want the server to close the connection (1008)", err)
		}
		break
	}
}

// On shutdown the server closes room members with 1001 before it stops.
func TestRoomsCloseOnShutdown(t *testing.T) {
	f := newFixture(t)
	cohort := f.demoCohort(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.Serve(ctx, ln, 5*time.Second) }()
	base := "http://" + ln.Addr().String()
	facil := f.client(t)
	facil.base = base
	l := f.byRole[accounts.RoleFacilitator]
	if res, body := facil.do("POST", "/api/v1/session", map[string]string{"email": l.Email, "password": l.Password}); res.StatusCode != 200 {
		t.Fatalf("sign in: %d %s", res.StatusCode, body)
	}
	conn, _, err := facil.dialRoom("/rooms/"+cohort.ID+"/cohort/ws", base)
	if err != nil {
		t.Fatal(err)
	}
	next(t, conn, "welcome")
	cancel()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var ce *websocket.CloseError
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
				t.Errorf("close on shutdown: %v, want 1001", err)
			}
			break
		}
	}
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

// Closing a session's room fills its register from who was in the room.
func TestRoomCloseRecordsAttendance(t *testing.T) {
	f := newFixture(t)
	cohort := f.demoCohort(t)
	session := dialogueSession(t, f, cohort.ID, true)
	path := "/rooms/" + cohort.ID + "/" + session
	facil, trainee, _ := openWithTrainee(t, f, path)
	res, _ := facil.do("POST", path+"/close", url.Values{"csrf": {facil.csrf}})
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "register") {
		t.Fatalf("close: %d %q", res.StatusCode, loc)
	}
	_, body := trainee.do("GET", "/api/v1/me/attendance", nil)
	if !strings.Contains(string(body), session) || !strings.Contains(string(body), "In the dialogue room for") {
		t.Errorf("attendance after the session: %s", body)
	}
	// Trainees who never came are marked absent, not left blank.
	u, err := f.accounts.Users.ByEmail(context.Background(), f.byRole[accounts.RoleTrainee].Email)
	if err != nil {
		t.Fatal(err)
	}
	marks := registerMarks(t, facil, cohort.ID, session)
	if len(marks) < 2 {
		t.Fatalf("the demo cohort has %d trainees, want two or more", len(marks))
	}
	for id, r := range marks {
		if id != u.ID && r.Mark != courses.Absent {
			t.Errorf("%s, never in the room: %q, want absent", id, r.Mark)
		}
	}
}

// The composer takes its limit from the server: the page and the room refuse the same
// length.
func TestRoomPageTextLimitFromServer(t *testing.T) {
	f := newFixture(t)
	cohort := f.demoCohort(t)
	trainee := f.signedIn(t, accounts.RoleTrainee)
	res, body := trainee.do("GET", "/rooms/"+cohort.ID+"/cohort", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("room page: %d", res.StatusCode)
	}
	limit := strconv.Itoa(realtime.MaxTextChars)
	for _, want := range []string{`data-max-text="` + limit + `"`, `maxlength="` + limit + `"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the room page has no %s", want)
		}
	}
}

// A disable made by another process on the same database, as `polyphony user disable` does
// (its own account service, no bus, nobody told), closes the person's open room connection,
// whether they speak or not, and nothing they send after it is acknowledged or stored.
func TestRoomDisableFromAnotherProcess(t *testing.T) {
	t.Run("speaking", func(t *testing.T) { testRoomDisable(t, 6) })
	t.Run("silent", func(t *testing.T) { testRoomDisable(t, 0) })
}

func testRoomDisable(t *testing.T, says int) {
	f := newFixture(t)
	ctx := context.Background()
	cohort := f.demoCohort(t)
	path := "/rooms/" + cohort.ID + "/cohort"
	facil := f.signedIn(t, accounts.RoleFacilitator)
	if res, body := facil.do("POST", path+"/open", url.Values{"csrf": {facil.csrf}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("open: %d %s", res.StatusCode, body)
	}
	trainee := f.signedIn(t, accounts.RoleTrainee)
	conn, _, err := trainee.dialRoom(path+"/ws?lastSeq=0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	next(t, conn, "welcome")
	if err := conn.WriteJSON(map[string]string{"type": "say", "text": "before", "id": "b"}); err != nil {
		t.Fatal(err)
	}
	next(t, conn, "ack")

	cli, err := accounts.NewService(ctx, f.db, accounts.Config{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := cli.Users.ByEmail(ctx, f.byRole[accounts.RoleTrainee].Email)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	for i := range says {
		if err := conn.WriteJSON(map[string]string{"type": "say", "text": "after the disable", "id": "a" + strconv.Itoa(i)}); err != nil {
			break // closed already
		}
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var m map[string]any
		err := conn.ReadJSON(&m)
		if err == nil {
			if m["type"] == "ack" {
				t.Errorf("a turn sent after the disable was acknowledged: %v", m)
			}
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
			t.Errorf("after the disable: %v, want the server to close the connection (1008)", err)
		}
		break
	}
	_, body := facil.do("GET", path+"/transcript.md", nil)
	if !strings.Contains(string(body), "before") || strings.Contains(string(body), "after the disable") {
		t.Errorf("transcript: want the turn before the disable and none after:\n%s", body)
	}
}
