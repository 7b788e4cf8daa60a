package marking

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// EntryItem is a journal entry submitted at one frozen revision.
type EntryItem struct {
	EntryID string `bson:"entry_id" json:"entryId"`
	Version int    `bson:"version" json:"version"`
	Title   string `bson:"title" json:"title"`
}

// FileItem is a file or medium submitted from the revision of a journal entry the trainee
// submitted to the assessors, where the upload pipeline stored it: the entry and revision
// say who may read it and where it came from, the key finds the object, and the SHA-256 of
// its content, taken when it was submitted, freezes it.
type FileItem struct {
	EntryID     string `bson:"entry_id" json:"entryId,omitempty"`
	Version     int    `bson:"version" json:"version,omitempty"`
	Key         string `bson:"key" json:"key,omitempty"`
	Hash        string `bson:"hash" json:"hash"`
	Name        string `bson:"name" json:"name"`
	ContentType string `bson:"content_type" json:"contentType"`
	Size        int64  `bson:"size" json:"size"`
}

// TranscriptItem is the transcript of one of the cohort's dialogue rooms.
type TranscriptItem struct {
	CohortID string `bson:"cohort_id" json:"cohortId"`
	RoomID   string `bson:"room_id" json:"roomId"`
	Title    string `bson:"title" json:"title"`
}

// Items are what a trainee submits.
type Items struct {
	Entries []EntryItem `bson:"entries" json:"entries"`
	Files   []FileItem  `bson:"files" json:"files"`
	// FilesAgreed is the trainee's word, given with the files, that everyone who can be
	// seen or heard in them agrees to the assessors seeing or hearing them: a picture or a
	// recording holds other people as a transcript holds their words, and no one can ask
	// them turn by turn.
	FilesAgreed bool            `bson:"files_agreed" json:"filesAgreed"`
	Transcript  *TranscriptItem `bson:"transcript,omitempty" json:"transcript,omitempty"`
}

func (it Items) empty() bool {
	return len(it.Entries) == 0 && len(it.Files) == 0 && it.Transcript == nil
}

// Extension is a later deadline an administrator granted one trainee.
type Extension struct {
	Until     time.Time `bson:"until" json:"until"`
	Reason    string    `bson:"reason" json:"reason"`
	GrantedBy string    `bson:"granted_by" json:"grantedBy"`
	GrantedAt time.Time `bson:"granted_at" json:"grantedAt"`
}

// Attempt is one submission the trainee made and later withdrew or replaced: kept, so the
// history of what was submitted is never lost.
type Attempt struct {
	Number      int       `bson:"number" json:"number"`
	Items       Items     `bson:"items" json:"items"`
	SubmittedAt time.Time `bson:"submitted_at" json:"submittedAt"`
	Late        bool      `bson:"late" json:"late"`
	EndedAt     time.Time `bson:"ended_at" json:"endedAt"`
	// Ended is "withdrawn" or "replaced".
	Ended string `bson:"ended" json:"ended"`
}

// Submission is one trainee's submission of one piece. It exists once the trainee submits
// or an extension is granted, and keeps its earlier attempts.
type Submission struct {
	ID              string `bson:"_id" json:"id"`
	PieceID         string `bson:"piece_id" json:"pieceId"`
	CohortID        string `bson:"cohort_id" json:"cohortId"`
	TraineeID       string `bson:"trainee_id" json:"traineeId"`
	CandidateNumber string `bson:"candidate" json:"candidateNumber"`
	// Active says that something is submitted now (not withdrawn, and not only an extension).
	Active      bool       `bson:"active" json:"active"`
	Attempt     int        `bson:"attempt" json:"attempt"`
	Items       Items      `bson:"items" json:"items"`
	SubmittedAt time.Time  `bson:"submitted_at" json:"submittedAt"`
	Late        bool       `bson:"late" json:"late"`
	History     []Attempt  `bson:"history" json:"history"`
	Extension   *Extension `bson:"extension,omitempty" json:"extension,omitempty"`
	Markers     []string   `bson:"markers" json:"markers"`
	// MarkingStarted is when a marker first saved a draft: from then on the submission can
	// be neither withdrawn nor replaced.
	MarkingStarted time.Time `bson:"marking_started" json:"markingStarted"`
}

