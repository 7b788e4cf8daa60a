package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"polyphony/internal/accounts"
)

// apiDoc is the part of the OpenAPI document a room client reads.
type apiDoc struct {
	Paths map[string]map[string]struct {
		Summary    string `json:"summary"`
		Parameters []struct {
			Name string `json:"name"`
			In   string `json:"in"`
		} `json:"parameters"`
	} `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		} `json:"schemas"`
	} `json:"components"`
}

// operation finds the path of the operation with the summary, with its query parameters.
func (d apiDoc) operation(t *testing.T, method, summary string) (path string, query []string) {
	t.Helper()
	for p, ops := range d.Paths {
		if op, ok := ops[method]; ok && op.Summary == summary {
			for _, prm := range op.Parameters {
				if prm.In == "query" {
					query = append(query, prm.Name)
				}
			}
			return p, query
		}
	}
	t.Fatalf("openapi.json has no %s operation %q", method, summary)
	return "", nil
}

// docClient calls the site as the documents say: JSON bodies, the session cookie with its
// CSRF token in X-CSRF-Token, or a Bearer token.
type docClient struct {
	t      *testing.T
	base   string
	http   *http.Client
	csrf   string
	bearer string
}

func (c *docClient) call(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

// A client written only from the documents finds the room routes and the JSON transcript in
// openapi.json, opens the room, joins it over the websocket at the documented address, says
// something, reads it back in the JSON transcript, and closes the room.
func TestRoomClientFromTheDocuments(t *testing.T) {
	f := newFixture(t)
	cohort := f.demoCohort(t)
	jar, _ := cookiejar.New(nil)
	facil := &docClient{t: t, base: f.ts.URL, http: &http.Client{Jar: jar}}
	code, body := facil.call("GET", "/api/v1/openapi.json", nil)
	var doc apiDoc
	if err := json.Unmarshal(body, &doc); code != 200 || err != nil {
		t.Fatalf("openapi.json: %d %v", code, err)
	}
	fill := strings.NewReplacer("{cohort}", cohort.ID, "{room}", "cohort")
	openPath, _ := doc.operation(t, "post", "Open a room")
	closePath, _ := doc.operation(t, "post", "Close a room")
	transcriptPath, _ := doc.operation(t, "get", "A room's transcript")
	wsPath, wsQuery := doc.operation(t, "get", "A room's websocket")
	if len(wsQuery) != 1 {
		t.Fatalf("the websocket takes query parameters %v, want one (the last sequence seen)", wsQuery)
	}

	// The facilitator signs in with the session cookie and opens the room.
	l := f.byRole[accounts.RoleFacilitator]
	code, body = facil.call("POST", "/api/v1/session", map[string]string{"email": l.Email, "password": l.Password})
	var me struct {
		CSRFToken string `json:"csrfToken"`
	}
	if err := json.Unmarshal(body, &me); code != 200 || err != nil || me.CSRFToken == "" {
		t.Fatalf("sign in: %d %s", code, body)
	}
	facil.csrf = me.CSRFToken
	if code, body := facil.call("POST", fill.Replace(openPath), nil); code != http.StatusNoContent {
		t.Fatalf("open: %d %s", code, body)
	}

	// The trainee makes a personal API token and joins with it, from this site's origin.
	tl := f.byRole[accounts.RoleTrainee]
	tjar, _ := cookiejar.New(nil)
	trainee := &docClient{t: t, base: f.ts.URL, http: &http.Client{Jar: tjar}}
	code, body = trainee.call("POST", "/api/v1/session", map[string]string{"email": tl.Email, "password": tl.Password})
	if err := json.Unmarshal(body, &me); code != 200 || err != nil {
		t.Fatalf("trainee sign in: %d %s", code, body)
	}
	trainee.csrf = me.CSRFToken
	code, body = trainee.call("POST", "/api/v1/tokens", map[string]any{"name": "room client"})
	var tok struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(body, &tok); code >= 300 || err != nil || tok.Secret == "" {
		t.Fatalf("token: %d %s", code, body)
	}
	bearer := &docClient{t: t, base: f.ts.URL, http: &http.Client{}, bearer: tok.Secret}
	h := http.Header{"Authorization": {"Bearer " + tok.Secret}, "Origin": {f.ts.URL}}
	wsURL := "ws" + strings.TrimPrefix(f.ts.URL, "http") + fill.Replace(wsPath) + "?" + url.Values{wsQuery[0]: {"0"}}.Encode()
	conn, res, err := websocket.DefaultDialer.Dial(wsURL, h)
	if err != nil {
		t.Fatalf("websocket at the documented address %s: %v %v", wsURL, err, res)
	}
	defer conn.Close()
	if w := next(t, conn, "welcome"); w["state"] == nil || w["you"] == nil {
		t.Errorf("welcome without state or you: %v", w)
	}
	said := "I heard the quiet in the room."
	if err := conn.WriteJSON(map[string]string{"type": "say", "text": said, "id": "doc-1"}); err != nil {
		t.Fatal(err)
	}
	ack := next(t, conn, "ack")
	if ack["id"] != "doc-1" {
		t.Fatalf("ack %v, want one for doc-1", ack)
	}
	seq := ack["ackSeq"].(float64)

	// The JSON transcript has the turn, in the documented shape.
	code, body = bearer.call("GET", fill.Replace(transcriptPath), nil)
	if code != 200 {
		t.Fatalf("transcript: %d %s", code, body)
	}
	var tr map[string]json.RawMessage
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	checkDocumented(t, doc, "Transcript", tr)
	var events []map[string]json.RawMessage
	if err := json.Unmarshal(tr["events"], &events); err != nil || len(events) == 0 {
		t.Fatalf("transcript events: %v %s", err, body)
	}
	found := false
	for _, e := range events {
		checkDocumented(t, doc, "RoomEvent", e)
		var ev struct {
			Seq  float64 `json:"seq"`
			Type string  `json:"type"`
			Text string  `json:"text"`
		}
		json.Unmarshal(mustJSON(t, e), &ev)
		if ev.Seq == seq && ev.Type == "say" && ev.Text == said {
			found = true
		}
	}
	if !found {
		t.Errorf("the acknowledged turn (seq %v) is not in the JSON transcript: %s", seq, body)
	}

	if code, body := facil.call("POST", fill.Replace(closePath), nil); code != 200 {
		t.Fatalf("close: %d %s", code, body)
	} else {
		var closed map[string]json.RawMessage
		json.Unmarshal(body, &closed)
		checkDocumented(t, doc, "RoomClosed", closed)
	}
}

// checkDocumented fails when an answer has a field its schema does not describe, or lacks
// one the schema requires.
func checkDocumented(t *testing.T, doc apiDoc, schema string, got map[string]json.RawMessage) {
	t.Helper()
	s, ok := doc.Components.Schemas[schema]
	if !ok {
		t.Fatalf("openapi.json has no schema %s", schema)
	}
	for k := range got {
		if _, ok := s.Properties[k]; !ok {
			t.Errorf("%s: field %q is not in openapi.json", schema, k)
		}
	}
	for _, k := range s.Required {
		if _, ok := got[k]; !ok {
			t.Errorf("%s: required field %q is missing", schema, k)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
