package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// TokenPrefix starts every personal API token, so that one pasted in the wrong place is
// recognisable.
const TokenPrefix = "pph_"

// Token is a personal API token's record; the secret itself is shown once, at creation.
type Token struct {
	ID        string    `bson:"_id" json:"id"`
	Hash      string    `bson:"hash" json:"-"`
	UserID    string    `bson:"userId" json:"-"`
	Name      string    `bson:"name" json:"name"`
	CreatedAt time.Time `bson:"createdAt" json:"createdAt"`
	LastUsed  time.Time `bson:"lastUsed,omitempty" json:"lastUsed,omitzero"`
	ExpiresAt time.Time `bson:"expiresAt,omitempty" json:"expiresAt,omitzero"`
}

// Tokens stores personal API tokens in the "tokens" collection.
type Tokens struct {
	coll *mongo.Collection
	now  func() time.Time
}

// NewTokens returns the token store, creating its indexes if they are missing.
func NewTokens(ctx context.Context, db *database.DB) (*Tokens, error) {
	coll := db.Collection("tokens")
	if err := database.EnsureIndexes(ctx, coll,
		mongo.IndexModel{Keys: bson.D{{Key: "hash", Value: 1}}, Options: options.Index().SetUnique(true)},
		mongo.IndexModel{Keys: bson.D{{Key: "userId", Value: 1}}},
	); err != nil {
		return nil, err
	}
	return &Tokens{coll: coll, now: time.Now}, nil
}

// Create makes a token for the user, valid for ttl (0: until revoked), and returns its secret.
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
	if _, err := s.coll.InsertOne(ctx, t); err != nil {
		return "", Token{}, fmt.Errorf("create token: %w", database.Translate(err))
	}
	return secret, t, nil
}

// Lookup returns the live token for a secret.
func (s *Tokens) Lookup(ctx context.Context, secret string) (Token, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return Token{}, fmt.Errorf("%w: that is not a Polyphony API token", failure.ErrUnauthenticated)
	}
	var t Token
	err := s.coll.FindOne(ctx, bson.M{"hash": secretID(secret)}).Decode(&t)
	if errors.Is(err, mongo.ErrNoDocuments) {
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
		if _, err := s.coll.UpdateOne(ctx, bson.M{"_id": t.ID}, bson.M{"$set": bson.M{"lastUsed": t.LastUsed}}); err != nil {
			return Token{}, fmt.Errorf("touch token: %w", err)
		}
	}
	return t, nil
}

// List returns the user's tokens, newest first.
func (s *Tokens) List(ctx context.Context, userID string) ([]Token, error) {
	cur, err := s.coll.Find(ctx, bson.M{"userId": userID}, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}))
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out := []Token{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// Revoke deletes one of the user's tokens; another user's token is failure.ErrNotFound.
func (s *Tokens) Revoke(ctx context.Context, userID, id string) error {
	res, err := s.coll.DeleteOne(ctx, bson.M{"_id": id, "userId": userID})
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if res.DeletedCount == 0 {
		return fmt.Errorf("token %s: %w", id, failure.ErrNotFound)
	}
	return nil
}

// RevokeForUser deletes every token of the user.
func (s *Tokens) RevokeForUser(ctx context.Context, userID string) error {
	_, err := s.coll.DeleteMany(ctx, bson.M{"userId": userID})
	return err
}
