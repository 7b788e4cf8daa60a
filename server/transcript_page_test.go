package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"polyphony/internal/accounts"
	"polyphony/internal/dbtest"
	"polyphony/internal/demo"
	"polyphony/realtime"
)

// The transcript page lists every turn with its speaker and time, escapes what people wrote,
// marks a facilitator's turns, shows a withdrawn turn without its words, and offers the
// withdraw form on the viewer's own turns only.
func TestTranscriptPageListsTurns(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cohort, err := f.courses.CohortByName(ctx, demo.CohortName)
	if err != nil {
		t.Fatal(err)
	}
	c := f.signedIn(t, accounts.RoleTrainee)
	var me struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if _, body := c.do("GET", "/api/v1/me", nil); json.Unmarshal(body, &me) != nil || me.User.ID == "" {
		t.Fatalf("me: %s", body)
	}
	at := time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC)
	events := []realtime.Event{{Seq: 1, Type: realtime.EventJoined, At: at, UserID: me.User.ID, Name: "Tara", Role: realtime.Trainee}}
	for i := 2; i <= 6; i++ {
		e := realtime.Event{Seq: uint64(i), Type: realtime.EventSay, At: at.Add(time.Duration(i) * time.Minute),
			UserID: "someone", Name: `Sam "O'Neil" <b>`, Role: realtime.Trainee, Text: fmt.Sprintf(`turn %d <script>x</script> & 'q'`, i)}
		if i%2 == 0 {
			e.UserID, e.Name = me.User.ID, "Tara"
		}
		if i == 5 {
			e.Role = realtime.Facilitator
		}
		events = append(events, e)
	}
	hub := cohort.ID + "/cohort"
	if err := f.transcripts.AppendHistory(ctx, hub, events); err != nil {
		t.Fatal(err)
	}
	if err := f.transcripts.Withdraw(ctx, hub, 4, me.User.ID); err != nil {
		t.Fatal(err)
	}
	res, body := c.do("GET", "/rooms/"+cohort.ID+"/cohort/transcript", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("transcript page: %d %s", res.StatusCode, body)
	}
	page := string(body)
	items := regexp.MustCompile(`(?s)<li class="transcript__turn" id="turn-(\d+)" data-seq="(\d+)">(.*?)</li>`).FindAllStringSubmatch(page, -1)
	if len(items) != 5 {
		t.Fatalf("%d turns listed, want 5:\n%s", len(items), page)
	}
	for i, it := range items {
		seq := fmt.Sprint(i + 2)
		li := it[3]
		if it[1] != seq || it[2] != seq {
			t.Errorf("item %d is turn %s/%s, want %s", i, it[1], it[2], seq)
		}
		if want := `datetime="` + at.Add(time.Duration(i+2)*time.Minute).Format(time.RFC3339) + `"`; !strings.Contains(li, want) {
			t.Errorf("turn %s: no %s in %s", seq, want, li)
		}
		own := (i+2)%2 == 0
		switch {
		case seq == "4":
			if !strings.Contains(li, `<p class="transcript__withdrawn">(withdrawn by the speaker)</p>`) || strings.Contains(li, "turn 4") || strings.Contains(li, "<form") {
				t.Errorf("withdrawn turn: %s", li)
			}
		case !strings.Contains(li, `<p class="transcript__text">turn `+seq+` &lt;script&gt;x&lt;/script&gt; &amp; &#39;q&#39;</p>`):
			t.Errorf("turn %s: words missing or not escaped: %s", seq, li)
		case own != strings.Contains(li, `action="/rooms/`+cohort.ID+`/cohort/transcript/`+seq+`/withdraw"`):
			t.Errorf("turn %s (own %v): withdraw form %s", seq, own, li)
		}
		if !own && !strings.Contains(li, `<span class="transcript__who">Sam &#34;O&#39;Neil&#34; &lt;b&gt;</span>`) {
			t.Errorf("turn %s: speaker not escaped: %s", seq, li)
		}
		if (seq == "5") != strings.Contains(li, "(facilitator)") {
			t.Errorf("turn %s: facilitator mark: %s", seq, li)
		}
	}
	if strings.Contains(page, "<script>x") {
		t.Error("the page carries a turn's markup unescaped")
	}
}

