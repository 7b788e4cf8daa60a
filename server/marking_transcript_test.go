package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"polyphony/assessment/marking"
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
