package accounts

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

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
// the server sees the same counts. Each failure is a document of its own: inserts are atomic
// on every engine, where a shared counter's increments can be lost (see database.Serialize),
// and the window slides with the clock.
type Throttle struct {
	coll *mongo.Collection
	cfg  ThrottleConfig
	now  func() time.Time
}

type failedSignIn struct {
	ID  string    `bson:"_id"`
	Key string    `bson:"key"`
	At  time.Time `bson:"at"`
}

// NewThrottle returns the sign-in throttle, creating its index if it is missing.
func NewThrottle(ctx context.Context, db *database.DB, cfg ThrottleConfig) (*Throttle, error) {
	coll := db.Collection("login_failures")
	if err := database.EnsureIndexes(ctx, coll, mongo.IndexModel{Keys: bson.D{{Key: "key", Value: 1}, {Key: "at", Value: 1}}}); err != nil {
		return nil, err
	}
	return &Throttle{coll: coll, cfg: cfg, now: time.Now}, nil
}

func accountKey(email string) string { return "account:" + email }
func ipKey(ip string) string         { return "ip:" + ip }

// Check returns a *failure.ThrottledError when the account or the address has used up its
// failures in the window; RetryAfter is when the oldest of them leaves the window.
func (t *Throttle) Check(ctx context.Context, email, ip string) error {
	now := t.now()
	wait, err := t.wait(ctx, accountKey(email), t.cfg.PerAccount, now)
	if err != nil {
		return err
	}
	if ip != "" {
		ipWait, err := t.wait(ctx, ipKey(ip), t.cfg.PerIP, now)
		if err != nil {
			return err
		}
		wait = max(wait, ipWait)
	}
	if wait > 0 {
		return &failure.ThrottledError{RetryAfter: wait.Truncate(time.Second) + time.Second}
	}
	return nil
}

// wait is how long until key has fewer than limit failures in the window (0: it has now).
func (t *Throttle) wait(ctx context.Context, key string, limit int, now time.Time) (time.Duration, error) {
	// The newest `limit` failures in the window: if there are that many, the oldest of them
	// decides when one more attempt is allowed.
	cur, err := t.coll.Find(ctx,
		bson.M{"key": key, "at": bson.M{"$gt": now.Add(-t.cfg.Window)}},
		options.Find().SetSort(bson.D{{Key: "at", Value: -1}}).SetLimit(int64(limit)).SetProjection(bson.M{"at": 1}))
	if err != nil {
		return 0, fmt.Errorf("read sign-in failures: %w", err)
	}
	var recent []failedSignIn
	if err := cur.All(ctx, &recent); err != nil {
		return 0, fmt.Errorf("read sign-in failures: %w", err)
	}
	if len(recent) < limit {
		return 0, nil
	}
	return recent[len(recent)-1].At.Add(t.cfg.Window).Sub(now), nil
}

// Fail records one failed sign-in against the account and the address.
func (t *Throttle) Fail(ctx context.Context, email, ip string) error {
	now := t.now().UTC().Truncate(time.Millisecond)
	docs := []any{failedSignIn{ID: database.NewID(), Key: accountKey(email), At: now}}
	if ip != "" {
		docs = append(docs, failedSignIn{ID: database.NewID(), Key: ipKey(ip), At: now})
	}
	if _, err := t.coll.InsertMany(ctx, docs); err != nil {
		return fmt.Errorf("record sign-in failure: %w", err)
	}
	return nil
}

// Reset forgets the account's failures after a successful sign-in. The address keeps its
// count, so one good password does not reopen a guessing run from that address.
func (t *Throttle) Reset(ctx context.Context, email string) error {
	_, err := t.coll.DeleteMany(ctx, bson.M{"key": accountKey(email)})
	return err
}

// Sweep removes failures that have left the window.
func (t *Throttle) Sweep(ctx context.Context) error {
	_, err := t.coll.DeleteMany(ctx, bson.M{"at": bson.M{"$lte": t.now().Add(-t.cfg.Window)}})
	return err
}
