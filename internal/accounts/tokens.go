package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// TokenPrefix starts every personal API token, so that one pasted in the wrong place is
// recognisable.
const TokenPrefix = "pph_"

// Token is a personal API token's record; the secret itself is shown once, at creation. It
// is stored under the secret's hash (its _id), so that using a token reads it by _id; ID is
// the name the token is shown and revoked by.
type Token struct {
	ID        string    `bson:"tokenId" json:"id"`
	Hash      string    `bson:"hash" json:"-"`
	UserID    string    `bson:"userId" json:"-"`
	Name      string    `bson:"name" json:"name"`
	CreatedAt time.Time `bson:"createdAt" json:"createdAt"`
	LastUsed  time.Time `bson:"lastUsed,omitempty" json:"lastUsed,omitzero"`
	ExpiresAt time.Time `bson:"expiresAt,omitempty" json:"expiresAt,omitzero"`
}

// tokenRecord is a token as stored: under its hash, which the "hash" field repeats.
type tokenRecord struct {
	Key   string `bson:"_id"`
	Token `bson:",inline"`
}

// tokenEntry is one line of a person's list of tokens: the n-th token they made, under
// "<userId>/<n>" in userTokensCollection.
type tokenEntry struct {
	ID      string `bson:"_id"`
	TokenID string `bson:"tokenId"`
	Hash    string `bson:"hash"`
}

// userTokensCollection lists each person's tokens, one document per token made, numbered
// from 1: listing and revoking read them by _id in turn up to the first number not taken.
// Tokens are made by the server and the command line beside it, and each takes its number
// with an insert, which is atomic on every engine where an update to a shared list is not.
// An entry stays when its token is revoked: they are few, made by hand.
const userTokensCollection = "user_tokens"

func tokenEntryID(userID string, n int) string { return fmt.Sprintf("%s/%d", userID, n) }

// maxTokenEntries bounds the entries read for one person.
const maxTokenEntries = 10_000

// Tokens stores personal API tokens in the "tokens" collection.
type Tokens struct {
	coll    *database.Collection
	entries *database.Collection
	now     func() time.Time
}

// NewTokens returns the token store, creating its indexes if they are missing.
func NewTokens(ctx context.Context, db *database.DB) (*Tokens, error) {
	coll := db.Collection("tokens")
	if err := database.EnsureIndexes(ctx, coll,
		database.Index{Keys: []string{"userId"}},
	); err != nil {
		return nil, err
	}
	return &Tokens{coll: coll, entries: db.Collection(userTokensCollection), now: time.Now}, nil
}

// userEntries reads the user's list of tokens, oldest first, and the number the next token
// takes.
func (s *Tokens) userEntries(ctx context.Context, userID string) ([]tokenEntry, int, error) {
	var out []tokenEntry
	for n := 1; n <= maxTokenEntries; n++ {
		e, err := database.FindByID[tokenEntry](ctx, s.entries, tokenEntryID(userID, n))
		if errors.Is(err, failure.ErrNotFound) {
			return out, n, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, e)
	}
	return nil, 0, fmt.Errorf("list tokens: more than %d of user %s", maxTokenEntries, userID)
}

// list adds a token to its user's list, under the first number no other writer has taken.
func (s *Tokens) list(ctx context.Context, t Token) error {
	_, n, err := s.userEntries(ctx, t.UserID)
	if err != nil {
		return err
	}
	for ; n <= maxTokenEntries; n++ {
		err := database.Insert(ctx, s.entries, tokenEntry{ID: tokenEntryID(t.UserID, n), TokenID: t.ID, Hash: t.Hash})
		if !errors.Is(err, database.ErrDuplicate) {
			return err
		}
	}
	return fmt.Errorf("list token: more than %d of user %s", maxTokenEntries, t.UserID)
}

// Create makes a token for the user, valid for ttl (0: until revoked), and returns its
// secret. The token is listed before it is stored, so that it can always be revoked.
func (s *Tokens) Create(ctx context.Context, userID, name string, ttl time.Duration) (string, Token, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", Token{}, failure.Problem("name", "Enter what the token is for")
	}
	if utf8.RuneCountInString(name) > 80 {
		return "", Token{}, failure.Problem("name", "What the token is for must be 80 characters or fewer")
	}
	if ttl < 0 {
		return "", Token{}, failure.Problem("expiresInDays", "Enter the days the token lasts as 0 (until revoked) or more")
	}
	secret := TokenPrefix + newSecret()
	now := s.now().UTC().Truncate(time.Millisecond)
	t := Token{ID: database.NewID(), Hash: secretID(secret), UserID: userID, Name: name, CreatedAt: now}
	if ttl > 0 {
		t.ExpiresAt = now.Add(ttl)
	}
	if err := s.list(ctx, t); err != nil {
		return "", Token{}, fmt.Errorf("create token: %w", err)
	}
	if err := database.Insert(ctx, s.coll, tokenRecord{Key: t.Hash, Token: t}); err != nil {
		return "", Token{}, fmt.Errorf("create token: %w", err)
	}
	return secret, t, nil
}

