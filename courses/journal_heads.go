package courses

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Every read a journal request makes is by _id alone, because on embedded FerretDB any
// other filter reads the whole collection. Two kinds of document make that possible:
//
//   - The entry record (journal_entries, _id the entry id) holds a copy of the latest
//     revision and the number of the latest sharing state. Both are hints, written after
//     the revision or sharing state they copy was stored: a reader takes the hint, then
//     reads the next number by _id, and goes on while it finds one. A hint that is missing
//     (records written before the hint existed) or stale (a save that stopped between its
//     insert and the hint, or two saves writing their hints out of order) costs a few more
//     reads, never a wrong answer, and the reader writes the hint it found back.
//   - The author record (journal_authors, _id the author's account id) lists the ids of
//     the author's entries, so that the journal list reads one document and then each
//     entry by _id.

const journalAuthorsColl = "journal_authors"

// layoutMark is the _id of the document that says the journal's records are in the layout
// read by id. A data folder written before it lacks it, and the first start brings its
// records over once (see migrateLayout).
const layoutMark = "layout:by-id-1"

// authorDoc lists an author's entries, oldest first.
type authorDoc struct {
	ID      string   `bson:"_id"`
	Entries []string `bson:"entries"`
}

// noteLatest writes rev as the entry record's hint of its latest revision. The revision is
// already stored, so a failure here, or a hint overwritten by a racing update, loses
// nothing: the next reader finds the revision by probing, and the error is not the save's.
func (j *Journals) noteLatest(ctx context.Context, rev revisionDoc) {
	_ = j.entries.Update(ctx, rev.EntryID, bson.M{"$set": bson.M{"latest": rev}})
}

// noteShare raises the entry record's hint of its latest sharing state to n.
func (j *Journals) noteShare(ctx context.Context, entryID string, n int) {
	_ = j.entries.Update(ctx, entryID, bson.M{"$max": bson.M{"shareSeq": n}})
}

// listEntry adds the entry to its author's record; adding it again changes nothing. The
// embedded engine carries out an update as a read and a write, so two entries added at once
// could lose one of them: the lock makes the add whole (see database.DB.Serialize).
func (j *Journals) listEntry(ctx context.Context, ownerID, entryID string) error {
	defer j.db.Serialize(journalAuthorsColl, ownerID)()
	add := func() error {
		err := j.authors.Upsert(ctx, ownerID, bson.M{"$addToSet": bson.M{"entries": entryID}})
		return err
	}
	err := add()
	if errors.Is(err, database.ErrDuplicate) {
		// Two first entries raced to make the record: the other made it, so this add finds it.
		err = add()
	}
	if err != nil {
		return fmt.Errorf("list journal entry %s: %w", entryID, err)
	}
	return nil
}

// authorEntries lists the ids of the author's entries, oldest first.
func (j *Journals) authorEntries(ctx context.Context, ownerID string) ([]string, error) {
	d, err := findByID[authorDoc](ctx, j.authors, ownerID)
	if errors.Is(err, failure.ErrNotFound) {
		return nil, nil
	}
	return d.Entries, err
}

// entryRecord reads the entry record; a missing one is failure.ErrNotFound.
func (j *Journals) entryRecord(ctx context.Context, entryID string) (entryDoc, error) {
	if entryID == "" {
		return entryDoc{}, fmt.Errorf("journal entry: %w", failure.ErrNotFound)
	}
	return findByID[entryDoc](ctx, j.entries, entryID)
}

// latestFrom finds the latest revision of the entry, starting from the record's hint.
func (j *Journals) latestFrom(ctx context.Context, rec entryDoc) (revisionDoc, error) {
	known, doc := 0, revisionDoc{}
	if rec.Latest != nil && rec.Latest.EntryID == rec.ID {
		known, doc = rec.Latest.Version, *rec.Latest
	}
	n, d, err := lastInChain(known, doc, func(n int) (revisionDoc, error) { return j.revision(ctx, rec.ID, n) })
	if err != nil {
		return revisionDoc{}, err
	}
	if n == 0 { // claimed, but its first revision is not stored (yet)
		return revisionDoc{}, fmt.Errorf("journal entry %s: %w", rec.ID, failure.ErrNotFound)
	}
	if n > known {
		j.noteLatest(ctx, d)
	}
	return d, nil
}

