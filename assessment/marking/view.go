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
	role, err := s.viewRole(ctx, a, p, sub)
	if err != nil {
		return MarkerView{}, err
	}
	rec, err := s.load(ctx, p, sub)
	if err != nil {
		return MarkerView{}, err
	}
	v := MarkerView{
		Ref: Ref(p, sub), PieceID: p.ID, PieceTitle: p.Title, CandidateNumber: sub.CandidateNumber,
		Anonymous: p.Anonymous, Items: forMarkers(p, sub), SubmittedAt: sub.SubmittedAt, Late: sub.Late,
		Deadline: sub.Deadline(p), State: rec.state(), Rubric: rec.rubric, Role: role,
		Marks: visibleMarks(a, p, sub, rec.marks),
	}
	if !p.Anonymous {
		v.TraineeID = sub.TraineeID
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

// forMarkers is what markers see of the submitted items: files without where they are
// kept (markers open a file by its place, through SubmittedFile), and under anonymous
// marking renamed after the candidate number.
func forMarkers(p Piece, sub Submission) Items {
	out := sub.Items
	out.Files = make([]FileItem, len(sub.Items.Files))
	for i, f := range sub.Items.Files {
		f.Name = markerFileName(p, sub, i)
		f.EntryID, f.Version, f.Key = "", 0, ""
		out.Files[i] = f
	}
	return out
}

// markerFileName is the name markers see for the submission's file at index i: its own,
// or under anonymous marking the candidate number and its place, keeping the extension,
// since a file's name often carries its author's ("J Smith reflective account.ogg").
func markerFileName(p Piece, sub Submission, i int) string {
	f := sub.Items.Files[i]
	if !p.Anonymous {
		return f.Name
	}
	ext := strings.ToLower(path.Ext(f.Name))
	if len(ext) > 10 || strings.ContainsAny(ext, " /\\") {
		ext = ""
	}
	return fmt.Sprintf("%s-%d%s", sub.CandidateNumber, i+1, ext)
}

// viewRole is what the actor does with the submission: "marker" (allocated, and not the
// trainee's supervisor), "moderator" (an assessor of the cohort who does not mark it) or
// "admin"; anyone else is refused.
func (s *Store) viewRole(ctx context.Context, a Actor, p Piece, sub Submission) (string, error) {
	role := ""
	switch {
	case slices.Contains(sub.Markers, a.UserID) && a.member(p.CohortID):
		role = "marker"
	case a.cohortAssessor(p.CohortID):
		role = "moderator"
	case a.admin():
		role = "admin"
	default:
		return "", refuse(a, p.CohortID, "see this submission")
	}
	if role == "marker" {
		if err := s.refuseSupervisor(ctx, a, sub); err != nil {
			return "", err
		}
	}
	if !sub.Active {
		return "", fmt.Errorf("submission %s was withdrawn: %w", Ref(p, sub), failure.ErrNotFound)
	}
	return role, nil
}

// SubmittedFile is the file at place n (from 1) of a submission, for those who may read the
// submission (as MarkerView): File says where it is kept, Name is the name to show and
// download it under, and NamesMarker whether the trainee may learn who read it.
func (s *Store) SubmittedFile(ctx context.Context, a Actor, ref string, n int) (SubmittedFile, error) {
	sub, p, err := s.resolve(ctx, ref)
	if err != nil {
		return SubmittedFile{}, err
	}
	if _, err := s.viewRole(ctx, a, p, sub); err != nil {
		return SubmittedFile{}, err
	}
	if n < 1 || n > len(sub.Items.Files) {
		return SubmittedFile{}, fmt.Errorf("file %d of submission %s: %w", n, ref, failure.ErrNotFound)
	}
	return SubmittedFile{File: sub.Items.Files[n-1], Name: markerFileName(p, sub, n-1), NamesMarker: p.NamesMarkers()}, nil
}

// SubmittedFile is a submitted file as SubmittedFile finds it for a reader.
type SubmittedFile struct {
	File        FileItem
	Name        string
	NamesMarker bool
}
