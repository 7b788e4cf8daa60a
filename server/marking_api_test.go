package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"polyphony/assessment/marking"
	"polyphony/internal/accounts"
)

// markingCast is the people of the demo cohort the marking tests use: the demo trainee and
// their peer, the demo assessor and two more assessors of the cohort, and the administrator.
type markingCast struct {
	cohort               string
	trainee, peer, admin *client
	traineeID, peerID    string
	traineeName          string
	assessors            [3]*client
	assessorIDs          [3]string
	supervisor           *client
	supervisorID         string
}

func (f *fixture) markingCast(t *testing.T) markingCast {
	t.Helper()
	ctx := context.Background()
	jc := f.journalCast(t)
	mc := markingCast{cohort: f.demoCohort(t).ID, trainee: jc.trainee, peer: jc.peer, admin: jc.admin, traineeID: jc.traineeID, peerID: jc.peerID,
		traineeName: f.byRole[accounts.RoleTrainee].Name, supervisor: jc.supervisor, supervisorID: jc.supervisorID}
	mc.assessors[0], mc.assessorIDs[0] = jc.assessor, f.userID(t, f.byRole[accounts.RoleAssessor].Email)
	for i := 1; i < 3; i++ {
		email, password := fmt.Sprintf("assessor%d@nhs.example", i+1), fmt.Sprintf("assessor password %d", i+1)
		u, err := f.accounts.Users.Create(ctx, accounts.NewUser{Email: email, Name: fmt.Sprintf("Assessor %d", i+1), Role: accounts.RoleAssessor, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.courses.Enrol(ctx, mc.cohort, u.ID, accounts.RoleAssessor); err != nil {
			t.Fatal(err)
		}
		mc.assessors[i], mc.assessorIDs[i] = f.signInAs(t, email, password), u.ID
	}
	return mc
}

// pieceInput is a piece due in a week, taking journal entries and marked as given.
func pieceInput(title, rubric, scheme string, anonymous bool) marking.PieceInput {
	return marking.PieceInput{Title: title, Guidance: "Write about **one** meeting.", Due: time.Now().Add(7 * 24 * time.Hour).UTC().Truncate(time.Second),
		Accepts: marking.Accepts{Entries: true}, RubricID: rubric, Scheme: scheme, Anonymous: anonymous, Tolerance: 2}
}

// createPiece sets up a piece for the cohort as c and returns it.
func (mc markingCast) createPiece(t *testing.T, c *client, in marking.PieceInput) marking.Piece {
	t.Helper()
	res, body := c.send("POST", "/api/v1/cohorts/"+mc.cohort+"/pieces", in, nil)
	wantStatus(t, "set up a piece", res, body, http.StatusCreated)
	return decodeAs[marking.Piece](t, body)
}

// submitEntry writes an entry as the trainee, submits it to the assessors, and submits it
// for the piece.
func (mc markingCast) submitEntry(t *testing.T, c *client, pieceID, title string) marking.TraineeView {
	t.Helper()
	e := createEntry(t, c, title, "What I noticed in the meeting.")
	res, body := c.send("PUT", "/api/v1/journal/entries/"+e.ID+"/sharing/assessors", map[string]any{"shared": true}, nil)
	wantStatus(t, "submit the entry to the assessors", res, body, http.StatusOK)
	res, body = c.send("PUT", "/api/v1/pieces/"+pieceID+"/mine", map[string]any{"entries": []string{e.ID}}, nil)
	wantStatus(t, "submit the piece", res, body, http.StatusOK)
	return decodeAs[marking.TraineeView](t, body)
}

// allLevels is a draft with every criterion of the rubric at the level of the given index.
func allLevels(t *testing.T, f *fixture, rubricID string, index int) marking.MarkInput {
	t.Helper()
	r, err := f.marking.LatestRubric(context.Background(), rubricID)
	if err != nil {
		t.Fatal(err)
	}
	var in marking.MarkInput
	for _, c := range r.Criteria {
		in.Levels = append(in.Levels, marking.CriterionMark{CriterionID: c.ID, LevelID: c.Levels[min(index, len(c.Levels)-1)].ID, Comment: "Seen in the account."})
	}
	in.Feedback = "Clear and honest about what was hard."
	return in
}

func ifMatchVersion(v int) map[string]string {
	return map[string]string{"If-Match": fmt.Sprintf(`"%d"`, v)}
}

func TestMarkingRubricsAndPieces(t *testing.T) {
	f := newFixture(t)
	mc := f.markingCast(t)
	res, body := mc.admin.do("GET", "/api/v1/marking/rubrics", nil)
	wantStatus(t, "rubrics", res, body, http.StatusOK)
	for _, want := range []string{marking.SevenPrinciplesRubricID, marking.KeyElementsRubricID} {
		if !strings.Contains(string(body), `"id":"`+want+`"`) {
			t.Errorf("rubrics lack the shipped %s: %.300s", want, body)
		}
	}
	res, body = mc.trainee.do("GET", "/api/v1/marking/rubrics", nil)
	wantStatus(t, "rubrics as a trainee", res, body, http.StatusNotFound)

	// Bad input names its field.
	bad := pieceInput("", marking.SevenPrinciplesRubricID, "triple", false)
	res, body = mc.assessors[0].send("POST", "/api/v1/cohorts/"+mc.cohort+"/pieces", bad, nil)
	wantStatus(t, "a piece with no title and an unknown scheme", res, body, http.StatusBadRequest)
	problems := decodeAs[struct {
		Problems []struct{ Field string } `json:"problems"`
	}](t, body).Problems
	fields := map[string]bool{}
	for _, p := range problems {
		fields[p.Field] = true
	}
	if !fields["title"] || !fields["scheme"] {
		t.Errorf("problems %s: want title and scheme named", body)
	}
	res, body = mc.trainee.send("POST", "/api/v1/cohorts/"+mc.cohort+"/pieces", pieceInput("Mine", marking.SevenPrinciplesRubricID, marking.SchemeSingle, false), nil)
	wantStatus(t, "a trainee setting up a piece", res, body, http.StatusNotFound)

	p := mc.createPiece(t, mc.assessors[0], pieceInput("Reflective account", marking.SevenPrinciplesRubricID, marking.SchemeSingle, false))
	res, body = mc.trainee.do("GET", "/api/v1/cohorts/"+mc.cohort+"/pieces", nil)
	wantStatus(t, "the cohort's pieces as a trainee", res, body, http.StatusOK)
	if ps := decodeAs[[]marking.Piece](t, body); len(ps) != 1 || ps[0].ID != p.ID {
		t.Errorf("pieces: got %s, want the one set up", body)
	}
	// An edit names its version; a stale one is 409 with the current piece.
	in := p.PieceInput
	in.Title = "Reflective account (revised)"
	res, body = mc.admin.send("PUT", "/api/v1/pieces/"+p.ID, in, ifMatchVersion(1))
	wantStatus(t, "edit", res, body, http.StatusOK)
	if res.Header.Get("ETag") != `"2"` {
		t.Errorf("ETag after the edit: got %s, want \"2\"", res.Header.Get("ETag"))
	}
	in.Title = "A stale edit"
	res, body = mc.assessors[0].send("PUT", "/api/v1/pieces/"+p.ID, in, ifMatchVersion(1))
	wantStatus(t, "a stale edit", res, body, http.StatusConflict)
	if !strings.Contains(string(body), "(revised)") {
		t.Errorf("the 409 does not carry the current piece: %s", body)
	}
}

// TestMarkingDoubleBlindAnonymous follows one submission through double-blind anonymous
// marking: what the trainee, the markers and a peer may see at each step.
func TestMarkingDoubleBlindAnonymous(t *testing.T) {
	f := newFixture(t)
	mc := f.markingCast(t)
	p := mc.createPiece(t, mc.admin, pieceInput("Key elements", marking.KeyElementsRubricID, marking.SchemeDoubleBlind, true))

	// Only an entry submitted to the assessors can be submitted, and the field is named.
	e := createEntry(t, mc.trainee, "Not yet shared", "Draft.")
	res, body := mc.trainee.send("PUT", "/api/v1/pieces/"+p.ID+"/mine", map[string]any{"entries": []string{e.ID}}, nil)
	wantStatus(t, "an entry not submitted to the assessors", res, body, http.StatusBadRequest)
	if !strings.Contains(string(body), `"field":"entries[0]"`) {
		t.Errorf("the refusal does not name entries[0]: %s", body)
	}
	res, body = mc.peer.send("PUT", "/api/v1/pieces/"+p.ID+"/mine", map[string]any{"entries": []string{e.ID}}, nil)
	wantStatus(t, "another trainee's entry", res, body, http.StatusBadRequest)

	v := mc.submitEntry(t, mc.trainee, p.ID, "My account of the meeting")
	if v.State != marking.Submitted || len(v.Items.Entries) != 1 || v.Items.Entries[0].Version != 1 {
		t.Fatalf("submitted: got %+v", v)
	}

	res, body = mc.admin.send("POST", "/api/v1/pieces/"+p.ID+"/allocation", map[string]any{"assessors": []string{mc.assessorIDs[0], mc.assessorIDs[1]}}, nil)
	wantStatus(t, "spread the marking", res, body, http.StatusOK)
	rep := decodeAs[marking.SpreadReport](t, body)
	if len(rep.Allocated) != 1 {
		t.Fatalf("allocation: got %s, want one submission allocated", body)
	}
	ref := rep.Allocated[0].Ref
	_, who, _ := strings.Cut(ref, "/")
	if !strings.HasPrefix(who, "C") || strings.Contains(ref, mc.traineeID) {
		t.Fatalf("an anonymous piece's reference %q names the trainee", ref)
	}

	// The markers' queues carry the candidate number and nothing that names the trainee.
	marker, other, moderator := mc.assessors[0], mc.assessors[1], mc.assessors[2]
	res, body = marker.do("GET", "/api/v1/me/marking", nil)
	wantStatus(t, "the queue", res, body, http.StatusOK)
	if !strings.Contains(string(body), who) || strings.Contains(string(body), mc.traineeID) || strings.Contains(string(body), mc.traineeName) {
		t.Errorf("the queue under anonymous marking: %s; want %s and neither the trainee's id nor name", body, who)
	}
	base := "/api/v1/pieces/" + p.ID + "/submissions/" + who

	// A draft saves with If-Match 0; the same base again is a conflict carrying the stored one.
	draft := allLevels(t, f, marking.KeyElementsRubricID, 2)
	res, body = marker.send("PUT", base+"/marks/mine", draft, ifMatchVersion(0))
	wantStatus(t, "first draft", res, body, http.StatusOK)
	if res.Header.Get("ETag") != `"1"` {
		t.Errorf("ETag: got %s, want \"1\"", res.Header.Get("ETag"))
	}
	stale := draft
	stale.Feedback = "Typed in another tab."
	res, body = marker.send("PUT", base+"/marks/mine", stale, ifMatchVersion(0))
	wantStatus(t, "a stale draft", res, body, http.StatusConflict)
	if got := decodeAs[struct {
		Server marking.Mark `json:"server"`
	}](t, body).Server; got.Version != 1 || got.Feedback != draft.Feedback {
		t.Errorf("the conflict carries %+v, want the stored version 1", got)
	}
	// A level that is not in the rubric is refused, naming the criterion.
	wrong := draft
	wrong.Levels = append([]marking.CriterionMark(nil), draft.Levels...)
	wrong.Levels[0].LevelID = "7"
	res, body = marker.send("PUT", base+"/marks/mine", wrong, ifMatchVersion(1))
	wantStatus(t, "a level not in the rubric", res, body, http.StatusBadRequest)
	if !strings.Contains(string(body), `"field":"levels`) {
		t.Errorf("the refusal does not name the level's field: %s", body)
	}

	// Withdrawing after marking started is refused, naming why.
	res, body = mc.trainee.send("POST", "/api/v1/pieces/"+p.ID+"/mine/withdraw", nil, nil)
	wantStatus(t, "withdraw after marking started", res, body, http.StatusBadRequest)

	// Blind: the second marker reads nothing of the first's until theirs is in; so do
	// the trainee and a peer, ever, before release.
	res, body = marker.send("POST", base+"/marks/mine/submit", nil, ifMatchVersion(1))
	wantStatus(t, "submit the first marking", res, body, http.StatusOK)
	markerA := "/marks/" + mc.assessorIDs[0]
	for name, c := range map[string]*client{"the other marker": other, "the trainee": mc.trainee, "a peer": mc.peer} {
		res, body = c.do("GET", base+markerA, nil)
		wantStatus(t, name+" reading the first mark", res, body, http.StatusNotFound)
	}
	res, body = moderator.do("GET", base+markerA, nil)
	wantStatus(t, "a third assessor (the moderator) reading the first mark", res, body, http.StatusOK)
	res, body = other.send("PUT", base+"/marks/mine", allLevels(t, f, marking.KeyElementsRubricID, 0), ifMatchVersion(0))
	wantStatus(t, "second draft", res, body, http.StatusOK)
	res, body = other.send("POST", base+"/marks/mine/submit", nil, ifMatchVersion(1))
	wantStatus(t, "submit the second marking", res, body, http.StatusOK)
	res, body = other.do("GET", base+markerA, nil)
	wantStatus(t, "the other marker, once theirs is in", res, body, http.StatusOK)

	// 24 against 0: far beyond the tolerance, so the submission waits for the moderator.
	res, body = mc.trainee.do("GET", "/api/v1/pieces/"+p.ID+"/mine", nil)
	wantStatus(t, "the trainee's view before release", res, body, http.StatusOK)
	if strings.Contains(string(body), `"result"`) || strings.Contains(string(body), "Clear and honest") {
		t.Errorf("the trainee sees marking before release: %s", body)
	}
	res, body = mc.admin.send("POST", "/api/v1/pieces/"+p.ID+"/release", map[string]any{}, nil)
	wantStatus(t, "release with nothing agreed", res, body, http.StatusOK)
	if r := decodeAs[marking.ReleaseReport](t, body); len(r.Released) != 0 || len(r.NotReady) != 1 {
		t.Errorf("release before moderation: got %s, want nothing released and one not ready", body)
	}
	res, body = marker.send("POST", base+"/moderation", map[string]any{"total": 12, "outcome": "refer", "reason": "Mine"}, nil)
	wantStatus(t, "a marker moderating their own submission", res, body, http.StatusForbidden)
	res, body = moderator.send("POST", base+"/moderation", map[string]any{"total": 20, "outcome": "pass", "reason": "Between the two, nearer the first.", "feedback": "Agreed after moderation."}, nil)
	wantStatus(t, "moderate", res, body, http.StatusOK)
	res, body = moderator.do("GET", base+"/trail", nil)
	wantStatus(t, "the trail as moderator", res, body, http.StatusOK)
	res, body = marker.do("GET", base+"/trail", nil)
	wantStatus(t, "the trail as a marker", res, body, http.StatusForbidden)
	res, body = mc.trainee.do("GET", base+"/trail", nil)
	wantStatus(t, "the trail as the trainee", res, body, http.StatusNotFound)

	res, body = mc.assessors[0].send("POST", "/api/v1/pieces/"+p.ID+"/release", map[string]any{}, nil)
	wantStatus(t, "release by an assessor", res, body, http.StatusForbidden)
	res, body = mc.admin.send("POST", "/api/v1/pieces/"+p.ID+"/release", map[string]any{}, nil)
	wantStatus(t, "release", res, body, http.StatusOK)
	if r := decodeAs[marking.ReleaseReport](t, body); len(r.Released) != 1 {
		t.Errorf("release: got %s, want one released", body)
	}
	res, body = mc.admin.send("POST", "/api/v1/pieces/"+p.ID+"/release", map[string]any{}, nil)
	wantStatus(t, "release again", res, body, http.StatusOK)
	if r := decodeAs[marking.ReleaseReport](t, body); len(r.Released) != 0 || len(r.AlreadyReleased) != 1 {
		t.Errorf("a second release: got %s, want it released once", body)
	}
	res, body = mc.trainee.do("GET", "/api/v1/pieces/"+p.ID+"/mine", nil)
	wantStatus(t, "the trainee's view after release", res, body, http.StatusOK)
	got := decodeAs[marking.TraineeView](t, body)
	if got.State != marking.Released || got.Result == nil || got.Result.Total != 20 || got.Result.Outcome != "pass" {
		t.Errorf("released: got %s, want 20, pass", body)
	}
	if strings.Contains(string(body), mc.assessorIDs[0]) || strings.Contains(string(body), "Between the two") {
		t.Errorf("the trainee sees who marked or the moderator's reason: %s", body)
	}
	res, body = mc.peer.do("GET", "/api/v1/pieces/"+p.ID+"/mine", nil)
	wantStatus(t, "a peer's own view", res, body, http.StatusOK)
	if strings.Contains(string(body), `"result"`) {
		t.Errorf("a peer sees a result: %s", body)
	}

	// After release the result changes only by a recorded re-moderation, with a reason.
	res, body = moderator.send("POST", base+"/moderation", map[string]any{"total": 22, "outcome": "pass", "reason": "Again"}, nil)
	wantStatus(t, "moderating a released result", res, body, http.StatusBadRequest)
	res, body = moderator.send("POST", base+"/remoderation", map[string]any{"total": 22, "outcome": "pass", "reason": ""}, nil)
	wantStatus(t, "re-moderation without a reason", res, body, http.StatusBadRequest)
	res, body = moderator.send("POST", base+"/remoderation", map[string]any{"total": 22, "outcome": "pass", "reason": "The exam board asked for a second reading."}, nil)
	wantStatus(t, "re-moderation", res, body, http.StatusOK)
	res, body = mc.trainee.do("GET", "/api/v1/pieces/"+p.ID+"/mine", nil)
	if got := decodeAs[marking.TraineeView](t, body); got.Result == nil || got.Result.Total != 22 {
		t.Errorf("after re-moderation the trainee sees %s, want 22", body)
	}

	// The exam board's files: the agreement names no trainee; the results are for
	// administrators alone.
	res, body = mc.admin.do("GET", "/api/v1/pieces/"+p.ID+"/agreement.csv", nil)
	wantStatus(t, "the agreement CSV", res, body, http.StatusOK)
	if !strings.Contains(string(body), who) || strings.Contains(string(body), mc.traineeName) || strings.Contains(string(body), mc.traineeID) {
		t.Errorf("the agreement CSV of an anonymous piece: %s", body)
	}
	res, body = mc.admin.do("GET", "/api/v1/pieces/"+p.ID+"/results.csv", nil)
	wantStatus(t, "the results CSV", res, body, http.StatusOK)
	if !strings.Contains(string(body), mc.traineeName) || !strings.Contains(string(body), "22") {
		t.Errorf("the results CSV: %s", body)
	}
	for name, c := range map[string]*client{"a marker": marker, "the trainee": mc.trainee} {
		res, body = c.do("GET", "/api/v1/pieces/"+p.ID+"/results.csv", nil)
		if res.StatusCode/100 == 2 {
			t.Errorf("%s reads the results CSV: %d %s", name, res.StatusCode, body)
		}
	}
}

// TestMarkingNeverTheSupervisor: allocating the trainee's supervisor as a marker is refused,
// naming the field.
func TestMarkingNeverTheSupervisor(t *testing.T) {
	f := newFixture(t)
	mc := f.markingCast(t)
	p := mc.createPiece(t, mc.admin, pieceInput("Reflective account", marking.SevenPrinciplesRubricID, marking.SchemeSingle, false))
	mc.submitEntry(t, mc.trainee, p.ID, "Account")
	res, body := mc.admin.send("PUT", "/api/v1/pieces/"+p.ID+"/submissions/"+mc.traineeID+"/markers", map[string]any{"markers": []string{mc.supervisorID}}, nil)
	wantStatus(t, "the supervisor as marker", res, body, http.StatusBadRequest)
	if !strings.Contains(string(body), `"field":"markers"`) {
		t.Errorf("the refusal does not name markers: %s", body)
	}
	res, body = mc.admin.send("PUT", "/api/v1/pieces/"+p.ID+"/submissions/"+mc.traineeID+"/markers", map[string]any{"markers": []string{mc.assessorIDs[1]}}, nil)
	wantStatus(t, "an assessor as marker", res, body, http.StatusOK)
	res, body = mc.admin.send("POST", "/api/v1/pieces/"+p.ID+"/extensions", map[string]any{"traineeId": mc.peerID, "until": p.Due.Add(48 * time.Hour), "reason": ""}, nil)
	wantStatus(t, "an extension without a reason", res, body, http.StatusBadRequest)
	res, body = mc.admin.send("POST", "/api/v1/pieces/"+p.ID+"/extensions", map[string]any{"traineeId": mc.peerID, "until": p.Due.Add(48 * time.Hour), "reason": "Illness"}, nil)
	wantStatus(t, "an extension", res, body, http.StatusOK)
	res, body = mc.peer.do("GET", "/api/v1/pieces/"+p.ID+"/mine", nil)
	wantStatus(t, "the peer's view", res, body, http.StatusOK)
	if v := decodeAs[marking.TraineeView](t, body); !v.Deadline.Equal(p.Due.Add(48 * time.Hour)) {
		t.Errorf("deadline after the extension: got %v, want %v", v.Deadline, p.Due.Add(48*time.Hour))
	}
}

// TestMarkingReleaseEmail: a released result is emailed to its trainee, once, with a link
// to the piece; a second release sends nothing more.
func TestMarkingReleaseEmail(t *testing.T) {
	f := newFixture(t, withMailServer())
	mc := f.markingCast(t)
	p := mc.createPiece(t, mc.admin, pieceInput("Reflective account", marking.SevenPrinciplesRubricID, marking.SchemeSingle, true))
	mc.submitEntry(t, mc.trainee, p.ID, "Account")
	res, body := mc.admin.send("PUT", "/api/v1/pieces/"+p.ID+"/submissions/"+mc.traineeID+"/markers", map[string]any{"markers": []string{mc.assessorIDs[1]}}, nil)
	wantStatus(t, "allocate", res, body, http.StatusOK)
	base := "/api/v1/pieces/" + p.ID + "/submissions/C0001"
	res, body = mc.assessors[1].send("PUT", base+"/marks/mine", allLevels(t, f, marking.SevenPrinciplesRubricID, 1), ifMatchVersion(0))
	wantStatus(t, "mark", res, body, http.StatusOK)
	res, body = mc.assessors[1].send("POST", base+"/marks/mine/submit", nil, ifMatchVersion(1))
	wantStatus(t, "submit the mark", res, body, http.StatusOK)
	for range 2 {
		res, body = mc.admin.send("POST", "/api/v1/pieces/"+p.ID+"/release", map[string]any{}, nil)
		wantStatus(t, "release", res, body, http.StatusOK)
	}
	email := f.byRole[accounts.RoleTrainee].Email
	m := f.mailTo(t, email, "Marks released: Reflective account")
	if !strings.Contains(m.Text, "/marking/pieces/"+p.ID) {
		t.Errorf("the email does not link to the piece: %s", m.Text)
	}
	f.settle()
	n := 0
	for _, s := range f.mailsTo(t, email) {
		if strings.Contains(s, "Marks released") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("got %d release emails, want 1", n)
	}
}