// shareFrom finds the entry's current sharing state, starting from the record's hint.
func (j *Journals) shareFrom(ctx context.Context, entryID string, hint int) (shareDoc, error) {
	none := shareDoc{EntryID: entryID}
	get := func(n int) (shareDoc, error) { return findByID[shareDoc](ctx, j.shares, shareID(entryID, n)) }
	known, doc := 0, none
	if hint > 0 {
		d, err := get(hint)
		switch {
		case err == nil:
			known, doc = hint, d
		case !errors.Is(err, failure.ErrNotFound):
			return none, err
		}
	}
	n, d, err := lastInChain(known, doc, get)
	if err != nil {
		return none, err
	}
	if n > known {
		j.noteShare(ctx, entryID, n)
	}
	return d, nil
}

// migrateLayout brings a data folder written before the author, thread, inbox and opened
// records and the paged access log existed to the current layout, once: without it their
// entries, comments, notifications and reads would be missing from the pages. It reads the
// collections once, at start-up, and says so in the log.
func (j *Journals) migrateLayout(ctx context.Context, log *slog.Logger) error {
	switch done, err := j.authors.Exists(ctx, layoutMark); {
	case err != nil:
		return fmt.Errorf("journal layout: %w", err)
	case done:
		return nil
	}
	entries, err := findAll[entryDoc](ctx, j.entries, bson.M{}, bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})
	if err != nil {
		return fmt.Errorf("journal layout: %w", err)
	}
	for _, d := range entries {
		if err := j.listEntry(ctx, d.OwnerID, d.ID); err != nil {
			return err
		}
	}
	comments, err := findAll[Comment](ctx, j.comments, bson.M{}, bson.D{{Key: "at", Value: 1}, {Key: "seq", Value: 1}})
	if err != nil {
		return fmt.Errorf("journal layout: %w", err)
	}
	for _, c := range comments {
		if err := j.addToList(ctx, j.threads, c.EntryID, c.OwnerID, c.ID); err != nil {
			return err
		}
	}
	notes, err := findAll[Notification](ctx, j.notifications, bson.M{}, bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		return fmt.Errorf("journal layout: %w", err)
	}
	for _, n := range notes {
		if err := j.addToList(ctx, j.inbox, n.UserID, "", n.ID); err != nil {
			return err
		}
	}
	reads, err := j.migrateAccess(ctx)
	if err != nil {
		return err
	}
	if err := insertOnce(ctx, j.authors, bson.M{"_id": layoutMark}); err != nil {
		return err
	}
	if len(entries)+len(comments)+len(notes)+reads > 0 {
		log.Info("journal records brought to the layout read by id",
			"entries", len(entries), "comments", len(comments), "notifications", len(notes), "accessRecords", reads)
	}
	return nil
}

// migrateAccess turns the access log's records of one document each into pages of each
// owner's log, in the order they were written, and notes what their readers opened.
func (j *Journals) migrateAccess(ctx context.Context) (int, error) {
	flat := bson.M{"records": bson.M{"$exists": false}}
	recs, err := findAll[AccessRecord](ctx, j.access, flat, bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}})
	if err != nil {
		return 0, fmt.Errorf("journal layout: %w", err)
	}
	if err := j.storeAccess(ctx, recs); err != nil {
		return 0, err
	}
	if len(recs) > 0 {
		if _, err := j.access.DeleteWhere(ctx, flat); err != nil {
			return 0, fmt.Errorf("journal layout: %w", err)
		}
	}
	return len(recs), nil
}