// Started reports whether marking has started.
func (sub Submission) Started() bool { return !sub.MarkingStarted.IsZero() }

// Deadline is when the submission is due: the piece's due date, or the trainee's extension.
func (sub Submission) Deadline(p Piece) time.Time {
	if sub.Extension != nil && sub.Extension.Until.After(p.Due) {
		return sub.Extension.Until
	}
	return p.Due
}

// SubmissionID is the id of the trainee's submission of the piece.
func SubmissionID(pieceID, traineeID string) string { return pieceID + "/" + traineeID }

func submissionsList(pieceID string) string { return "submissions:" + pieceID }

// validateItems checks what is submitted against what the piece accepts.
func (s *Store) validateItems(p Piece, it Items) error {
	var errs []error
	if it.empty() {
		return failure.Problem("items", "Choose what to submit")
	}
	if len(it.Entries) > 0 && !p.Accepts.Entries {
		errs = append(errs, failure.Problem("entries", "This piece does not take journal entries"))
	}
	for i, e := range it.Entries {
		if strings.TrimSpace(e.EntryID) == "" || e.Version < 1 {
			errs = append(errs, failure.Problemf(fmt.Sprintf("entries[%d]", i), "Choose a saved revision of the entry"))
		}
	}
	if len(it.Files) > 0 && !p.Accepts.Files {
		errs = append(errs, failure.Problem("files", "This piece does not take files"))
	}
	if len(it.Files) > 0 && p.Accepts.Files && !it.FilesAgreed {
		errs = append(errs, failure.Problem("filesAgreed", "Confirm that everyone who can be seen or heard in the files agrees to the assessors seeing or hearing them"))
	}
	for i, f := range it.Files {
		field := fmt.Sprintf("files[%d]", i)
		switch {
		case strings.TrimSpace(f.EntryID) == "" || f.Version < 1 || strings.TrimSpace(f.Key) == "":
			errs = append(errs, failure.Problem(field, "Choose a file of an entry you submitted to the assessors"))
		case strings.TrimSpace(f.Hash) == "":
			errs = append(errs, failure.Problem(field+".hash", "Upload the file before submitting it"))
		case strings.TrimSpace(f.Name) == "":
			errs = append(errs, failure.Problem(field+".name", "Give the file a name"))
		case f.Size <= 0:
			errs = append(errs, failure.Problem(field+".size", "The file is empty"))
		}
	}
	if tr := it.Transcript; tr != nil {
		switch {
		case !p.Accepts.Transcript:
			errs = append(errs, failure.Problem("transcript", "This piece does not take a dialogue transcript"))
		case s.consent == nil:
			errs = append(errs, failure.Problem("transcript", "A transcript cannot be submitted here: the speakers could not be asked for their consent"))
		case tr.CohortID != p.CohortID || strings.TrimSpace(tr.RoomID) == "":
			errs = append(errs, failure.Problem("transcript", "Choose the transcript of one of your cohort's rooms"))
		}
	}
	return failure.Problems(errs...)
}

