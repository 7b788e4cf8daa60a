package marking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// CriterionMark is a marker's level for one criterion, with their comment and, on a rubric
// that cites turns, the transcript turns (by sequence number) that show it.
type CriterionMark struct {
	CriterionID string   `bson:"criterion_id" json:"criterionId"`
	LevelID     string   `bson:"level_id" json:"levelId"`
	Comment     string   `bson:"comment" json:"comment"`
	Turns       []uint64 `bson:"turns" json:"turns"`
}

// MarkInput is what a marker writes.
type MarkInput struct {
	Levels []CriterionMark `bson:"levels" json:"levels"`
	// Feedback is meant for the trainee, once released.
	Feedback string `bson:"feedback" json:"feedback"`
	// PrivateNote is for the other marker and the moderator, never the trainee.
	PrivateNote string `bson:"private_note" json:"privateNote"`
}

// Mark is one marker's marking of one submission: a draft saved as it is typed, then
// submitted, after which it does not change.
type Mark struct {
	ID           string `bson:"_id" json:"-"`
	SubmissionID string `bson:"submission_id" json:"-"`
	MarkerID     string `bson:"marker_id" json:"markerId"`
	MarkInput    `bson:",inline"`
	// Version counts the saves; a save names the version it was based on.
	Version     int       `bson:"version" json:"version"`
	SavedAt     time.Time `bson:"saved_at" json:"savedAt"`
	Submitted   bool      `bson:"submitted" json:"submitted"`
	SubmittedAt time.Time `bson:"submitted_at" json:"submittedAt"`
}

// Level returns the marker's choice for the criterion.
func (m Mark) Level(criterionID string) (CriterionMark, bool) {
	for _, l := range m.Levels {
		if l.CriterionID == criterionID {
			return l, true
		}
	}
	return CriterionMark{}, false
}

// MarkConflictError is a save based on a version of the mark that is no longer the latest
// (the same marker saving from two tabs): nothing was written, and Stored is what is stored,
// so that neither text is lost. errors.Is(err, failure.ErrConflict) holds.
type MarkConflictError struct {
	Stored Mark
}

func (e *MarkConflictError) Error() string {
	return fmt.Sprintf("The marking was saved elsewhere (version %d) since this copy was opened", e.Stored.Version)
}

// Is makes errors.Is(err, failure.ErrConflict) true.
func (e *MarkConflictError) Is(target error) bool { return target == failure.ErrConflict }

func markID(submissionID, markerID string) string { return submissionID + "/" + markerID }

// Score is a total and an outcome.
type Score struct {
	Total   int    `bson:"total" json:"total"`
	Outcome string `bson:"outcome" json:"outcome"`
}

// Result is the total and outcome the rubric gives the levels of a mark: under RuleSum a
// total at the pass mark or above passes; under RuleAllPass every criterion must be at a
// level that passes (a criterion with no level refers).
func Result(r Rubric, m Mark) Score {
	return resultOf(r, m.Levels)
}

func resultOf(r Rubric, levels []CriterionMark) Score {
	total, allPass := 0, true
	for _, c := range r.Criteria {
		var chosen *Level
		for _, l := range levels {
			if l.CriterionID == c.ID {
				if lv, _, ok := c.Level(l.LevelID); ok {
					chosen = &lv
				}
			}
		}
		if chosen == nil {
			allPass = false
			continue
		}
		total += chosen.Marks
		allPass = allPass && chosen.Outcome == OutcomePass
	}
	out := OutcomeRefer
	switch r.Rule {
	case RuleSum:
		if total >= r.PassMark {
			out = OutcomePass
		}
	case RuleAllPass:
		if allPass {
			out = OutcomePass
		}
	}
	return Score{Total: total, Outcome: out}
}

// validateLevels checks the levels against the rubric, naming the field of each problem:
// "levels[1].levelId" for a level the criterion lacks, "levels[1].turns" for turns cited on
// a rubric that does not cite them or withheld by their speaker.
func validateLevels(r Rubric, levels []CriterionMark, withheld map[uint64]bool) error {
	var errs []error
	seen := map[string]bool{}
	for i, l := range levels {
		f := fmt.Sprintf("levels[%d]", i)
		c, _, ok := r.Criterion(l.CriterionID)
		if !ok {
			errs = append(errs, failure.Problemf(f+".criterionId", "The rubric has no criterion %q", l.CriterionID))
			continue
		}
		if seen[c.ID] {
			errs = append(errs, failure.Problemf(f+".criterionId", "%s is marked twice", c.Title))
		}
		seen[c.ID] = true
		if l.LevelID != "" {
			if _, _, ok := c.Level(l.LevelID); !ok {
				errs = append(errs, failure.Problemf(f+".levelId", "Choose one of the levels of %s", c.Title))
			}
		}
		if len(l.Turns) > 0 && !r.CitesTurns {
			errs = append(errs, failure.Problem(f+".turns", "This rubric does not cite transcript turns"))
		}
		for _, t := range l.Turns {
			if withheld[t] {
				errs = append(errs, failure.Problemf(f+".turns", "Turn %d was withheld by its speaker and cannot be cited", t))
				break
			}
		}
	}
	return failure.Problems(errs...)
}

