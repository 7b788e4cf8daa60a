package courses

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// The access log, the comment threads and the notifications are reached by _id too:
//
//   - A person's access log is a chain of pages, <owner>/acc/0000000001, 2, 3 …, each
//     holding the reads written together (a list's titles are one page). A page is added
//     by inserting the next number, so of two writers one takes it and the other the
//     number after; the tail record (journal_tails, _id the chain) is a hint of the last
//     number, and readers read on past it as with revisions.
//   - Which versions a supervisor or assessor has opened is one record per reader
//     (journal_opened), raised with $max.
//   - A comment thread's ids are listed in a record per entry (journal_threads), and a
//     person's unread notifications in a record per person (journal_inbox).
const (
	journalTailsColl   = "journal_tails"
	journalOpenedColl  = "journal_opened"
	journalThreadsColl = "journal_threads"
	journalInboxColl   = "journal_inbox"
)

// accessPage is one page of a person's access log.
type accessPage struct {
	ID      string         `bson:"_id"`
	OwnerID string         `bson:"ownerId"`
	Seq     int            `bson:"seq"`
	Records []AccessRecord `bson:"records"`
}

func accessChain(ownerID string) string { return ownerID + "/acc" }

func accessPageID(ownerID string, n int) string {
	return fmt.Sprintf("%s/%010d", accessChain(ownerID), n)
}

// tailDoc is the hint of the last number of a chain.
type tailDoc struct {
	ID      string `bson:"_id"`
	OwnerID string `bson:"ownerId"`
	N       int    `bson:"n"`
}

// openedDoc is the highest version of each entry that a person opened as someone other
// than its author, by entry id.
type openedDoc struct {
	ID       string         `bson:"_id"`
	Versions map[string]int `bson:"versions"`
}

// listDoc lists ids: an entry's comments (OwnerID the entry's author) or a person's
// unread notifications.
type listDoc struct {
	ID      string   `bson:"_id"`
	OwnerID string   `bson:"ownerId,omitempty"`
	IDs     []string `bson:"ids"`
}

// lastAccessPage finds the number of the last page of the person's access log (0 when it
// has none), from memory for a sole writer that has seen it, otherwise from the tail hint.
func (j *Journals) lastAccessPage(ctx context.Context, ownerID string) (int, error) {
	chain := accessChain(ownerID)
	known := 0
	if h, ok := j.heads.get(chain); ok && j.soleWriter {
		known = h.n
	} else {
		t, err := findByID[tailDoc](ctx, j.tails, chain)
		if err != nil && !errors.Is(err, failure.ErrNotFound) {
			return 0, err
		}
		known = t.N
	}
	n, _, err := lastInChain(known, struct{}{}, func(n int) (struct{}, error) {
		switch ok, err := j.access.Exists(ctx, accessPageID(ownerID, n)); {
		case err != nil:
			return struct{}{}, err
		case !ok:
			return struct{}{}, failure.ErrNotFound
		}
		return struct{}{}, nil
	})
	if err != nil {
		return 0, fmt.Errorf("access log of %s: %w", ownerID, err)
	}
	j.heads.put(chain, n, nil)
	return n, nil
}

// appendAccess adds the records, all of one person's log, as the next page of it.
func (j *Journals) appendAccess(ctx context.Context, ownerID string, recs []AccessRecord) error {
	n, err := j.lastAccessPage(ctx, ownerID)
	if err != nil {
		return err
	}
	for range 100 {
		n++
		err := j.access.Insert(ctx, accessPage{ID: accessPageID(ownerID, n), OwnerID: ownerID, Seq: n, Records: recs})
		if err == nil {
			j.heads.put(accessChain(ownerID), n, nil)
			_ = j.tails.Upsert(ctx, accessChain(ownerID), bson.M{"$max": bson.M{"n": n}, "$set": bson.M{"ownerId": ownerID}})
			return nil
		}
		if !errors.Is(err, database.ErrDuplicate) {
			return fmt.Errorf("write access log: %w", err)
		}
	}
	return failure.Conflict("the access log is being written elsewhere; try again")
}

// accessPages reads the person's whole access log, newest first, each page by _id.
func (j *Journals) accessPages(ctx context.Context, ownerID string) ([]AccessRecord, error) {
	out, _, err := j.accessFrom(ctx, ownerID, 0, 0)
	return out, err
}

