package marking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// TraineeResult is what a trainee sees of their marking once it is released: the agreed
// total and outcome, the levels per criterion, the feedback meant for them, and who marked
// only when the piece shows it.
type TraineeResult struct {
	AgreedResult `bson:",inline"`
	Criteria     []CriterionResult `bson:"criteria" json:"criteria"`
	// Feedback is every text meant for the trainee: each marker's, then the moderator's.
	Feedback []string `bson:"feedback" json:"feedback"`
	// MarkerIDs are the markers, only when the piece shows them (Piece.ShowMarkers).
	MarkerIDs  []string  `bson:"marker_ids,omitempty" json:"markerIds,omitempty"`
	ReleasedAt time.Time `bson:"released_at" json:"releasedAt"`
	// Revision counts re-moderations since the first release.
	Revision int `bson:"revision" json:"revision"`
}

// CriterionResult is one criterion of a released result: the level agreed (the moderator's),
// or those the markers gave, with their comments.
type CriterionResult struct {
	CriterionID string   `bson:"criterion_id" json:"criterionId"`
	Title       string   `bson:"title" json:"title"`
	Levels      []Level  `bson:"levels" json:"levels"`
	Comments    []string `bson:"comments" json:"comments"`
}

// releaseDoc is a released result: inserted once per submission, whole, so a result is
// never released twice nor in part; changed afterwards only by re-moderation.
type releaseDoc struct {
	ID         string        `bson:"_id"`
	PieceID    string        `bson:"piece_id"`
	TraineeID  string        `bson:"trainee_id"`
	ReleasedBy string        `bson:"released_by"`
	Result     TraineeResult `bson:"result"`
}

// traineeResult makes what the trainee will see from the records and the agreed result.
func traineeResult(rec record, res AgreedResult) TraineeResult {
	out := TraineeResult{AgreedResult: res}
	out.Reason, out.By, out.Levels = "", "", nil // the moderator's reason and name are for the board
	done := rec.submitted()
	for _, c := range rec.rubric.Criteria {
		cr := CriterionResult{CriterionID: c.ID, Title: c.Title}
		from := done
		if agreedLevel, ok := (Mark{MarkInput: MarkInput{Levels: res.Levels}}).Level(c.ID); ok && agreedLevel.LevelID != "" {
			from = []Mark{{MarkInput: MarkInput{Levels: []CriterionMark{agreedLevel}}}}
		}
		for _, m := range from {
			l, ok := m.Level(c.ID)
			if !ok {
				continue
			}
			if lv, _, ok := c.Level(l.LevelID); ok && !slices.ContainsFunc(cr.Levels, func(x Level) bool { return x.ID == lv.ID }) {
				cr.Levels = append(cr.Levels, lv)
			}
			if trimmed(l.Comment) != "" {
				cr.Comments = append(cr.Comments, l.Comment)
			}
		}
		out.Criteria = append(out.Criteria, cr)
	}
	for _, m := range done {
		if trimmed(m.Feedback) != "" {
			out.Feedback = append(out.Feedback, m.Feedback)
		}
	}
	if trimmed(res.Feedback) != "" {
		out.Feedback = append(out.Feedback, res.Feedback)
	}
	out.AgreedResult.Feedback = ""
	if rec.piece.ShowMarkers {
		out.MarkerIDs = append([]string(nil), rec.sub.Markers...)
	}
	return out
}

// ReleaseReport says what a release did: the trainees whose results it released, those
// released before, and those whose results were not agreed yet (or who submitted nothing).
type ReleaseReport struct {
	Released        []string `json:"released"`
	AlreadyReleased []string `json:"alreadyReleased"`
	NotReady        []string `json:"notReady"`
}

// Release releases the agreed results of the piece to the trainees: every one when traineeID
// is empty, or that trainee's. Only agreed results are released, each once and whole.
// Administrators release.
func (s *Store) Release(ctx context.Context, a Actor, pieceID, traineeID string) (ReleaseReport, error) {
	p, err := s.piece(ctx, pieceID)
	if err != nil {
		return ReleaseReport{}, err
	}
	if err := mayAdmin(a, p.CohortID, "release results"); err != nil {
		return ReleaseReport{}, err
	}
	ids := []string{SubmissionID(p.ID, traineeID)}
	if traineeID == "" {
		if ids, err = s.listed(ctx, submissionsList(p.ID)); err != nil {
			return ReleaseReport{}, err
		}
	}
	var rep ReleaseReport
	for _, id := range ids {
		sub, err := s.submission(ctx, id)
		if errors.Is(err, failure.ErrNotFound) {
			rep.NotReady = append(rep.NotReady, traineeOf(p.ID, id))
			continue
		}
		if err != nil {
			return rep, err
		}
		released, err := s.releaseOne(ctx, a, p, sub)
		if err != nil {
			return rep, err
		}
		switch released {
		case Released:
			rep.Released = append(rep.Released, sub.TraineeID)
		case Agreed:
			rep.AlreadyReleased = append(rep.AlreadyReleased, sub.TraineeID)
		default:
			rep.NotReady = append(rep.NotReady, sub.TraineeID)
		}
	}
	return rep, nil
}

