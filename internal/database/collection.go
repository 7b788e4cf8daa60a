package database

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"polyphony/internal/failure"
)

// Collection is one collection of records, and the only way the stores reach them: this
// package is the one that knows the engine and its driver. Documents are bson (the format,
// not the engine); errors come back as the domain's, translated once here: a missing
// document is failure.ErrNotFound, a key taken is ErrDuplicate.
//
// The calls by id (Get, Exists, Insert, Put, Replace, Update, Upsert, Delete, UpdateIf) read
// or write one document by exactly {_id: id}, the one filter embedded FerretDB answers through
// an index (see idindex.go); they are what request paths use. The calls whose names say Scan,
// Where, Count or Distinct take a filter, which embedded FerretDB evaluates by reading every
// document of the collection: background sweeps, erasure, migrations and admin lists only.
type Collection struct {
	db *DB
	c  *mongo.Collection
}

// byID is the filter of the calls by id.
func byID(id string) bson.M { return bson.M{"_id": id} }

// Name is the collection's name.
func (c *Collection) Name() string { return c.c.Name() }

// Get reads the document id into v. A missing document is failure.ErrNotFound.
func (c *Collection) Get(ctx context.Context, id string, v any) error {
	if err := c.c.FindOne(ctx, byID(id)).Decode(v); err != nil {
		return fmt.Errorf("%s %s: %w", c.Name(), id, Translate(err))
	}
	return nil
}

// Exists reports whether a document id is stored, reading nothing but its _id.
func (c *Collection) Exists(ctx context.Context, id string) (bool, error) {
	err := c.c.FindOne(ctx, byID(id), options.FindOne().SetProjection(bson.M{"_id": 1})).Err()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return false, nil
	default:
		return false, fmt.Errorf("%s %s: %w", c.Name(), id, Translate(err))
	}
}

// Insert stores doc under its _id. A document stored under it already is ErrDuplicate (a
// failure.ErrConflict), whatever the engine: this is the one way a store learns that a key
// is taken.
func (c *Collection) Insert(ctx context.Context, doc any) error {
	if _, err := c.c.InsertOne(ctx, doc); err != nil {
		return fmt.Errorf("insert into %s: %w", c.Name(), Translate(err))
	}
	return nil
}

// InsertManyOptions says how InsertMany goes on after a refused document.
type InsertManyOptions struct {
	// Unordered tries every document whatever happens to the others; otherwise the insert
	// stops at the first refused one, those before it stored.
	Unordered bool
}

// InsertMany stores docs with one command. When only duplicate keys were refused the error
// is ErrDuplicate (the documents whose keys were free are stored if Unordered is set).
func (c *Collection) InsertMany(ctx context.Context, docs []any, o InsertManyOptions) error {
	if len(docs) == 0 {
		return nil
	}
	if _, err := c.c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(!o.Unordered)); err != nil {
		return fmt.Errorf("insert into %s: %w", c.Name(), Translate(err))
	}
	return nil
}

// Put stores doc as the document id, replacing the one stored there or making it. Two
// first puts of one id racing may see ErrDuplicate for the one that lost.
func (c *Collection) Put(ctx context.Context, id string, doc any) error {
	if _, err := c.c.ReplaceOne(ctx, byID(id), doc, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("put %s %s: %w", c.Name(), id, Translate(err))
	}
	return nil
}

// Replace stores doc in place of the document id; with none stored there it does nothing.
func (c *Collection) Replace(ctx context.Context, id string, doc any) error {
	if _, err := c.c.ReplaceOne(ctx, byID(id), doc); err != nil {
		return fmt.Errorf("replace %s %s: %w", c.Name(), id, Translate(err))
	}
	return nil
}

// Update applies an update document ({"$set": ...}, {"$max": ...}) to the document id; with
// none stored there it does nothing. Embedded FerretDB carries out an update as a read and a
// write with nothing held between them (serialize.go), so a store holds db.Serialize around
// an update that must not be lost to a concurrent one.
func (c *Collection) Update(ctx context.Context, id string, update bson.M) error {
	if _, err := c.c.UpdateOne(ctx, byID(id), update); err != nil {
		return fmt.Errorf("update %s %s: %w", c.Name(), id, Translate(err))
	}
	return nil
}

// Upsert is Update that makes the document id when it is missing. Two first upserts of one
// id racing may see ErrDuplicate for the one that lost; the document exists then, and the
// update can be tried again.
func (c *Collection) Upsert(ctx context.Context, id string, update bson.M) error {
	if _, err := c.c.UpdateOne(ctx, byID(id), update, options.UpdateOne().SetUpsert(true)); err != nil {
		return fmt.Errorf("update %s %s: %w", c.Name(), id, Translate(err))
	}
	return nil
}

