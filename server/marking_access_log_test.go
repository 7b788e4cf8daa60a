package server_test

import (
	"net/http"
	"strings"
	"testing"

	"polyphony/assessment/marking"
	"polyphony/internal/accounts"
)

// Under anonymous marking the trainee's record of who read their journal says that an
// assessor read the entry for marking, never which one; and the marker reads the revision
// frozen when it was submitted, not what the trainee wrote and submitted to the assessors
// afterwards.
func TestMarkingReadsTheFrozenRevisionWithoutNamingTheMarker(t *testing.T) {
	f := newFixture(t)
	mc := f.markingCast(t)
	p := mc.createPiece(t, mc.admin, pieceInput("Reflective account", marking.SevenPrinciplesRubricID, marking.SchemeDoubleBlind, true))
	sub := mc.submitEntry(t, mc.trainee, p.ID, "What the network said")
	entryID := sub.Items.Entries[0].EntryID
	res, body := mc.trainee.send("PUT", "/api/v1/journal/entries/"+entryID, map[string]any{"baseVersion": sub.Items.Entries[0].Version,
		"title": "What the network said", "body": "Written again after the piece was submitted.", "tags": []string{}}, idem("rewrite"))
	wantStatus(t, "rewrite the entry", res, body, http.StatusOK)
	for _, shared := range []bool{false, true} {
		res, body = mc.trainee.send("PUT", "/api/v1/journal/entries/"+entryID+"/sharing/assessors", map[string]any{"shared": shared}, nil)
		wantStatus(t, "share again", res, body, http.StatusOK)
	}
	res, body = mc.admin.send("POST", "/api/v1/pieces/"+p.ID+"/allocation", map[string]any{"assessors": []string{mc.assessorIDs[0], mc.assessorIDs[1]}}, nil)
	wantStatus(t, "allocate", res, body, http.StatusOK)

	_, page := pageGet(mc.assessors[0], "/marking/pieces/"+p.ID+"/submissions/C0001")
	if !strings.Contains(page, "What I noticed in the meeting.") || strings.Contains(page, "Written again") {
		t.Errorf("the marker does not read the frozen revision:\n%s", page)
	}
	_, log := pageGet(mc.trainee, "/journal/access-log")
	if !strings.Contains(log, "An assessor marking your work") {
		t.Errorf("the access log does not record the read for marking:\n%s", log)
	}
	if name := f.byRole[accounts.RoleAssessor].Name; strings.Contains(log, name) {
		t.Errorf("the access log names the marker %s under anonymous marking", name)
	}
}
