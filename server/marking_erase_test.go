package server_test

import (
	"net/http"
	"strings"
	"testing"

	"polyphony/assessment/marking"
	"polyphony/internal/accounts"
)

// Erasing a trainee's account erases their assessed work with it: their submission, with
// the file they submitted, leaves the piece's overview and the marker's queue, while
// another trainee's submission of the same piece stays as it was.
func TestEraseRemovesAssessedWork(t *testing.T) {
	f := newFixture(t)
	mc := f.markingCast(t)
	in := pieceInput("Reflective account", marking.SevenPrinciplesRubricID, marking.SchemeSingle, false)
	in.Accepts = marking.Accepts{Entries: true, Files: true}
	p := mc.createPiece(t, mc.admin, in)
	entryID, key := pictureForAssessors(t, mc.trainee, "The room we met in", "Tara's room.png")
	res, body := mc.trainee.send("PUT", "/api/v1/pieces/"+p.ID+"/mine", map[string]any{"entries": []string{entryID},
		"files": []map[string]string{{"entryId": entryID, "key": key}}, "filesAgreed": true}, nil)
	wantStatus(t, "the trainee submits", res, body, http.StatusOK)
	mc.submitEntry(t, mc.peer, p.ID, "The peer account")
	res, body = mc.admin.send("POST", "/api/v1/pieces/"+p.ID+"/allocation", map[string]any{"assessors": []string{mc.assessorIDs[1]}}, nil)
	wantStatus(t, "allocate", res, body, http.StatusOK)
	base := "/api/v1/pieces/" + p.ID + "/submissions/" + mc.traineeID
	res, body = mc.assessors[1].send("PUT", base+"/marks/mine", allLevels(t, f, marking.SevenPrinciplesRubricID, 1), ifMatchVersion(0))
	wantStatus(t, "a draft mark", res, body, http.StatusOK)

	email := f.byRole[accounts.RoleTrainee].Email
	res, body = mc.admin.send("POST", "/api/v1/users/"+mc.traineeID+"/erase", map[string]any{"confirm": email}, nil)
	wantStatus(t, "erase", res, body, http.StatusOK)

	res, body = mc.admin.do("GET", base, nil)
	wantStatus(t, "the erased trainee's submission", res, body, http.StatusNotFound)
	res, body = mc.admin.do("GET", "/api/v1/pieces/"+p.ID+"/submissions", nil)
	wantStatus(t, "the overview", res, body, http.StatusOK)
	if strings.Contains(string(body), mc.traineeID) || !strings.Contains(string(body), mc.peerID) {
		t.Errorf("the overview after erasure should list the peer and not the erased trainee: %s", body)
	}
	res, body = mc.assessors[1].do("GET", "/api/v1/me/marking", nil)
	wantStatus(t, "the marker's queue", res, body, http.StatusOK)
	q := decodeAs[[]marking.QueueItem](t, body)
	if len(q) != 1 || q[0].TraineeID != mc.peerID {
		t.Errorf("the marker's queue after erasure: %s", body)
	}
	res, body = mc.assessors[1].do("GET", base+"/files/1", nil)
	wantStatus(t, "the erased trainee's file", res, body, http.StatusNotFound)
	if _, err := f.media.Stat(t.Context(), key); err == nil {
		t.Errorf("the erased trainee's submitted picture is still stored")
	}
}
