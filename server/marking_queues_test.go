package server_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"polyphony/assessment/marking"
)

// An administrator sees what waits for each assessor to mark, and any one assessor's queue
// as that assessor sees it; an assessor sees only their own, and nobody's queue is found
// for an id that is not an assessor's.
func TestAdministratorsSeeEachAssessorsQueue(t *testing.T) {
	f := newFixture(t)
	mc := f.markingCast(t)
	p := mc.createPiece(t, mc.admin, pieceInput("Reflective account", marking.SevenPrinciplesRubricID, marking.SchemeSingle, true))
	mc.submitEntry(t, mc.trainee, p.ID, "What the network said")
	res, body := mc.admin.send("PUT", "/api/v1/pieces/"+p.ID+"/submissions/"+mc.traineeID+"/markers", map[string]any{"markers": []string{mc.assessorIDs[1]}}, nil)
	wantStatus(t, "allocate", res, body, http.StatusOK)

	// The API: the administrator reads Assessor 2's queue; Assessor 2 reads it as their own.
	res, body = mc.admin.do("GET", "/api/v1/assessors/"+mc.assessorIDs[1]+"/marking", nil)
	wantStatus(t, "Assessor 2's queue", res, body, http.StatusOK)
	theirs := decodeAs[[]marking.QueueItem](t, body)
	res, body = mc.assessors[1].do("GET", "/api/v1/me/marking", nil)
	wantStatus(t, "Assessor 2's own queue", res, body, http.StatusOK)
	own := decodeAs[[]marking.QueueItem](t, body)
	if len(theirs) != 1 || len(own) != 1 || theirs[0].Ref != own[0].Ref || theirs[0].CandidateNumber != "C0001" || theirs[0].TraineeID != "" {
		t.Errorf("the administrator's view of the queue %+v, the assessor's own %+v", theirs, own)
	}
	res, body = mc.admin.do("GET", "/api/v1/assessors/"+mc.assessorIDs[0]+"/marking", nil)
	wantStatus(t, "the demo assessor's queue", res, body, http.StatusOK)
	if strings.TrimSpace(string(body)) != "[]" {
		t.Errorf("the demo assessor has nothing allocated, but the queue is %s", body)
	}
	for _, tc := range []struct {
		what string
		c    *client
		id   string
	}{
		{"another assessor's queue, as an assessor", mc.assessors[0], mc.assessorIDs[1]},
		{"a queue, as a trainee", mc.trainee, mc.assessorIDs[1]},
		{"a trainee's queue", mc.admin, mc.traineeID},
		{"no one's queue", mc.admin, "no-such-person"},
	} {
		res, body := tc.c.do("GET", "/api/v1/assessors/"+tc.id+"/marking", nil)
		wantStatus(t, tc.what, res, body, http.StatusNotFound)
	}

	// The pages: every assessor's load on the administrator's page, each linking to the queue.
	_, page := pageGet(mc.admin, "/marking")
	row := regexp.MustCompile(`<a href="/marking\?marker=` + mc.assessorIDs[1] + `#queue-heading">Assessor 2</a></td>\s*<td[^>]*><span[^>]*>Waiting </span>(\d+)</td>`).FindStringSubmatch(page)
	if row == nil || row[1] != "1" {
		t.Fatalf("the administrator's page does not show one submission waiting for Assessor 2")
	}
	if !strings.Contains(page, `?marker=`+mc.assessorIDs[2]+`#queue-heading">Assessor 3</a>`) {
		t.Errorf("the administrator's page leaves out Assessor 3, who has nothing waiting")
	}
	res, page = pageGet(mc.admin, "/marking?marker="+mc.assessorIDs[1])
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "Waiting for Assessor 2 to mark") || !strings.Contains(page, "C0001") {
		t.Errorf("Assessor 2's queue page: %d", res.StatusCode)
	}
	_, page = pageGet(mc.assessors[0], "/marking")
	if strings.Contains(page, `id="assessors"`) {
		t.Errorf("an assessor sees every assessor's marking")
	}
	for _, tc := range []struct {
		what string
		c    *client
		id   string
	}{
		{"another assessor's queue page, as an assessor", mc.assessors[0], mc.assessorIDs[1]},
		{"a trainee's queue page", mc.admin, mc.traineeID},
	} {
		res, _ := pageGet(tc.c, "/marking?marker="+tc.id)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", tc.what, res.StatusCode)
		}
	}
}

// The home page says what assessed work asks of each person: a trainee, each piece not yet
// submitted and its deadline (and that a late one can still be submitted); an assessor, how
// much waits for them to mark and when the soonest is due.
func TestHomeSaysWhatAssessedWorkAsks(t *testing.T) {
	f := newFixture(t)
	mc := f.markingCast(t)
	due := mc.createPiece(t, mc.admin, pieceInput("Reflective account", marking.SevenPrinciplesRubricID, marking.SchemeSingle, true))
	late := pieceInput("Rated dialogue", marking.SevenPrinciplesRubricID, marking.SchemeSingle, true)
	late.Due = time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Second)
	overdue := mc.createPiece(t, mc.admin, late)

	_, home := pageGet(mc.trainee, "/")
	for _, want := range []string{"Assessed work: “Reflective account” is due", `href="/marking/pieces/` + due.ID + `"`,
		"Assessed work: “Rated dialogue” was due", "you can still submit it, and it is marked late", `href="/marking/pieces/` + overdue.ID + `"`} {
		if !strings.Contains(home, want) {
			t.Errorf("the trainee's home page lacks %q", want)
		}
	}
	_, home = pageGet(mc.assessors[0], "/")
	if !strings.Contains(home, "Nothing waits for you to mark.") {
		t.Errorf("the assessor's home page does not say nothing waits to be marked")
	}

	mc.submitEntry(t, mc.trainee, due.ID, "What the network said")
	_, home = pageGet(mc.trainee, "/")
	if strings.Contains(home, "“Reflective account” is due") || !strings.Contains(home, "“Rated dialogue” was due") {
		t.Errorf("after submitting one piece, the trainee's home page should ask only for the other")
	}
	res, body := mc.admin.send("PUT", "/api/v1/pieces/"+due.ID+"/submissions/"+mc.traineeID+"/markers", map[string]any{"markers": []string{mc.assessorIDs[0]}}, nil)
	wantStatus(t, "allocate", res, body, http.StatusOK)
	_, home = pageGet(mc.assessors[0], "/")
	if !strings.Contains(home, "One submission waits for you to mark, due ") || !strings.Contains(home, `href="/marking#queue-heading"`) {
		t.Errorf("the assessor's home page does not point to the submission waiting")
	}
	_, home = pageGet(mc.peer, "/")
	if !strings.Contains(home, "“Reflective account” is due") {
		t.Errorf("the peer, who has not submitted, is not asked for the piece")
	}
}
