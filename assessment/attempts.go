package assessment

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"polyphony/internal/failure"
)

// Why an attempt was closed.
const (
	ClosedSubmitted = "submitted"
	ClosedTimeout   = "timeout"
)

// attemptDoc is an attempt as started. It never changes.
type attemptDoc struct {
	ID           string    `bson:"_id"`
	AssessmentID string    `bson:"assessmentId"`
	UserID       string    `bson:"userId"`
	Number       int       `bson:"number"`
	Version      int       `bson:"version"`
	PaperID      string    `bson:"paperId"`
	Items        []item    `bson:"items"`
	StartedAt    time.Time `bson:"startedAt"`
	// Ends is when the time allowed runs out (nil: never); answers are taken until
	// GraceSeconds after it.
	Ends         *time.Time `bson:"ends,omitempty"`
	GraceSeconds int        `bson:"graceSeconds"`
}

// deadline is the last moment an answer or a submission is taken, or nil.
func (at *attemptDoc) deadline() *time.Time {
	if at.Ends == nil {
		return nil
	}
	d := at.Ends.Add(time.Duration(at.GraceSeconds) * time.Second)
	return &d
}

func (at *attemptDoc) pastDeadline(now time.Time) bool {
	d := at.deadline()
	return d != nil && now.After(*d)
}

// closeDoc records that an attempt is closed, when and why. Where other instances may save
// answers, it is inserted before the answers are read for marking, and saving an answer
// looks for it afterwards.
type closeDoc struct {
	ID     string    `bson:"_id"`
	Reason string    `bson:"reason"`
	At     time.Time `bson:"at"`
}

// resultDoc is an attempt's mark, inserted once under the attempt's id.
type resultDoc struct {
	ID           string    `bson:"_id"`
	AssessmentID string    `bson:"assessmentId"`
	UserID       string    `bson:"userId"`
	Number       int       `bson:"number"`
	StartedAt    time.Time `bson:"startedAt"`
	ClosedAt     time.Time `bson:"closedAt"`
	Reason       string    `bson:"reason"`
	Marks        int       `bson:"marks"`
	Max          int       `bson:"max"`
	// Items are stored packed (packItems) in Packed; results stored before, and those whose
	// items cannot be packed, hold them here.
	Items  []markedItem `bson:"items,omitempty"`
	Packed string       `bson:"packed,omitempty"`
}

// stored is the result as it is inserted: its items packed where they can be.
func (r resultDoc) stored() resultDoc {
	if p, ok := packItems(r.Items); ok {
		r.Items, r.Packed = nil, p
	}
	return r
}

// loaded is a result as read back: its items unpacked, its times in UTC.
func (r resultDoc) loaded() (resultDoc, error) {
	if r.Packed != "" || r.Items == nil {
		items, err := unpackItems(r.Packed)
		if err != nil {
			return resultDoc{}, fmt.Errorf("result %s: %w", r.ID, err)
		}
		r.Items, r.Packed = items, ""
	}
	r.StartedAt, r.ClosedAt = r.StartedAt.UTC(), r.ClosedAt.UTC()
	return r, nil
}

// openDoc lists an attempt with a deadline for Sweep, which removes it once it finds the
// attempt closed.
type openDoc struct {
	ID           string    `bson:"_id"`
	AssessmentID string    `bson:"assessmentId"`
	Deadline     time.Time `bson:"deadline"`
}

func attemptID(assessmentID, userID string, n int) string {
	return assessmentID + "-" + userID + "-" + strconv.Itoa(n)
}

// ends is when an attempt started at start runs out of time: the time limit after the start
// or the assessment's close, whichever is first; nil if neither is set.
func (a Assessment) ends(start time.Time) *time.Time {
	var end time.Time
	if a.TimeLimitSeconds > 0 {
		end = start.Add(time.Duration(a.TimeLimitSeconds) * time.Second)
	}
	if !a.Closes.IsZero() && (end.IsZero() || a.Closes.Before(end)) {
		end = a.Closes
	}
	if end.IsZero() {
		return nil
	}
	return &end
}

// Start begins an attempt at the assessment for the trainee and returns it. A trainee with
// an attempt still open gets that attempt back, so that a second start, or two at once, give
// one attempt. The HTTP layer must check first that the trainee belongs to the assessment's
// cohort (Assessment.CohortID) when it has one.
func (s *Store) Start(ctx context.Context, actor Actor, assessmentID string) (AttemptView, error) {
	v, _, err := s.StartOrResume(ctx, actor, assessmentID)
	return v, err
}

// StartOrResume is Start that also says whether this call began the attempt (true) or
// found it open (false): of any number of starts at once, exactly one began it.
func (s *Store) StartOrResume(ctx context.Context, actor Actor, assessmentID string) (AttemptView, bool, error) {
	if err := requireTrainee(actor); err != nil {
		return AttemptView{}, false, err
	}
	a, err := s.assessment(ctx, assessmentID)
	if err != nil {
		return AttemptView{}, false, err
	}
	now := s.clock()
	// Another start may insert the next attempt between our look and our insert; then we
	// look again and find it open. Twice is enough; the third time is a real fault.
	for range 3 {
		n, latest, err := s.latestAttempt(ctx, a.ID, actor.ID)
		if err != nil {
			return AttemptView{}, false, err
		}
		if latest != nil {
			res, err := s.settle(ctx, latest, now)
			if err != nil {
				return AttemptView{}, false, err
			}
			if res == nil {
				v, err := s.traineeViewOf(ctx, latest, nil, now)
				return v, false, err
			}
		}
		if err := a.canStart(n, now); err != nil {
			return AttemptView{}, false, err
		}
		at, err := s.newAttempt(ctx, a, actor.ID, n+1, now)
		if err != nil {
			return AttemptView{}, false, err
		}
		if at != nil {
			v, err := s.traineeViewOf(ctx, at, nil, now)
			return v, true, err
		}
	}
	return AttemptView{}, false, fmt.Errorf("start attempt at %s: attempts kept appearing while starting", a.ID)
}

