package courses

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// How a revision came about.
const (
	revSave    = "save"
	revRestore = "restore"
	revAttach  = "attach"
	revDetach  = "detach"
)

// entryDoc claims an entry's id for its author: of two creations with one idempotency
// key, one inserts it and the other is answered as a retry. It also holds the hints that
// lead a reader to the latest revision and sharing state (see journal_heads.go).
type entryDoc struct {
	ID        string       `bson:"_id"`
	OwnerID   string       `bson:"ownerId"`
	CreatedAt time.Time    `bson:"createdAt"`
	Latest    *revisionDoc `bson:"latest,omitempty"`
	ShareSeq  int          `bson:"shareSeq,omitempty"`
}

// revisionDoc is one revision of an entry, under the _id entryID/0000000007. It is never
// changed: the latest revision is the entry.
type revisionDoc struct {
	ID           string       `bson:"_id"`
	EntryID      string       `bson:"entryId"`
	OwnerID      string       `bson:"ownerId"`
	Version      int          `bson:"version"`
	Kind         string       `bson:"kind"`
	RestoredFrom int          `bson:"restoredFrom,omitempty"`
	Title        string       `bson:"title"`
	Body         string       `bson:"body"`
	Tags         []string     `bson:"tags"`
	Links        []Link       `bson:"links"`
	Attachments  []Attachment `bson:"attachments"`
	CreatedAt    time.Time    `bson:"createdAt"`
	SavedAt      time.Time    `bson:"savedAt"`
	// Idem is the idempotency key of the change, and Request a fingerprint of what was
	// asked, so that a retry is recognised and a key reused for something else refused.
	Idem    string `bson:"idem,omitempty"`
	Request string `bson:"request,omitempty"`
}

func revisionID(entryID string, n int) string { return fmt.Sprintf("%s/%010d", entryID, n) }

