package courses

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// grant is what the access check allows a person: on what footing they read, and the
// revision they may read.
type grant struct {
	as  Access
	rev revisionDoc
}

// authorize is the one access check of every read of an entry. The author reads the
// latest revision; one of the author's supervisors reads the latest while the entry is
// shared with supervisors; an assessor of the author's cohort reads the submitted revision
// while it is shared with assessors. Anyone else, administrators included, gets
// failure.ErrNotFound, as if the entry did not exist. Sharing and memberships are read
// afresh on every call: no permission outlives a request.
func (j *Journals) authorize(ctx context.Context, v Viewer, entryID string) (grant, error) {
	notFound := fmt.Errorf("journal entry %s: %w", entryID, failure.ErrNotFound)
	if v.UserID == "" {
		return grant{}, notFound
	}
	latest, err := j.latest(ctx, entryID)
	if errors.Is(err, failure.ErrNotFound) {
		return grant{}, notFound
	}
	if err != nil {
		return grant{}, err
	}
	if latest.OwnerID == v.UserID {
		return grant{as: AccessOwner, rev: latest}, nil
	}
	share, err := j.currentShare(ctx, entryID)
	if err != nil {
		return grant{}, err
	}
	if share.Private() {
		return grant{}, notFound
	}
	rel, err := j.relation(ctx, v.UserID, latest.OwnerID)
	if err != nil {
		return grant{}, err
	}
	switch {
	case share.Supervisor && rel.supervisor:
		return grant{as: AccessSupervisor, rev: latest}, nil
	case share.Assessors && rel.assessor:
		rev, err := j.revision(ctx, entryID, share.SubmittedVersion)
		if err != nil {
			return grant{}, err
		}
		return grant{as: AccessAssessor, rev: rev}, nil
	}
	return grant{}, notFound
}

// AccessRecord is one read of a trainee's records by someone else: a journal entry, its
// comments or an attachment, their supervision log or practice totals.
type AccessRecord struct {
	ID       string    `bson:"_id" json:"id"`
	OwnerID  string    `bson:"ownerId" json:"ownerId"`
	EntryID  string    `bson:"entryId,omitempty" json:"entryId,omitempty"`
	Version  int       `bson:"version,omitempty" json:"version,omitempty"`
	ViewerID string    `bson:"viewerId" json:"viewerId"`
	As       Access    `bson:"as" json:"as"`
	What     string    `bson:"what" json:"what"`
	At       time.Time `bson:"at" json:"at"`
}

// logRead writes a read by someone other than the author to the access log. It comes
// before the text is handed over: a read that cannot be logged does not happen.
func (j *Journals) logRead(ctx context.Context, v Viewer, g grant, what string) error {
	if g.as == AccessOwner {
		return nil
	}
	return j.logAccess(ctx, AccessRecord{OwnerID: g.rev.OwnerID, EntryID: g.rev.EntryID, Version: g.rev.Version, ViewerID: v.UserID, As: g.as, What: what})
}

// logAccess stamps the reads with an id and the time and stores them (storeAccess).
func (j *Journals) logAccess(ctx context.Context, recs ...AccessRecord) error {
	for i := range recs {
		recs[i].ID, recs[i].At = database.NewID(), j.clock()
	}
	return j.storeAccess(ctx, recs)
}

// storeAccess appends records to their owners' logs, in order, and notes the versions of
// entries their readers opened.
func (j *Journals) storeAccess(ctx context.Context, recs []AccessRecord) error {
	byOwner := map[string][]AccessRecord{}
	var owners []string
	opened := map[string]map[string]int{}
	for _, r := range recs {
		if byOwner[r.OwnerID] == nil {
			owners = append(owners, r.OwnerID)
		}
		byOwner[r.OwnerID] = append(byOwner[r.OwnerID], r)
		if r.What == "entry" {
			if opened[r.ViewerID] == nil {
				opened[r.ViewerID] = map[string]int{}
			}
			opened[r.ViewerID][r.EntryID] = max(opened[r.ViewerID][r.EntryID], r.Version)
		}
	}
	for _, o := range owners {
		if err := j.appendAccess(ctx, o, byOwner[o]); err != nil {
			return err
		}
	}
	for viewer, versions := range opened {
		if err := j.noteOpened(ctx, viewer, versions); err != nil {
			return err
		}
	}
	return nil
}

