package server_test

import (
	"context"
	"net/http"
	"regexp"
	"testing"
	"time"

	"polyphony/internal/accounts"
	"polyphony/internal/dbtest"
)

// TestMainRequestsReadByIDOnly makes the requests people make most, through HTTP on a
// database whose every command is watched, and fails on any read, update or delete whose
// filter is not exactly {_id: <string>}: on embedded FerretDB such a filter reads every
// document of its collection, so the request would slow down with everything ever stored.
// The requests are B10's: signing in, the home page, the programme, a curriculum page, the
// journal list, opening an entry, an autosave, a missing entry, joining a room with history,
// its transcript, answering an attempt, results and item analysis.
func TestMainRequestsReadByIDOnly(t *testing.T) {
	log := dbtest.NewFilterLog()
	f := newFixtureOn(t, dbtest.NewLogged(t, log))
	seedPages(t, f)
	jc := f.journalCast(t)
	e := createEntry(t, jc.trainee, "Read by id", "A first line.")
	cohort := f.demoCohort(t)
	room := "/rooms/" + cohort.ID + "/cohort"
	_, _, conn := openWithTrainee(t, f, room)
	if err := conn.WriteJSON(map[string]string{"type": "say", "text": "Something said before", "id": "h1"}); err != nil {
		t.Fatal(err)
	}
	next(t, conn, "ack")
	assessor := f.signedIn(t, accounts.RoleAssessor)
	res, body := assessor.do("GET", "/api/v1/banks", nil)
	banks := decode[[]struct {
		ID string `json:"id"`
	}](t, res, body, http.StatusOK)
	res, body = assessor.do("GET", "/api/v1/banks/"+banks[0].ID+"/questions", nil)
	qs := decode[[]questionAnswer](t, res, body, http.StatusOK)
	res, body = assessor.do("POST", "/api/v1/assessments", map[string]any{
		"title": "Module 1 recheck", "bankId": banks[0].ID, "cohortId": cohort.ID, "questions": []string{qs[0].ID, qs[1].ID}, "passMark": 50,
	})
	second := decode[struct {
		ID string `json:"id"`
	}](t, res, body, http.StatusCreated).ID
	res, body = assessor.do("GET", "/api/v1/assessments", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("assessments: %d %s", res.StatusCode, body)
	}
	sat := regexp.MustCompile(`"id":"([^"]+)","version":\d+,"title":"Module 1 check"`).FindSubmatch(body)
	if sat == nil {
		t.Fatalf("the seeded assessment is not listed: %s", body)
	}
	res, body = jc.trainee.do("GET", "/curriculum", nil)
	wantStatus(t, "curriculum", res, body, http.StatusOK)
	page := regexp.MustCompile(`href="(/curriculum/[a-z0-9-]+)"`).FindSubmatch(body)
	if page == nil {
		t.Fatalf("the curriculum lists no page")
	}
	marked := markingByIDSetup(t, f)

	facilitator := f.signedIn(t, accounts.RoleFacilitator)
	fconn, _, err := facilitator.dialRoom(room+"/ws?lastSeq=0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer fconn.Close()
	next(t, fconn, "welcome")
	if err := fconn.WriteJSON(map[string]string{"type": "say", "text": "A facilitator's turn", "id": "f1"}); err != nil {
		t.Fatal(err)
	}
	quoted := uint64(next(t, fconn, "ack")["ackSeq"].(float64))

	log.Record(true)
	trainee := f.signInAs(t, f.byRole[accounts.RoleTrainee].Email, f.byRole[accounts.RoleTrainee].Password)
	for _, p := range []string{"/", "/programme", string(page[1]), "/journal", "/journal/" + e.ID, room + "/transcript"} {
		res, body := trainee.do("GET", p, nil)
		wantStatus(t, p, res, body, http.StatusOK)
	}
	res, body = trainee.do("GET", "/api/v1/journal/entries/"+e.ID, nil)
	wantStatus(t, "open an entry", res, body, http.StatusOK)
	res, body = trainee.send("PUT", "/api/v1/journal/entries/"+e.ID, map[string]any{"baseVersion": 1, "title": "Read by id", "body": "A second line.", "tags": []string{}}, idem("bykey-save"))
	wantStatus(t, "autosave", res, body, http.StatusOK)
	// Sharing, a comment and an assessment opening, with the emails they queue.
	res, body = trainee.send("PUT", "/api/v1/journal/entries/"+e.ID+"/sharing/supervisor", map[string]bool{"shared": true}, nil)
	wantStatus(t, "share", res, body, http.StatusOK)
	res, body = jc.supervisor.send("POST", "/api/v1/journal/entries/"+e.ID+"/comments", map[string]string{"body": "A comment"}, idem("bykey-comment"))
	wantStatus(t, "comment", res, body, http.StatusCreated)
	res, body = assessor.do("POST", "/api/v1/assessments", map[string]any{
		"title": "Module 1 open", "bankId": banks[0].ID, "cohortId": cohort.ID, "questions": []string{qs[0].ID}, "passMark": 50,
	})
	wantStatus(t, "an assessment open at once", res, body, http.StatusCreated)
	// The notifier's job, which every instance runs.
	if _, err := f.notify.SessionsTomorrow(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.notify.AssessmentsOpening(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	res, body = trainee.do("GET", "/api/v1/journal/entries/jedoesnotexist0000", nil)
	wantStatus(t, "a missing entry", res, body, http.StatusNotFound)
	joined, _, err := trainee.dialRoom(room+"/ws", "")
	if err != nil {
		t.Fatal(err)
	}
	defer joined.Close()
	next(t, joined, "welcome")
	res, body = trainee.do("POST", "/api/v1/assessments/"+second+"/attempts", nil)
	at := decode[attemptAnswer](t, res, body, http.StatusCreated)
	res, body = trainee.do("PUT", "/api/v1/attempts/"+at.ID+"/answers/0", map[string]int{"option": 1})
	decode[map[string]any](t, res, body, http.StatusOK)
	staff := f.signInAs(t, f.byRole[accounts.RoleAssessor].Email, f.byRole[accounts.RoleAssessor].Password)
	for _, p := range []string{"/assessments/" + string(sat[1]) + "/results", "/assessments/" + string(sat[1]) + "/analysis"} {
		res, body := staff.do("GET", p, nil)
		wantStatus(t, p, res, body, http.StatusOK)
	}
	// Quoting a turn, and the speaker's answer (consent_test.go).
	res, body = trainee.send("POST", "/api/v1/rooms/"+cohort.ID+"/cohort/quotes", map[string]any{"turns": []uint64{quoted}, "entryId": e.ID}, nil)
	wantStatus(t, "quote", res, body, http.StatusCreated)
	for _, p := range []string{"/journal/" + e.ID, "/api/v1/journal/entries/" + e.ID + "/quotes", "/consent"} {
		res, body := trainee.do("GET", p, nil)
		wantStatus(t, p, res, body, http.StatusOK)
	}
	res, body = facilitator.do("GET", "/api/v1/consent", nil)
	asked := decode[struct {
		Asked []struct {
			ID string `json:"id"`
		} `json:"asked"`
	}](t, res, body, http.StatusOK).Asked
	if len(asked) != 1 {
		t.Fatalf("the facilitator is asked %s", body)
	}
	res, body = facilitator.do("PUT", "/api/v1/consent/requests/"+asked[0].ID, map[string]string{"decision": "agreed"})
	wantStatus(t, "agree", res, body, http.StatusOK)
	// Progress towards the award: the trainee's own page, and the cohort's grid.
	res, body = trainee.do("GET", "/progress", nil)
	wantStatus(t, "progress", res, body, http.StatusOK)
	res, body = facilitator.do("GET", "/cohorts/"+cohort.ID+"/progress", nil)
	wantStatus(t, "the cohort's progress", res, body, http.StatusOK)
	// The exam board: opening one, its pages and exports, a decision, and the training record.
	admin := f.signedIn(t, accounts.RoleAdmin)
	res, body = admin.do("POST", "/api/v1/cohorts/"+cohort.ID+"/boards", map[string]string{"date": "2027-07-01"})
	board := decode[struct {
		ID string `json:"id"`
	}](t, res, body, http.StatusCreated).ID
	res, body = admin.do("POST", "/api/v1/boards/"+board+"/decisions", map[string]string{"userId": f.userID(t, f.byRole[accounts.RoleTrainee].Email), "outcome": "not awarded", "reason": "Not yet"})
	wantStatus(t, "a board's decision", res, body, http.StatusCreated)
	for _, p := range []string{"/cohorts/" + cohort.ID + "/boards", "/boards/" + board, "/api/v1/boards/" + board, "/boards/" + board + "/record.csv", "/boards/" + board + "/minutes.pdf"} {
		res, body := admin.do("GET", p, nil)
		wantStatus(t, p, res, body, http.StatusOK)
	}
	res, body = trainee.do("GET", "/account/training-record.pdf", nil)
	wantStatus(t, "the training record", res, body, http.StatusOK)
	marked.requests(t)
	log.Check(t, "one of the main requests")
}