// Delete removes the document id and reports whether there was one.
func (c *Collection) Delete(ctx context.Context, id string) (bool, error) {
	res, err := c.c.DeleteOne(ctx, byID(id))
	if err != nil {
		return false, fmt.Errorf("delete %s %s: %w", c.Name(), id, Translate(err))
	}
	return res.DeletedCount > 0, nil
}

// UpdateIf applies update to the document id if its fields equal those of cond (top-level
// fields, compared for equality), and reports whether it did; a missing document is false.
//
// On MongoDB the condition is part of the update's filter, which the server checks with the
// write. Embedded FerretDB would answer such a filter by reading the whole collection, and
// carries out the update as a read and a write with nothing held between them, so two
// conditional updates on one document could both succeed; there the document is read by
// _id, checked, and written while this process holds the document's lock (Serialize).
func (c *Collection) UpdateIf(ctx context.Context, id string, cond, update bson.M) (bool, error) {
	for k := range cond {
		if k == "_id" || strings.HasPrefix(k, "$") || strings.Contains(k, ".") {
			return false, fmt.Errorf("update %s %s: condition on %q: only top-level fields", c.Name(), id, k)
		}
	}
	if !c.db.ferret() {
		filter := bson.M{"_id": id}
		for k, v := range cond {
			filter[k] = v
		}
		res, err := c.c.UpdateOne(ctx, filter, update)
		if err != nil {
			return false, fmt.Errorf("update %s %s: %w", c.Name(), id, Translate(err))
		}
		return res.MatchedCount == 1, nil
	}
	defer c.db.Serialize(c.Name(), id)()
	var doc bson.M
	err := c.Get(ctx, id, &doc)
	if errors.Is(err, failure.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	ok, err := matches(doc, cond)
	if err != nil || !ok {
		return false, err
	}
	if err := c.Update(ctx, id, update); err != nil {
		return false, err
	}
	return true, nil
}

// matches reports whether the fields of doc, as read from the database, equal those of cond.
// cond goes through bson and back first, so that both sides hold the types the driver
// decodes to; numbers of different widths compare by value.
func matches(doc, cond bson.M) (bool, error) {
	raw, err := bson.Marshal(cond)
	if err != nil {
		return false, err
	}
	var want bson.M
	if err := bson.Unmarshal(raw, &want); err != nil {
		return false, err
	}
	for k, w := range want {
		got, ok := doc[k]
		if !ok || !sameValue(got, w) {
			return false, nil
		}
	}
	return true, nil
}

func sameValue(a, b any) bool {
	if x, ok := asInt(a); ok {
		y, ok := asInt(b)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int32:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}

// Scan says which documents' fields a scanning call reads, and in what order.
type Scan struct {
	// Sort orders the documents, as {field: 1 or -1} in order of precedence.
	Sort bson.D
	// Fields, when set, are the only fields read (with _id).
	Fields []string
}

func (s Scan) find() *options.FindOptionsBuilder {
	o := options.Find()
	if len(s.Sort) > 0 {
		o.SetSort(s.Sort)
	}
	if len(s.Fields) > 0 {
		o.SetProjection(projection(s.Fields))
	}
	return o
}

func projection(fields []string) bson.M {
	p := bson.M{}
	for _, f := range fields {
		p[f] = 1
	}
	return p
}

// orAll makes a nil filter the one that matches every document.
func orAll(filter bson.M) bson.M {
	if filter == nil {
		return bson.M{}
	}
	return filter
}

// ScanAll reads every document matching filter (nil for all) into out, a pointer to a slice.
// It scans on embedded FerretDB: never on a request path.
func (c *Collection) ScanAll(ctx context.Context, filter bson.M, s Scan, out any) error {
	cur, err := c.c.Find(ctx, orAll(filter), s.find())
	if err != nil {
		return fmt.Errorf("find %s: %w", c.Name(), Translate(err))
	}
	if err := cur.All(ctx, out); err != nil {
		return fmt.Errorf("read %s: %w", c.Name(), Translate(err))
	}
	return nil
}

// ScanEach calls each for every document matching filter (nil for all), in turn, with a
// function that decodes the document; an error from each stops the scan and is returned. It
// holds one document at a time, and scans on embedded FerretDB: never on a request path.
func (c *Collection) ScanEach(ctx context.Context, filter bson.M, s Scan, each func(decode func(v any) error) error) error {
	cur, err := c.c.Find(ctx, orAll(filter), s.find())
	if err != nil {
		return fmt.Errorf("find %s: %w", c.Name(), Translate(err))
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		if err := each(cur.Decode); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("read %s: %w", c.Name(), Translate(err))
	}
	return nil
}

// ScanFirst reads into v the first document matching filter in the order of s.Sort; none is
// failure.ErrNotFound. It scans on embedded FerretDB.
func (c *Collection) ScanFirst(ctx context.Context, filter bson.M, s Scan, v any) error {
	o := options.FindOne()
	if len(s.Sort) > 0 {
		o.SetSort(s.Sort)
	}
	if len(s.Fields) > 0 {
		o.SetProjection(projection(s.Fields))
	}
	if err := c.c.FindOne(ctx, orAll(filter), o).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", c.Name(), Translate(err))
	}
	return nil
}

// DeleteWhere removes every document matching filter and says how many it removed. It
// scans on embedded FerretDB.
func (c *Collection) DeleteWhere(ctx context.Context, filter bson.M) (int64, error) {
	res, err := c.c.DeleteMany(ctx, orAll(filter))
	if err != nil {
		return 0, fmt.Errorf("delete from %s: %w", c.Name(), Translate(err))
	}
	return res.DeletedCount, nil
}

// Count is how many documents match filter (nil for all). It scans on embedded FerretDB.
func (c *Collection) Count(ctx context.Context, filter bson.M) (int64, error) {
	n, err := c.c.CountDocuments(ctx, orAll(filter))
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", c.Name(), Translate(err))
	}
	return n, nil
}