func traineeOf(pieceID, submissionID string) string {
	return submissionID[min(len(submissionID), len(pieceID)+1):]
}

// releaseOne releases one submission's result if it is agreed, holding the submission's
// lock so that no moderation comes between the check and the insert. It says Released when
// it released it, Agreed when it was released before, and the state otherwise.
func (s *Store) releaseOne(ctx context.Context, a Actor, p Piece, sub Submission) (State, error) {
	unlock := s.db.Serialize(submissionsCollection, sub.ID)
	rec, err := s.load(ctx, p, sub)
	if err != nil {
		unlock()
		return "", err
	}
	st := rec.state()
	if st == Released {
		unlock()
		return Agreed, nil
	}
	res, ok := rec.agreed()
	if st != Agreed || !ok {
		unlock()
		return st, nil
	}
	tr := traineeResult(rec, res)
	tr.ReleasedAt = s.now().UTC()
	err = database.Insert(ctx, s.releases, releaseDoc{ID: sub.ID, PieceID: p.ID, TraineeID: sub.TraineeID, ReleasedBy: a.UserID, Result: tr})
	unlock()
	if errors.Is(err, database.ErrDuplicate) {
		return Agreed, nil // another instance released it just now
	}
	if err != nil {
		return "", err
	}
	return Released, s.appendTrail(ctx, sub.ID, a, "released",
		Change{Field: "total", After: fmt.Sprint(res.Total)}, Change{Field: "outcome", After: res.Outcome})
}

// rerelease replaces the released result with the re-moderated one; the caller holds the
// submission's lock.
func (s *Store) rerelease(ctx context.Context, rec record) error {
	res, _ := rec.agreed()
	tr := traineeResult(rec, res)
	tr.ReleasedAt, tr.Revision = rec.release.Result.ReleasedAt, rec.release.Result.Revision+1
	doc := *rec.release
	doc.Result = tr
	return s.releases.Put(ctx, doc.ID, doc)
}

// TraineeView is what a trainee sees of their submission of a piece: what they submitted,
// whether it was late, their extension, and after release their result; before release,
// nothing of the marking.
type TraineeView struct {
	PieceID  string    `json:"pieceId"`
	Title    string    `json:"title"`
	Due      time.Time `json:"due"`
	Deadline time.Time `json:"deadline"`
	// State is NotSubmitted, Submitted (whatever the marking's progress) or Released.
	State       State          `json:"state"`
	Active      bool           `json:"active"`
	Attempt     int            `json:"attempt"`
	Items       Items          `json:"items"`
	SubmittedAt time.Time      `json:"submittedAt"`
	Late        bool           `json:"late"`
	Extension   *Extension     `json:"extension,omitempty"`
	History     []Attempt      `json:"history"`
	Result      *TraineeResult `json:"result,omitempty"`
}

// TraineeView reads the trainee's view of their submission of the piece: for the trainee,
// and for administrators.
func (s *Store) TraineeView(ctx context.Context, a Actor, pieceID, traineeID string) (TraineeView, error) {
	p, err := s.piece(ctx, pieceID)
	if err != nil {
		return TraineeView{}, err
	}
	if !(a.UserID == traineeID && a.member(p.CohortID)) && !a.admin() {
		return TraineeView{}, fmt.Errorf("submission of %s: %w", pieceID, failure.ErrNotFound)
	}
	v := TraineeView{PieceID: p.ID, Title: p.Title, Due: p.Due, Deadline: p.Due, State: NotSubmitted}
	sub, err := s.submission(ctx, SubmissionID(p.ID, traineeID))
	if errors.Is(err, failure.ErrNotFound) {
		return v, nil
	}
	if err != nil {
		return TraineeView{}, err
	}
	v.Deadline, v.Active, v.Attempt, v.Items = sub.Deadline(p), sub.Active, sub.Attempt, sub.Items
	v.SubmittedAt, v.Late, v.Extension, v.History = sub.SubmittedAt, sub.Late, sub.Extension, sub.History
	if sub.Active {
		v.State = Submitted
	}
	rel, err := database.FindByID[releaseDoc](ctx, s.releases, sub.ID)
	switch {
	case err == nil && sub.Active:
		v.State, v.Result = Released, &rel.Result
	case err != nil && !errors.Is(err, failure.ErrNotFound):
		return TraineeView{}, err
	}
	return v, nil
}
