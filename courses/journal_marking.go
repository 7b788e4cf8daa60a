package courses

import (
	"context"
	"fmt"

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
	g, err := j.authorize(ctx, v, entryID)
	if err != nil {
		return Entry{}, err
	}
	if g.as != AccessAssessor {
		return Entry{}, fmt.Errorf("journal entry %s: %w", entryID, failure.ErrNotFound)
	}
	rev := g.rev
	if version > 0 && version != rev.Version {
		if rev, err = j.revision(ctx, entryID, version); err != nil {
			return Entry{}, err
		}
	}
	if err := j.logAccess(ctx, AccessRecord{OwnerID: rev.OwnerID, EntryID: entryID, Version: rev.Version, ViewerID: loggedAs,
		As: AccessAssessor, What: "entry, for marking"}); err != nil {
		return Entry{}, err
	}
	return rev.entry(), nil
}
