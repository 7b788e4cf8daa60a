package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// layoutMark is the _id, in emailsCollection, of the document that says the accounts'
// records are in the layout read by _id. A data folder written before it lacks it, and the
// first start brings the records over once (see migrateLayout).
const layoutMark = "layout:by-id-1"

// findAll reads every document of coll that matches filter. Only the start-up migration and
// the background sweeps use it: on embedded FerretDB it reads the whole collection.
func findAll[T any](ctx context.Context, coll *database.Collection, filter bson.M) ([]T, error) {
	out := []T{}
	if err := coll.ScanAll(ctx, filter, database.Scan{}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// migrateLayout brings a data folder written before the accounts were read by _id to the
// current layout, once: it gives every account the key document of its address, lists every
// session under its person, stores every API token under its hash, listed under its person,
// removes the password hash from every superseded account version, and counts failed
// sign-ins stored one document each into their keys' chains. It reads the collections
// once, at start-up, and says so in the log.
func (s *Service) migrateLayout(ctx context.Context, log *slog.Logger) error {
	_, err := database.FindByID[bson.M](ctx, s.Users.emails, layoutMark)
	if err == nil {
		return nil
	}
	if !errors.Is(err, failure.ErrNotFound) {
		return fmt.Errorf("accounts layout: %w", err)
	}
	emails, err := s.Users.migrateEmails(ctx)
	if err != nil {
		return fmt.Errorf("accounts layout: %w", err)
	}
	sessions, err := s.Sessions.migrateLists(ctx)
	if err != nil {
		return fmt.Errorf("accounts layout: %w", err)
	}
	tokens, err := s.Tokens.migrateKeys(ctx)
	if err != nil {
		return fmt.Errorf("accounts layout: %w", err)
	}
	scrubbed, err := s.Users.scrubSuperseded(ctx)
	if err != nil {
		return fmt.Errorf("accounts layout: %w", err)
	}
	failures, err := s.Throttle.migrateChains(ctx)
	if err != nil {
		return fmt.Errorf("accounts layout: %w", err)
	}
	if err := database.InsertOnce(ctx, s.Users.emails, bson.M{"_id": layoutMark}); err != nil {
		return fmt.Errorf("accounts layout: %w", err)
	}
	if emails+sessions+tokens+scrubbed+failures > 0 {
		log.Info("account records brought to the layout read by id", "emailKeys", emails, "sessions", sessions, "tokens", tokens,
			"passwordHashesScrubbed", scrubbed, "signInFailures", failures)
	}
	return nil
}

// migrateEmails stores the key document of every account's address that has none, and
// returns how many it stored.
func (s *Users) migrateEmails(ctx context.Context) (int, error) {
	users, err := findAll[User](ctx, s.coll, bson.M{})
	if err != nil {
		return 0, err
	}
	n := 0
	now := s.now().UTC().Truncate(time.Millisecond)
	for _, u := range users {
		if u, err = s.latest(ctx, u); err != nil {
			return 0, err
		}
		id := emailKeyID(u.Email)
		switch _, err := database.FindByID[emailKey](ctx, s.emails, id); {
		case err == nil:
			continue
		case !errors.Is(err, failure.ErrNotFound):
			return 0, err
		}
		if err := database.InsertOnce(ctx, s.emails, emailKey{ID: id, UserID: u.ID, At: now}); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}
