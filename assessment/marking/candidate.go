package marking

import (
	"context"
	"errors"
	"fmt"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Candidate numbers name a trainee to markers under anonymous marking. Each piece numbers its
// trainees in the order they first submit (C0001, C0002, ...), once: the number says nothing
// of the name and never changes, whatever the trainee withdraws or resubmits.
//
// Three documents in marking_candidates hold them: the counter "<pieceID>" with the last
// number given, "<pieceID>/trainee/<traineeID>" with the trainee's number, and
// "<pieceID>/C0007" naming the trainee, which is how a marker's reference is read back.

type counterDoc struct {
	ID   string `bson:"_id"`
	Last int    `bson:"last"`
}

type candidateDoc struct {
	ID        string `bson:"_id"`
	TraineeID string `bson:"trainee_id,omitempty"`
	Number    string `bson:"number,omitempty"`
}

func formatCandidate(n int) string { return fmt.Sprintf("C%04d", n) }

// candidate returns the trainee's candidate number for the piece, giving the next one the
// first time. The counter's lock is held while a number is given, so that two trainees
// never get the same one and a trainee never gets two.
func (s *Store) candidate(ctx context.Context, pieceID, traineeID string) (string, error) {
	mine := pieceID + "/trainee/" + traineeID
	c, err := database.FindByID[candidateDoc](ctx, s.candidates, mine)
	if err == nil {
		return c.Number, nil
	}
	if !errors.Is(err, failure.ErrNotFound) {
		return "", err
	}
	defer s.db.Serialize(candidatesCollection, pieceID)()
	if c, err := database.FindByID[candidateDoc](ctx, s.candidates, mine); err == nil {
		return c.Number, nil
	}
	counter, err := database.FindByID[counterDoc](ctx, s.candidates, pieceID)
	if err != nil && !errors.Is(err, failure.ErrNotFound) {
		return "", err
	}
	// The number is taken (its document inserted once) before the counter moves on, so a
	// crash between the two leaves the number taken and the counter behind it, which the
	// next one given steps over: a gap at worst, never a number given twice.
	n := counter.Last + 1
	for {
		err := database.Insert(ctx, s.candidates, candidateDoc{ID: pieceID + "/" + formatCandidate(n), TraineeID: traineeID})
		if err == nil {
			break
		}
		if !errors.Is(err, database.ErrDuplicate) {
			return "", fmt.Errorf("candidate number %s: %w", formatCandidate(n), err)
		}
		n++
	}
	number := formatCandidate(n)
	if err := database.Insert(ctx, s.candidates, candidateDoc{ID: mine, Number: number}); err != nil {
		return "", err
	}
	if err := s.candidates.Put(ctx, pieceID, counterDoc{ID: pieceID, Last: n}); err != nil {
		return "", err
	}
	return number, nil
}