func (d revisionDoc) entry() Entry {
	return Entry{
		ID: d.EntryID, OwnerID: d.OwnerID, Version: d.Version, Title: d.Title, Body: d.Body,
		Tags: nonNil(d.Tags), Links: nonNil(d.Links), Attachments: nonNil(d.Attachments),
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.SavedAt.UTC(),
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (d revisionDoc) draft() Draft {
	return Draft{Title: d.Title, Body: d.Body, Tags: clone(d.Tags), Links: clone(d.Links)}
}

// next is the revision after d with the draft written over it; attachments carry over.
func (d revisionDoc) next(dr Draft, kind string, at time.Time) revisionDoc {
	n := revisionDoc{
		EntryID: d.EntryID, OwnerID: d.OwnerID, Version: d.Version + 1, Kind: kind,
		Title: dr.Title, Body: dr.Body, Tags: nonNil(dr.Tags), Links: nonNil(dr.Links),
		Attachments: nonNil(clone(d.Attachments)), CreatedAt: d.CreatedAt, SavedAt: at,
	}
	n.ID = revisionID(n.EntryID, n.Version)
	return n
}

// fingerprint identifies a change request, to tell a retry from a reused key.
func fingerprint(kind string, base, from int, d Draft) string {
	b, _ := json.Marshal(struct {
		K    string
		B, F int
		D    Draft
	}{kind, base, from, d})
	return hashOf(string(b))
}

// replayed answers a retried change with what the first attempt stored; a key sent again
// with a different change is refused.
func replayed(d revisionDoc, request string) (Entry, error) {
	if d.Request != request {
		return Entry{}, failure.Invalid("idempotencyKey", "was already used for a different change to this entry; send a new key with each change")
	}
	return d.entry(), nil
}

// newEntryID derives an entry's id from its author and the idempotency key of the save
// that created it, so that a retried creation finds the entry it made.
func newEntryID(ownerID, key string) string { return "je" + hashOf("entry", ownerID, key)[:22] }

// Create starts a journal entry as version 1 of the draft. key is the idempotency key: a
// retry with the same key returns the entry the first attempt created, and creates nothing.
func (j *Journals) Create(ctx context.Context, v Viewer, d Draft, key string) (Entry, error) {
	if err := signedIn(v); err != nil {
		return Entry{}, err
	}
	if err := checkIdemKey(key); err != nil {
		return Entry{}, err
	}
	d, err := normaliseDraft(d)
	if err != nil {
		return Entry{}, err
	}
	if err := j.checkLinks(ctx, v.UserID, d.Links, nil); err != nil {
		return Entry{}, err
	}
	now := j.clock()
	rev := revisionDoc{EntryID: newEntryID(v.UserID, key), OwnerID: v.UserID, CreatedAt: now}.next(d, revSave, now)
	rev.Idem, rev.Request = key, fingerprint(revSave, 0, 0, d)
	// The entry record first, as the claim on the id; should the revision's insert fail, a
	// retry finds the record and adds the revision.
	err = j.entries.Insert(ctx, entryDoc{ID: rev.EntryID, OwnerID: v.UserID, CreatedAt: now})
	if errors.Is(err, database.ErrDuplicate) {
		return j.createAgain(ctx, rev)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("create journal entry: %w", err)
	}
	if err := j.insertFirst(ctx, rev); errors.Is(err, failure.ErrConflict) {
		return j.createAgain(ctx, rev) // a retry that raced this attempt stored it
	} else if err != nil {
		return Entry{}, err
	}
	return rev.entry(), nil
}

// insertFirst lists the entry in its author's record and stores revision 1. Listing comes
// first: an entry that is listed but has no revision yet is left out of the list.
func (j *Journals) insertFirst(ctx context.Context, rev revisionDoc) error {
	if err := j.listEntry(ctx, rev.OwnerID, rev.EntryID); err != nil {
		return err
	}
	if err := j.revisions.Insert(ctx, rev); err != nil {
		return fmt.Errorf("save journal entry: %w", err)
	}
	j.stored(ctx, rev)
	return nil
}

// latestHintEvery is how often a save rewrites the entry record's hint of its latest
// revision: the first revision and every eighth after. The hint is an update, which embedded
// FerretDB carries out as a read and a write of the whole record, and writing it on every
// autosave halved the saves per second (B8: 378/s against 923/s for raw inserts, 0.41×). A
// reader that starts from an older hint reads at most seven more revisions by _id, and on
// this instance the latest is in memory anyway.
const latestHintEvery = 8

// stored notes a revision this process has just inserted: in memory and, now and then, as
// the entry record's hint.
func (j *Journals) stored(ctx context.Context, rev revisionDoc) {
	j.latestRevs.put(rev)
	if rev.Version == 1 || rev.Version%latestHintEvery == 0 {
		j.noteLatest(ctx, rev)
	}
}

// createAgain answers a retried creation with the revision the first attempt stored,
// storing it now if the first attempt stopped before it could.
func (j *Journals) createAgain(ctx context.Context, rev revisionDoc) (Entry, error) {
	if err := j.listEntry(ctx, rev.OwnerID, rev.EntryID); err != nil {
		return Entry{}, err
	}
	first, err := j.revision(ctx, rev.EntryID, 1)
	if errors.Is(err, failure.ErrNotFound) {
		if err := j.insertFirst(ctx, rev); err == nil || !errors.Is(err, failure.ErrConflict) {
			return rev.entry(), err
		}
		first, err = j.revision(ctx, rev.EntryID, 1) // a concurrent retry stored it
	}
	if err != nil {
		return Entry{}, err
	}
	return replayed(first, rev.Request)
}

// Save stores the draft as the revision after baseVersion, the version the author's
// editor had. key is the idempotency key of this save: a retry with the same key returns
// what the first attempt returned and never adds a revision, even when the retry races the
// first attempt. When someone saved after baseVersion the save is refused with a
// *SaveConflictError carrying the latest revision, and nothing is stored; revisions that
// only added or removed attachments do not count as a clash, and the save is applied on
// top of them. Only the author may save.
func (j *Journals) Save(ctx context.Context, v Viewer, entryID string, d Draft, baseVersion int, key string) (Entry, error) {
	if err := j.checkChange(v, baseVersion, key); err != nil {
		return Entry{}, err
	}
	d, err := normaliseDraft(d)
	if err != nil {
		return Entry{}, err
	}
	return j.commit(ctx, v, entryID, baseVersion, d, revSave, 0, key)
}

// Restore stores the text of an earlier revision (title, body, tags and links) as a new
// revision after baseVersion; the attachments stay as they are. It is a save in every
// other way: idempotent by key, refused when baseVersion is stale.
func (j *Journals) Restore(ctx context.Context, v Viewer, entryID string, version, baseVersion int, key string) (Entry, error) {
	if err := j.checkChange(v, baseVersion, key); err != nil {
		return Entry{}, err
	}
	old, err := j.ownRevision(ctx, v, entryID, version)
	if err != nil {
		return Entry{}, err
	}
	return j.commit(ctx, v, entryID, baseVersion, old.draft(), revRestore, version, key)
}

func (j *Journals) checkChange(v Viewer, baseVersion int, key string) error {
	if err := signedIn(v); err != nil {
		return err
	}
	if err := checkIdemKey(key); err != nil {
		return err
	}
	if baseVersion < 1 {
		return failure.Invalid("baseVersion", "is the version the change was made to: 1 or more")
	}
	return nil
}

// commit inserts the draft as revision baseVersion+1. The insert is the whole decision:
// of saves racing for one _id exactly one is stored. The base revision usually comes from
// memory, so that an autosave is one insert.
func (j *Journals) commit(ctx context.Context, v Viewer, entryID string, baseVersion int, d Draft, kind string, from int, key string) (Entry, error) {
	base, ok := j.latestRevs.get(entryID)
	switch {
	case ok && base.Version > baseVersion:
		// Revision baseVersion+1 exists: a retry, a save after attachment changes, or stale.
		if base.OwnerID != v.UserID {
			return Entry{}, fmt.Errorf("journal entry %s: %w", entryID, failure.ErrNotFound)
		}
		return j.afterClash(ctx, j.nextRevision(base, d, kind, from, key, baseVersion), baseVersion)
	case !ok || base.Version != baseVersion:
		var err error
		base, err = j.revision(ctx, entryID, baseVersion)
		if errors.Is(err, failure.ErrNotFound) {
			return Entry{}, j.missingBase(ctx, v, entryID, baseVersion)
		}
		if err != nil {
			return Entry{}, err
		}
	}
	if base.OwnerID != v.UserID {
		return Entry{}, fmt.Errorf("journal entry %s: %w", entryID, failure.ErrNotFound)
	}
	rev := j.nextRevision(base, d, kind, from, key, baseVersion)
	if err := j.checkNewLinks(ctx, rev, base); err != nil {
		// A retry of a save that was stored is answered as the first attempt was, even if
		// a linked session has gone since.
		if stored, rerr := j.revisionAt(ctx, entryID, baseVersion+1); rerr == nil && stored.Idem == key {
			return replayed(stored, rev.Request)
		}
		return Entry{}, err
	}
	if err := j.revisions.Insert(ctx, rev); errors.Is(err, database.ErrDuplicate) {
		return j.afterClash(ctx, rev, baseVersion)
	} else if err != nil {
		return Entry{}, fmt.Errorf("save journal entry %s: %w", entryID, err)
	}
	j.stored(ctx, rev)
	return rev.entry(), nil
}

// nextRevision is the revision a change based on baseVersion would store on top of base.
func (j *Journals) nextRevision(base revisionDoc, d Draft, kind string, from int, key string, baseVersion int) revisionDoc {
	rev := base.next(d, kind, j.clock())
	rev.RestoredFrom, rev.Idem, rev.Request = from, key, fingerprint(kind, baseVersion, from, d)
	return rev
}

// checkNewLinks checks the links that rev adds to those of the revision it goes on top of.
func (j *Journals) checkNewLinks(ctx context.Context, rev, under revisionDoc) error {
	if slices.Equal(rev.Links, under.Links) {
		return nil
	}
	return j.checkLinks(ctx, rev.OwnerID, rev.Links, under.Links)
}

// missingBase explains a save based on a version that does not exist.
func (j *Journals) missingBase(ctx context.Context, v Viewer, entryID string, baseVersion int) error {
	latest, err := j.latest(ctx, entryID)
	if err != nil {
		return err
	}
	if latest.OwnerID != v.UserID {
		return fmt.Errorf("journal entry %s: %w", entryID, failure.ErrNotFound)
	}
	return failure.Invalidf("baseVersion", "the entry has no version %d; its latest is version %d", baseVersion, latest.Version)
}

// afterClash decides what a save whose revision number was taken is: a retry of a save
// that was stored (answered with it), a save after attachment changes only (stored on top
// of them), or a stale save (refused with the latest revision).
func (j *Journals) afterClash(ctx context.Context, rev revisionDoc, baseVersion int) (Entry, error) {
	var latest revisionDoc
	for range 8 {
		newer, err := j.revisionsAfter(ctx, rev.EntryID, baseVersion)
		if err != nil {
			return Entry{}, err
		}
		for _, d := range newer {
			if d.Idem == rev.Idem {
				return replayed(d, rev.Request)
			}
		}
		if len(newer) == 0 { // the clash was with a revision since erased
			return Entry{}, fmt.Errorf("journal entry %s: %w", rev.EntryID, failure.ErrNotFound)
		}
		latest = newer[len(newer)-1]
		if !attachmentsOnly(newer) {
			break
		}
		if err := j.checkNewLinks(ctx, rev, latest); err != nil {
			return Entry{}, err
		}
		rev.Version, rev.ID = latest.Version+1, revisionID(rev.EntryID, latest.Version+1)
		rev.Attachments = nonNil(clone(latest.Attachments))
		if err := j.revisions.Insert(ctx, rev); err == nil {
			j.stored(ctx, rev)
			return rev.entry(), nil
		} else if !errors.Is(err, database.ErrDuplicate) {
			return Entry{}, fmt.Errorf("save journal entry %s: %w", rev.EntryID, err)
		}
	}
	return Entry{}, &SaveConflictError{Current: latest.entry(), Base: baseVersion}
}

func attachmentsOnly(revs []revisionDoc) bool {
	for _, d := range revs {
		if d.Kind != revAttach && d.Kind != revDetach {
			return false
		}
	}
	return true
}

// revisionsAfter reads the revisions after base, in order, each by _id. They are usually
// few and the last is usually in memory.
func (j *Journals) revisionsAfter(ctx context.Context, entryID string, base int) ([]revisionDoc, error) {
	known, ok := j.latestRevs.get(entryID)
	var out []revisionDoc
	for n := base + 1; ; n++ {
		// Past the latest in memory a sole writer can stop, once it has found one newer
		// revision: the first may be one this process stored but has not noted yet.
		if ok && j.soleWriter && n > known.Version && len(out) > 0 {
			return out, nil
		}
		d, err := j.revisionAt(ctx, entryID, n)
		if errors.Is(err, failure.ErrNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
}

// revisionAt reads revision n of an entry, from memory when it is the latest seen.
func (j *Journals) revisionAt(ctx context.Context, entryID string, n int) (revisionDoc, error) {
	if d, ok := j.latestRevs.get(entryID); ok && d.Version == n {
		return d, nil
	}
	d, err := j.revision(ctx, entryID, n)
	if err == nil {
		j.latestRevs.put(d)
	}
	return d, err
}

// revision reads revision n of an entry.
func (j *Journals) revision(ctx context.Context, entryID string, n int) (revisionDoc, error) {
	if entryID == "" || n < 1 {
		return revisionDoc{}, fmt.Errorf("journal entry %q version %d: %w", entryID, n, failure.ErrNotFound)
	}
	return findByID[revisionDoc](ctx, j.revisions, revisionID(entryID, n))
}

// ownRevision reads revision n for its author; anyone else gets failure.ErrNotFound.
func (j *Journals) ownRevision(ctx context.Context, v Viewer, entryID string, n int) (revisionDoc, error) {
	if err := signedIn(v); err != nil {
		return revisionDoc{}, err
	}
	d, err := j.revision(ctx, entryID, n)
	if err == nil && d.OwnerID != v.UserID {
		err = fmt.Errorf("journal entry %s: %w", entryID, failure.ErrNotFound)
	}
	return d, err
}

// latest reads the newest revision of an entry: from memory when this process is the
// only writer and has seen the entry, otherwise from the entry record's hint and one read
// past it, each by _id. A missing entry costs one read.
func (j *Journals) latest(ctx context.Context, entryID string) (revisionDoc, error) {
	if d, ok := j.latestRevs.get(entryID); ok && j.soleWriter {
		return d, nil
	}
	rec, err := j.entryRecord(ctx, entryID)
	if err != nil {
		return revisionDoc{}, fmt.Errorf("journal entry %s: %w", entryID, err)
	}
	d, err := j.latestFrom(ctx, rec)
	if err != nil {
		return revisionDoc{}, err
	}
	j.latestRevs.put(d)
	return d, nil
}
