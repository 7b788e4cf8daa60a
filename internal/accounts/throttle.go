package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// ThrottleConfig sets how many failed sign-ins a window allows, per account and per client
// address.
type ThrottleConfig struct {
	PerAccount int
	PerIP      int
	Window     time.Duration
}

// DefaultThrottle allows 10 failures per account and 100 per address in 15 minutes.
var DefaultThrottle = ThrottleConfig{PerAccount: 10, PerIP: 100, Window: 15 * time.Minute}

// Throttle counts failed sign-ins in the "login_failures" collection, so every instance of
// the server sees the same counts. Each key has one document: a count and when its window
// ends.
type Throttle struct {
	coll *mongo.Collection
	cfg  ThrottleConfig
	now  func() time.Time
}

type failureCount struct {
	Key     string    `bson:"_id"`
	Count   int       `bson:"count"`
	ResetAt time.Time `bson:"resetAt"`
}

// NewThrottle returns the sign-in throttle.
func NewThrottle(db *database.DB, cfg ThrottleConfig) *Throttle {
	return &Throttle{coll: db.Collection("login_failures"), cfg: cfg, now: time.Now}
}

func accountKey(email string) string { return "account:" + email }
func ipKey(ip string) string         { return "ip:" + ip }

// Check returns a *failure.ThrottledError when the account or the address has used up its
// failures for the window.
func (t *Throttle) Check(ctx context.Context, email, ip string) error {
	limits := map[string]int{accountKey(email): t.cfg.PerAccount}
	if ip != "" {
		limits[ipKey(ip)] = t.cfg.PerIP
	}
	keys := make([]string, 0, len(limits))
	for k := range limits {
		keys = append(keys, k)
	}
	cur, err := t.coll.Find(ctx, bson.M{"_id": bson.M{"$in": keys}})
	if err != nil {
		return fmt.Errorf("read sign-in failures: %w", err)
	}
	var counts []failureCount
	if err := cur.All(ctx, &counts); err != nil {
		return fmt.Errorf("read sign-in failures: %w", err)
	}
	now := t.now()
	var wait time.Duration
	for _, c := range counts {
		if c.ResetAt.After(now) && c.Count >= limits[c.Key] {
			wait = max(wait, c.ResetAt.Sub(now))
		}
	}
	if wait > 0 {
		return &failure.ThrottledError{RetryAfter: wait.Round(time.Second) + time.Second}
	}
	return nil
}

// Fail records one failed sign-in against the account and the address.
func (t *Throttle) Fail(ctx context.Context, email, ip string) error {
	if err := t.bump(ctx, accountKey(email)); err != nil {
		return err
	}
	if ip == "" {
		return nil
	}
	return t.bump(ctx, ipKey(ip))
}

// bump adds one to the key's count in its live window, or starts a new window. Every step is
// a single-document write, so concurrent failures are all counted without transactions.
func (t *Throttle) bump(ctx context.Context, key string) error {
	for range 5 {
		now := t.now().UTC().Truncate(time.Millisecond)
		res, err := t.coll.UpdateOne(ctx, bson.M{"_id": key, "resetAt": bson.M{"$gt": now}}, bson.M{"$inc": bson.M{"count": 1}})
		if err != nil {
			return fmt.Errorf("count sign-in failure: %w", err)
		}
		if res.MatchedCount == 1 {
			return nil
		}
		fresh := bson.M{"$set": bson.M{"count": 1, "resetAt": now.Add(t.cfg.Window)}}
		res, err = t.coll.UpdateOne(ctx, bson.M{"_id": key, "resetAt": bson.M{"$lte": now}}, fresh)
		if err != nil {
			return fmt.Errorf("count sign-in failure: %w", err)
		}
		if res.MatchedCount == 1 {
			return nil
		}
		_, err = t.coll.InsertOne(ctx, failureCount{Key: key, Count: 1, ResetAt: now.Add(t.cfg.Window)})
		if err == nil {
			return nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("count sign-in failure: %w", err)
		}
		// Another request created the window first: count into it.
	}
	return errors.New("count sign-in failure: too much contention")
}

// Reset clears the account's count after a successful sign-in. The address keeps its count,
// so one good password does not reopen a guessing run from that address.
func (t *Throttle) Reset(ctx context.Context, email string) error {
	_, err := t.coll.DeleteOne(ctx, bson.M{"_id": accountKey(email)})
	return err
}
