package database

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/failure"
)

// These helpers, over Collection's calls by id, are what the stores use most. Each reads or
// writes one document by exactly {_id: id}, the only filter that embedded FerretDB answers through an
// index (see idindex.go), so what a request costs does not grow with what is stored. On a
// MongoDB server the same calls are ordinary reads by the primary key.

// FindByID reads one document by _id. A missing document is failure.ErrNotFound.
func FindByID[T any](ctx context.Context, coll *Collection, id string) (T, error) {
	var doc T
	err := coll.Get(ctx, id, &doc)
	return doc, err
}

// FindEachByID reads the documents with the given ids, one read by _id each (a filter on
// $in scans on embedded FerretDB), in the order of ids; ids with no document are left out.
func FindEachByID[T any](ctx context.Context, coll *Collection, ids []string) ([]T, error) {
	out := make([]T, 0, len(ids))
	for _, id := range ids {
		d, err := FindByID[T](ctx, coll, id)
		if errors.Is(err, failure.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Insert stores doc under its _id. A document already stored under it is ErrDuplicate (a
// failure.ErrConflict), whatever the engine.
func Insert(ctx context.Context, coll *Collection, doc any) error {
	return coll.Insert(ctx, doc)
}

// InsertOnce stores doc under its _id unless a document is stored there already: a retry,
// or another instance storing the same record, is not an error.
func InsertOnce(ctx context.Context, coll *Collection, doc any) error {
	if err := Insert(ctx, coll, doc); err != nil && !errors.Is(err, ErrDuplicate) {
		return err
	}
	return nil
}

// DeleteByID removes the document with that _id, if there is one.
func DeleteByID(ctx context.Context, coll *Collection, id string) error {
	_, err := coll.Delete(ctx, id)
	return err
}

// AddToList adds value to the array field of the list document id (made on first use),
// once: adding it again changes nothing. A list document is how a store reaches everything
// of one owner by _id (an author's entries, an assessment's results) instead of by a filter.
// The embedded engine carries out an update as a read and a write, so the add holds the
// document's lock (Serialize), which on that engine every process writing the folder honours.
func (db *DB) AddToList(ctx context.Context, coll *Collection, id, field string, value any) error {
	return db.updateList(ctx, coll, id, bson.M{"$addToSet": bson.M{field: value}})
}

// RemoveFromList takes value out of the array field of the list document id.
func (db *DB) RemoveFromList(ctx context.Context, coll *Collection, id, field string, value any) error {
	defer db.Serialize(coll.Name(), id)()
	return coll.Update(ctx, id, bson.M{"$pull": bson.M{field: value}})
}

func (db *DB) updateList(ctx context.Context, coll *Collection, id string, update bson.M) error {
	defer db.Serialize(coll.Name(), id)()
	err := coll.Upsert(ctx, id, update)
	if errors.Is(err, ErrDuplicate) {
		// Two first adds raced to make the document (another process): it exists now.
		err = coll.Upsert(ctx, id, update)
	}
	return err
}

// AddField sets one field (a dotted path) of the document id, made on first use, holding
// the document's lock like AddToList.
func (db *DB) AddField(ctx context.Context, coll *Collection, id, field string, value any) error {
	return db.updateList(ctx, coll, id, bson.M{"$set": bson.M{field: value}})
}
