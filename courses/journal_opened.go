package courses

import (
	"context"
	"errors"

	"polyphony/internal/failure"
)

// OpenedVersions says, for each entry the viewer has opened as someone other than its author,
// the highest version they opened. A supervisor's or assessor's journal list compares it
// with the version shared with them now, to show what they have not read yet. Seeing a
// title in a list is not opening the entry. It is one read, by _id.
func (j *Journals) OpenedVersions(ctx context.Context, v Viewer) (map[string]int, error) {
	if err := signedIn(v); err != nil {
		return nil, err
	}
	d, err := findByID[openedDoc](ctx, j.opened, v.UserID)
	if errors.Is(err, failure.ErrNotFound) {
		return map[string]int{}, nil
	}
	if err != nil {
		return nil, err
	}
	if d.Versions == nil {
		d.Versions = map[string]int{}
	}
	return d.Versions, nil
}