// Lookup returns the live token for a secret.
func (s *Tokens) Lookup(ctx context.Context, secret string) (Token, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return Token{}, fmt.Errorf("%w: that is not a Polyphony API token", failure.ErrUnauthenticated)
	}
	rec, err := database.FindByID[tokenRecord](ctx, s.coll, secretID(secret))
	t := rec.Token
	if errors.Is(err, failure.ErrNotFound) {
		return Token{}, fmt.Errorf("%w: the API token is unknown or revoked", failure.ErrUnauthenticated)
	}
	if err != nil {
		return Token{}, fmt.Errorf("find token: %w", err)
	}
	now := s.now()
	if !t.ExpiresAt.IsZero() && now.After(t.ExpiresAt) {
		return Token{}, fmt.Errorf("%w: the API token has expired", failure.ErrUnauthenticated)
	}
	if now.Sub(t.LastUsed) > touchEvery {
		t.LastUsed = now.UTC().Truncate(time.Millisecond)
		if err := s.coll.Update(ctx, rec.Key, bson.M{"$set": bson.M{"lastUsed": t.LastUsed}}); err != nil {
			return Token{}, fmt.Errorf("touch token: %w", err)
		}
	}
	return t, nil
}

// List returns the user's tokens, newest first.
func (s *Tokens) List(ctx context.Context, userID string) ([]Token, error) {
	entries, _, err := s.userEntries(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := []Token{}
	seen := map[string]bool{}
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if seen[e.Hash] {
			continue
		}
		seen[e.Hash] = true
		rec, err := database.FindByID[tokenRecord](ctx, s.coll, e.Hash)
		if errors.Is(err, failure.ErrNotFound) { // revoked
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		if rec.UserID == userID {
			out = append(out, rec.Token)
		}
	}
	return out, nil
}

// Revoke deletes one of the user's tokens; another user's token is failure.ErrNotFound.
func (s *Tokens) Revoke(ctx context.Context, userID, id string) error {
	entries, _, err := s.userEntries(ctx, userID)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.TokenID != id {
			continue
		}
		deleted, err := s.coll.Delete(ctx, e.Hash)
		if err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		if deleted {
			return nil
		}
	}
	return fmt.Errorf("token %s: %w", id, failure.ErrNotFound)
}

// RevokeForUser deletes every token of the user.
func (s *Tokens) RevokeForUser(ctx context.Context, userID string) error {
	entries, _, err := s.userEntries(ctx, userID)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := database.DeleteByID(ctx, s.coll, e.Hash); err != nil {
			return fmt.Errorf("revoke tokens: %w", err)
		}
	}
	return nil
}

// legacyToken is a token as stored before tokens were kept under their hash: under its ID.
type legacyToken struct {
	ID        string    `bson:"_id"`
	Hash      string    `bson:"hash"`
	UserID    string    `bson:"userId"`
	Name      string    `bson:"name"`
	CreatedAt time.Time `bson:"createdAt"`
	LastUsed  time.Time `bson:"lastUsed,omitempty"`
	ExpiresAt time.Time `bson:"expiresAt,omitempty"`
}

// legacyHashIndex is the unique index on "hash" that tokens stored under their ID had: the
// _id is the hash now, and a token is stored twice for a moment while it is moved.
const legacyHashIndex = "hash_1"

// migrateKeys stores every token kept under its ID under its hash instead, listed under its
// user, and returns how many it moved. Stopped half way, it is run again at the next start:
// a token listed twice is shown once.
func (s *Tokens) migrateKeys(ctx context.Context) (int, error) {
	names, err := s.coll.IndexNames(ctx)
	if err != nil {
		return 0, err
	}
	if slices.Contains(names, legacyHashIndex) {
		if err := s.coll.DropIndex(ctx, legacyHashIndex); err != nil {
			return 0, err
		}
	}
	old, err := findAll[legacyToken](ctx, s.coll, bson.M{"tokenId": bson.M{"$exists": false}})
	if err != nil {
		return 0, err
	}
	for _, o := range old {
		t := Token{ID: o.ID, Hash: o.Hash, UserID: o.UserID, Name: o.Name, CreatedAt: o.CreatedAt, LastUsed: o.LastUsed, ExpiresAt: o.ExpiresAt}
		if err := s.list(ctx, t); err != nil {
			return 0, err
		}
		if err := database.InsertOnce(ctx, s.coll, tokenRecord{Key: t.Hash, Token: t}); err != nil {
			return 0, err
		}
		if err := database.DeleteByID(ctx, s.coll, o.ID); err != nil {
			return 0, err
		}
	}
	return len(old), nil
}