// mayMark refuses anyone but a marker allocated to the submission.
func mayMark(a Actor, p Piece, sub Submission) error {
	if slices.Contains(sub.Markers, a.UserID) && a.member(p.CohortID) {
		return nil
	}
	return refuse(a, p.CohortID, "mark this submission")
}

// SaveDraft saves the marker's draft, based on version base of their mark (0 for the first
// save). A save made since (another tab) is a *MarkConflictError carrying what is stored.
// The first save starts the marking: the submission can then be neither withdrawn nor
// replaced, and the transcript's speakers can no longer withdraw their consent.
func (s *Store) SaveDraft(ctx context.Context, a Actor, ref string, base int, in MarkInput) (Mark, error) {
	sub, p, err := s.resolve(ctx, ref)
	if err != nil {
		return Mark{}, err
	}
	if err := mayMark(a, p, sub); err != nil {
		return Mark{}, err
	}
	if err := s.refuseSupervisor(ctx, a, sub); err != nil {
		return Mark{}, err
	}
	if !sub.Active {
		return Mark{}, failure.Problem("submission", "The trainee withdrew this submission")
	}
	r, err := s.Rubric(ctx, p.RubricID, p.RubricVersion)
	if err != nil {
		return Mark{}, err
	}
	withheld, err := s.withheld(ctx, sub, r, in.Levels)
	if err != nil {
		return Mark{}, err
	}
	if err := validateLevels(r, in.Levels, withheld); err != nil {
		return Mark{}, err
	}
	var old, m Mark
	first := false
	err = func() error {
		// The submission's lock orders every write of its marks with allocation and withdrawal:
		// a marker taken off, or a submission withdrawn, gets no draft after it.
		defer s.db.Serialize(submissionsCollection, sub.ID)()
		cur, err := s.submission(ctx, sub.ID)
		if err != nil {
			return err
		}
		if err := mayMark(a, p, cur); err != nil {
			return err
		}
		if !cur.Active {
			return failure.Problem("submission", "The trainee withdrew this submission")
		}
		id := markID(sub.ID, a.UserID)
		if old, err = database.FindByID[Mark](ctx, s.marks, id); err != nil && !errors.Is(err, failure.ErrNotFound) {
			return err
		}
		switch {
		case old.Submitted:
			return failure.Problem("submit", "You have submitted your marking: it can no longer change")
		case old.Version != base:
			return &MarkConflictError{Stored: old}
		}
		if !cur.Started() {
			cur.MarkingStarted, first = s.now().UTC(), true
			if err := s.submissions.Put(ctx, cur.ID, cur); err != nil {
				return err
			}
		}
		m = Mark{ID: id, SubmissionID: sub.ID, MarkerID: a.UserID, MarkInput: in, Version: base + 1, SavedAt: s.now().UTC()}
		return s.marks.Put(ctx, id, m)
	}()
	if err != nil {
		return Mark{}, err
	}
	if first {
		if err := s.onMarkingStarted(ctx, a, sub); err != nil {
			return Mark{}, err
		}
	}
	if err := s.appendTrail(ctx, sub.ID, a, "draft saved", markChanges(r, old, m)...); err != nil {
		return Mark{}, err
	}
	if p.Anonymous {
		m.ID, m.SubmissionID = "", Ref(p, sub)
	}
	return m, nil
}

// withheld asks for the turns whose speakers have not agreed, when the draft cites any.
func (s *Store) withheld(ctx context.Context, sub Submission, r Rubric, levels []CriterionMark) (map[uint64]bool, error) {
	if !r.CitesTurns || sub.Items.Transcript == nil || s.consent == nil {
		return nil, nil
	}
	cites := false
	for _, l := range levels {
		cites = cites || len(l.Turns) > 0
	}
	if !cites {
		return nil, nil
	}
	return s.consent.Withheld(ctx, sub.ID)
}

// onMarkingStarted records that marking started and closes the speakers' consent: from then
// on what is marked stays as it is.
func (s *Store) onMarkingStarted(ctx context.Context, a Actor, sub Submission) error {
	if err := s.appendTrail(ctx, sub.ID, a, "marking started"); err != nil {
		return err
	}
	if sub.Items.Transcript != nil && s.consent != nil {
		if err := s.consent.Close(ctx, sub.ID); err != nil {
			return fmt.Errorf("close the speakers' consent: %w", err)
		}
	}
	return nil
}

