package consent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"polyphony/internal/audit"
	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Erased is the decision of a request whose speaker's data was erased: nobody can agree
// for them any more, so their words are used nowhere from then on.
const Erased Decision = "erased"

// ErasedName stands for an erased speaker's name, as it does in the audit log.
const ErasedName = audit.Erased

// Erase removes userID from the consent records, as part of erasing their personal data.
// As an owner, their subjects (quotes in their journal, their submissions' transcripts) go
// with every request made for them, each taken out of its speaker's list. As a speaker,
// each request made of them stays for its owner to see, but under a placeholder speaker
// that no account has, with ErasedName for their name and the decision Erased: their turns
// are withheld from markers and their quotes removed from entries. Nothing left names them;
// a mark under a hash of their id keeps them from being asked again (the rooms' transcripts
// still hold their turns) and their turns from being quoted.
// It reads and writes by _id only, through the person's two list documents, and may be run
// again after a failure: it takes up where it stopped.
func (s *Store) Erase(ctx context.Context, userID string) error {
	if userID == "" {
		return failure.Invalid("userId", "is required")
	}
	// The mark goes first, so that nobody is asked afresh meanwhile (a submission made
	// again reads the room's transcript, which still holds the person's turns).
	if err := database.InsertOnce(ctx, s.lists, erasedMark{ID: erasedMarkID(userID)}); err != nil {
		return fmt.Errorf("mark the erased speaker: %w", err)
	}
	if err := s.eraseOwner(ctx, userID); err != nil {
		return err
	}
	return s.eraseSpeaker(ctx, userID)
}

// erasedMark, in consent_lists, says that a person was erased, under an id that is a hash
// of theirs: no request is made of them again, and their turns cannot be quoted. It names
// nobody; only someone who knows the id can find it.
type erasedMark struct {
	ID string `bson:"_id"`
}

func erasedMarkID(userID string) string { return "erased:" + hashOf("erased", userID)[:32] }

// wasErased reports whether userID's data was erased.
func (s *Store) wasErased(ctx context.Context, userID string) (bool, error) {
	ok, err := s.lists.Exists(ctx, erasedMarkID(userID))
	if err != nil {
		return false, fmt.Errorf("read consent lists: %w", err)
	}
	return ok, nil
}

// eraseOwner removes the subjects userID owns and their requests.
func (s *Store) eraseOwner(ctx context.Context, userID string) error {
	ids, err := s.list(ctx, ownerList(userID))
	if err != nil {
		return err
	}
	subs, err := database.FindEachByID[Subject](ctx, s.subjects, ids)
	if err != nil {
		return fmt.Errorf("read consent subjects: %w", err)
	}
	for _, sub := range subs {
		if sub.OwnerID != userID {
			continue
		}
		if err := s.eraseSubject(ctx, sub.ID); err != nil {
			return err
		}
	}
	if err := database.DeleteByID(ctx, s.lists, ownerList(userID)); err != nil {
		return fmt.Errorf("erase consent list: %w", err)
	}
	return nil
}

// eraseSubject removes one subject and its requests, each taken out of its speaker's
// list. The subject goes last, so that a second run still finds the requests of one that
// failed halfway. No lock is held across the steps (Serialize holds one at a time): the
// owner's account is disabled first, so nobody asks for the subject meanwhile.
func (s *Store) eraseSubject(ctx context.Context, subjectID string) error {
	sub, err := s.subject(ctx, subjectID)
	if errors.Is(err, failure.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, sp := range sub.Speakers {
		if err := s.deleteRequest(ctx, RequestID(sub.ID, sp)); err != nil {
			return err
		}
		if err := s.db.RemoveFromList(ctx, s.lists, speakerList(sp), "ids", RequestID(sub.ID, sp)); err != nil {
			return fmt.Errorf("erase consent request from its list: %w", err)
		}
	}
	if err := database.DeleteByID(ctx, s.subjects, sub.ID); err != nil {
		return fmt.Errorf("erase consent subject: %w", err)
	}
	return nil
}

// deleteRequest removes one request under its lock, so that a decision being stored
// finishes first instead of writing the request back afterwards.
func (s *Store) deleteRequest(ctx context.Context, id string) error {
	defer s.db.Serialize(s.requests.Name(), id)()
	if err := database.DeleteByID(ctx, s.requests, id); err != nil {
		return fmt.Errorf("erase consent request: %w", err)
	}
	return nil
}

// eraseSpeaker puts a placeholder in userID's place in every request made of them.
func (s *Store) eraseSpeaker(ctx context.Context, userID string) error {
	ids, err := s.list(ctx, speakerList(userID))
	if err != nil {
		return err
	}
	rs, err := database.FindEachByID[Request](ctx, s.requests, ids)
	if err != nil {
		return fmt.Errorf("read consent requests: %w", err)
	}
	for _, r := range rs {
		if r.SpeakerID != userID {
			continue
		}
		if err := s.eraseRequest(ctx, r.SubjectID, r.ID, userID); err != nil {
			return err
		}
	}
	if err := database.DeleteByID(ctx, s.lists, speakerList(userID)); err != nil {
		return fmt.Errorf("erase consent list: %w", err)
	}
	return nil
}

// eraseRequest moves the request requestID of userID to a placeholder speaker: the new
// request is stored first, then the subject names the placeholder (under the subject's
// lock), then the old request goes (under its own). A run that stops halfway leaves the
// old request listed, for the next run to move.
func (s *Store) eraseRequest(ctx context.Context, subjectID, requestID, userID string) error {
	r, err := database.FindByID[Request](ctx, s.requests, requestID)
	if errors.Is(err, failure.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read consent request: %w", err)
	}
	placeholder, err := erasedSpeaker()
	if err != nil {
		return err
	}
	now := s.now()
	moved := r
	moved.ID, moved.SpeakerID, moved.SpeakerName = RequestID(subjectID, placeholder), placeholder, ErasedName
	moved.Trail = append(slices.Clone(r.Trail), Change{From: r.Decision, To: Erased, At: now})
	moved.Decision, moved.DecidedAt = Erased, now
	if err := database.Insert(ctx, s.requests, moved); err != nil {
		return fmt.Errorf("store erased consent request: %w", err)
	}
	if err := s.renameSpeaker(ctx, subjectID, userID, placeholder); err != nil {
		return err
	}
	return s.deleteRequest(ctx, requestID)
}

// renameSpeaker puts placeholder in userID's place among the subject's speakers.
func (s *Store) renameSpeaker(ctx context.Context, subjectID, userID, placeholder string) error {
	defer s.db.Serialize(s.subjects.Name(), subjectID)()
	sub, err := s.subject(ctx, subjectID)
	if errors.Is(err, failure.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for i, sp := range sub.Speakers {
		if sp == userID {
			sub.Speakers[i] = placeholder
		}
	}
	slices.Sort(sub.Speakers)
	if err := s.subjects.Put(ctx, sub.ID, sub); err != nil {
		return fmt.Errorf("store consent subject: %w", err)
	}
	return nil
}

// erasedSpeaker is a fresh placeholder for an erased speaker: random, so that it says
// nothing of who they were, and shaped like no account's id.
func erasedSpeaker() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("erase consent speaker: %w", err)
	}
	return "erased-" + hex.EncodeToString(b), nil
}
