package courses

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"polyphony/internal/database"
)

// insertOnce inserts doc; an existing document with the same _id is left alone and is not
// an error.
func insertOnce(ctx context.Context, coll *mongo.Collection, doc any) error {
	_, err := coll.InsertOne(ctx, doc)
	if err != nil && !errors.Is(database.Translate(err), database.ErrDuplicate) {
		return fmt.Errorf("insert into %s: %w", coll.Name(), err)
	}
	return nil
}

// findByID reads one document by _id. A missing document is failure.ErrNotFound.
func findByID[T any](ctx context.Context, coll *mongo.Collection, id string) (T, error) {
	var doc T
	err := coll.FindOne(ctx, bson.M{"_id": id}).Decode(&doc)
	if err != nil {
		return doc, fmt.Errorf("%s %s: %w", coll.Name(), id, database.Translate(err))
	}
	return doc, nil
}

// findLast reads the document matching filter that sorts last by field; a query, not a
// search by _id, because on embedded FerretDB every read of a document costs a scan and
// this is one.
func findLast[T any](ctx context.Context, coll *mongo.Collection, filter bson.M, field string) (T, error) {
	var doc T
	err := coll.FindOne(ctx, filter, options.FindOne().SetSort(bson.D{{Key: field, Value: -1}})).Decode(&doc)
	if err != nil {
		return doc, fmt.Errorf("%s: %w", coll.Name(), database.Translate(err))
	}
	return doc, nil
}
