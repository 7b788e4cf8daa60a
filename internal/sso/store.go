package sso

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// statesCollection holds the sign-ins in progress, each under its state.
const statesCollection = "sso_states"

// stateRecord is one sign-in in progress.
type stateRecord struct {
	ID       string    `bson:"_id"`
	Verifier string    `bson:"verifier"`
	Nonce    string    `bson:"nonce"`
	Next     string    `bson:"next"`
	Created  time.Time `bson:"created"`
	Expires  time.Time `bson:"expires"`
}

type states struct {
	coll *database.Collection
}

func newStates(ctx context.Context, db *database.DB) (*states, error) {
	s := &states{coll: db.Collection(statesCollection)}
	if err := db.EnsureCollections(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *states) insert(ctx context.Context, st stateRecord) error {
	return database.Insert(ctx, s.coll, st)
}

// take reads the state and deletes it. Only the caller whose delete removed the record has
// it: two instances finishing the same state at once cannot both succeed. An expired state
// is deleted too, and refused.
func (s *states) take(ctx context.Context, id string, now time.Time) (stateRecord, error) {
	if id == "" {
		return stateRecord{}, ErrState
	}
	st, err := database.FindByID[stateRecord](ctx, s.coll, id)
	if errors.Is(err, failure.ErrNotFound) {
		return stateRecord{}, ErrState
	}
	if err != nil {
		return stateRecord{}, err
	}
	deleted, err := s.coll.Delete(ctx, id)
	if err != nil {
		return stateRecord{}, err
	}
	if !deleted {
		return stateRecord{}, ErrState // another request used it first
	}
	if !now.Before(st.Expires) {
		return stateRecord{}, fmt.Errorf("%w (expired %s)", ErrState, st.Expires.Format(time.RFC3339))
	}
	return st, nil
}

// sweep removes expired states. It is a background sweep, so it may filter on a field other
// than _id (a scan on the embedded engine); no request waits for it.
func (s *states) sweep(ctx context.Context, now time.Time) (int64, error) {
	n, err := s.coll.DeleteWhere(ctx, bson.M{"expires": bson.M{"$lt": now}})
	if err != nil {
		return 0, fmt.Errorf("sweep %s: %w", statesCollection, err)
	}
	return n, nil
}

// equal compares two secrets in constant time.
func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
