package courses

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// AwardRecords is the store of diploma awards, when there is one. Erasure never touches
// it: an award record is the one thing kept of an erased person, and the report says
// whether there was one.
type AwardRecords interface {
	HasAward(ctx context.Context, userID string) (bool, error)
}

// ErasureReport says what an erasure removed. MediaKeys are the objects no record refers
// to any more, for the caller to delete from the media store (record first, then object).
type ErasureReport struct {
	UserID    string           `json:"userId"`
	Deleted   map[string]int64 `json:"deleted"` // documents removed, by collection
	MediaKeys []string         `json:"mediaKeys"`
	AwardKept bool             `json:"awardKept"`
}

// Erase removes an account's personal data from the journal domain: their entries with
// every revision, sharing history and comment thread, the comments they wrote anywhere,
// notifications to and about them, their supervision and practice logs and choices, and
// their access log. Only an administrator may erase, and only after disabling the account
// and ending its sessions, so that nothing is being saved meanwhile (a second pass catches
// a save that was under way). awards may be nil while there is no award store.
//
// Kept, because they are other people's records: the lines of other trainees' access logs
// that say this person read their entries, and other trainees' supervision sessions that
// name this person as their supervisor.
func (j *Journals) Erase(ctx context.Context, v Viewer, userID string, awards AwardRecords) (ErasureReport, error) {
	if v.UserID == "" || v.Role != accounts.RoleAdmin {
		return ErasureReport{}, fmt.Errorf("only an administrator can erase an account's data: %w", failure.ErrForbidden)
	}
	if userID == "" {
		return ErasureReport{}, failure.Invalid("userId", "is required")
	}
	keys, err := j.mediaKeys(ctx, bson.M{"ownerId": userID})
	if err != nil {
		return ErasureReport{}, err
	}
	var entryIDs []string
	if err := j.revisions.Distinct(ctx, "entryId", bson.M{"ownerId": userID}, &entryIDs); err != nil {
		return ErasureReport{}, fmt.Errorf("erase journal of %s: %w", userID, err)
	}
	var commentIDs []string
	if err := j.comments.Distinct(ctx, "_id", bson.M{"authorId": userID}, &commentIDs); err != nil {
		return ErasureReport{}, fmt.Errorf("erase journal of %s: %w", userID, err)
	}
	report := ErasureReport{UserID: userID, Deleted: map[string]int64{}, MediaKeys: []string{}}
	// The first pass removes everything; the next ones remove what a request under way
	// stored meanwhile, until one finds nothing.
	for pass := 0; pass < 3; pass++ {
		n, err := j.erasePass(ctx, userID, report.Deleted)
		if err != nil {
			return ErasureReport{}, err
		}
		if n == 0 && pass > 0 {
			break
		}
	}
	if err := j.eraseFromLists(ctx, userID, entryIDs, commentIDs); err != nil {
		return ErasureReport{}, err
	}
	for _, id := range entryIDs {
		j.latestRevs.drop(id)
		j.heads.drop("share:" + id)
	}
	j.heads.drop("pv:" + userID)
	j.heads.drop(accessChain(userID))
	if report.MediaKeys, err = j.unreferenced(ctx, keys); err != nil {
		return ErasureReport{}, err
	}
	if awards != nil {
		if report.AwardKept, err = awards.HasAward(ctx, userID); err != nil {
			return ErasureReport{}, err
		}
	}
	return report, nil
}

// erasePass deletes once everything of the person, adding the counts to deleted, and
// returns how many documents it removed. Erasure is a rare administrative action, not a
// page: its deletes by owner read whole collections on embedded FerretDB, as the Distinct
// reads of Erase do, and that is accepted here.
func (j *Journals) erasePass(ctx context.Context, userID string, deleted map[string]int64) (int64, error) {
	owner := bson.M{"ownerId": userID}
	trainee := bson.M{"traineeId": userID}
	var n int64
	for _, d := range []struct {
		coll   *database.Collection
		filter bson.M
	}{
		{j.revisions, owner},
		{j.entries, owner},
		{j.authors, bson.M{"_id": userID}},
		{j.tails, owner},
		{j.threads, owner},
		{j.inbox, bson.M{"_id": userID}},
		{j.opened, bson.M{"_id": userID}},
		{j.shares, owner},
		{j.comments, bson.M{"$or": bson.A{owner, bson.M{"authorId": userID}}}},
		{j.notifications, bson.M{"$or": bson.A{owner, bson.M{"userId": userID}, bson.M{"authorId": userID}}}},
		{j.access, owner},
		{j.supervision, trainee},
		{j.resolutions, trainee},
		{j.practice, owner},
		{j.practiceSettings, owner},
		{j.db.Collection(practiceMonthsColl), owner},
		{j.db.Collection(supervisionListsColl), owner},
	} {
		gone, err := d.coll.DeleteWhere(ctx, d.filter)
		if err != nil {
			return 0, fmt.Errorf("erase %s of %s: %w", d.coll.Name(), userID, err)
		}
		deleted[d.coll.Name()] += gone
		n += gone
	}
	return n, nil
}

// unreferenced keeps the keys that no remaining revision refers to.
func (j *Journals) unreferenced(ctx context.Context, keys []string) ([]string, error) {
	if len(keys) == 0 {
		return []string{}, nil
	}
	still, err := j.MediaKeys(ctx)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for _, k := range still {
		used[k] = true
	}
	out := []string{}
	for _, k := range keys {
		if !used[k] {
			out = append(out, k)
		}
	}
	return out, nil
}