// Submit submits the trainee's work: what is submitted is frozen (entries at their revision,
// files by content hash). A submission after the deadline is taken and marked late. Until
// marking starts the trainee may submit again, which replaces what they submitted (kept in
// the history); after it starts the submission cannot change.
func (s *Store) Submit(ctx context.Context, a Actor, pieceID string, it Items) (Submission, error) {
	p, err := s.piece(ctx, pieceID)
	if err != nil {
		return Submission{}, err
	}
	if err := maySubmit(a, p.CohortID, a.UserID); err != nil {
		return Submission{}, err
	}
	if err := s.validateItems(p, it); err != nil {
		return Submission{}, err
	}
	candidate, err := s.candidate(ctx, p.ID, a.UserID)
	if err != nil {
		return Submission{}, err
	}
	var before Submission
	sub, err := s.changeSubmission(ctx, p, a.UserID, func(sub *Submission) error {
		before = *sub
		if sub.Started() {
			return failure.Problem("items", "Marking has started: the submission can no longer change")
		}
		now := s.now().UTC()
		if sub.Active {
			sub.History = append(sub.History, Attempt{Number: sub.Attempt, Items: sub.Items, SubmittedAt: sub.SubmittedAt, Late: sub.Late, EndedAt: now, Ended: "replaced"})
		}
		sub.CandidateNumber = candidate
		sub.Active, sub.Attempt, sub.Items, sub.SubmittedAt = true, sub.Attempt+1, it, now
		sub.Late = now.After(sub.Deadline(p))
		return nil
	})
	if err != nil {
		return Submission{}, err
	}
	action := "submitted"
	if before.Active {
		action = "resubmitted"
	}
	late := ""
	if sub.Late {
		late = "late"
	}
	if err := s.appendTrail(ctx, sub.ID, a, action, Change{Field: "attempt", After: fmt.Sprint(sub.Attempt)}, Change{Field: "late", After: late}); err != nil {
		return Submission{}, err
	}
	if before.Active && before.Items.Transcript != nil {
		if err := s.consent.Cancel(ctx, sub.ID); err != nil {
			return Submission{}, fmt.Errorf("cancel the request for consent: %w", err)
		}
	}
	if tr := it.Transcript; tr != nil {
		if err := s.consent.Ask(ctx, sub.ID, a.UserID, tr.CohortID, tr.RoomID, tr.Title); err != nil {
			return Submission{}, fmt.Errorf("ask the speakers for consent: %w", err)
		}
	}
	return sub, nil
}

// Withdraw withdraws the trainee's submission, until marking starts; it stays in the
// history, and submitting again makes a new attempt.
func (s *Store) Withdraw(ctx context.Context, a Actor, pieceID string) (Submission, error) {
	p, err := s.piece(ctx, pieceID)
	if err != nil {
		return Submission{}, err
	}
	if err := maySubmit(a, p.CohortID, a.UserID); err != nil {
		return Submission{}, err
	}
	var had *TranscriptItem
	sub, err := s.changeSubmission(ctx, p, a.UserID, func(sub *Submission) error {
		switch {
		case !sub.Active:
			return failure.Problem("withdraw", "There is no submission to withdraw")
		case sub.Started():
			return failure.Problem("withdraw", "Marking has started: the submission can no longer be withdrawn")
		}
		had = sub.Items.Transcript
		sub.History = append(sub.History, Attempt{Number: sub.Attempt, Items: sub.Items, SubmittedAt: sub.SubmittedAt, Late: sub.Late, EndedAt: s.now().UTC(), Ended: "withdrawn"})
		sub.Active, sub.Items, sub.SubmittedAt, sub.Late = false, Items{}, time.Time{}, false
		return nil
	})
	if err != nil {
		return Submission{}, err
	}
	if err := s.appendTrail(ctx, sub.ID, a, "withdrawn", Change{Field: "attempt", Before: fmt.Sprint(sub.Attempt)}); err != nil {
		return Submission{}, err
	}
	if had != nil {
		if err := s.consent.Cancel(ctx, sub.ID); err != nil {
			return Submission{}, fmt.Errorf("cancel the request for consent: %w", err)
		}
	}
	return sub, nil
}

// GrantExtension gives the trainee a later deadline, with a reason. Administrators do.
func (s *Store) GrantExtension(ctx context.Context, a Actor, pieceID, traineeID string, until time.Time, reason string) (Submission, error) {
	p, err := s.piece(ctx, pieceID)
	if err != nil {
		return Submission{}, err
	}
	if err := mayAdmin(a, p.CohortID, "grant extensions"); err != nil {
		return Submission{}, err
	}
	reason = strings.TrimSpace(reason)
	switch {
	case strings.TrimSpace(traineeID) == "":
		return Submission{}, failure.Problem("traineeId", "Choose the trainee")
	case !until.After(p.Due):
		return Submission{}, failure.Problem("until", "Enter a date after the piece's due date")
	case reason == "":
		return Submission{}, failure.Problem("reason", "Enter the reason for the extension")
	}
	var before string
	sub, err := s.changeSubmission(ctx, p, traineeID, func(sub *Submission) error {
		if sub.Extension != nil {
			before = sub.Extension.Until.UTC().Format(time.RFC3339)
		}
		sub.Extension = &Extension{Until: until.UTC(), Reason: reason, GrantedBy: a.UserID, GrantedAt: s.now().UTC()}
		if sub.Active {
			// An extension granted after the work came in decides whether it was late.
			sub.Late = sub.SubmittedAt.After(sub.Deadline(p))
		}
		return nil
	})
	if err != nil {
		return Submission{}, err
	}
	err = s.appendTrail(ctx, sub.ID, a, "extension granted",
		Change{Field: "extension", Before: before, After: until.UTC().Format(time.RFC3339)}, Change{Field: "reason", After: reason})
	return sub, err
}

