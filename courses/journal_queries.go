package courses

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
)

// insertOnce inserts doc; an existing document with the same _id is left alone and is not
// an error.
func insertOnce(ctx context.Context, coll *database.Collection, doc any) error {
	err := coll.Insert(ctx, doc)
	if err != nil && !errors.Is(err, database.ErrDuplicate) {
		return fmt.Errorf("insert into %s: %w", coll.Name(), err)
	}
	return nil
}

// findByID reads one document by _id. A missing document is failure.ErrNotFound.
func findByID[T any](ctx context.Context, coll *database.Collection, id string) (T, error) {
	var doc T
	err := coll.Get(ctx, id, &doc)
	return doc, err
}

// findLast reads the document matching filter that sorts last by field: a query, not a
// read by _id, which scans on embedded FerretDB.
func findLast[T any](ctx context.Context, coll *database.Collection, filter bson.M, field string) (T, error) {
	var doc T
	err := coll.ScanFirst(ctx, filter, database.Scan{Sort: bson.D{{Key: field, Value: -1}}}, &doc)
	return doc, err
}
