package marking

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"polyphony/internal/failure"
)

// MarkerView is a submission as its markers and moderators see it: under anonymous marking
// it carries the candidate number and nothing that names the trainee (no id, and files
// renamed after the candidate number, "C0007-1.pdf").
type MarkerView struct {
	// Ref names the submission in the marker's calls (SaveDraft, SubmitMark, ...).
	Ref             string `json:"ref"`
	PieceID         string `json:"pieceId"`
	PieceTitle      string `json:"pieceTitle"`
	CandidateNumber string `json:"candidateNumber"`
	// TraineeID is empty under anonymous marking.
	TraineeID   string    `json:"traineeId,omitempty"`
	Anonymous   bool      `json:"anonymous"`
	Items       Items     `json:"items"`
	SubmittedAt time.Time `json:"submittedAt"`
	Late        bool      `json:"late"`
	Deadline    time.Time `json:"deadline"`
	State       State     `json:"state"`
	Rubric      Rubric    `json:"rubric"`
	// WithheldTurns are the transcript's turns whose speakers have not agreed: shown as
	// "[turn withheld by the speaker]".
	WithheldTurns map[uint64]bool `json:"withheldTurns,omitempty"`
	// Marks are those the reader may see: their own, and others' as ReadMark allows.
	Marks []Mark `json:"marks"`
	// Agreed is the agreed result, once there is one.
	Agreed *AgreedResult `json:"agreed,omitempty"`
	// Role is what the reader does here: "marker", "moderator" or "admin".
	Role string `json:"role"`
}

// MarkerView reads the submission for an allocated marker, a moderator (an assessor of the
// cohort who does not mark it) or an administrator.
func (s *Store) MarkerView(ctx context.Context, a Actor, ref string) (MarkerView, error) {
	sub, p, err := s.resolve(ctx, ref)
	if err != nil {
		return MarkerView{}, err
	}
	role := ""
	switch {
	case slices.Contains(sub.Markers, a.UserID) && a.member(p.CohortID):
		role = "marker"
	case a.cohortAssessor(p.CohortID):
		role = "moderator"
	case a.admin():
		role = "admin"
	default:
		return MarkerView{}, refuse(a, p.CohortID, "see this submission")
	}
	if role == "marker" {
		if err := s.refuseSupervisor(ctx, a, sub); err != nil {
			return MarkerView{}, err
		}
	}
	if !sub.Active {
		return MarkerView{}, fmt.Errorf("submission %s was withdrawn: %w", Ref(p, sub), failure.ErrNotFound)
	}
	rec, err := s.load(ctx, p, sub)
	if err != nil {
		return MarkerView{}, err
	}
	v := MarkerView{
		Ref: Ref(p, sub), PieceID: p.ID, PieceTitle: p.Title, CandidateNumber: sub.CandidateNumber,
		Anonymous: p.Anonymous, Items: sub.Items, SubmittedAt: sub.SubmittedAt, Late: sub.Late,
		Deadline: sub.Deadline(p), State: rec.state(), Rubric: rec.rubric, Role: role,
		Marks: visibleMarks(a, p, sub, rec.marks),
	}
	if !p.Anonymous {
		v.TraineeID = sub.TraineeID
	} else {
		v.Items = anonymised(sub.CandidateNumber, sub.Items)
	}
	if role != "marker" || marksDone(a, rec.marks) {
		if res, ok := rec.agreed(); ok {
			v.Agreed = &res
		}
	}
	if sub.Items.Transcript != nil && s.consent != nil {
		if v.WithheldTurns, err = s.consent.Withheld(ctx, sub.ID); err != nil {
			return MarkerView{}, err
		}
	}
	return v, nil
}

// marksDone reports whether the actor has submitted their own mark.
func marksDone(a Actor, marks []Mark) bool {
	for _, m := range marks {
		if m.MarkerID == a.UserID {
			return m.Submitted
		}
	}
	return false
}

// anonymised renames the files after the candidate number, keeping their extension, since a
// file's name often carries its author's ("J Smith reflective account.docx").
func anonymised(candidate string, it Items) Items {
	out := it
	out.Files = make([]FileItem, len(it.Files))
	for i, f := range it.Files {
		ext := strings.ToLower(path.Ext(f.Name))
		if len(ext) > 10 || strings.ContainsAny(ext, " /\\") {
			ext = ""
		}
		f.Name = fmt.Sprintf("%s-%d%s", candidate, i+1, ext)
		out.Files[i] = f
	}
	return out
}
