package server_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"polyphony/assessment/consent"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/demo"
	"polyphony/realtime"
)

// consentAccess is who may use each consent route. The consent store decides whose
// requests a person reaches: "consent-speaker" is only the speaker asked (the matrix's
// facilitator, whose turn the trainee quoted).
var consentAccess = map[string]string{
	"GET /consent":      "signed-in",
	"POST /consent/:id": "consent-speaker",
	"POST /rooms/:cohort/:room/transcript/quote": "room",
	"GET /api/v1/consent":                        "signed-in",
	"PUT /api/v1/consent/requests/:id":           "consent-speaker",
	"POST /api/v1/rooms/:cohort/:room/quotes":    "room",
	"GET /api/v1/journal/entries/:id/quotes":     "signed-in",
}

func init() {
	for k, v := range consentAccess {
		expectedAccess[k] = v
	}
	successRequests["POST /consent/:id"] = func(w *accessWorld) request { return form("decision", "agree") }
	successRequests["PUT /api/v1/consent/requests/:id"] = func(w *accessWorld) request {
		return jsonBody(map[string]any{"decision": "agreed"})
	}
	successRequests["POST /rooms/:cohort/:room/transcript/quote"] = func(w *accessWorld) request {
		return form("turn", w.consentTurn, "entry", "new", "key", randomWord())
	}
	successRequests["POST /api/v1/rooms/:cohort/:room/quotes"] = func(w *accessWorld) request {
		return jsonBody(map[string]any{"turns": []json.Number{json.Number(w.consentTurn)}})
	}
}

// quoteForMatrix has the facilitator say something in the cohort's room and the trainee
// quote it into the matrix entry: the request it makes of the facilitator is what the
// speaker's routes act on.
func (w *accessWorld) quoteForMatrix(t *testing.T) {
	t.Helper()
	conn, _, err := w.facilitator.dialRoom("/rooms/"+w.cohort+"/cohort/ws?lastSeq=0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	next(t, conn, "welcome")
	if err := conn.WriteJSON(map[string]string{"type": "say", "text": "A facilitator's words", "id": "f1"}); err != nil {
		t.Fatal(err)
	}
	seq := uint64(next(t, conn, "ack")["ackSeq"].(float64))
	w.consentTurn = strconv.FormatUint(seq, 10)
	res, body := w.trainee.send("POST", "/api/v1/rooms/"+w.cohort+"/cohort/quotes", map[string]any{"turns": []uint64{seq}, "entryId": w.entry}, nil)
	wantStatus(t, "quote the facilitator", res, body, http.StatusCreated)
	q := decodeAs[struct {
		Quote struct {
			ID string `json:"id"`
		} `json:"quote"`
	}](t, body)
	w.consentRequest = consent.RequestID(q.Quote.ID, w.f.userID(t, w.f.byRole[accounts.RoleFacilitator].Email))
}

// quoteRoom is the demo cohort's room with a transcript of three speakers: Tara (the
// trainee who quotes), Pat (the other trainee) and Fran (a facilitator).
type quoteRoom struct {
	f                   *fixture
	cohort, path        string
	tara, pat, fran     *client
	taraID, patID       string
	taraWords, patWords string
}

func newQuoteRoom(t *testing.T, f *fixture) *quoteRoom {
	t.Helper()
	ctx := context.Background()
	cohort, err := f.courses.CohortByName(ctx, demo.CohortName)
	if err != nil {
		t.Fatal(err)
	}
	r := &quoteRoom{f: f, cohort: cohort.ID, path: "/rooms/" + cohort.ID + "/cohort",
		tara: f.signedIn(t, accounts.RoleTrainee), pat: f.signInAs(t, "peer@polyphony.example", f.logins["peer@polyphony.example"].Password),
		fran:      f.signedIn(t, accounts.RoleFacilitator),
		taraWords: "I noticed how quiet the room went.", patWords: "My brother never felt heard by anyone."}
	r.taraID, r.patID = f.userID(t, "trainee@polyphony.example"), f.userID(t, "peer@polyphony.example")
	at := time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC)
	events := []realtime.Event{
		{Seq: 1, Type: realtime.EventSay, At: at, UserID: r.taraID, Name: "Tara Trainee", Role: realtime.Trainee, Text: r.taraWords},
		{Seq: 2, Type: realtime.EventSay, At: at.Add(time.Minute), UserID: r.patID, Name: "Pat Peer", Role: realtime.Trainee, Text: r.patWords},
		{Seq: 3, Type: realtime.EventSay, At: at.Add(2 * time.Minute), UserID: f.userID(t, "facilitator@polyphony.example"), Name: "Fran Facilitator",
			Role: realtime.Facilitator, Text: "Shall we reflect together?"},
	}
	if err := f.transcripts.AppendHistory(ctx, cohort.ID+"/cohort", events); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *quoteRoom) page(t *testing.T, c *client, path string) string {
	t.Helper()
	res, body := c.do("GET", path, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
	}
	return string(body)
}

