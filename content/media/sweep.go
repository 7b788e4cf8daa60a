package media

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// incompleteRemover is a store that can clean up writes that never
// finished (Local's temporary files, MinIO's multipart uploads).
type incompleteRemover interface {
	RemoveIncomplete(ctx context.Context, prefix string, before time.Time) (int, error)
}

// Sweep deletes the orphans under prefix: objects that referenced says no
// record points at and that were written more than olderThan before now.
// It returns the keys it deleted. The store must be a Lister.
//
// Records are written after their object (object first, then record), so
// an upload whose record is not written yet is young and survives if
// olderThan comfortably exceeds the time between the two writes; take now
// before loading whatever referenced consults, so that a record written
// meanwhile belongs to an object younger than the cut-off. Writes that
// never finished (a crash mid-upload) are cleaned up too, when the store
// can: for them olderThan must also exceed the longest upload, since MinIO
// dates a multipart upload from its start.
//
// Sweep goes on past a failed deletion and returns every error joined.
func Sweep(ctx context.Context, store Store, prefix string, referenced func(key string) bool, olderThan time.Duration, now time.Time) (removed []string, err error) {
	lister, ok := store.(Lister)
	switch {
	case !ok:
		return nil, fmt.Errorf("media: sweep: %T cannot list its objects", store)
	case prefix == "":
		return nil, errors.New("media: sweep: empty prefix")
	case olderThan <= 0:
		return nil, fmt.Errorf("media: sweep: grace period %v must be positive", olderThan)
	case referenced == nil:
		return nil, errors.New("media: sweep: no reference check")
	}
	cutoff := now.Add(-olderThan)
	var errs []error
	for info, err := range lister.List(ctx, prefix) {
		if cerr := ctx.Err(); cerr != nil {
			return removed, errors.Join(append(errs, cerr)...)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !info.Modified.Before(cutoff) || referenced(info.Key) {
			continue
		}
		if err := store.Delete(ctx, info.Key); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, info.Key)
	}
	if r, ok := store.(incompleteRemover); ok {
		if _, err := r.RemoveIncomplete(ctx, prefix, cutoff); err != nil {
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
}
