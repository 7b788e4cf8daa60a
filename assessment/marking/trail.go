package marking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Change is one field changed by an action on the trail.
type Change struct {
	Field  string `bson:"field" json:"field"`
	Before string `bson:"before,omitempty" json:"before,omitempty"`
	After  string `bson:"after,omitempty" json:"after,omitempty"`
}

// TrailEntry is one change of a submission's marks or state, as it happened.
type TrailEntry struct {
	ID      string    `bson:"_id" json:"id"`
	Seq     int       `bson:"seq" json:"seq"`
	ActorID string    `bson:"actor_id" json:"actorId"`
	Action  string    `bson:"action" json:"action"`
	At      time.Time `bson:"at" json:"at"`
	Changes []Change  `bson:"changes" json:"changes"`
}

func trailHead(submissionID string) string { return submissionID + "/trail" }
func trailID(submissionID string, seq int) string {
	return fmt.Sprintf("%s/trail/%06d", submissionID, seq)
}

// appendTrail adds an entry to the submission's trail. Entries are inserted once and never
// changed; the head document counts them, moved on under its lock after the entry is in, so
// that a crash between leaves an entry the next append steps over rather than overwrites.
func (s *Store) appendTrail(ctx context.Context, submissionID string, a Actor, action string, changes ...Change) error {
	kept := changes[:0:0]
	for _, c := range changes {
		if c.Before != c.After {
			kept = append(kept, c)
		}
	}
	head := trailHead(submissionID)
	defer s.db.Serialize(trailCollection, head)()
	h, err := database.FindByID[counterDoc](ctx, s.trail, head)
	if err != nil && !errors.Is(err, failure.ErrNotFound) {
		return err
	}
	seq := h.Last + 1
	for {
		e := TrailEntry{ID: trailID(submissionID, seq), Seq: seq, ActorID: a.UserID, Action: action, At: s.now().UTC(), Changes: kept}
		err := database.Insert(ctx, s.trail, e)
		if err == nil {
			break
		}
		if !errors.Is(err, database.ErrDuplicate) {
			return fmt.Errorf("trail of %s: %w", submissionID, err)
		}
		seq++
	}
	return s.trail.Put(ctx, head, counterDoc{ID: head, Last: seq})
}

// Trail reads the submission's trail, oldest first: for administrators and moderators.
func (s *Store) Trail(ctx context.Context, a Actor, ref string) ([]TrailEntry, error) {
	sub, p, err := s.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	if err := mayReadTrail(a, p.CohortID, sub.Markers); err != nil {
		return nil, err
	}
	h, err := database.FindByID[counterDoc](ctx, s.trail, trailHead(sub.ID))
	if err != nil && !errors.Is(err, failure.ErrNotFound) {
		return nil, err
	}
	ids := make([]string, 0, h.Last+1)
	for seq := 1; seq <= h.Last+1; seq++ { // one past the head: an entry whose count was lost
		ids = append(ids, trailID(sub.ID, seq))
	}
	entries, err := database.FindEachByID[TrailEntry](ctx, s.trail, ids)
	if err != nil || !p.Anonymous || a.admin() {
		return entries, err
	}
	// A moderator of an anonymous piece sees the candidate number where the trainee acted.
	for i := range entries {
		entries[i].ID = ""
		if entries[i].ActorID == sub.TraineeID {
			entries[i].ActorID = sub.CandidateNumber
		}
	}
	return entries, nil
}