// changeSubmission reads the trainee's submission of the piece (a new one when there is
// none), lets change alter it, and stores it, holding the document's lock throughout so that
// no other change is lost between the read and the write.
func (s *Store) changeSubmission(ctx context.Context, p Piece, traineeID string, change func(*Submission) error) (Submission, error) {
	id := SubmissionID(p.ID, traineeID)
	if err := s.list(ctx, submissionsList(p.ID), id); err != nil {
		return Submission{}, err
	}
	unlock := s.db.Serialize(submissionsCollection, id)
	defer unlock()
	sub, err := database.FindByID[Submission](ctx, s.submissions, id)
	if errors.Is(err, failure.ErrNotFound) {
		sub, err = Submission{ID: id, PieceID: p.ID, CohortID: p.CohortID, TraineeID: traineeID}, nil
	}
	if err != nil {
		return Submission{}, err
	}
	if err := change(&sub); err != nil {
		return Submission{}, err
	}
	if err := s.submissions.Put(ctx, id, sub); err != nil {
		return Submission{}, err
	}
	return sub, nil
}

// submission reads a submission by its id with no check of who asks.
func (s *Store) submission(ctx context.Context, id string) (Submission, error) {
	sub, err := database.FindByID[Submission](ctx, s.submissions, id)
	if err != nil {
		return Submission{}, fmt.Errorf("submission %s: %w", id, err)
	}
	return sub, nil
}

var candidateRef = regexp.MustCompile(`^C[0-9]{4,}$`)

// resolve reads the submission a reference names: its id ("pieceID/traineeID"), or under
// anonymous marking the reference markers see ("pieceID/C0007"), with its piece.
func (s *Store) resolve(ctx context.Context, ref string) (Submission, Piece, error) {
	pieceID, rest, ok := strings.Cut(ref, "/")
	if !ok || pieceID == "" || rest == "" {
		return Submission{}, Piece{}, fmt.Errorf("submission %q: %w", ref, failure.ErrNotFound)
	}
	id := ref
	if candidateRef.MatchString(rest) {
		c, err := database.FindByID[candidateDoc](ctx, s.candidates, ref)
		if err == nil {
			id = SubmissionID(pieceID, c.TraineeID)
		} else if !errors.Is(err, failure.ErrNotFound) {
			return Submission{}, Piece{}, err
		}
	}
	sub, err := s.submission(ctx, id)
	if err != nil {
		return Submission{}, Piece{}, err
	}
	p, err := s.piece(ctx, sub.PieceID)
	if err != nil {
		return Submission{}, Piece{}, err
	}
	return sub, p, nil
}

// Ref is how markers and moderators name a submission: its candidate reference under
// anonymous marking, which carries no trainee's id, and its id otherwise.
func Ref(p Piece, sub Submission) string {
	if p.Anonymous {
		return p.ID + "/" + sub.CandidateNumber
	}
	return sub.ID
}

// Submission reads a submission, with the trainee's id: for the trainee themselves, for
// administrators, and for the cohort's assessors when marking is not anonymous (markers of
// an anonymous piece read MarkerView).
func (s *Store) Submission(ctx context.Context, a Actor, pieceID, traineeID string) (Submission, error) {
	sub, p, err := s.resolve(ctx, SubmissionID(pieceID, traineeID))
	if err != nil {
		return Submission{}, err
	}
	switch {
	case a.UserID == sub.TraineeID && a.member(p.CohortID), a.admin(), a.cohortAssessor(p.CohortID) && !p.Anonymous:
		return sub, nil
	}
	return Submission{}, fmt.Errorf("submission %s: %w", sub.ID, failure.ErrNotFound)
}
