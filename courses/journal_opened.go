package courses

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// OpenedVersions says, for each entry the viewer has opened as someone other than its author,
// the highest version they opened. A supervisor's or assessor's journal list compares it
// with the version shared with them now, to show what they have not read yet. Seeing a
// title in a list is not opening the entry. It is one query on the access log.
func (j *Journals) OpenedVersions(ctx context.Context, v Viewer) (map[string]int, error) {
	if err := signedIn(v); err != nil {
		return nil, err
	}
	recs, err := findAll[AccessRecord](ctx, j.access, bson.M{"viewerId": v.UserID, "what": "entry"}, bson.D{})
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(recs))
	for _, r := range recs {
		out[r.EntryID] = max(out[r.EntryID], r.Version)
	}
	return out, nil
}
