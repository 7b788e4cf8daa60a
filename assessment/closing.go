package assessment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// ErrAttemptClosed is in the chain of every error refusing an answer or a submission
// because the attempt is closed, or its time is up. Such an error is also a
// *failure.ConflictError whose message says what happened.
var ErrAttemptClosed = errors.New("the attempt is closed")

type attemptClosedError struct{ conflict *failure.ConflictError }

func (e *attemptClosedError) Error() string   { return e.conflict.Message }
func (e *attemptClosedError) Unwrap() []error { return []error{e.conflict, ErrAttemptClosed} }

func closedError(res *resultDoc, what string) error {
	at := res.ClosedAt.UTC().Format("15:04:05 UTC on 2 January 2006")
	msg := fmt.Sprintf("this attempt was submitted at %s: %s", at, what)
	if res.Reason == ClosedTimeout {
		msg = fmt.Sprintf("the time for this attempt ran out at %s: %s, and the answers saved before then have been marked", at, what)
	}
	return &attemptClosedError{conflict: &failure.ConflictError{Message: msg}}
}

// Submit closes the trainee's attempt and marks it, returning the attempt as the trainee may
// now see it. Submitting an attempt already submitted returns the same view again, so that
// many submissions at once give one mark. A submission after the deadline is refused with an
// error carrying ErrAttemptClosed; the attempt is then closed and marked from the answers
// saved before the deadline.
func (s *Store) Submit(ctx context.Context, actor Actor, attemptID string) (AttemptView, error) {
	at, err := s.ownAttempt(ctx, actor, attemptID)
	if err != nil {
		return AttemptView{}, err
	}
	now := s.clock()
	unlock := s.db.Serialize(attemptsCollection, at.ID)
	res, _, err := s.settleLocked(ctx, at, now)
	if err == nil && res == nil {
		res, err = s.closeLocked(ctx, at, ClosedSubmitted, now)
	}
	unlock()
	if err != nil {
		return AttemptView{}, err
	}
	if res.Reason == ClosedTimeout {
		return AttemptView{}, closedError(res, "it can no longer be submitted")
	}
	return s.traineeViewOf(ctx, at, res, now)
}

// settle brings an attempt up to date at now and returns its result, or nil while it is
// open: an attempt past its deadline is closed and marked, and one whose closing was
// interrupted is marked.
func (s *Store) settle(ctx context.Context, at *attemptDoc, now time.Time) (*resultDoc, error) {
	if r, ok := s.resultCache.Get(at.ID); ok {
		return r, nil
	}
	unlock := s.db.Serialize(attemptsCollection, at.ID)
	defer unlock()
	res, _, err := s.settleLocked(ctx, at, now)
	return res, err
}

// settleLocked is settle with the attempt's lock held; timedOut reports that it closed the
// attempt itself for running out of time. An attempt this instance knows to be open, when it
// is the only writer, is not looked up.
func (s *Store) settleLocked(ctx context.Context, at *attemptDoc, now time.Time) (res *resultDoc, timedOut bool, err error) {
	if r, ok := s.resultCache.Get(at.ID); ok {
		return r, false, nil
	}
	if _, known := s.live.Get(at.ID); !known || !s.sole {
		var c closeDoc
		err := findOne(ctx, s.closes, at.ID, &c)
		switch {
		case err == nil:
			r, err := s.result(ctx, at.ID)
			if isNotFound(err) {
				r, err = s.markLocked(ctx, at, c, nil)
			}
			return r, false, err
		case !isNotFound(err):
			return nil, false, err
		}
	}
	if at.pastDeadline(now) {
		r, err := s.closeLocked(ctx, at, ClosedTimeout, now)
		return r, err == nil, err
	}
	return nil, false, nil
}

// closeLocked closes the attempt and marks it. An attempt that runs out of time is closed
// as of its deadline.
func (s *Store) closeLocked(ctx context.Context, at *attemptDoc, reason string, now time.Time) (*resultDoc, error) {
	c := closeDoc{ID: at.ID, Reason: reason, At: now}
	if reason == ClosedTimeout {
		c.At = *at.deadline()
	}
	// No longer known open, whatever happens next: should the marking fail, the next look
	// finds the close.
	answers, known := s.live.Get(at.ID)
	s.live.Remove(at.ID)
	if known && s.sole {
		// The answers are known and no one else writes them: the close and the mark go in
		// together.
		return s.markLocked(ctx, at, c, answers)
	}
	var existing closeDoc
	inserted, err := s.insertOnce(ctx, s.closes, c.ID, c, &existing)
	if err != nil {
		return nil, err
	}
	if !inserted {
		c = existing
	}
	return s.markLocked(ctx, at, c, nil)
}