// AccessLog lists every read of the viewer's records by someone else, newest first. Only
// the person themselves sees their log.
func (j *Journals) AccessLog(ctx context.Context, v Viewer) ([]AccessRecord, error) {
	if err := signedIn(v); err != nil {
		return nil, err
	}
	return j.accessPages(ctx, v.UserID)
}

// MaxAccessLogPage is the most records AccessLogPage is asked for at once.
const MaxAccessLogPage = 500

// AccessLogPage is one page of AccessLog: about limit reads (at most MaxAccessLogPage; a
// list's titles, written together, stay together) older than the cursor before (0: from
// the newest), and the cursor of the next page, 0 when there is none. Its cost is that of
// the page, however long the log.
func (j *Journals) AccessLogPage(ctx context.Context, v Viewer, before, limit int) ([]AccessRecord, int, error) {
	if err := signedIn(v); err != nil {
		return nil, 0, err
	}
	if limit <= 0 || limit > MaxAccessLogPage {
		limit = MaxAccessLogPage
	}
	return j.accessFrom(ctx, v.UserID, before, limit)
}

// EntryView is an entry as one person may read it. Sharing is there for the author only.
type EntryView struct {
	Entry
	As      Access   `json:"as"`
	Sharing *Sharing `json:"sharing,omitempty"`
}

// ReadEntry is the one way to read a journal entry: every page and API that shows an
// entry calls it with the person asking. See authorize for who reads what; a read by
// anyone but the author is written to the author's access log.
func (j *Journals) ReadEntry(ctx context.Context, v Viewer, entryID string) (EntryView, error) {
	g, err := j.authorize(ctx, v, entryID)
	if err != nil {
		return EntryView{}, err
	}
	view := EntryView{Entry: g.rev.entry(), As: g.as}
	if g.as == AccessOwner {
		share, err := j.currentShare(ctx, entryID)
		if err != nil {
			return EntryView{}, err
		}
		view.Sharing = &share.Sharing
		return view, nil
	}
	if err := j.logRead(ctx, v, g, "entry"); err != nil {
		return EntryView{}, err
	}
	return view, nil
}

