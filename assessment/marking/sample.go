package marking

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// SampleItem is one submission drawn for the moderation sample, and why.
type SampleItem struct {
	Ref string `bson:"ref" json:"ref"`
	// SubmissionID is kept for the store; pages use Ref.
	SubmissionID string `bson:"submission_id" json:"-"`
	Total        int    `bson:"total" json:"total"`
	Outcome      string `bson:"outcome" json:"outcome"`
	// Reason is "refer", "borderline" or "random".
	Reason string `bson:"reason" json:"reason"`
}

// Confirmation is a lead or external assessor's confirmation of the sample.
type Confirmation struct {
	By      string    `bson:"by" json:"by"`
	At      time.Time `bson:"at" json:"at"`
	Comment string    `bson:"comment" json:"comment"`
}

// Sample is the moderation sample of a piece.
type Sample struct {
	ID        string        `bson:"_id" json:"pieceId"`
	Seed      int64         `bson:"seed" json:"seed"`
	Items     []SampleItem  `bson:"items" json:"items"`
	DrawnBy   string        `bson:"drawn_by" json:"drawnBy"`
	DrawnAt   time.Time     `bson:"drawn_at" json:"drawnAt"`
	Confirmed *Confirmation `bson:"confirmed,omitempty" json:"confirmed,omitempty"`
}

// DrawSample draws the moderation sample of the piece from its agreed (or released) results:
// every refer, every borderline result (within Borderline marks of the pass mark, under the
// sum rule), and SamplePercent of all of them, rounded up, chosen at random from the seed, so
// the same seed over the same results draws the same sample. A sample confirmed already
// stays.
func (s *Store) DrawSample(ctx context.Context, a Actor, pieceID string, seed int64) (Sample, error) {
	p, err := s.piece(ctx, pieceID)
	if err != nil {
		return Sample{}, err
	}
	if err := mayAdminister(a, p.CohortID); err != nil {
		return Sample{}, err
	}
	r, err := s.Rubric(ctx, p.RubricID, p.RubricVersion)
	if err != nil {
		return Sample{}, err
	}
	subs, err := s.submissionsOf(ctx, p.ID)
	if err != nil {
		return Sample{}, err
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].ID < subs[j].ID })
	var eligible []SampleItem
	for _, sub := range subs {
		rec, err := s.load(ctx, p, sub)
		if err != nil {
			return Sample{}, err
		}
		if st := rec.state(); st != Agreed && st != Released {
			continue
		}
		res, ok := rec.agreed()
		if !ok {
			continue
		}
		eligible = append(eligible, SampleItem{Ref: Ref(p, sub), SubmissionID: sub.ID, Total: res.Total, Outcome: res.Outcome})
	}
	chosen := map[string]string{}
	for _, it := range eligible {
		d := it.Total - r.PassMark
		switch {
		case it.Outcome == OutcomeRefer:
			chosen[it.SubmissionID] = "refer"
		case r.Rule == RuleSum && p.Borderline > 0 && d >= -p.Borderline && d <= p.Borderline:
			chosen[it.SubmissionID] = "borderline"
		}
	}
	order := slices.Clone(eligible)
	rand.New(rand.NewPCG(uint64(seed), uint64(seed)>>32^0x9e3779b97f4a7c15)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	n := (len(eligible)*p.SamplePercent + 99) / 100
	for _, it := range order[:n] {
		if chosen[it.SubmissionID] == "" {
			chosen[it.SubmissionID] = "random"
		}
	}
	sample := Sample{ID: p.ID, Seed: seed, DrawnBy: a.UserID, DrawnAt: s.now().UTC()}
	for _, it := range eligible {
		if why := chosen[it.SubmissionID]; why != "" {
			it.Reason = why
			sample.Items = append(sample.Items, it)
		}
	}
	defer s.db.Serialize(samplesCollection, p.ID)()
	old, err := database.FindByID[Sample](ctx, s.samples, p.ID)
	switch {
	case err == nil && old.Confirmed != nil:
		return Sample{}, failure.Problem("sample", "The sample was confirmed already and cannot be drawn again")
	case err != nil && !errors.Is(err, failure.ErrNotFound):
		return Sample{}, err
	}
	if err := s.samples.Put(ctx, p.ID, sample); err != nil {
		return Sample{}, err
	}
	return sample, nil
}

// ReadSample reads the piece's moderation sample, for its staff.
func (s *Store) ReadSample(ctx context.Context, a Actor, pieceID string) (Sample, error) {
	p, err := s.piece(ctx, pieceID)
	if err != nil {
		return Sample{}, err
	}
	if err := mayAdminister(a, p.CohortID); err != nil {
		return Sample{}, err
	}
	return database.FindByID[Sample](ctx, s.samples, p.ID)
}

// ConfirmSample records a lead or external assessor's confirmation of the sample, with
// their comment: an administrator, or an assessor of the cohort who marked none of the
// sampled submissions.
func (s *Store) ConfirmSample(ctx context.Context, a Actor, pieceID, comment string) (Sample, error) {
	p, err := s.piece(ctx, pieceID)
	if err != nil {
		return Sample{}, err
	}
	if err := mayAdminister(a, p.CohortID); err != nil {
		return Sample{}, err
	}
	comment = trimmed(comment)
	if comment == "" {
		return Sample{}, failure.Problem("comment", "Enter your comment on the sample")
	}
	defer s.db.Serialize(samplesCollection, p.ID)()
	sample, err := database.FindByID[Sample](ctx, s.samples, p.ID)
	if errors.Is(err, failure.ErrNotFound) {
		return Sample{}, failure.Problem("sample", "Draw the sample before confirming it")
	}
	if err != nil {
		return Sample{}, err
	}
	if sample.Confirmed != nil {
		return Sample{}, failure.Problem("sample", "The sample was confirmed already")
	}
	if !a.admin() {
		for _, it := range sample.Items {
			sub, err := s.submission(ctx, it.SubmissionID)
			if err != nil {
				return Sample{}, err
			}
			if slices.Contains(sub.Markers, a.UserID) {
				return Sample{}, failure.Problem("sample", "You marked work in this sample: another assessor confirms it")
			}
		}
	}
	sample.Confirmed = &Confirmation{By: a.UserID, At: s.now().UTC(), Comment: comment}
	if err := s.samples.Put(ctx, p.ID, sample); err != nil {
		return Sample{}, err
	}
	return sample, nil
}
