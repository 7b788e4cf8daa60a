package marking

import (
	"context"
	"errors"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// The collections (doc.go says how each is keyed).
const (
	rubricsCollection     = "marking_rubrics"
	piecesCollection      = "marking_pieces"
	submissionsCollection = "marking_submissions"
	candidatesCollection  = "marking_candidates"
	marksCollection       = "marking_marks"
	moderationCollection  = "marking_moderation"
	releasesCollection    = "marking_releases"
	samplesCollection     = "marking_samples"
	trailCollection       = "marking_trail"
	listsCollection       = "marking_lists"
)

// Consent asks the other speakers of a transcript whether their turns may be used as
// evidence, and says which turns they have not agreed to. Another package keeps it; the
// store calls it at the four moments of a submission's life that concern the speakers.
type Consent interface {
	// Ask asks every other speaker of the room's transcript; subjectID is the submission's ID.
	Ask(ctx context.Context, subjectID, ownerID, cohortID, roomID, title string) error
	// Withheld lists the turns markers may not read.
	Withheld(ctx context.Context, subjectID string) (map[uint64]bool, error)
	// Close says that marking started: consent can no longer be withdrawn.
	Close(ctx context.Context, subjectID string) error
	// Cancel says that the submission was withdrawn.
	Cancel(ctx context.Context, subjectID string) error
}

// Supervises reports whether supervisorID supervises traineeID (in any of their cohorts):
// such a person never marks the trainee.
type Supervises func(ctx context.Context, supervisorID, traineeID string) (bool, error)

// Options are what the store needs from the rest of Polyphony.
type Options struct {
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Supervises says who supervises whom; nil means nobody supervises anybody.
	Supervises Supervises
	// Consent asks speakers for their agreement; nil means no transcript may be submitted.
	Consent Consent
}

// Store keeps rubrics, pieces, submissions, marks, moderation, releases and the trail.
type Store struct {
	db          *database.DB
	rubrics     *database.Collection
	pieces      *database.Collection
	submissions *database.Collection
	candidates  *database.Collection
	marks       *database.Collection
	moderation  *database.Collection
	releases    *database.Collection
	samples     *database.Collection
	trail       *database.Collection
	lists       *database.Collection

	now        func() time.Time
	supervises Supervises
	consent    Consent
}

// NewStore returns the store, making its collections when they are missing.
func NewStore(ctx context.Context, db *database.DB, o Options) (*Store, error) {
	s := &Store{
		db:          db,
		rubrics:     db.Collection(rubricsCollection),
		pieces:      db.Collection(piecesCollection),
		submissions: db.Collection(submissionsCollection),
		candidates:  db.Collection(candidatesCollection),
		marks:       db.Collection(marksCollection),
		moderation:  db.Collection(moderationCollection),
		releases:    db.Collection(releasesCollection),
		samples:     db.Collection(samplesCollection),
		trail:       db.Collection(trailCollection),
		lists:       db.Collection(listsCollection),
		now:         o.Now,
		supervises:  o.Supervises,
		consent:     o.Consent,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.supervises == nil {
		s.supervises = func(context.Context, string, string) (bool, error) { return false, nil }
	}
	if err := db.EnsureCollections(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// listDoc is a list document: the ids it holds, in the order they were added.
type listDoc struct {
	ID  string   `bson:"_id"`
	IDs []string `bson:"ids"`
}

// listed reads the ids in the list document id; a missing one lists nothing.
func (s *Store) listed(ctx context.Context, id string) ([]string, error) {
	d, err := database.FindByID[listDoc](ctx, s.lists, id)
	if errors.Is(err, failure.ErrNotFound) {
		return nil, nil
	}
	return d.IDs, err
}

// list adds id to the list document list, once.
func (s *Store) list(ctx context.Context, list, id string) error {
	return s.db.AddToList(ctx, s.lists, list, "ids", id)
}
