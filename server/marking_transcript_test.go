package server_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"polyphony/assessment/marking"
	"polyphony/realtime"
	"polyphony/server"
)

// roomConsent stands in for the consent of speakers (assessment/consent, built alongside):
// the one seam of the marking store that these tests give a small working implementation
// of their own, which withholds the turns it is told to, so that what markers see of a
// transcript can be checked through the pages.
type roomConsent struct {
	mu       sync.Mutex
	asked    []string // "subject room"
	withheld map[uint64]bool
}

func (c *roomConsent) Ask(_ context.Context, subjectID, _, _, roomID, _ string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, subjectID+" "+roomID)
	return nil
}

func (c *roomConsent) Withheld(context.Context, string) (map[uint64]bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[uint64]bool{}
	for k, v := range c.withheld {
		out[k] = v
	}
	return out, nil
}

func (c *roomConsent) Close(context.Context, string) error  { return nil }
func (c *roomConsent) Cancel(context.Context, string) error { return nil }

// withConsent builds the marking store with the consent given.
func withConsent(consent marking.Consent) fixtureOption {
	return func(t testing.TB, f *fixture, deps *server.Deps) {
		t.Helper()
		st, err := marking.NewStore(context.Background(), f.db, marking.Options{Supervises: server.MarkingSupervises(f.courses), Consent: consent})
		if err != nil {
			t.Fatal(err)
		}
		f.marking, deps.Marking = st, st
	}
}

// TestMarkingTranscript submits a room's transcript: the marker reads it with the speakers
// numbered, not named (the piece is anonymous), a turn whose speaker has not agreed
// withheld, and may cite the others but not that one.
func TestMarkingTranscript(t *testing.T) {
	consent := &roomConsent{withheld: map[uint64]bool{}}
	f := newFixture(t, withConsent(consent))
	mc := f.markingCast(t)
	room := "/rooms/" + mc.cohort + "/cohort"
	_, _, traineeConn := openWithTrainee(t, f, room)
	say := func(conn *websocket.Conn, text, id string) uint64 {
		t.Helper()
		if err := conn.WriteJSON(map[string]string{"type": "say", "text": text, "id": id}); err != nil {
			t.Fatal(err)
		}
		return uint64(next(t, conn, "ack")["ackSeq"].(float64))
	}
	mine := say(traineeConn, "My own words about the meeting", "t1")
	peerConn, _, err := mc.peer.dialRoom(room+"/ws", "")
	if err != nil {
		t.Fatal(err)
	}
	defer peerConn.Close()
	next(t, peerConn, "welcome")
	theirs := say(peerConn, "Words the peer has not agreed to", "p1")
	consent.withheld[theirs] = true

	in := pieceInput("Rated dialogue", marking.KeyElementsRubricID, marking.SchemeDoubleBlind, true)
	in.Accepts = marking.Accepts{Transcript: true}
	p := mc.createPiece(t, mc.admin, in)
	res, body := mc.trainee.send("PUT", "/api/v1/pieces/"+p.ID+"/mine", map[string]any{"roomId": "cohort"}, nil)
	wantStatus(t, "submit the transcript", res, body, http.StatusOK)
	if len(consent.asked) != 1 || !strings.HasSuffix(consent.asked[0], " cohort") {
		t.Errorf("the speakers were asked %v, want once for the cohort's room", consent.asked)
	}
	res, body = mc.admin.send("POST", "/api/v1/pieces/"+p.ID+"/allocation", map[string]any{"assessors": []string{mc.assessorIDs[0], mc.assessorIDs[1]}}, nil)
	wantStatus(t, "allocate", res, body, http.StatusOK)

	_, page := pageGet(mc.assessors[0], "/marking/pieces/"+p.ID+"/submissions/C0001")
	for _, want := range []string{"My own words about the meeting", "[turn withheld by the speaker]", "Speaker 1", "Speaker 2", fmt.Sprintf(`id="turn-%d"`, mine), "Turns that show it"} {
		if !strings.Contains(page, want) {
			t.Errorf("the marking page lacks %q", want)
		}
	}
	for _, never := range []string{"Words the peer has not agreed to", mc.traineeName, "Pat Peer"} {
		if strings.Contains(page, never) {
			t.Errorf("the marking page shows %q", never)
		}
	}
	base := "/api/v1/pieces/" + p.ID + "/submissions/C0001/marks/mine"
	draft := keyElementsDraft(t, f, []int{2, 1, 3, 2, 0, 1, 2, 2, 1, 3, 0, 2})
	draft.Levels[2].Turns = []uint64{theirs}
	res, body = mc.assessors[0].send("PUT", base, draft, ifMatchVersion(0))
	wantStatus(t, "citing a withheld turn", res, body, http.StatusBadRequest)
	if !strings.Contains(string(body), "withheld") || !strings.Contains(string(body), `"field":"levels[2].turns"`) {
		t.Errorf("the refusal: %s", body)
	}
	draft.Levels[2].Turns = []uint64{mine}
	res, body = mc.assessors[0].send("PUT", base, draft, ifMatchVersion(0))
	wantStatus(t, "citing the trainee's turn", res, body, http.StatusOK)
	_, page = pageGet(mc.assessors[0], "/marking/pieces/"+p.ID+"/submissions/C0001")
	if !strings.Contains(page, fmt.Sprintf(`value="%d"`, mine)) {
		t.Errorf("the cited turn is not in the form")
	}
}