// EntrySummary is a line of a list of entries.
type EntrySummary struct {
	ID        string    `json:"id"`
	OwnerID   string    `json:"ownerId"`
	Title     string    `json:"title"`
	Tags      []string  `json:"tags"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	As        Access    `json:"as"`
	Sharing   *Sharing  `json:"sharing,omitempty"` // the author's only
}

// Entries lists the trainee's entries that the viewer may read, most recently saved
// first: all of them for the author; for a supervisor or assessor, those shared with them
// (each listed title is logged as a read). Anyone else gets an empty list. It reads the
// author's record and then each entry by _id, so its cost grows with the author's entries
// and not with what else is stored.
func (j *Journals) Entries(ctx context.Context, v Viewer, ownerID string) ([]EntrySummary, error) {
	if err := signedIn(v); err != nil {
		return nil, err
	}
	var rel relation
	if v.UserID != ownerID {
		var err error
		if rel, err = j.relation(ctx, v.UserID, ownerID); err != nil || !rel.supervisor && !rel.assessor {
			return []EntrySummary{}, err
		}
	}
	ids, err := j.authorEntries(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	out := []EntrySummary{}
	var reads []AccessRecord
	for _, entryID := range ids {
		s, ok, err := j.summary(ctx, v, entryID, rel)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		out = append(out, s)
		if s.As != AccessOwner {
			reads = append(reads, AccessRecord{OwnerID: ownerID, EntryID: s.ID, Version: s.Version, ViewerID: v.UserID, As: s.As, What: "title in a list"})
		}
	}
	if err := j.logAccess(ctx, reads...); err != nil {
		return nil, err
	}
	sort.Slice(out, func(a, b int) bool {
		if !out[a].UpdatedAt.Equal(out[b].UpdatedAt) {
			return out[a].UpdatedAt.After(out[b].UpdatedAt)
		}
		return out[a].ID < out[b].ID
	})
	return out, nil
}

// summary is one line of Entries, ok false when the viewer may not read the entry (or it
// has no revision yet).
func (j *Journals) summary(ctx context.Context, v Viewer, entryID string, rel relation) (EntrySummary, bool, error) {
	rev, err := j.latest(ctx, entryID)
	if errors.Is(err, failure.ErrNotFound) {
		return EntrySummary{}, false, nil
	}
	if err != nil {
		return EntrySummary{}, false, err
	}
	share, err := j.currentShare(ctx, entryID)
	if err != nil {
		return EntrySummary{}, false, err
	}
	as := AccessOwner
	switch {
	case rev.OwnerID == v.UserID:
	case share.Supervisor && rel.supervisor:
		as = AccessSupervisor
	case share.Assessors && rel.assessor:
		if rev, err = j.revision(ctx, entryID, share.SubmittedVersion); err != nil {
			return EntrySummary{}, false, err
		}
		as = AccessAssessor
	default:
		return EntrySummary{}, false, nil
	}
	s := EntrySummary{
		ID: rev.EntryID, OwnerID: rev.OwnerID, Title: rev.Title, Tags: nonNil(rev.Tags), Version: rev.Version,
		CreatedAt: rev.CreatedAt.UTC(), UpdatedAt: rev.SavedAt.UTC(), As: as,
	}
	if as == AccessOwner {
		s.Sharing = &share.Sharing
	}
	return s, true, nil
}

// revisionHeads reads every revision of the person's entries with one query, by entry and
// version, keeping no bodies; the latest revision of each entry, body and all, goes to
// memory, so that opening one of the entries listed costs no query for a sole writer.
func (j *Journals) revisionHeads(ctx context.Context, ownerID string) (map[string]map[int]revisionDoc, error) {
	out := map[string]map[int]revisionDoc{}
	latest := map[string]revisionDoc{}
	err := j.revisions.ScanEach(ctx, bson.M{"ownerId": ownerID}, database.Scan{}, func(decode func(any) error) error {
		var d revisionDoc
		if err := decode(&d); err != nil {
			return err
		}
		if d.Version > latest[d.EntryID].Version {
			latest[d.EntryID] = d
		}
		if out[d.EntryID] == nil {
			out[d.EntryID] = map[int]revisionDoc{}
		}
		d.Body, d.Attachments = "", nil
		out[d.EntryID][d.Version] = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list journal entries: %w", err)
	}
	for _, d := range latest {
		j.latestRevs.put(d)
	}
	return out, nil
}

// RevisionInfo describes one revision in an entry's history.
type RevisionInfo struct {
	Version      int       `json:"version"`
	Kind         string    `json:"kind"` // save, restore, attach or detach
	RestoredFrom int       `json:"restoredFrom,omitempty"`
	Title        string    `json:"title"`
	Characters   int       `json:"characters"`
	Attachments  int       `json:"attachments"`
	SavedAt      time.Time `json:"savedAt"`
}

// Revisions lists the history of an entry for its author, newest first: up to limit
// revisions (at most 100) older than version before (0: from the latest).
func (j *Journals) Revisions(ctx context.Context, v Viewer, entryID string, before, limit int) ([]RevisionInfo, error) {
	g, err := j.authorize(ctx, v, entryID)
	if err != nil {
		return nil, err
	}
	if g.as != AccessOwner {
		return nil, fmt.Errorf("history of journal entry %s is its author's only: %w", entryID, failure.ErrForbidden)
	}
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	top := g.rev.Version
	if before > 0 && before-1 < top {
		top = before - 1
	}
	// Revision numbers have no gaps, so the page is read by _id, one revision at a time.
	var docs []revisionDoc
	for n := top; n >= 1 && len(docs) < limit; n-- {
		d, err := j.revision(ctx, entryID, n)
		if errors.Is(err, failure.ErrNotFound) {
			continue // erased since the latest was read
		}
		if err != nil {
			return nil, fmt.Errorf("history of journal entry %s: %w", entryID, err)
		}
		docs = append(docs, d)
	}
	out := []RevisionInfo{}
	for _, d := range docs {
		out = append(out, RevisionInfo{
			Version: d.Version, Kind: d.Kind, RestoredFrom: d.RestoredFrom, Title: d.Title,
			Characters: utf8.RuneCountInString(d.Body), Attachments: len(d.Attachments), SavedAt: d.SavedAt.UTC(),
		})
	}
	return out, nil
}

// ReadRevision returns an earlier revision of an entry to its author.
func (j *Journals) ReadRevision(ctx context.Context, v Viewer, entryID string, version int) (Entry, error) {
	d, err := j.ownRevision(ctx, v, entryID, version)
	if err != nil {
		return Entry{}, err
	}
	return d.entry(), nil
}
