package marking

import (
	"context"
	"errors"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// State is where a submission is in its marking, shown wherever the piece appears.
type State string

// The states, in the order a submission goes through them. Under single marking a
// submitted mark is the agreed result, so such a submission goes from InMarking to Agreed.
// Under double marking it is Marked when one marker has submitted and the other has not
// begun, SecondMarking when the other has a draft, and then InModeration or Agreed.
const (
	NotSubmitted  State = "not-submitted"
	Submitted     State = "submitted"
	InMarking     State = "in-marking"
	Marked        State = "marked"
	SecondMarking State = "second-marking"
	InModeration  State = "in-moderation"
	Agreed        State = "agreed"
	Released      State = "released"
)

// Label is the state as pages show it.
func (st State) Label() string {
	switch st {
	case NotSubmitted:
		return "Not submitted"
	case Submitted:
		return "Submitted"
	case InMarking:
		return "In marking"
	case Marked:
		return "Marked"
	case SecondMarking:
		return "Second marking"
	case InModeration:
		return "In moderation"
	case Agreed:
		return "Agreed"
	case Released:
		return "Released"
	}
	return string(st)
}

// record is everything the state of a submission is computed from.
type record struct {
	piece   Piece
	rubric  Rubric
	sub     Submission
	marks   []Mark // of the allocated markers that saved anything, in allocation order
	mod     *moderationDoc
	release *releaseDoc
}

// load reads the records of a submission.
func (s *Store) load(ctx context.Context, p Piece, sub Submission) (record, error) {
	rec := record{piece: p, sub: sub}
	var err error
	if rec.rubric, err = s.Rubric(ctx, p.RubricID, p.RubricVersion); err != nil {
		return record{}, err
	}
	if rec.marks, err = s.marksOf(ctx, sub); err != nil {
		return record{}, err
	}
	mod, err := database.FindByID[moderationDoc](ctx, s.moderation, sub.ID)
	switch {
	case err == nil:
		rec.mod = &mod
	case !errors.Is(err, failure.ErrNotFound):
		return record{}, err
	}
	rel, err := database.FindByID[releaseDoc](ctx, s.releases, sub.ID)
	switch {
	case err == nil:
		rec.release = &rel
	case !errors.Is(err, failure.ErrNotFound):
		return record{}, err
	}
	return rec, nil
}

// submitted is the submitted marks.
func (rec record) submitted() []Mark {
	var out []Mark
	for _, m := range rec.marks {
		if m.Submitted {
			out = append(out, m)
		}
	}
	return out
}

// state is the one place that says where a submission is, from its records.
func (rec record) state() State {
	switch {
	case !rec.sub.Active:
		return NotSubmitted
	case rec.release != nil:
		return Released
	case rec.mod != nil && rec.mod.Result != nil:
		return Agreed
	case rec.mod != nil && rec.mod.Opened:
		return InModeration
	}
	done := rec.submitted()
	switch {
	case len(done) == 0 && len(rec.marks) == 0 && !rec.sub.Started():
		return Submitted
	case len(done) == 0:
		return InMarking
	case !rec.piece.Double():
		return Agreed
	case len(done) == 1 && len(rec.marks) > 1:
		return SecondMarking
	case len(done) == 1:
		return Marked
	}
	if rec.disagree() {
		return InModeration
	}
	return Agreed
}

// disagree reports whether two submitted marks differ by more than the tolerance, or one
// passes and the other refers.
func (rec record) disagree() bool {
	done := rec.submitted()
	if len(done) < 2 {
		return false
	}
	a, b := Result(rec.rubric, done[0]), Result(rec.rubric, done[1])
	diff := a.Total - b.Total
	if diff < 0 {
		diff = -diff
	}
	return diff > rec.piece.Tolerance || a.Outcome != b.Outcome
}

// agreed is the agreed result, when there is one: the moderator's, the single marker's, or
// two marks within tolerance combined by the piece's rule.
func (rec record) agreed() (AgreedResult, bool) {
	if rec.mod != nil && rec.mod.Result != nil {
		return *rec.mod.Result, true
	}
	if rec.mod != nil && rec.mod.Opened {
		return AgreedResult{}, false
	}
	done := rec.submitted()
	if len(done) != rec.piece.Markers() || rec.disagree() {
		return AgreedResult{}, false
	}
	if len(done) == 1 {
		sc := Result(rec.rubric, done[0])
		return AgreedResult{Total: sc.Total, Outcome: sc.Outcome}, true
	}
	a, b := Result(rec.rubric, done[0]), Result(rec.rubric, done[1])
	var total int
	switch rec.piece.Agreed {
	case AgreedHigher:
		total = max(a.Total, b.Total)
	case AgreedLower:
		total = min(a.Total, b.Total)
	default:
		total = (a.Total + b.Total + 1) / 2 // the mean, rounded half up (totals are not negative)
	}
	out := a.Outcome // the same for both, or they would disagree
	if rec.rubric.Rule == RuleSum {
		out = OutcomeRefer
		if total >= rec.rubric.PassMark {
			out = OutcomePass
		}
	}
	return AgreedResult{Total: total, Outcome: out}, true
}

// State is where the submission is in its marking. Anyone who may read the submission's
// marking may read it; a trainee reads their own as TraineeView shows it.
func (s *Store) State(ctx context.Context, a Actor, ref string) (State, error) {
	sub, p, err := s.resolve(ctx, ref)
	if err != nil {
		return "", err
	}
	if !a.admin() && !a.cohortAssessor(p.CohortID) {
		return "", refuse(a, p.CohortID, "see the marking of this submission")
	}
	rec, err := s.load(ctx, p, sub)
	if err != nil {
		return "", err
	}
	return rec.state(), nil
}