// TestMarkingLongTranscriptInParts: a transcript longer than the marking page shows at once
// is read in parts, each linked to the next and the one before, with every turn on exactly
// one part and each speaker numbered the same on every part.
func TestMarkingLongTranscriptInParts(t *testing.T) {
	consent := &roomConsent{withheld: map[uint64]bool{}}
	f := newFixture(t, withConsent(consent))
	mc := f.markingCast(t)
	ctx := context.Background()
	at := time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC)
	const total = 4500
	var events []realtime.Event
	for seq := uint64(1); seq <= total; seq++ {
		e := realtime.Event{Seq: seq, Type: realtime.EventSay, At: at.Add(time.Duration(seq) * time.Second), UserID: mc.peerID, Name: "Pat Peer", Role: realtime.Trainee, Text: fmt.Sprintf("Pat's turn %d.", seq)}
		if seq%2 == 0 {
			e.UserID, e.Name, e.Text = mc.traineeID, "Tara Trainee", fmt.Sprintf("Tara's turn %d.", seq)
		}
		events = append(events, e)
	}
	if err := f.transcripts.AppendHistory(ctx, mc.cohort+"/cohort", events); err != nil {
		t.Fatal(err)
	}
	in := pieceInput("A long dialogue", marking.KeyElementsRubricID, marking.SchemeSingle, true)
	in.Accepts = marking.Accepts{Transcript: true}
	p := mc.createPiece(t, mc.admin, in)
	res, body := mc.trainee.send("PUT", "/api/v1/pieces/"+p.ID+"/mine", map[string]any{"roomId": "cohort"}, nil)
	wantStatus(t, "submit the transcript", res, body, http.StatusOK)
	res, body = mc.admin.send("POST", "/api/v1/pieces/"+p.ID+"/allocation", map[string]any{"assessors": []string{mc.assessorIDs[0]}}, nil)
	wantStatus(t, "allocate", res, body, http.StatusOK)

	path := "/marking/pieces/" + p.ID + "/submissions/C0001"
	turnRE := regexp.MustCompile(`id="turn-(\d+)"`)
	speakerOf := func(page string, seq int) string {
		m := regexp.MustCompile(fmt.Sprintf(`Turn %d</span>, (Speaker \d+)`, seq)).FindStringSubmatch(page)
		if m == nil {
			return ""
		}
		return m[1]
	}
	seen := map[int]int{}
	for _, part := range []struct {
		query       string
		first, last int
		earlier     string // the link to the part before, "" for none
		later       string
	}{
		{"", 1, 2000, "", path + "?after=2000#transcript-heading"},
		{"?after=2000", 2001, 4000, path + "#transcript-heading", path + "?after=4000#transcript-heading"},
		{"?after=4000", 4001, total, path + "?after=2000#transcript-heading", ""},
	} {
		_, page := pageGet(mc.assessors[0], path+part.query)
		turns := turnRE.FindAllStringSubmatch(page, -1)
		if len(turns) == 0 {
			t.Fatalf("part %q shows no turns", part.query)
		}
		first, _ := strconv.Atoi(turns[0][1])
		last, _ := strconv.Atoi(turns[len(turns)-1][1])
		if first != part.first || last != part.last || len(turns) != part.last-part.first+1 {
			t.Errorf("part %q shows turns %d to %d (%d of them), want %d to %d", part.query, first, last, len(turns), part.first, part.last)
		}
		for _, m := range turns {
			n, _ := strconv.Atoi(m[1])
			seen[n]++
		}
		for _, link := range []struct{ want, label string }{{part.earlier, "Earlier turns"}, {part.later, "Later turns"}} {
			has := strings.Contains(page, `href="`+strings.ReplaceAll(link.want, "&", "&amp;")+`"`)
			switch {
			case link.want != "" && !has:
				t.Errorf("part %q has no link %q to %s", part.query, link.label, link.want)
			case link.want == "" && strings.Contains(page, link.label):
				t.Errorf("part %q links %q, but there is no such part", part.query, link.label)
			}
		}
		// Pat spoke first, so Pat is Speaker 1 on every part; Tara, the candidate, Speaker 2.
		if got := speakerOf(page, part.first); got != "Speaker 1" {
			t.Errorf("part %q: turn %d (Pat's) is by %q, want Speaker 1", part.query, part.first, got)
		}
		if got := speakerOf(page, part.first+1); got != "Speaker 2" {
			t.Errorf("part %q: turn %d (Tara's) is by %q, want Speaker 2", part.query, part.first+1, got)
		}
		if strings.Contains(page, "Tara Trainee") || strings.Contains(page, "Pat Peer") {
			t.Errorf("part %q names a speaker under anonymous marking", part.query)
		}
	}
	for n := 1; n <= total; n++ {
		if seen[n] != 1 {
			t.Fatalf("turn %d is shown on %d parts, want 1", n, seen[n])
		}
	}
	res, body = mc.assessors[0].do("GET", path+"?after=soon", nil)
	wantStatus(t, "a part that is not a turn's number", res, body, http.StatusBadRequest)
}
