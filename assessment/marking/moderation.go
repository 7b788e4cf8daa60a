package marking

import (
	"context"
	"fmt"
	"time"

	"polyphony/internal/failure"
)

// AgreedResult is the result a submission is given: recorded by a moderator, or made from
// the marks when they agree.
type AgreedResult struct {
	Total   int    `bson:"total" json:"total"`
	Outcome string `bson:"outcome" json:"outcome"`
	// Reason says why the moderator settled on this result (required from a moderator).
	Reason string `bson:"reason,omitempty" json:"reason,omitempty"`
	// Feedback is the moderator's feedback for the trainee.
	Feedback string `bson:"feedback,omitempty" json:"feedback,omitempty"`
	// Levels are the moderator's levels per criterion, when they give them.
	Levels []CriterionMark `bson:"levels,omitempty" json:"levels,omitempty"`
	By     string          `bson:"by,omitempty" json:"by,omitempty"`
	At     time.Time       `bson:"at,omitempty" json:"at,omitempty"`
}

// moderationDoc is the moderator's part of a submission: opened (with a reason) when an
// agreed result was taken into moderation, and the result they recorded.
type moderationDoc struct {
	ID         string        `bson:"_id"`
	Opened     bool          `bson:"opened"`
	OpenReason string        `bson:"open_reason,omitempty"`
	OpenedBy   string        `bson:"opened_by,omitempty"`
	Result     *AgreedResult `bson:"result,omitempty"`
}

// validateAgreed checks a moderator's result against the rubric.
func validateAgreed(r Rubric, res AgreedResult) error {
	var errs []error
	if res.Total < 0 || res.Total > r.MaxTotal() {
		errs = append(errs, failure.Problemf("total", "Enter a total from 0 to %d", r.MaxTotal()))
	}
	switch res.Outcome {
	case OutcomePass, OutcomeRefer:
		if r.Rule == RuleSum && res.Total >= 0 && res.Total <= r.MaxTotal() {
			want := OutcomeRefer
			if res.Total >= r.PassMark {
				want = OutcomePass
			}
			if res.Outcome != want {
				errs = append(errs, failure.Problemf("outcome", "A total of %d is a %s under this rubric (pass mark %d)", res.Total, want, r.PassMark))
			}
		}
	default:
		errs = append(errs, failure.Problem("outcome", `Choose the outcome: "pass" or "refer"`))
	}
	if trimmed(res.Reason) == "" {
		errs = append(errs, failure.Problem("reason", "Enter the reason for the agreed result"))
	}
	if err := validateLevels(r, res.Levels, nil); err != nil {
		errs = append(errs, err)
	}
	return failure.Problems(errs...)
}

// Moderate records the agreed result of a submission in moderation. The moderator is an
// assessor of the cohort who marks none of it.
func (s *Store) Moderate(ctx context.Context, a Actor, ref string, res AgreedResult) (AgreedResult, error) {
	return s.settle(ctx, a, ref, res, InModeration, "agreed result recorded")
}

// Remoderate changes the agreed result of a released submission, with a reason: the one way
// a result changes after release, recorded on the trail; the trainee then sees the new one.
func (s *Store) Remoderate(ctx context.Context, a Actor, ref string, res AgreedResult) (AgreedResult, error) {
	return s.settle(ctx, a, ref, res, Released, "remoderated")
}

// settle records a moderator's result on a submission that is in state want, holding the
// submission's lock so that a release cannot come between the check and the write.
func (s *Store) settle(ctx context.Context, a Actor, ref string, res AgreedResult, want State, action string) (AgreedResult, error) {
	sub, p, err := s.resolve(ctx, ref)
	if err != nil {
		return AgreedResult{}, err
	}
	if err := mayModerate(a, p.CohortID, sub.Markers); err != nil {
		return AgreedResult{}, err
	}
	var before AgreedResult
	err = func() error {
		defer s.db.Serialize(submissionsCollection, sub.ID)()
		rec, err := s.load(ctx, p, sub)
		if err != nil {
			return err
		}
		if st := rec.state(); st != want {
			return failure.Problemf("state", "The submission is %s, not %s", lower(st.Label()), lower(want.Label()))
		}
		if err := validateAgreed(rec.rubric, res); err != nil {
			return err
		}
		res.Reason, res.By, res.At = trimmed(res.Reason), a.UserID, s.now().UTC()
		before, _ = rec.agreed()
		if rec.release != nil {
			before = rec.release.Result.AgreedResult
		}
		mod := moderationDoc{ID: sub.ID, Opened: true, Result: &res}
		if rec.mod != nil {
			mod.OpenReason, mod.OpenedBy = rec.mod.OpenReason, rec.mod.OpenedBy
		}
		if err := s.moderation.Put(ctx, sub.ID, mod); err != nil {
			return err
		}
		if rec.release != nil {
			rec.mod = &mod
			return s.rerelease(ctx, rec)
		}
		return nil
	}()
	if err != nil {
		return AgreedResult{}, err
	}
	err = s.appendTrail(ctx, sub.ID, a, action,
		Change{Field: "total", Before: fmt.Sprint(before.Total), After: fmt.Sprint(res.Total)},
		Change{Field: "outcome", Before: before.Outcome, After: res.Outcome},
		Change{Field: "reason", After: res.Reason})
	return res, err
}

// OpenModeration takes an agreed result (within tolerance, or a single marker's) into
// moderation, with a reason, so that a moderator records the result instead.
func (s *Store) OpenModeration(ctx context.Context, a Actor, ref, reason string) error {
	sub, p, err := s.resolve(ctx, ref)
	if err != nil {
		return err
	}
	if err := mayModerate(a, p.CohortID, sub.Markers); err != nil {
		return err
	}
	reason = trimmed(reason)
	if reason == "" {
		return failure.Problem("reason", "Enter the reason for opening the agreed result")
	}
	err = func() error {
		defer s.db.Serialize(submissionsCollection, sub.ID)()
		rec, err := s.load(ctx, p, sub)
		if err != nil {
			return err
		}
		if st := rec.state(); st != Agreed {
			return failure.Problemf("state", "Only an agreed result can be opened; the submission is %s", lower(st.Label()))
		}
		return s.moderation.Put(ctx, sub.ID, moderationDoc{ID: sub.ID, Opened: true, OpenReason: reason, OpenedBy: a.UserID})
	}()
	if err != nil {
		return err
	}
	return s.appendTrail(ctx, sub.ID, a, "moderation opened", Change{Field: "reason", After: reason})
}

func lower(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	if b[0] >= 'A' && b[0] <= 'Z' {
		b[0] += 'a' - 'A'
	}
	return string(b)
}