// markChanges lists what a save changed: each criterion's level, and whether the texts did.
func markChanges(r Rubric, old, m Mark) []Change {
	var out []Change
	for _, c := range r.Criteria {
		before, _ := old.Level(c.ID)
		after, _ := m.Level(c.ID)
		out = append(out, Change{Field: "levels." + c.ID, Before: before.LevelID, After: after.LevelID})
		if before.Comment != after.Comment {
			out = append(out, Change{Field: "levels." + c.ID + ".comment", After: "changed"})
		}
		if !slices.Equal(before.Turns, after.Turns) {
			out = append(out, Change{Field: "levels." + c.ID + ".turns", Before: fmt.Sprint(before.Turns), After: fmt.Sprint(after.Turns)})
		}
	}
	if old.Feedback != m.Feedback {
		out = append(out, Change{Field: "feedback", After: "changed"})
	}
	if old.PrivateNote != m.PrivateNote {
		out = append(out, Change{Field: "privateNote", After: "changed"})
	}
	return out
}

// SubmitMark submits the marker's saved draft (at version base) as their marking: every
// criterion must have a level. It does not change afterwards; a moderator settles the result.
func (s *Store) SubmitMark(ctx context.Context, a Actor, ref string, base int) (Mark, error) {
	sub, p, err := s.resolve(ctx, ref)
	if err != nil {
		return Mark{}, err
	}
	if err := mayMark(a, p, sub); err != nil {
		return Mark{}, err
	}
	if err := s.refuseSupervisor(ctx, a, sub); err != nil {
		return Mark{}, err
	}
	r, err := s.Rubric(ctx, p.RubricID, p.RubricVersion)
	if err != nil {
		return Mark{}, err
	}
	id := markID(sub.ID, a.UserID)
	unlock := s.db.Serialize(submissionsCollection, sub.ID)
	m, err := database.FindByID[Mark](ctx, s.marks, id)
	if errors.Is(err, failure.ErrNotFound) {
		unlock()
		return Mark{}, failure.Problem("levels", "Save your marking before submitting it")
	}
	if err != nil {
		unlock()
		return Mark{}, err
	}
	if m.Submitted {
		unlock()
		return Mark{}, failure.Problem("submit", "You have submitted your marking already")
	}
	if m.Version != base {
		unlock()
		return Mark{}, &MarkConflictError{Stored: m}
	}
	var missing []error
	for _, c := range r.Criteria {
		if l, ok := m.Level(c.ID); !ok || l.LevelID == "" {
			missing = append(missing, failure.Problemf("levels."+c.ID, "Choose a level for %s", c.Title))
		}
	}
	if len(missing) > 0 {
		unlock()
		return Mark{}, failure.Problems(missing...)
	}
	m.Submitted, m.SubmittedAt, m.Version = true, s.now().UTC(), m.Version+1
	err = s.marks.Put(ctx, id, m)
	unlock()
	if err != nil {
		return Mark{}, err
	}
	score := Result(r, m)
	err = s.appendTrail(ctx, sub.ID, a, "marking submitted",
		Change{Field: "total", After: fmt.Sprint(score.Total)}, Change{Field: "outcome", After: score.Outcome})
	return m, err
}

// ReadMark reads one marker's mark of the submission. A marker reads their own, draft or
// submitted. Another's is read only once submitted, and then by administrators and
// moderators, and under double-blind marking by the other marker only after submitting their
// own: until then it is failure.ErrNotFound, as if there were none. Trainees read no mark.
func (s *Store) ReadMark(ctx context.Context, a Actor, ref, markerID string) (Mark, error) {
	sub, p, err := s.resolve(ctx, ref)
	if err != nil {
		return Mark{}, err
	}
	marks, err := s.marksOf(ctx, sub)
	if err != nil {
		return Mark{}, err
	}
	for _, m := range visibleMarks(a, p, sub, marks) {
		if m.MarkerID == markerID {
			return m, nil
		}
	}
	return Mark{}, fmt.Errorf("mark of %s by %s: %w", Ref(p, sub), markerID, failure.ErrNotFound)
}

// visibleMarks is the marks of the submission that the actor may read (see ReadMark).
func visibleMarks(a Actor, p Piece, sub Submission, marks []Mark) []Mark {
	mine, iSubmitted := false, false
	for _, m := range marks {
		if m.MarkerID == a.UserID {
			mine, iSubmitted = true, m.Submitted
		}
	}
	isMarker := slices.Contains(sub.Markers, a.UserID)
	overseer := a.admin() || (a.cohortAssessor(p.CohortID) && !isMarker)
	var out []Mark
	for _, m := range marks {
		if p.Anonymous {
			m.ID, m.SubmissionID = "", Ref(p, sub) // the stored ids carry the trainee's
		}
		switch {
		case m.MarkerID == a.UserID && mine:
			out = append(out, m)
		case !m.Submitted:
		case overseer:
			out = append(out, m)
		case isMarker && iSubmitted:
			out = append(out, m)
		}
	}
	return out
}

// marksOf reads the marks of the submission's markers that exist, in the order of
// sub.Markers.
func (s *Store) marksOf(ctx context.Context, sub Submission) ([]Mark, error) {
	ids := make([]string, len(sub.Markers))
	for i, m := range sub.Markers {
		ids[i] = markID(sub.ID, m)
	}
	return database.FindEachByID[Mark](ctx, s.marks, ids)
}

// trimmed is the text with its surrounding space removed, for required reasons.
func trimmed(s string) string { return strings.TrimSpace(s) }
