package database

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// WritesSerially reports whether the server writes one transaction at a time: FerretDB,
// which keeps its records in SQLite (embedded here or in another process, or reached by
// MONGODB_URI, where it says so in its buildInfo). A store whose writers come in bursts
// funnels them on such a server rather than leave them to starve one another in SQLite's
// busy handler.
func (db *DB) WritesSerially(ctx context.Context) (bool, error) {
	if db.Embedded() || db.Shared() || db.ferret() {
		return true, nil
	}
	var info bson.M
	if err := db.mdb.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return false, fmt.Errorf("ask the database what it is: %w", err)
	}
	_, ferret := info["ferretdbVersion"]
	return ferret, nil
}

// Busy reports whether err is SQLite, under FerretDB, refusing a write because another held
// the file for too long; such a write is worth trying again.
func Busy(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "SQLITE_BUSY") || strings.Contains(s, "database is locked")
}