func (r *quoteRoom) post(t *testing.T, c *client, path string, v url.Values, want int) *http.Response {
	t.Helper()
	v.Set("csrf", c.csrf)
	res, body := c.do("POST", path, v)
	if res.StatusCode != want {
		t.Fatalf("POST %s: %d %s, want %d", path, res.StatusCode, body, want)
	}
	return res
}

var quoteLinePattern = regexp.MustCompile(`::quote\[cq[0-9a-f]+\]`)

var requestIDPattern = regexp.MustCompile(`id="request-(cr[0-9a-f]+)"`)

// A trainee quotes turns from the transcript page into a new entry without any script: the
// entry shows her own words and waits for the other speaker's; the speaker sees the request
// with their own words only, and decides it, which nobody else can; the entry then shows the
// words to its author and supervisor alike, until the speaker withdraws and a note takes the
// quote's place on every page and read of the entry.
func TestQuoteThroughThePages(t *testing.T) {
	f := newFixture(t)
	r := newQuoteRoom(t, f)

	tp := r.page(t, r.tara, r.path+"/transcript")
	for _, want := range []string{`id="quote-form"`, `name="turn" value="2" id="quote-2" form="quote-form"`, `<option value="new">A new entry</option>`, `id="quote-button"`} {
		if !strings.Contains(tp, want) {
			t.Fatalf("the transcript page lacks %s:\n%s", want, tp)
		}
	}
	key := regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(tp)
	if key == nil {
		t.Fatal("the quote form has no key")
	}
	res := r.post(t, r.tara, r.path+"/transcript/quote", url.Values{"turn": {"1", "2"}, "entry": {"new"}, "key": {key[1]}}, http.StatusSeeOther)
	loc, _ := url.Parse(res.Header.Get("Location"))
	if !strings.HasPrefix(loc.Path, "/journal/je") {
		t.Fatalf("quoting went to %s, want the new entry", loc)
	}
	entryPath := loc.Path
	entryID := strings.TrimPrefix(entryPath, "/journal/")
	// The same form again (a double click) makes no second entry nor quote.
	again := r.post(t, r.tara, r.path+"/transcript/quote", url.Values{"turn": {"1", "2"}, "entry": {"new"}, "key": {key[1]}}, http.StatusSeeOther)
	if l, _ := url.Parse(again.Header.Get("Location")); l.Path != entryPath {
		t.Fatalf("the form sent again went to %s, want %s", l.Path, entryPath)
	}

	entry := r.page(t, r.tara, entryPath)
	if !strings.Contains(entry, r.taraWords) || !strings.Contains(entry, html.EscapeString(consent.WaitingText)) || strings.Contains(entry, r.patWords) {
		t.Fatalf("before Pat answers, the entry shows:\n%s", entry)
	}
	res2, body := r.tara.send("GET", "/api/v1/journal/entries/"+entryID, nil, nil)
	wantStatus(t, "read the entry", res2, body, http.StatusOK)
	if e := decodeAs[jEntry](t, body); strings.Count(e.Body, "::quote[") != 1 || strings.Contains(e.Body, r.patWords) || strings.Contains(e.Body, r.taraWords) {
		t.Fatalf("the entry's body %q, want one quote line and nobody's words", e.Body)
	}

	// Nobody but Pat sees or decides Pat's request.
	if p := r.page(t, r.fran, "/consent"); !strings.Contains(p, `id="nothing-asked"`) {
		t.Errorf("Fran's page lists requests:\n%s", p)
	}
	consentPage := r.page(t, r.pat, "/consent")
	m := requestIDPattern.FindStringSubmatch(consentPage)
	if m == nil || !strings.Contains(consentPage, "Tara Trainee asks to use one of your turns") || !strings.Contains(consentPage, r.patWords) ||
		strings.Contains(consentPage, r.taraWords) || !strings.Contains(consentPage, "As a quote in a journal entry") {
		t.Fatalf("Pat's page:\n%s", consentPage)
	}
	reqID := m[1]
	for who, c := range map[string]*client{"Tara": r.tara, "Fran": r.fran} {
		v := url.Values{"decision": {"agree"}, "csrf": {c.csrf}}
		if res, _ := c.do("POST", "/consent/"+reqID, v); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s agreeing to Pat's request: %d, want 404", who, res.StatusCode)
		}
	}
	if strings.Contains(r.page(t, r.tara, entryPath), r.patWords) {
		t.Fatal("Pat's words showed after others tried to agree for him")
	}

	r.post(t, r.pat, "/consent/"+reqID, url.Values{"decision": {"agree"}}, http.StatusSeeOther)
	res2, _ = r.tara.send("PUT", "/api/v1/journal/entries/"+entryID+"/sharing/supervisor", map[string]any{"shared": true}, nil)
	if res2.StatusCode != http.StatusOK {
		t.Fatalf("share with the supervisor: %d", res2.StatusCode)
	}
	sup := f.signedIn(t, accounts.RoleSupervisor)
	for who, c := range map[string]*client{"Tara": r.tara, "her supervisor": sup} {
		if p := r.page(t, c, entryPath); !strings.Contains(p, r.patWords) || strings.Contains(p, html.EscapeString(consent.WaitingText)) {
			t.Errorf("once Pat agreed, %s reads:\n%s", who, p)
		}
	}
	// The quote's line copied into another entry, or into the editor's preview, shows none
	// of the words.
	res2, body = r.tara.send("GET", "/api/v1/journal/entries/"+entryID, nil, nil)
	line := quoteLinePattern.FindString(string(decodeAs[jEntry](t, body).Body))
	copied := createEntry(t, r.pat, "Copied", "Mine.\n\n"+line+"\n")
	if p := r.page(t, r.pat, "/journal/"+copied.ID); strings.Contains(p, r.patWords) || strings.Contains(p, r.taraWords) || !strings.Contains(p, "belongs to another entry") {
		t.Errorf("the quote line copied into Pat's entry shows:\n%s", p)
	}
	res2, body = r.tara.do("POST", "/journal/preview", url.Values{"body": {"Before.\n\n" + line + "\n"}, "csrf": {r.tara.csrf}})
	if res2.StatusCode != http.StatusOK || strings.Contains(string(body), r.patWords) || !strings.Contains(string(body), "A quote from a dialogue room goes here") {
		t.Errorf("the preview of a quote line: %d %s", res2.StatusCode, body)
	}
	if p := r.page(t, r.tara, "/consent"); !strings.Contains(p, `data-speaker="`+r.patID+`">Pat Peer: <strong class="nhsuk-tag nhsuk-tag--green">Agreed</strong>`) {
		t.Errorf("Tara's page does not show Pat's agreement:\n%s", p)
	}

	r.post(t, r.pat, "/consent/"+reqID, url.Values{"decision": {"withdraw"}}, http.StatusSeeOther)
	for who, c := range map[string]*client{"Tara": r.tara, "her supervisor": sup} {
		p := r.page(t, c, entryPath)
		if !strings.Contains(p, consent.RemovedNote) || strings.Contains(p, r.patWords) || strings.Contains(p, r.taraWords) {
			t.Errorf("once Pat withdrew, %s reads:\n%s", who, p)
		}
		res, body := c.send("GET", "/api/v1/journal/entries/"+entryID+"/quotes", nil, nil)
		wantStatus(t, "the entry's quotes", res, body, http.StatusOK)
		if strings.Contains(string(body), r.patWords) || !strings.Contains(string(body), `"removed":true`) {
			t.Errorf("once Pat withdrew, %s's API read of the quotes: %s", who, body)
		}
	}
	if p := r.page(t, r.tara, entryPath+"/revisions/2"); !strings.Contains(p, consent.RemovedNote) || strings.Contains(p, r.patWords) {
		t.Errorf("the revision with the quote shows:\n%s", p)
	}

	page, err := f.audit.List(context.Background(), audit.Filter{SubjectID: r.patID, Action: audit.ConsentDecided})
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, e := range page.Entries {
		if e.ActorID == r.patID && len(e.Changes) == 1 {
			trail = append(trail, e.Changes[0].Before+">"+e.Changes[0].After)
		}
	}
	if strings.Join(trail, " ") != "agreed>withdrawn waiting>agreed" {
		t.Errorf("the audit log holds %v of Pat's decisions, want the withdrawal and the agreement", trail)
	}
}

