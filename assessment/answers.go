package assessment

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"polyphony/internal/failure"
)

// answerSnapshot is an attempt's answers after one save, under "attemptID/n": saving
// inserts snapshot n+1 and never changes one, so the answers' history stays. Answers[k] is
// the option chosen for the k-th question as shown (-1 for none); Question is the one this
// save answered.
type answerSnapshot struct {
	ID        string    `bson:"_id"`
	AttemptID string    `bson:"attemptId"`
	N         int       `bson:"n"`
	Answers   []int     `bson:"answers"`
	Question  int       `bson:"question"`
	At        time.Time `bson:"at"`
}

func snapshotID(attemptID string, n int) string { return attemptID + "/" + strconv.Itoa(n) }

func emptySnapshot(at *attemptDoc) *answerSnapshot {
	answers := make([]int, len(at.Items))
	for i := range answers {
		answers[i] = noAnswer
	}
	return &answerSnapshot{AttemptID: at.ID, Answers: answers}
}

// SavedAnswer acknowledges an answer: it is stored, and the marking will read it.
type SavedAnswer struct {
	Question int `json:"question"`
	// Option is the option chosen as shown, or null when the answer was cleared.
	Option  *int      `json:"option"`
	SavedAt time.Time `json:"savedAt"`
}

// SaveAnswer records the trainee's answer to a question of their open attempt: question
// and option are indexes as shown in the AttemptView (from 0); option -1 clears the answer.
// The latest answer to a question is the one marked. An answer to a question not in the
// attempt is a *failure.InvalidError; an answer to a closed attempt, or after the deadline,
// is refused with an error carrying ErrAttemptClosed, and nothing is saved. An answer
// after the deadline also closes the attempt and marks it from the answers saved before.
func (s *Store) SaveAnswer(ctx context.Context, actor Actor, attemptID string, question, option int) (SavedAnswer, error) {
	at, err := s.ownAttempt(ctx, actor, attemptID)
	if err != nil {
		return SavedAnswer{}, err
	}
	if question < 0 || question >= len(at.Items) {
		return SavedAnswer{}, failure.Invalidf("question", "the attempt has questions 0 to %d, not %d", len(at.Items)-1, question)
	}
	if n := len(at.Items[question].Options); option < noAnswer || option >= n {
		return SavedAnswer{}, failure.Invalidf("option", "question %d has options 0 to %d (or -1 to clear the answer), not %d", question, n-1, option)
	}
	unlock := s.db.Serialize(attemptsCollection, at.ID)
	defer unlock()
	now := s.clock()
	res, _, err := s.settleLocked(ctx, at, now)
	if err != nil {
		return SavedAnswer{}, err
	}
	if res != nil {
		return SavedAnswer{}, closedError(res, "the answer was not saved")
	}
	if err := s.saveSnapshot(ctx, at, question, option, now); err != nil {
		return SavedAnswer{}, err
	}
	if !s.sole {
		// Closing records its close before reading the answers: if no close is recorded
		// now, the marking, whenever it comes, reads this answer. (Within one instance the
		// attempt's lock keeps saving and closing apart.)
		var c closeDoc
		switch err := findOne(ctx, s.closes, at.ID, &c); {
		case err == nil:
			return SavedAnswer{}, closedError(&resultDoc{Reason: c.Reason, ClosedAt: c.At}, "the answer may not have been saved")
		case !isNotFound(err):
			return SavedAnswer{}, err
		}
	}
	ack := SavedAnswer{Question: question, SavedAt: now}
	if option != noAnswer {
		ack.Option = &option
	}
	return ack, nil
}

// saveSnapshot inserts the open attempt's answers with this one added, as the snapshot
// after the latest. The attempt's lock is held.
func (s *Store) saveSnapshot(ctx context.Context, at *attemptDoc, question, option int, now time.Time) error {
	cur, known := s.live.Get(at.ID)
	if !known || !s.sole {
		var err error
		if cur, err = s.readAnswers(ctx, at, cur); err != nil {
			return err
		}
	}
	for range 3 {
		next := &answerSnapshot{
			ID: snapshotID(at.ID, cur.N+1), AttemptID: at.ID, N: cur.N + 1,
			Answers: append([]int(nil), cur.Answers...), Question: question, At: now,
		}
		next.Answers[question] = option
		err := s.w.insert(ctx, s.answers, next)
		if err == nil {
			s.live.Put(at.ID, next)
			return nil
		}
		if !errors.Is(err, errExists) {
			return fmt.Errorf("save answer: %w", err)
		}
		// Saved meanwhile through another instance: start again from what it saved.
		if cur, err = s.readAnswers(ctx, at, cur); err != nil {
			return err
		}
	}
	return fmt.Errorf("save answer to %s: other saves kept coming first", at.ID)
}

// answersNow is the open attempt's latest answers: what this instance knows, when it is the
// only writer and knows, and what is stored otherwise.
func (s *Store) answersNow(ctx context.Context, at *attemptDoc) (*answerSnapshot, error) {
	cur, known := s.live.Get(at.ID)
	if known && s.sole {
		return cur, nil
	}
	return s.readAnswers(ctx, at, cur)
}

// readAnswers reads the attempt's newest snapshot (an empty one when nothing is saved):
// the snapshots after from, or, without from, the highest there is.
func (s *Store) readAnswers(ctx context.Context, at *attemptDoc, from *answerSnapshot) (*answerSnapshot, error) {
	cur := from
	if cur == nil {
		var err error
		if cur, err = s.findLatestSnapshot(ctx, at); err != nil {
			return nil, err
		}
	} else {
		for {
			var next answerSnapshot
			err := findOne(ctx, s.answers, snapshotID(at.ID, cur.N+1), &next)
			if isNotFound(err) {
				break
			}
			if err != nil {
				return nil, err
			}
			cur = &next
		}
	}
	if len(cur.Answers) != len(at.Items) {
		return nil, fmt.Errorf("answers of %s: %d answers for %d questions", at.ID, len(cur.Answers), len(at.Items))
	}
	return cur, nil
}

// findLatestSnapshot finds the highest snapshot by reads by _id: doubling until one is
// missing, then halving the gap (snapshots are numbered 1, 2, 3… with no gaps).
func (s *Store) findLatestSnapshot(ctx context.Context, at *attemptDoc) (*answerSnapshot, error) {
	read := func(n int) (*answerSnapshot, error) {
		var d answerSnapshot
		err := findOne(ctx, s.answers, snapshotID(at.ID, n), &d)
		if isNotFound(err) {
			return nil, nil
		}
		return &d, err
	}
	best, err := read(1)
	if err != nil || best == nil {
		return emptySnapshot(at), err
	}
	lo, hi := 1, 2
	for {
		d, err := read(hi)
		if err != nil {
			return nil, err
		}
		if d == nil {
			break
		}
		lo, best, hi = hi, d, hi*2
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		d, err := read(mid)
		if err != nil {
			return nil, err
		}
		if d != nil {
			lo, best = mid, d
		} else {
			hi = mid
		}
	}
	return best, nil
}