// Distinct reads into out (a pointer to a slice) the distinct values of field among the
// documents matching filter. It scans on embedded FerretDB.
func (c *Collection) Distinct(ctx context.Context, field string, filter bson.M, out any) error {
	if err := c.c.Distinct(ctx, field, orAll(filter)).Decode(out); err != nil {
		return fmt.Errorf("distinct %s of %s: %w", field, c.Name(), Translate(err))
	}
	return nil
}

// Index is a secondary index on a collection.
type Index struct {
	// Keys are the fields indexed, in order, each ascending.
	Keys []string
	// Unique refuses a second document with the same keys (ErrDuplicate).
	Unique bool
	// Name is the index's name; empty is the server's default, field_1_field_1.
	Name string
}

// name is the name the index is given.
func (ix Index) name() string {
	if ix.Name != "" {
		return ix.Name
	}
	parts := make([]string, len(ix.Keys))
	for i, k := range ix.Keys {
		parts[i] = k + "_1"
	}
	return strings.Join(parts, "_")
}

func (ix Index) model() mongo.IndexModel {
	keys := bson.D{}
	for _, k := range ix.Keys {
		keys = append(keys, bson.E{Key: k, Value: 1})
	}
	o := options.Index().SetName(ix.name())
	if ix.Unique {
		o.SetUnique(true)
	}
	return mongo.IndexModel{Keys: keys, Options: o}
}

// EnsureIndexes creates the indexes that are missing; it is safe to call at every start. It
// creates them one at a time and skips those that exist by name, because FerretDB fails when
// one createIndexes command repeats several existing indexes.
func EnsureIndexes(ctx context.Context, coll *Collection, indexes ...Index) error {
	names, err := coll.IndexNames(ctx)
	if err != nil {
		return err
	}
	existing := map[string]bool{}
	for _, n := range names {
		existing[n] = true
	}
	for _, ix := range indexes {
		if existing[ix.name()] {
			continue
		}
		if _, err := coll.c.Indexes().CreateOne(ctx, ix.model()); err != nil {
			return fmt.Errorf("create index %s on %s: %w", ix.name(), coll.Name(), err)
		}
	}
	return nil
}

// IndexNames lists the names of the collection's indexes (with _id_), for migrations.
func (c *Collection) IndexNames(ctx context.Context) ([]string, error) {
	specs, err := c.c.Indexes().ListSpecifications(ctx)
	if err != nil {
		return nil, fmt.Errorf("list indexes on %s: %w", c.Name(), err)
	}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	return names, nil
}

// DropIndex removes the named index, for migrations.
func (c *Collection) DropIndex(ctx context.Context, name string) error {
	if err := c.c.Indexes().DropOne(ctx, name); err != nil {
		return fmt.Errorf("drop index %s on %s: %w", name, c.Name(), err)
	}
	return nil
}

// Drop removes the collection and everything in it; the next EnsureCollections makes it
// again, empty, with its _id index.
func (c *Collection) Drop(ctx context.Context) error {
	if err := c.c.Drop(ctx); err != nil {
		return fmt.Errorf("drop %s: %w", c.Name(), err)
	}
	return nil
}
