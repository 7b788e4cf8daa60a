package marking

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Erase removes a trainee's assessed work, for the erasure of their account: each of their
// submissions with its earlier attempts, the marks and feedback on it, its moderation, its
// released result and its trail; and takes the submissions off the pieces' lists, the
// markers' queues and the moderation samples. Their candidate numbers stay taken but name no
// one, so that no number is given twice. It returns how many documents it removed, by
// collection.
//
// The server calls it after disabling the account, so nothing is submitted meanwhile.
// Erasure is rare: it reads the submissions, marks and candidates by trainee and submission,
// which on embedded FerretDB reads each whole collection, as the journal's erasure does.
// Marks the person gave as a marker stay: they are other trainees' results.
func (s *Store) Erase(ctx context.Context, userID string) (map[string]int64, error) {
	deleted := map[string]int64{}
	var subs []Submission
	if err := s.submissions.ScanAll(ctx, bson.M{"trainee_id": userID}, database.Scan{}, &subs); err != nil {
		return nil, fmt.Errorf("erase the assessed work of %s: %w", userID, err)
	}
	for _, sub := range subs {
		if err := s.eraseSubmission(ctx, sub, deleted); err != nil {
			return nil, fmt.Errorf("erase submission %s: %w", sub.ID, err)
		}
	}
	var numbers []candidateDoc
	if err := s.candidates.ScanAll(ctx, bson.M{"trainee_id": userID}, database.Scan{}, &numbers); err != nil {
		return nil, fmt.Errorf("erase the candidate numbers of %s: %w", userID, err)
	}
	for _, c := range numbers {
		if err := s.candidates.Update(ctx, c.ID, bson.M{"$unset": bson.M{"trainee_id": ""}}); err != nil {
			return nil, err
		}
	}
	return deleted, nil
}

// eraseSubmission removes one submission and everything about it.
func (s *Store) eraseSubmission(ctx context.Context, sub Submission, deleted map[string]int64) error {
	var marks []Mark
	if err := s.marks.ScanAll(ctx, bson.M{"submission_id": sub.ID}, database.Scan{Fields: []string{"marker_id"}}, &marks); err != nil {
		return err
	}
	markers := map[string]bool{}
	for _, id := range sub.Markers {
		markers[id] = true
	}
	for _, m := range marks {
		markers[m.MarkerID] = true
	}
	for id := range markers {
		if err := s.db.RemoveFromList(ctx, s.lists, queueList(id), "ids", sub.ID); err != nil {
			return err
		}
	}
	if err := s.db.RemoveFromList(ctx, s.lists, submissionsList(sub.PieceID), "ids", sub.ID); err != nil {
		return err
	}
	if err := s.dropFromSample(ctx, sub); err != nil {
		return err
	}
	for _, del := range []struct {
		coll   *database.Collection
		filter bson.M
	}{
		{s.marks, bson.M{"submission_id": sub.ID}},
		{s.moderation, bson.M{"_id": sub.ID}},
		{s.releases, bson.M{"_id": sub.ID}},
		{s.trail, bson.M{"_id": idPrefix(trailHead(sub.ID))}},
		{s.candidates, bson.M{"_id": sub.PieceID + "/trainee/" + sub.TraineeID}},
		{s.submissions, bson.M{"_id": sub.ID}},
	} {
		n, err := del.coll.DeleteWhere(ctx, del.filter)
		if err != nil {
			return err
		}
		deleted[del.coll.Name()] += n
	}
	return nil
}

// idPrefix matches every id that starts with prefix (the trail's head and its entries).
func idPrefix(prefix string) bson.M {
	return bson.M{"$gte": prefix, "$lt": prefix + "\uffff"}
}

// dropFromSample takes the submission out of its piece's moderation sample, under the
// sample's lock (read and written whole: the embedded engine takes no condition in $pull).
func (s *Store) dropFromSample(ctx context.Context, sub Submission) error {
	defer s.db.Serialize(samplesCollection, sub.PieceID)()
	sm, err := database.FindByID[Sample](ctx, s.samples, sub.PieceID)
	if errors.Is(err, failure.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	kept := slices.DeleteFunc(sm.Items, func(it SampleItem) bool { return it.SubmissionID == sub.ID })
	if len(kept) == len(sm.Items) {
		return nil
	}
	sm.Items = kept
	return s.samples.Put(ctx, sm.ID, sm)
}
