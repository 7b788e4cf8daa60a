package server_test

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"

	"polyphony/assessment/marking"
)

// keyElementsDraft is a draft at the given level (0 to 3) for each of the twelve elements.
func keyElementsDraft(t *testing.T, f *fixture, levels []int) marking.MarkInput {
	t.Helper()
	r, err := f.marking.LatestRubric(context.Background(), marking.KeyElementsRubricID)
	if err != nil {
		t.Fatal(err)
	}
	if len(levels) != len(r.Criteria) {
		t.Fatalf("%d levels for %d elements", len(levels), len(r.Criteria))
	}
	var in marking.MarkInput
	for i, c := range r.Criteria {
		in.Levels = append(in.Levels, marking.CriterionMark{CriterionID: c.ID, LevelID: c.Levels[levels[i]].ID})
	}
	return in
}

// TestMarkingAgreementThroughHTTP rates one transcript's twelve key elements by two markers
// through the API, and reads the agreement back: the figures are those worked by hand in
// assessment/agreement's TestTranscriptByHand (κ = 41/101, κ_w = 44/59, 7 of 12 agreed).
func TestMarkingAgreementThroughHTTP(t *testing.T) {
	f := newFixture(t)
	mc := f.markingCast(t)
	p := mc.createPiece(t, mc.admin, pieceInput("Rated dialogue", marking.KeyElementsRubricID, marking.SchemeDoubleBlind, true))
	mc.submitEntry(t, mc.trainee, p.ID, "The dialogue")
	res, body := mc.admin.send("POST", "/api/v1/pieces/"+p.ID+"/allocation", map[string]any{"assessors": []string{mc.assessorIDs[0], mc.assessorIDs[1]}}, nil)
	wantStatus(t, "allocate", res, body, http.StatusOK)
	ref := decodeAs[marking.SpreadReport](t, body).Allocated[0].Ref
	base := "/api/v1/pieces/" + p.ID + "/submissions/" + candidateOfRef(ref)
	for i, levels := range [][]int{{2, 1, 3, 2, 0, 1, 2, 2, 1, 3, 0, 2}, {2, 2, 3, 1, 0, 1, 2, 3, 1, 2, 1, 2}} {
		c := mc.assessors[i]
		res, body := c.send("PUT", base+"/marks/mine", keyElementsDraft(t, f, levels), ifMatchVersion(0))
		wantStatus(t, "rate", res, body, http.StatusOK)
		res, body = c.send("POST", base+"/marks/mine/submit", nil, ifMatchVersion(1))
		wantStatus(t, "submit the rating", res, body, http.StatusOK)
	}

	path := "/api/v1/cohorts/" + mc.cohort + "/marking/agreement"
	for name, c := range map[string]*client{"the trainee": mc.trainee, "a peer": mc.peer} {
		res, body := c.do("GET", path, nil)
		wantStatus(t, name+" reading the agreement", res, body, http.StatusNotFound)
	}
	res, body = mc.assessors[2].do("GET", path, nil)
	wantStatus(t, "the agreement", res, body, http.StatusOK)
	if strings.Contains(string(body), mc.traineeID) || strings.Contains(string(body), mc.traineeName) {
		t.Errorf("the agreement of an anonymous piece names the trainee: %.400s", body)
	}
	type figures struct {
		N                int      `json:"n"`
		Agreed           int      `json:"agreed"`
		Kappa            *float64 `json:"kappa"`
		WeightedKappa    *float64 `json:"weightedKappa"`
		PercentAgreement *float64 `json:"percentAgreement"`
	}
	got := decodeAs[struct {
		Scales []struct {
			RubricID string `json:"rubricId"`
			Levels   int    `json:"levels"`
			Pairs    []struct {
				RaterA, RaterB string
				Submissions    int     `json:"submissions"`
				Agreement      figures `json:"agreement"`
			} `json:"pairs"`
			Transcripts []struct {
				SubmissionID string  `json:"submissionId"`
				Overall      figures `json:"overall"`
				Elements     []struct {
					LevelA, LevelB int
				} `json:"elements"`
			} `json:"transcripts"`
		} `json:"scales"`
		Raters map[string]string `json:"raters"`
	}](t, body)
	if len(got.Scales) != 1 || got.Scales[0].RubricID != marking.KeyElementsRubricID || got.Scales[0].Levels != 4 {
		t.Fatalf("scales: got %s, want the key elements on four levels", body)
	}
	sc := got.Scales[0]
	if len(sc.Pairs) != 1 || len(sc.Transcripts) != 1 || len(sc.Transcripts[0].Elements) != 12 {
		t.Fatalf("got %d pairs and %d transcripts: %s", len(sc.Pairs), len(sc.Transcripts), body)
	}
	pair := sc.Pairs[0].Agreement
	near := func(what string, got *float64, want float64) {
		t.Helper()
		if got == nil || math.Abs(*got-want) > 1e-9 {
			t.Errorf("%s: got %v, want %.6f", what, got, want)
		}
	}
	// The raters sort by id; kappa is the same either way round.
	near("kappa", pair.Kappa, 41.0/101)
	near("weighted kappa", pair.WeightedKappa, 44.0/59)
	near("percent agreement", pair.PercentAgreement, 700.0/12)
	if pair.N != 12 || pair.Agreed != 7 || sc.Pairs[0].Submissions != 1 {
		t.Errorf("counts: got %d items, %d agreed, %d submissions; want 12, 7, 1", pair.N, pair.Agreed, sc.Pairs[0].Submissions)
	}
	near("the transcript's weighted kappa", sc.Transcripts[0].Overall.WeightedKappa, 44.0/59)
	if !strings.HasPrefix(candidateOfRef(sc.Transcripts[0].SubmissionID), "C") {
		t.Errorf("the transcript is named %q, not by candidate number", sc.Transcripts[0].SubmissionID)
	}
	if got.Raters[mc.assessorIDs[1]] != "Assessor 2" {
		t.Errorf("raters: got %v, want Assessor 2 named", got.Raters)
	}

	res, body = mc.admin.do("GET", path+"?format=csv", nil)
	wantStatus(t, "the agreement as CSV", res, body, http.StatusOK)
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], ",12,58.3,0.406,0.746,substantial") {
		t.Errorf("CSV: got %q, want one pair with 12 items, 58.3%%, 0.406, 0.746, substantial", body)
	}
	res, body = mc.admin.do("GET", path+"?format=xml", nil)
	wantStatus(t, "an unknown format", res, body, http.StatusBadRequest)
}

func candidateOfRef(ref string) string {
	_, who, _ := strings.Cut(ref, "/")
	return who
}
