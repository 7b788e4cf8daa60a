package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

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
// the server sees the same counts, and reads them by _id: on embedded FerretDB a query on
// the key and the time would read every failure stored.
//
// A key's failures (an account's or an address's) are a chain of documents "<n>/<key>",
// each holding the times of the key's recent failures as they stood after the n-th change:
// a failure or a reset is the insert of the next one, which is atomic on every engine, where
// an update of a shared document can be lost (see database.Serialize). Of two writers on one
// key at once the second finds its number taken, reads the document that took it and
// inserts the one after. The document "head/<key>" notes the last number written: a hint a
// reader starts from and goes past while the next number is stored, so a hint written late
// or lost costs a read, never a count.
type Throttle struct {
	coll *database.Collection
	cfg  ThrottleConfig
	now  func() time.Time
	// prefix keeps the keys of one use of the throttle apart from another's ("" for sign-in).
	prefix string
}

// failureState is one link of a key's chain.
type failureState struct {
	ID    string      `bson:"_id"`
	Key   string      `bson:"key"`
	N     int64       `bson:"n"`
	At    time.Time   `bson:"at"`
	Times []time.Time `bson:"times"`
}

// failureHead notes the last link written of a key's chain.
type failureHead struct {
	ID string    `bson:"_id"`
	N  int64     `bson:"n"`
	At time.Time `bson:"at"`
}

// The number comes first, so that no key, whatever a client sends as its address, names
// another key's link or hint.
func failureStateID(key string, n int64) string { return fmt.Sprintf("%d/%s", n, failureKey(key)) }
func failureHeadID(key string) string           { return "head/" + failureKey(key) }

// failureKey is key as it goes into an _id: a long one (an address refused as malformed
// may be anything a client sends) by its hash.
func failureKey(key string) string {
	if len(key) > 300 {
		return "sha256:" + secretID(key)
	}
	return key
}

// failAttempts is how often a failure is recorded again on top of another writer's.
const failAttempts = 64

// NewThrottle returns the sign-in throttle, creating its index if it is missing.
func NewThrottle(ctx context.Context, db *database.DB, cfg ThrottleConfig) (*Throttle, error) {
	coll := db.Collection("login_failures")
	if err := database.EnsureIndexes(ctx, coll, database.Index{Keys: []string{"at"}}); err != nil {
		return nil, err
	}
	return &Throttle{coll: coll, cfg: cfg, now: time.Now}, nil
}

// DefaultResetThrottle allows 5 requests for a forgotten password's link per address and
// 50 per client address in an hour.
var DefaultResetThrottle = ThrottleConfig{PerAccount: 5, PerIP: 50, Window: time.Hour}

// NewResetThrottle counts requests for a forgotten password's link, in the same chains as
// sign-in failures under keys of their own.
func NewResetThrottle(ctx context.Context, db *database.DB, cfg ThrottleConfig) (*Throttle, error) {
	t, err := NewThrottle(ctx, db, cfg)
	if err != nil {
		return nil, err
	}
	t.prefix = "reset/"
	return t, nil
}

func accountKey(email string) string { return "account:" + email }
func ipKey(ip string) string         { return "ip:" + ip }

func (t *Throttle) accountKey(email string) string { return t.prefix + accountKey(email) }
func (t *Throttle) ipKey(ip string) string         { return t.prefix + ipKey(ip) }