// Joining a room with history, resuming, and reading its transcript as the page, as JSON and
// as Markdown read the room's records by _id alone.
func TestTranscriptRequestsReadByIDOnly(t *testing.T) {
	ctx := context.Background()
	log := dbtest.NewFilterLog("room_")
	f := newFixtureOn(t, dbtest.NewLogged(t, log))
	cohort, err := f.courses.CohortByName(ctx, demo.CohortName)
	if err != nil {
		t.Fatal(err)
	}
	hub := cohort.ID + "/cohort"
	at := time.Now().UTC().AddDate(0, 0, -7)
	var events []realtime.Event
	for i := 1; i <= 300; i++ {
		events = append(events, realtime.Event{Seq: uint64(i), Type: realtime.EventSay, At: at.Add(time.Duration(i) * time.Second),
			UserID: "someone", Name: "Sam", Role: realtime.Trainee, Text: fmt.Sprintf("turn %d", i)})
	}
	if err := f.transcripts.AppendHistory(ctx, hub, events); err != nil {
		t.Fatal(err)
	}
	if err := f.transcripts.Withdraw(ctx, hub, 7, "someone"); err != nil {
		t.Fatal(err)
	}
	c := f.signedIn(t, accounts.RoleTrainee)
	path := "/rooms/" + cohort.ID + "/cohort"

	log.Record(true)
	for _, lastSeq := range []string{"0", "250"} {
		conn, _, err := c.dialRoom(path+"/ws?lastSeq="+lastSeq, "")
		if err != nil {
			t.Fatal(err)
		}
		next(t, conn, "welcome")
		conn.Close()
	}
	for _, p := range []string{path + "/transcript", "/api/v1" + path + "/transcript", path + "/transcript.md"} {
		if res, body := c.do("GET", p, nil); res.StatusCode != http.StatusOK || !strings.Contains(string(body), "turn 300") {
			t.Errorf("%s: %d %.300s", p, res.StatusCode, body)
		}
	}
	log.Check(t, "a room request")
}

// TestTranscriptPageInParts checks that a long room's transcript is shown a part at a time:
// the first part ends with a link to the later turns, following the links shows every turn
// once and in order, and each part reads a bounded number of events.
func TestTranscriptPageInParts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cohort, err := f.courses.CohortByName(ctx, demo.CohortName)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC)
	const n = 1234
	var events []realtime.Event
	for i := 1; i <= n; i++ {
		events = append(events, realtime.Event{Seq: uint64(i), Type: realtime.EventSay, At: at.Add(time.Duration(i) * time.Second),
			UserID: "someone", Name: "Sam", Role: realtime.Trainee, Text: fmt.Sprintf("turn %d", i)})
	}
	room := "/rooms/" + cohort.ID + "/cohort"
	if err := f.transcripts.AppendHistory(ctx, cohort.ID+"/cohort", events); err != nil {
		t.Fatal(err)
	}
	c := f.signedIn(t, accounts.RoleTrainee)
	turn := regexp.MustCompile(`id="turn-(\d+)"`)
	later := regexp.MustCompile(`href="([^"]*/transcript\?after=\d+)" id="transcript-later"`)
	var seen []string
	parts := 0
	for path := room + "/transcript"; path != ""; parts++ {
		if parts > 10 {
			t.Fatal("the parts do not end")
		}
		res, body := c.do("GET", path, nil)
		wantStatus(t, path, res, body, http.StatusOK)
		got := turn.FindAllStringSubmatch(string(body), -1)
		if len(got) == 0 || len(got) > 500 {
			t.Fatalf("%s shows %d turns, want 1 to 500", path, len(got))
		}
		for _, m := range got {
			seen = append(seen, m[1])
		}
		path = ""
		if m := later.FindSubmatch(body); m != nil {
			path = strings.ReplaceAll(string(m[1]), "&amp;", "&")
		}
	}
	if parts != 3 || len(seen) != n {
		t.Fatalf("%d parts showing %d turns, want 3 parts and %d turns", parts, len(seen), n)
	}
	for i, s := range seen {
		if s != fmt.Sprint(i+1) {
			t.Fatalf("turn %d of the parts is %s, want every turn once, in order", i+1, s)
		}
	}
	res, body := c.do("GET", room+"/transcript?after=x", nil)
	if res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a part that is not a turn number: %d %s", res.StatusCode, body)
	}
}
