package marking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London without relying on the host's zone files

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// The marking schemes.
const (
	SchemeSingle      = "single"
	SchemeDoubleBlind = "double-blind"
)

// The rules that make two markers' totals within tolerance into the agreed total.
const (
	AgreedMean   = "mean" // rounded half up
	AgreedHigher = "higher"
	AgreedLower  = "lower"
)

// uk is the programme's time zone: due dates are set and shown in it.
var uk = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err) // time/tzdata is compiled in
	}
	return loc
}()

// UKTime reads a date ("2026-03-02") and a time of day ("17:00") in UK time, as a form gives
// them, into the instant they name (in UTC).
func UKTime(date, clock string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02 15:04", strings.TrimSpace(date)+" "+strings.TrimSpace(clock), uk)
	if err != nil {
		return time.Time{}, failure.Problem("due", "Enter the due date as a date and a time, for example 2026-03-02 and 17:00")
	}
	return t.UTC(), nil
}

// InUK is t on the UK's clock, for showing a due date.
func InUK(t time.Time) time.Time { return t.In(uk) }

// Accepts says what a piece may be submitted as.
type Accepts struct {
	Entries    bool `bson:"entries" json:"entries"`
	Files      bool `bson:"files" json:"files"`
	Transcript bool `bson:"transcript" json:"transcript"`
}

// PieceInput is what a person sets up about a piece: everything but who made it and its
// version, which the store keeps.
type PieceInput struct {
	Title    string `bson:"title" json:"title"`
	Guidance string `bson:"guidance" json:"guidance"` // Markdown
	// Due is the deadline, an instant (UKTime reads it from a form); stored in UTC.
	Due           time.Time `bson:"due" json:"due"`
	Accepts       Accepts   `bson:"accepts" json:"accepts"`
	RubricID      string    `bson:"rubric_id" json:"rubricId"`
	RubricVersion int       `bson:"rubric_version" json:"rubricVersion"` // 0: the latest
	Scheme        string    `bson:"scheme" json:"scheme"`
	Anonymous     bool      `bson:"anonymous" json:"anonymous"`
	// Tolerance is the largest difference between two markers' totals that is agreed
	// without moderation.
	Tolerance int    `bson:"tolerance" json:"tolerance"`
	Agreed    string `bson:"agreed" json:"agreed"` // "" is AgreedMean
	// SamplePercent of the marked submissions is drawn for moderation, with every refer and
	// every borderline result.
	SamplePercent int `bson:"sample_percent" json:"samplePercent"`
	// Borderline is how many marks either side of the pass mark count as borderline.
	Borderline int `bson:"borderline" json:"borderline"`
	// ShowMarkers lets the trainee see who marked their work, once released.
	ShowMarkers bool `bson:"show_markers" json:"showMarkers"`
}

// NamesMarkers reports whether the trainee may learn who marked their work: only when the
// piece shows its markers and the marking is not anonymous. Where they may not, a trainee's
// access log says that an assessor read the work for marking, not which one.
func (p Piece) NamesMarkers() bool { return p.ShowMarkers && !p.Anonymous }

// Piece is an assessed piece of work set for a cohort.
type Piece struct {
	ID         string `bson:"_id" json:"id"`
	CohortID   string `bson:"cohort_id" json:"cohortId"`
	PieceInput `bson:",inline"`
	CreatedBy  string    `bson:"created_by" json:"createdBy"`
	CreatedAt  time.Time `bson:"created_at" json:"createdAt"`
	// Version counts the piece's saves; an edit names the version it was based on.
	Version int `bson:"version" json:"version"`
}

// Double reports whether two markers mark each submission.
func (p Piece) Double() bool { return p.Scheme == SchemeDoubleBlind }

// Markers is how many markers each submission has.
func (p Piece) Markers() int {
	if p.Double() {
		return 2
	}
	return 1
}

func piecesList(cohortID string) string { return "pieces:" + cohortID }

// validate checks the input against the rubric it names, reporting every problem.
func (s *Store) validatePiece(ctx context.Context, in *PieceInput) error {
	var errs []error
	in.Title = strings.TrimSpace(in.Title)
	if in.Title == "" {
		errs = append(errs, failure.Problem("title", "Enter a title for the piece"))
	}
	if in.Due.IsZero() {
		errs = append(errs, failure.Problem("due", "Enter the due date and time"))
	}
	in.Due = in.Due.UTC()
	if !in.Accepts.Entries && !in.Accepts.Files && !in.Accepts.Transcript {
		errs = append(errs, failure.Problem("accepts", "Choose what may be submitted: journal entries, files or a dialogue transcript"))
	}
	if in.Scheme != SchemeSingle && in.Scheme != SchemeDoubleBlind {
		errs = append(errs, failure.Problem("scheme", "Choose the marking scheme: single marker or two blind markers"))
	}
	if in.Tolerance < 0 {
		errs = append(errs, failure.Problem("tolerance", "Enter a tolerance of 0 marks or more"))
	}
	if in.Agreed == "" {
		in.Agreed = AgreedMean
	}
	if in.Agreed != AgreedMean && in.Agreed != AgreedHigher && in.Agreed != AgreedLower {
		errs = append(errs, failure.Problem("agreed", `Choose how two results within tolerance agree: "mean", "higher" or "lower"`))
	}
	if in.SamplePercent < 0 || in.SamplePercent > 100 {
		errs = append(errs, failure.Problem("samplePercent", "Enter a sample from 0 to 100 per cent"))
	}
	if in.Borderline < 0 {
		errs = append(errs, failure.Problem("borderline", "Enter a borderline of 0 marks or more"))
	}
	if in.RubricID == "" {
		errs = append(errs, failure.Problem("rubricId", "Choose a rubric"))
		return failure.Problems(errs...)
	}
	var r Rubric
	var err error
	if in.RubricVersion == 0 {
		r, err = s.LatestRubric(ctx, in.RubricID)
	} else {
		r, err = s.Rubric(ctx, in.RubricID, in.RubricVersion)
	}
	switch {
	case errors.Is(err, failure.ErrNotFound):
		errs = append(errs, failure.Problem("rubricId", "Choose a rubric that exists"))
	case err != nil:
		return err
	default:
		in.RubricVersion = r.Version
		if in.Tolerance > r.MaxTotal() {
			errs = append(errs, failure.Problemf("tolerance", "Enter a tolerance no higher than the rubric's highest total, %d", r.MaxTotal()))
		}
	}
	return failure.Problems(errs...)
}