// The API mirrors the pages: a quote into a new entry is idempotent by its key; the speaker
// reads their turns and answers; bad input names its field; nobody decides for another.
func TestQuoteThroughTheAPI(t *testing.T) {
	f := newFixture(t)
	r := newQuoteRoom(t, f)
	quote := func(c *client, body map[string]any, key string) (*http.Response, []byte) {
		return c.send("POST", "/api/v1/rooms/"+r.cohort+"/cohort/quotes", body, idem(key))
	}
	type quoted struct {
		Quote struct {
			ID   string   `json:"id"`
			Seqs []uint64 `json:"seqs"`
		} `json:"quote"`
		Line    string `json:"line"`
		EntryID string `json:"entryId"`
		Version int    `json:"version"`
	}
	res, body := quote(r.tara, map[string]any{"turns": []uint64{2}}, "api-quote-1")
	wantStatus(t, "quote", res, body, http.StatusCreated)
	q := decodeAs[quoted](t, body)
	res, body = quote(r.tara, map[string]any{"turns": []uint64{2}}, "api-quote-1")
	wantStatus(t, "quote again", res, body, http.StatusCreated)
	if again := decodeAs[quoted](t, body); again.EntryID != q.EntryID || again.Quote.ID != q.Quote.ID || again.Version != q.Version {
		t.Fatalf("the retry answered %+v, want %+v", again, q)
	}
	for _, bad := range []struct {
		body  map[string]any
		field string
	}{{map[string]any{"turns": []uint64{}}, "turns"}, {map[string]any{"turns": []uint64{99}}, "turns"},
		{map[string]any{"turns": []uint64{2}, "entryId": "je-not-an-entry"}, "entry"}} {
		res, body := quote(r.tara, bad.body, "api-quote-bad-"+randomWord())
		if _, field := errorBody(t, body); res.StatusCode != http.StatusBadRequest || field != bad.field {
			t.Errorf("quote %v: %d %s, want 400 naming %s", bad.body, res.StatusCode, body, bad.field)
		}
	}
	// Quoting into Pat's own entry is refused as if it were not there.
	patEntry := createEntry(t, r.pat, "Pats", "His own.")
	if res, body := quote(r.tara, map[string]any{"turns": []uint64{2}, "entryId": patEntry.ID}, "api-quote-pat"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("quoting into Pat's entry: %d %s", res.StatusCode, body)
	}

	res, body = r.pat.send("GET", "/api/v1/consent", nil, nil)
	wantStatus(t, "Pat's requests", res, body, http.StatusOK)
	var mine struct {
		Asked []struct {
			ID        string `json:"id"`
			Decision  string `json:"decision"`
			OwnerName string `json:"ownerName"`
			Turns     []struct {
				Seq  uint64 `json:"seq"`
				Text string `json:"text"`
			} `json:"turns"`
		} `json:"asked"`
	}
	json.Unmarshal(body, &mine)
	if len(mine.Asked) != 1 || mine.Asked[0].OwnerName != "Tara Trainee" || len(mine.Asked[0].Turns) != 1 || mine.Asked[0].Turns[0].Text != r.patWords {
		t.Fatalf("Pat's requests: %s", body)
	}
	id := mine.Asked[0].ID
	decide := func(c *client, decision string) (*http.Response, []byte) {
		return c.send("PUT", "/api/v1/consent/requests/"+id, map[string]any{"decision": decision}, nil)
	}
	if res, body := decide(r.tara, "agreed"); res.StatusCode != http.StatusNotFound {
		t.Errorf("Tara deciding Pat's request: %d %s", res.StatusCode, body)
	}
	if res, body := decide(r.tara, "maybe"); res.StatusCode != http.StatusNotFound {
		t.Errorf("Tara sending a bad decision for Pat's request: %d %s, want 404 (it is not hers)", res.StatusCode, body)
	}
	if res, body := decide(r.pat, "maybe"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a decision that is not one: %d %s", res.StatusCode, body)
	}
	if res, body := decide(r.pat, "withdrawn"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("withdrawing what was never agreed: %d %s", res.StatusCode, body)
	}
	res, body = decide(r.pat, "refused")
	wantStatus(t, "refuse", res, body, http.StatusOK)
	if !strings.Contains(string(body), `"decision":"refused"`) {
		t.Errorf("the refusal answered %s", body)
	}
	res, body = r.tara.send("GET", "/api/v1/consent", nil, nil)
	wantStatus(t, "Tara's requests", res, body, http.StatusOK)
	if !strings.Contains(string(body), `"decision":"refused"`) || strings.Contains(string(body), r.patWords) || strings.Contains(string(body), `"trail"`) {
		t.Errorf("Tara's view of her quote: %s", body)
	}
	res, body = r.tara.send("GET", "/api/v1/journal/entries/"+q.EntryID+"/quotes", nil, nil)
	wantStatus(t, "the entry's quotes", res, body, http.StatusOK)
	if !strings.Contains(string(body), `"removed":true`) || strings.Contains(string(body), r.patWords) {
		t.Errorf("the refused quote reads %s", body)
	}
	if res, _ := r.pat.send("GET", "/api/v1/journal/entries/"+q.EntryID+"/quotes", nil, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("Pat reading Tara's private entry's quotes: %d, want 404", res.StatusCode)
	}
}

// The speaker asked is told by email, which names who asks and nothing they said.
func TestConsentEmail(t *testing.T) {
	f := newFixture(t, withMailServer())
	r := newQuoteRoom(t, f)
	res, body := r.tara.send("POST", "/api/v1/rooms/"+r.cohort+"/cohort/quotes", map[string]any{"turns": []uint64{2, 3}}, idem("mail-quote"))
	wantStatus(t, "quote", res, body, http.StatusCreated)
	m := f.mailTo(t, "peer@polyphony.example", "Tara Trainee asks to use your words")
	if strings.Contains(m.Text, r.patWords) || !strings.Contains(m.Text, "/consent#request-cr") {
		t.Errorf("the email to Pat:\n%s", m.Text)
	}
	f.mailTo(t, "facilitator@polyphony.example", "Tara Trainee asks to use your words")
	f.settle()
	if got := f.mailsTo(t, "trainee@polyphony.example"); len(got) != 0 {
		t.Errorf("Tara, quoting, was emailed %v", got)
	}
}