// canStart says why a trainee who has made attempts may not start another at now.
func (a Assessment) canStart(made int, now time.Time) error {
	const layout = "2 January 2006 at 15:04 UTC"
	switch {
	case a.AttemptsAllowed > 0 && made >= a.AttemptsAllowed:
		return failure.Conflict(fmt.Sprintf("you have made the %d attempt(s) allowed at this assessment", a.AttemptsAllowed))
	case !a.Opens.IsZero() && now.Before(a.Opens):
		return failure.Conflict("the assessment opens on " + a.Opens.Format(layout))
	case !a.Closes.IsZero() && !now.Before(a.Closes):
		return failure.Conflict("the assessment closed on " + a.Closes.Format(layout))
	}
	return nil
}

// newAttempt inserts attempt n. If another start inserted it first, it returns nil.
func (s *Store) newAttempt(ctx context.Context, a Assessment, userID string, n int, now time.Time) (*attemptDoc, error) {
	p, err := s.paperFor(ctx, a)
	if err != nil {
		return nil, err
	}
	items, err := layout(a, p)
	if err != nil {
		return nil, err
	}
	at := &attemptDoc{
		ID: attemptID(a.ID, userID, n), AssessmentID: a.ID, UserID: userID, Number: n, Version: a.Version,
		PaperID: p.id, Items: items, StartedAt: now, Ends: a.ends(now), GraceSeconds: a.GraceSeconds,
	}
	// Listed before the attempt exists, so that its results and its deadline are found
	// through the assessment's list; a listing whose attempt never appeared is skipped.
	if err := s.list(ctx, attemptsList(a.ID), at.ID); err != nil {
		return nil, err
	}
	if d := at.deadline(); d != nil {
		// Listed for Sweep before the attempt exists, so that no attempt with a deadline goes
		// unlisted; a listing whose attempt never appeared is removed by Sweep.
		open := openDoc{ID: at.ID, AssessmentID: a.ID, Deadline: *d}
		if _, err := s.insertOnce(ctx, s.open, at.ID, open, nil); err != nil {
			return nil, err
		}
	}
	inserted, err := s.insertOnce(ctx, s.attempts, at.ID, at, nil)
	if err != nil {
		return nil, err
	}
	s.noteLatest(a.ID, userID, n)
	if !inserted {
		return nil, nil
	}
	s.attemptCache.Put(at.ID, at)
	// Known open from now, unless a submission (through another start's answer) has closed
	// it already.
	unlock := s.db.Serialize(attemptsCollection, at.ID)
	if _, closed := s.resultCache.Get(at.ID); !closed {
		s.live.Put(at.ID, emptySnapshot(at))
	}
	unlock()
	return at, nil
}

// attempt reads an attempt, from memory once read.
func (s *Store) attempt(ctx context.Context, id string) (*attemptDoc, error) {
	if at, ok := s.attemptCache.Get(id); ok {
		return at, nil
	}
	var at attemptDoc
	if err := findOne(ctx, s.attempts, id, &at); err != nil {
		return nil, err
	}
	at.StartedAt = at.StartedAt.UTC()
	if at.Ends != nil {
		e := at.Ends.UTC()
		at.Ends = &e
	}
	s.attemptCache.Put(id, &at)
	return &at, nil
}

// ownAttempt reads the actor's attempt; someone else's is not found.
func (s *Store) ownAttempt(ctx context.Context, actor Actor, id string) (*attemptDoc, error) {
	at, err := s.attempt(ctx, id)
	if err != nil {
		return nil, err
	}
	if actor.ID == "" || at.UserID != actor.ID {
		return nil, fmt.Errorf("attempt %s: %w", id, failure.ErrNotFound)
	}
	return at, nil
}

// latestAttempt finds the trainee's attempt with the highest number: n and the attempt, or 0
// and nil when there is none. It reads from the highest number this instance has seen; as the
// only writer, once it has looked it knows.
func (s *Store) latestAttempt(ctx context.Context, assessmentID, userID string) (int, *attemptDoc, error) {
	key := assessmentID + "-" + userID
	s.latestMu.Lock()
	n, seen := s.latest[key]
	s.latestMu.Unlock()
	var last *attemptDoc
	if n > 0 {
		at, err := s.attempt(ctx, attemptID(assessmentID, userID, n))
		if err != nil {
			return 0, nil, err
		}
		last = at
	}
	for !seen || !s.sole {
		at, err := s.attempt(ctx, attemptID(assessmentID, userID, n+1))
		if isNotFound(err) {
			break
		}
		if err != nil {
			return 0, nil, err
		}
		n, last = n+1, at
	}
	s.noteLatest(assessmentID, userID, n)
	return n, last, nil
}

// noteLatest records that the trainee has made at least n attempts.
func (s *Store) noteLatest(assessmentID, userID string, n int) {
	key := assessmentID + "-" + userID
	s.latestMu.Lock()
	if cur, seen := s.latest[key]; !seen || n > cur {
		s.latest[key] = n
	}
	s.latestMu.Unlock()
}