// accessFrom reads the person's access log newest first, from the page before the cursor
// (0: from the newest) until it has at least limit records (0: no limit), and returns the
// cursor of what is left (0 when nothing is).
func (j *Journals) accessFrom(ctx context.Context, ownerID string, before, limit int) ([]AccessRecord, int, error) {
	last, err := j.lastAccessPage(ctx, ownerID)
	if err != nil {
		return nil, 0, err
	}
	if before > 0 && before-1 < last {
		last = before - 1
	}
	out := []AccessRecord{}
	for n := last; n >= 1; n-- {
		if limit > 0 && len(out) >= limit {
			return out, n + 1, nil
		}
		p, err := findByID[accessPage](ctx, j.access, accessPageID(ownerID, n))
		if errors.Is(err, failure.ErrNotFound) {
			continue // erased since
		}
		if err != nil {
			return nil, 0, err
		}
		for i := len(p.Records) - 1; i >= 0; i-- {
			out = append(out, p.Records[i])
		}
	}
	return out, 0, nil
}

// noteOpened raises the versions the reader has opened.
func (j *Journals) noteOpened(ctx context.Context, viewerID string, versions map[string]int) error {
	if len(versions) == 0 {
		return nil
	}
	set := bson.M{}
	for id, v := range versions {
		set["versions."+id] = v
	}
	// The embedded engine's update is a read and a write; the lock keeps two raises whole.
	defer j.db.Serialize(journalOpenedColl, viewerID)()
	up := func() error {
		err := j.opened.Upsert(ctx, viewerID, bson.M{"$max": set})
		return err
	}
	err := up()
	if errors.Is(err, database.ErrDuplicate) {
		err = up()
	}
	if err != nil {
		return fmt.Errorf("note what %s opened: %w", viewerID, err)
	}
	return nil
}

// addToList adds id to the list record listID; adding it again changes nothing.
func (j *Journals) addToList(ctx context.Context, coll *database.Collection, listID, ownerID, id string) error {
	defer j.db.Serialize(coll.Name(), listID)()
	update := bson.M{"$addToSet": bson.M{"ids": id}}
	if ownerID != "" {
		update["$set"] = bson.M{"ownerId": ownerID}
	}
	add := func() error {
		err := coll.Upsert(ctx, listID, update)
		return err
	}
	err := add()
	if errors.Is(err, database.ErrDuplicate) {
		err = add() // a racing first add made the record
	}
	if err != nil {
		return fmt.Errorf("list %s in %s: %w", id, coll.Name(), err)
	}
	return nil
}

// removeFromList takes the ids off the list record listID.
func (j *Journals) removeFromList(ctx context.Context, coll *database.Collection, listID string, ids []string) error {
	defer j.db.Serialize(coll.Name(), listID)()
	for _, id := range ids {
		// One id at a time: the embedded engine's $pull matches a value, not a condition.
		if err := coll.Update(ctx, listID, bson.M{"$pull": bson.M{"ids": id}}); err != nil {
			return fmt.Errorf("unlist %s in %s: %w", id, coll.Name(), err)
		}
	}
	return nil
}

// listed reads the ids of the list record listID (none when there is no record).
func listed(ctx context.Context, coll *database.Collection, listID string) ([]string, error) {
	d, err := findByID[listDoc](ctx, coll, listID)
	if errors.Is(err, failure.ErrNotFound) {
		return nil, nil
	}
	return d.IDs, err
}

// readListed reads the documents with the ids, each by _id, skipping any that is gone.
func readListed[T any](ctx context.Context, coll *database.Collection, ids []string) ([]T, error) {
	return database.FindEachByID[T](ctx, coll, ids)
}

// eraseFromLists removes, from every record of the list collections, the ids that name
// one of the erased entries or the erased person, and from every opened record their
// entries. It reads those collections whole: erasure is rare and no request waits on it.
func (j *Journals) eraseFromLists(ctx context.Context, userID string, entryIDs, commentIDs []string) error {
	gone := func(id string) bool {
		if strings.Contains(id, userID) || slices.Contains(commentIDs, id) {
			return true
		}
		for _, e := range entryIDs {
			if strings.HasPrefix(id, e+"/") || id == e {
				return true
			}
		}
		return false
	}
	for _, coll := range []*database.Collection{j.threads, j.inbox} {
		docs, err := findAll[listDoc](ctx, coll, bson.M{}, bson.D{})
		if err != nil {
			return err
		}
		for _, d := range docs {
			if drop := slices.DeleteFunc(slices.Clone(d.IDs), func(id string) bool { return !gone(id) }); len(drop) > 0 {
				if err := j.removeFromList(ctx, coll, d.ID, drop); err != nil {
					return err
				}
			}
		}
	}
	docs, err := findAll[openedDoc](ctx, j.opened, bson.M{}, bson.D{})
	if err != nil {
		return err
	}
	for _, d := range docs {
		unset := bson.M{}
		for id := range d.Versions {
			if gone(id) {
				unset["versions."+id] = ""
			}
		}
		if len(unset) > 0 {
			if err := j.opened.Update(ctx, d.ID, bson.M{"$unset": unset}); err != nil {
				return fmt.Errorf("erase from %s: %w", journalOpenedColl, err)
			}
		}
	}
	return nil
}