// markLocked marks a closed attempt, storing the one result. With known answers (this
// instance being the only writer) it stores the close as well, in the same turn; without,
// the close is stored already, and it reads the answers saved.
func (s *Store) markLocked(ctx context.Context, at *attemptDoc, c closeDoc, known *answerSnapshot) (*resultDoc, error) {
	answers := known
	if answers == nil {
		var err error
		if answers, err = s.readAnswers(ctx, at, nil); err != nil {
			return nil, err
		}
	}
	p, err := s.paper(ctx, at.PaperID)
	if err != nil {
		return nil, err
	}
	marks, items := mark(p, at.Items, answers.Answers)
	r := resultDoc{
		ID: at.ID, AssessmentID: at.AssessmentID, UserID: at.UserID, Number: at.Number,
		StartedAt: at.StartedAt, ClosedAt: c.At.UTC(), Reason: c.Reason, Marks: marks, Max: len(items), Items: items,
	}
	var errs []error
	if known != nil {
		errs = s.w.insertAll(ctx, insertion{s.closes, c}, insertion{s.results, r.stored()})
	} else {
		errs = []error{nil, s.w.insert(ctx, s.results, r.stored())}
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, errExists) {
			return nil, err
		}
	}
	if errors.Is(errs[1], errExists) {
		var existing resultDoc
		if err := findOne(ctx, s.results, r.ID, &existing); err != nil {
			return nil, err
		}
		if r, err = existing.loaded(); err != nil {
			return nil, err
		}
	}
	s.resultCache.Put(r.ID, &r)
	// The attempt stays listed in open_attempts until Sweep passes its deadline: that takes
	// a write out of every submission.
	return &r, nil
}

// result reads an attempt's result, from memory once read.
func (s *Store) result(ctx context.Context, id string) (*resultDoc, error) {
	if r, ok := s.resultCache.Get(id); ok {
		return r, nil
	}
	var d resultDoc
	if err := findOne(ctx, s.results, id, &d); err != nil {
		return nil, err
	}
	r, err := d.loaded()
	if err != nil {
		return nil, err
	}
	s.resultCache.Put(id, &r)
	return &r, nil
}

// Sweep closes and marks every attempt left open past its deadline at now, from the answers
// saved, and reports how many it closed. The server runs it every so often (RunSweeper),
// away from any request: it finds the attempts by their deadline, which on embedded FerretDB
// reads all of open_attempts (the attempts with a deadline not yet swept). Requests close
// overdue attempts too (results through the assessment's list of attempts), so a missed
// sweep delays nothing a person sees.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	listed, err := findAll[openDoc](ctx, s.open, bson.M{"deadline": bson.M{"$lt": now.UTC()}}, nil)
	if err != nil {
		return 0, err
	}
	closed := 0
	var done []string
	for _, o := range listed {
		at, err := s.attempt(ctx, o.ID)
		if isNotFound(err) {
			// Listed by a start that failed before inserting the attempt.
			done = append(done, o.ID)
			continue
		}
		if err != nil {
			return closed, err
		}
		unlock := s.db.Serialize(attemptsCollection, at.ID)
		res, timedOut, err := s.settleLocked(ctx, at, now)
		unlock()
		if err != nil {
			return closed, err
		}
		if res != nil {
			done = append(done, o.ID)
		}
		if timedOut {
			closed++
		}
	}
	for _, id := range done {
		// One delete by _id each: a filter on $in reads the whole collection on FerretDB.
		if err := s.w.run(func() error { return database.DeleteByID(ctx, s.open, id) }); err != nil {
			return closed, fmt.Errorf("unlist closed attempts: %w", err)
		}
	}
	return closed, nil
}

// RunSweeper runs Sweep every interval (30 seconds if interval is 0) until ctx is done,
// logging what it closes and any error. Start it in a goroutine owned by the server, and
// cancel ctx to stop it.
func (s *Store) RunSweeper(ctx context.Context, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		interval = defaultSweepFrequency
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := s.Sweep(ctx, s.clock())
			switch {
			case err != nil && ctx.Err() == nil:
				log.Error("closing overdue attempts", "err", err)
			case n > 0:
				log.Info("closed overdue attempts", "count", n)
			}
		}
	}
}
