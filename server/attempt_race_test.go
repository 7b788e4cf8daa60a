package server_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"polyphony/internal/accounts"
)

// TestRacingStartsGiveOneCreated starts one attempt from many requests at once: exactly one
// answer is 201, the others are 200, and all carry the same attempt.
func TestRacingStartsGiveOneCreated(t *testing.T) {
	f := newFixture(t)
	assessor := f.signedIn(t, accounts.RoleAssessor)
	trainee := f.signedIn(t, accounts.RoleTrainee)
	bank := newBank(t, assessor, "Principles")
	res, body := assessor.sendText("/api/v1/banks/"+bank+"/import?format=aiken", moodleAiken)
	decode[importAnswer](t, res, body, http.StatusOK)
	res, body = assessor.do("GET", "/api/v1/banks/"+bank+"/questions", nil)
	qs := decode[[]questionAnswer](t, res, body, http.StatusOK)
	res, body = assessor.do("POST", "/api/v1/assessments", map[string]any{
		"title": "Raced", "bankId": bank, "cohortId": f.demoCohort(t).ID, "questions": []string{qs[0].ID, qs[1].ID}, "passMark": 50,
	})
	a := decode[struct {
		ID string `json:"id"`
	}](t, res, body, http.StatusCreated)

	const racers = 8
	type answer struct {
		status int
		id     string
	}
	answers := make([]answer, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Go(func() {
			<-start
			res, body := trainee.do("POST", "/api/v1/assessments/"+a.ID+"/attempts", nil)
			var at struct {
				ID string `json:"id"`
			}
			json.Unmarshal(body, &at)
			answers[i] = answer{res.StatusCode, at.ID}
		})
	}
	close(start)
	wg.Wait()
	created := 0
	for _, got := range answers {
		switch got.status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Errorf("a start answered %d", got.status)
		}
		if got.id == "" || got.id != answers[0].id {
			t.Errorf("attempt ids %q and %q, want one attempt", got.id, answers[0].id)
		}
	}
	if created != 1 {
		t.Errorf("%d starts answered 201, want exactly 1 (answers %v)", created, answers)
	}
}
