package marking

import (
	"context"
	"sort"
	"time"
)

// SubmissionSummary is one row of a piece's overview: where each trainee's submission is.
type SubmissionSummary struct {
	Ref             string `json:"ref"`
	CandidateNumber string `json:"candidateNumber"`
	// TraineeID is empty under anonymous marking, except for administrators.
	TraineeID   string    `json:"traineeId,omitempty"`
	State       State     `json:"state"`
	Late        bool      `json:"late"`
	SubmittedAt time.Time `json:"submittedAt"`
	Deadline    time.Time `json:"deadline"`
	Markers     []string  `json:"markers"`
	Sampled     bool      `json:"sampled"`
}

// Overview lists the piece's submissions with their states, in candidate order, for the
// cohort's staff: what allocation, moderation and release pages show.
func (s *Store) Overview(ctx context.Context, a Actor, pieceID string) ([]SubmissionSummary, error) {
	p, err := s.piece(ctx, pieceID)
	if err != nil {
		return nil, err
	}
	if err := mayAdminister(a, p.CohortID); err != nil {
		return nil, err
	}
	recs, err := s.records(ctx, p)
	if err != nil {
		return nil, err
	}
	sampled := map[string]bool{}
	if sample, err := s.ReadSample(ctx, a, p.ID); err == nil {
		for _, it := range sample.Items {
			sampled[it.SubmissionID] = true
		}
	}
	out := make([]SubmissionSummary, 0, len(recs))
	for _, rec := range recs {
		row := SubmissionSummary{
			Ref: Ref(p, rec.sub), CandidateNumber: rec.sub.CandidateNumber, State: rec.state(),
			Late: rec.sub.Active && rec.sub.Late, SubmittedAt: rec.sub.SubmittedAt, Deadline: rec.sub.Deadline(p),
			Markers: rec.sub.Markers, Sampled: sampled[rec.sub.ID],
		}
		if !p.Anonymous || a.admin() {
			row.TraineeID = rec.sub.TraineeID
		}
		if p.Anonymous && rec.sub.CandidateNumber == "" {
			continue // an extension granted to someone who has not submitted: nothing to show by number
		}
		out = append(out, row)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CandidateNumber < out[j].CandidateNumber })
	return out, nil
}
