package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"polyphony/internal/demo"
)

// `polyphony user disable`, run as a process of its own while the server runs, closes the
// person's open room connection, and nothing they send after it is acknowledged or stored.
func TestUserDisableClosesOpenRoomSocket(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	srv, base := startServe(t, data)
	logins := demoLogins(t, runBinary(t, "", "demo", "--data", data).stdout)
	// The demo cohort's own trainee and its facilitator (the demo has a finished cohort too,
	// with trainees of its own).
	trainee, facilitator := "trainee@polyphony.example", "facilitator@polyphony.example"
	if logins[trainee][0] != "trainee" || logins[facilitator][0] != "facilitator" {
		t.Fatalf("the demo's logins lack its trainee and facilitator: %v", logins)
	}
	cohorts := runBinary(t, "", "cohort", "list", "--data", data)
	cohortID := ""
	for _, line := range strings.Split(cohorts.stdout, "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(line, "  "+demo.CohortName+"  ") {
			cohortID = f[0]
		}
	}
	if cohorts.code != 0 || cohortID == "" {
		t.Fatalf("cohort list does not show %q: %v", demo.CohortName, cohorts)
	}
	room := "/rooms/" + cohortID + "/cohort"

	signedIn := func(email string) (*http.Cookie, string) {
		resp := signIn(t, base, email, logins[email][1])
		var me struct {
			CSRFToken string `json:"csrfToken"`
		}
		b, _ := io.ReadAll(resp.Body)
		json.Unmarshal(b, &me)
		c := sessionCookie(resp)
		if resp.StatusCode != http.StatusOK || c == nil {
			t.Fatalf("sign in as %s: %d %s", email, resp.StatusCode, b)
		}
		return c, me.CSRFToken
	}
	fc, fcsrf := signedIn(facilitator)
	req, _ := http.NewRequest(http.MethodPost, base+room+"/open", nil)
	req.AddCookie(fc)
	req.Header.Set("X-CSRF-Token", fcsrf)
	noRedirect := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err := noRedirect.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("open the room: %v %v", resp, err)
	}

	tc, _ := signedIn(trainee)
	h := http.Header{"Origin": {base}, "Cookie": {tc.Name + "=" + tc.Value}}
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+room+"/ws?lastSeq=0", h)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	read := func() (map[string]any, error) {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		var m map[string]any
		err := conn.ReadJSON(&m)
		return m, err
	}
	say := func(id, text string) error {
		return conn.WriteJSON(map[string]string{"type": "say", "id": id, "text": text})
	}
	say("before", "said before the disable")
	for {
		m, err := read()
		if err != nil {
			t.Fatalf("waiting for the first ack: %v", err)
		}
		if m["type"] == "ack" {
			break
		}
	}

	if r := runBinary(t, "", "user", "disable", "--data", data, "--email", trainee); r.code != 0 {
		t.Fatalf("user disable: %v", r)
	}
	for _, id := range []string{"a1", "a2", "a3"} {
		if say(id, "said after the disable") != nil {
			break
		}
	}
	for {
		m, err := read()
		if err == nil {
			if m["type"] == "ack" {
				t.Errorf("acknowledged after the disable: %v", m)
			}
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
			t.Errorf("after the disable: %v, want the server to close the connection (1008)", err)
		}
		break
	}
	req, _ = http.NewRequest(http.MethodGet, base+room+"/transcript.md", nil)
	req.AddCookie(fc)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(md), "before the disable") || strings.Contains(string(md), "after the disable") {
		t.Errorf("transcript: want the turn before the disable and none after:\n%s", md)
	}
	srv.cmd.Process.Kill()
}
