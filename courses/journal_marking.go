package courses

import (
	"context"
	"fmt"
	"slices"

	"polyphony/internal/failure"
)

// MarkingReader stands in a trainee's access log for the assessor who read an entry to mark
// it, where the trainee is not to learn who marked their work (the piece says whether they
// may): the log still says that an assessor read it, when, and which revision.
const MarkingReader = "(marking)"

// ReadForMarking reads revision version of an entry submitted for assessed work (the
// revision frozen when it was submitted), for an assessor of the author's cohort marking
// it; like ReadEntry, only while the entry is shared with assessors, and anyone else gets
// failure.ErrNotFound. The read is written to the author's access log as "entry, for
// marking" under loggedAs: the marker's id, or MarkingReader.
func (j *Journals) ReadForMarking(ctx context.Context, v Viewer, entryID string, version int, loggedAs string) (Entry, error) {
	rev, err := j.forMarking(ctx, v, entryID, version)
	if err != nil {
		return Entry{}, err
	}
	if err := j.logAccess(ctx, AccessRecord{OwnerID: rev.OwnerID, EntryID: entryID, Version: rev.Version, ViewerID: loggedAs,
		As: AccessAssessor, What: "entry, for marking"}); err != nil {
		return Entry{}, err
	}
	return rev.entry(), nil
}

// AttachmentForMarking finds, for an assessor marking assessed work, the attachment with
// the key in revision version of an entry (a file the trainee submitted from that frozen
// revision), under the same rules as ReadForMarking: only while the entry is shared with
// the assessors, and anyone else gets failure.ErrNotFound. The read is written to the
// author's access log under loggedAs.
func (j *Journals) AttachmentForMarking(ctx context.Context, v Viewer, entryID string, version int, key, loggedAs string) (Attachment, error) {
	rev, err := j.forMarking(ctx, v, entryID, version)
	if err != nil {
		return Attachment{}, err
	}
	i := slices.IndexFunc(rev.Attachments, func(a Attachment) bool { return a.Key == key })
	if i < 0 {
		return Attachment{}, fmt.Errorf("attachment %q of journal entry %s, revision %d: %w", key, entryID, rev.Version, failure.ErrNotFound)
	}
	a := rev.Attachments[i]
	if err := j.logAccess(ctx, AccessRecord{OwnerID: rev.OwnerID, EntryID: entryID, Version: rev.Version, ViewerID: loggedAs,
		As: AccessAssessor, What: "attachment " + a.Name + ", for marking"}); err != nil {
		return Attachment{}, err
	}
	return a, nil
}

// forMarking reads revision version of the entry (0: the one shared) for an assessor of the
// author's cohort while the entry is shared with the assessors; anyone else gets
// failure.ErrNotFound.
func (j *Journals) forMarking(ctx context.Context, v Viewer, entryID string, version int) (revisionDoc, error) {
	g, err := j.authorize(ctx, v, entryID)
	if err != nil {
		return revisionDoc{}, err
	}
	if g.as != AccessAssessor {
		return revisionDoc{}, fmt.Errorf("journal entry %s: %w", entryID, failure.ErrNotFound)
	}
	if version > 0 && version != g.rev.Version {
		return j.revision(ctx, entryID, version)
	}
	return g.rev, nil
}