// CreatePiece sets up a piece for the cohort. Administrators and the cohort's assessors do.
func (s *Store) CreatePiece(ctx context.Context, a Actor, cohortID string, in PieceInput) (Piece, error) {
	if err := mayAdminister(a, cohortID); err != nil {
		return Piece{}, err
	}
	if err := s.validatePiece(ctx, &in); err != nil {
		return Piece{}, err
	}
	p := Piece{ID: database.NewID(), CohortID: cohortID, PieceInput: in, CreatedBy: a.UserID, CreatedAt: s.now().UTC(), Version: 1}
	if err := s.list(ctx, piecesList(cohortID), p.ID); err != nil {
		return Piece{}, err
	}
	if err := database.Insert(ctx, s.pieces, p); err != nil {
		return Piece{}, err
	}
	return p, nil
}

// EditPiece changes a piece set up earlier; base is the version the change was based on, and
// a save since is failure.ErrConflict. Once marking of any of its submissions has started,
// its rubric, scheme and anonymity stay as they are.
func (s *Store) EditPiece(ctx context.Context, a Actor, pieceID string, base int, in PieceInput) (Piece, error) {
	p, err := s.piece(ctx, pieceID)
	if err != nil {
		return Piece{}, err
	}
	if err := mayAdminister(a, p.CohortID); err != nil {
		return Piece{}, err
	}
	if err := s.validatePiece(ctx, &in); err != nil {
		return Piece{}, err
	}
	if in.RubricID != p.RubricID || in.RubricVersion != p.RubricVersion || in.Scheme != p.Scheme || in.Anonymous != p.Anonymous {
		started, err := s.pieceMarkingStarted(ctx, p.ID)
		if err != nil {
			return Piece{}, err
		}
		if started {
			field := "rubricId"
			switch {
			case in.Scheme != p.Scheme:
				field = "scheme"
			case in.Anonymous != p.Anonymous:
				field = "anonymous"
			}
			return Piece{}, failure.Problem(field, "Marking has started: the rubric, the marking scheme and anonymity can no longer change")
		}
	}
	next := p
	next.PieceInput, next.Version = in, base+1
	ok, err := s.pieces.UpdateIf(ctx, p.ID, bson.M{"version": base}, bson.M{"$set": bson.M{
		"title": in.Title, "guidance": in.Guidance, "due": in.Due, "accepts": in.Accepts,
		"rubric_id": in.RubricID, "rubric_version": in.RubricVersion, "scheme": in.Scheme,
		"anonymous": in.Anonymous, "tolerance": in.Tolerance, "agreed": in.Agreed,
		"sample_percent": in.SamplePercent, "borderline": in.Borderline, "show_markers": in.ShowMarkers,
		"version": next.Version,
	}})
	if err != nil {
		return Piece{}, err
	}
	if !ok {
		return Piece{}, failure.Conflict("The piece was changed by someone else since you opened it")
	}
	return next, nil
}

// piece reads a piece with no check of who asks.
func (s *Store) piece(ctx context.Context, id string) (Piece, error) {
	p, err := database.FindByID[Piece](ctx, s.pieces, id)
	if err != nil {
		return Piece{}, fmt.Errorf("piece %s: %w", id, err)
	}
	return p, nil
}

// Piece reads a piece for anyone of its cohort (and administrators).
func (s *Store) Piece(ctx context.Context, a Actor, id string) (Piece, error) {
	p, err := s.piece(ctx, id)
	if err != nil {
		return Piece{}, err
	}
	if !a.admin() && !a.member(p.CohortID) {
		return Piece{}, fmt.Errorf("piece %s: %w", id, failure.ErrNotFound)
	}
	return p, nil
}

// Pieces lists the cohort's pieces, in the order they were set up.
func (s *Store) Pieces(ctx context.Context, a Actor, cohortID string) ([]Piece, error) {
	if !a.admin() && !a.member(cohortID) {
		return nil, fmt.Errorf("pieces of %s: %w", cohortID, failure.ErrNotFound)
	}
	ids, err := s.listed(ctx, piecesList(cohortID))
	if err != nil {
		return nil, err
	}
	return database.FindEachByID[Piece](ctx, s.pieces, ids)
}