// Check returns a *failure.ThrottledError when the account or the address has used up its
// failures in the window; RetryAfter is when the oldest of them leaves the window.
func (t *Throttle) Check(ctx context.Context, email, ip string) error {
	now := t.now()
	wait, err := t.wait(ctx, t.accountKey(email), t.cfg.PerAccount, now)
	if err != nil {
		return err
	}
	if ip != "" {
		ipWait, err := t.wait(ctx, t.ipKey(ip), t.cfg.PerIP, now)
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

// state reads the last link of key's chain: its number (0: none) and the key's failure
// times in the window, oldest first.
func (t *Throttle) state(ctx context.Context, key string, now time.Time) (int64, []time.Time, error) {
	head, err := database.FindByID[failureHead](ctx, t.coll, failureHeadID(key))
	if err != nil && !errors.Is(err, failure.ErrNotFound) {
		return 0, nil, fmt.Errorf("read sign-in failures: %w", err)
	}
	n, last := head.N, failureState{}
	for {
		d, err := database.FindByID[failureState](ctx, t.coll, failureStateID(key, n+1))
		if errors.Is(err, failure.ErrNotFound) {
			break
		}
		if err != nil {
			return 0, nil, fmt.Errorf("read sign-in failures: %w", err)
		}
		n, last = n+1, d
	}
	if n == head.N && n > 0 {
		// The hint is the last link. Swept (every time in it has left the window), it is
		// read as no failures.
		last, err = database.FindByID[failureState](ctx, t.coll, failureStateID(key, n))
		if err != nil && !errors.Is(err, failure.ErrNotFound) {
			return 0, nil, fmt.Errorf("read sign-in failures: %w", err)
		}
	}
	var recent []time.Time
	for _, at := range last.Times {
		if at.After(now.Add(-t.cfg.Window)) {
			recent = append(recent, at)
		}
	}
	return n, recent, nil
}

// wait is how long until key has fewer than limit failures in the window (0: it has now).
func (t *Throttle) wait(ctx context.Context, key string, limit int, now time.Time) (time.Duration, error) {
	_, recent, err := t.state(ctx, key, now)
	if err != nil {
		return 0, err
	}
	if len(recent) < limit {
		return 0, nil
	}
	// Of the newest `limit` failures in the window, the oldest decides when one more attempt
	// is allowed.
	return recent[len(recent)-limit].Add(t.cfg.Window).Sub(now), nil
}

// record stores the next link of key's chain, made by next from the failure times in the
// window, on top of whatever other writers stored first.
func (t *Throttle) record(ctx context.Context, key string, next func([]time.Time) ([]time.Time, bool)) error {
	for range failAttempts {
		now := t.now().UTC().Truncate(time.Millisecond)
		n, recent, err := t.state(ctx, key, now)
		if err != nil {
			return err
		}
		times, write := next(recent)
		if !write {
			return nil
		}
		doc := failureState{ID: failureStateID(key, n+1), Key: failureKey(key), N: n + 1, At: now, Times: times}
		err = database.Insert(ctx, t.coll, doc)
		if errors.Is(err, database.ErrDuplicate) {
			continue
		}
		if err != nil {
			return fmt.Errorf("record sign-in failure: %w", err)
		}
		// The hint; another writer's racing it may leave it a number behind, which the next
		// reader goes past.
		err = t.coll.Upsert(ctx, failureHeadID(key), bson.M{"$max": bson.M{"n": doc.N, "at": now}})
		if err != nil && !errors.Is(err, database.ErrDuplicate) {
			slog.Warn("accounts: the hint of a key's sign-in failures was not written", "err", err)
		}
		return nil
	}
	return failure.Conflict("too many sign-ins at once; try again")
}

// Fail records one failed sign-in against the account and the address.
func (t *Throttle) Fail(ctx context.Context, email, ip string) error {
	add := func(limit int) func([]time.Time) ([]time.Time, bool) {
		return func(recent []time.Time) ([]time.Time, bool) {
			times := append(recent, t.now().UTC().Truncate(time.Millisecond))
			return times[max(0, len(times)-max(limit, 1)):], true
		}
	}
	if err := t.record(ctx, t.accountKey(email), add(t.cfg.PerAccount)); err != nil {
		return err
	}
	if ip != "" {
		return t.record(ctx, t.ipKey(ip), add(t.cfg.PerIP))
	}
	return nil
}

// Reset forgets the account's failures after a successful sign-in. The address keeps its
// count, so one good password does not reopen a guessing run from that address.
func (t *Throttle) Reset(ctx context.Context, email string) error {
	return t.record(ctx, t.accountKey(email), func(recent []time.Time) ([]time.Time, bool) {
		return []time.Time{}, len(recent) > 0
	})
}

// legacyFailure is a failed sign-in as stored before the chains, one document each.
type legacyFailure struct {
	Key string    `bson:"key"`
	At  time.Time `bson:"at"`
}

// migrateChains counts the failures stored one document each before the chains into their
// keys' chains, so that an upgrade does not give a guessing run a fresh allowance, and
// returns how many it counted. Sweep deletes the old documents once they leave the window.
func (t *Throttle) migrateChains(ctx context.Context) (int, error) {
	old, err := findAll[legacyFailure](ctx, t.coll, bson.M{"n": bson.M{"$exists": false}, "key": bson.M{"$exists": true}})
	if err != nil {
		return 0, err
	}
	byKey := map[string][]time.Time{}
	for _, f := range old {
		byKey[f.Key] = append(byKey[f.Key], f.At)
	}
	for key, times := range byKey {
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		limit := t.cfg.PerIP
		if strings.HasPrefix(key, accountKey("")) {
			limit = t.cfg.PerAccount
		}
		err := t.record(ctx, key, func(recent []time.Time) ([]time.Time, bool) {
			all := append(recent, times...)
			slices.SortFunc(all, func(a, b time.Time) int { return a.Compare(b) })
			return all[max(0, len(all)-max(limit, 1)):], true
		})
		if err != nil {
			return 0, err
		}
	}
	return len(old), nil
}

// Sweep removes the links and hints whose times have all left the window, and failures
// stored one document each before the chains. It runs in the background and reads the whole
// collection to do it (on embedded FerretDB any query but one by _id does). A key whose
// last link is swept reads as no failures, and its next failure is stored after its hint.
func (t *Throttle) Sweep(ctx context.Context) error {
	_, err := t.coll.DeleteWhere(ctx, bson.M{"at": bson.M{"$lte": t.now().Add(-t.cfg.Window)}})
	return err
}
