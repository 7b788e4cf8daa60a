package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"polyphony/assessment/marking"
)

// markingByID is the assessed work TestMainRequestsReadByIDOnly follows: set up before the
// log records, then every main request of the marking, as each person makes it.
type markingByID struct {
	f  *fixture
	mc markingCast
}

func markingByIDSetup(t *testing.T, f *fixture) markingByID {
	t.Helper()
	return markingByID{f: f, mc: f.markingCast(t)}
}

func (m markingByID) requests(t *testing.T) {
	t.Helper()
	mc, f := m.mc, m.f
	p := mc.createPiece(t, mc.admin, pieceInput("By id", marking.KeyElementsRubricID, marking.SchemeDoubleBlind, true))
	mc.submitEntry(t, mc.trainee, p.ID, "Read by id for marking")
	piecePath := "/marking/pieces/" + p.ID
	for _, c := range []*client{mc.trainee, mc.admin} {
		for _, path := range []string{"/marking", piecePath} {
			res, body := c.do("GET", path, nil)
			wantStatus(t, path, res, body, http.StatusOK)
		}
	}
	postForm(t, mc.admin, piecePath+"/allocation", url.Values{"csrf": {mc.admin.csrf}, "assessors": {mc.assessorIDs[0], mc.assessorIDs[1]}}, http.StatusSeeOther)
	base := "/api/v1/pieces/" + p.ID + "/submissions/C0001"
	for i, levels := range [][]int{{2, 1, 3, 2, 0, 1, 2, 2, 1, 3, 0, 2}, {2, 2, 3, 1, 0, 1, 2, 3, 1, 2, 1, 2}} {
		c := mc.assessors[i]
		res, body := c.do("GET", "/marking", nil)
		wantStatus(t, "the queue", res, body, http.StatusOK)
		res, body = c.do("GET", piecePath+"/submissions/C0001", nil)
		wantStatus(t, "the marking page", res, body, http.StatusOK)
		res, body = c.send("PUT", base+"/marks/mine", keyElementsDraft(t, f, levels), ifMatchVersion(0))
		wantStatus(t, "autosave a mark", res, body, http.StatusOK)
		res, body = c.send("POST", base+"/marks/mine/submit", nil, ifMatchVersion(1))
		wantStatus(t, "submit a mark", res, body, http.StatusOK)
	}
	for _, path := range []string{piecePath + "/submissions/C0001", "/marking/cohorts/" + mc.cohort + "/agreement"} {
		res, body := mc.assessors[2].do("GET", path, nil)
		wantStatus(t, path, res, body, http.StatusOK)
	}
	// A file: submitted from an entry submitted to the assessors, opened by its marker.
	in := pieceInput("By id, a file", marking.SevenPrinciplesRubricID, marking.SchemeSingle, true)
	in.Accepts = marking.Accepts{Files: true}
	pf := mc.createPiece(t, mc.admin, in)
	entryID, key := pictureForAssessors(t, mc.trainee, "A picture for marking", "room.png")
	res, body := mc.trainee.do("GET", "/marking/pieces/"+pf.ID, nil)
	wantStatus(t, "the submit page with files", res, body, http.StatusOK)
	res, body = mc.trainee.send("PUT", "/api/v1/pieces/"+pf.ID+"/mine", map[string]any{"files": []map[string]string{{"entryId": entryID, "key": key}}, "filesAgreed": true}, nil)
	wantStatus(t, "submit a file", res, body, http.StatusOK)
	res, body = mc.admin.send("PUT", "/api/v1/pieces/"+pf.ID+"/submissions/"+mc.traineeID+"/markers", map[string]any{"markers": []string{mc.assessorIDs[0]}}, nil)
	wantStatus(t, "allocate the file", res, body, http.StatusOK)
	res, body = mc.assessors[0].do("GET", "/api/v1/pieces/"+pf.ID+"/submissions/C0001/files/1", nil)
	wantStatus(t, "open the submitted file", res, body, http.StatusOK)
	for _, path := range []string{"/marking", "/marking?marker=" + mc.assessorIDs[0]} {
		res, body = mc.admin.do("GET", path, nil)
		wantStatus(t, "the administrator's "+path, res, body, http.StatusOK)
	}

	// 20 and 21, within the tolerance: agreed without moderation, then released.
	postForm(t, mc.admin, piecePath+"/release", url.Values{"csrf": {mc.admin.csrf}}, http.StatusSeeOther)
	res, body = mc.trainee.do("GET", piecePath, nil)
	wantStatus(t, "the trainee's result", res, body, http.StatusOK)
	if !strings.Contains(string(body), "Your result") {
		t.Errorf("the trainee's page shows no result after release")
	}
}
