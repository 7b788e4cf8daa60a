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
