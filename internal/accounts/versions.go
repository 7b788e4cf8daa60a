package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// An account is changed by more than one process: the server (an administrator's disable)
// and the command line beside it (`polyphony user disable`, `polyphony demo`), which reaches
// the server's database through its listener. No lock in memory covers both, and embedded
// FerretDB does not make an update atomic (it reads the document and writes it back whole,
// so of two updates at once one silently undoes the other, and compare-and-set on a version
// lets both win). What is atomic on every engine is an insert under a unique _id. So each
// change is stored as the account's next version, a whole copy under "<id>/<version>": of
// two writers on the same version the first to insert has made its change, and the other
// reads that version and makes its change on top of it, or is refused. The "users" document
// is brought up to date after each change and is only where reading starts; a reader follows
// the stored versions after it (usually none), so a document written late, or left behind by
// a writer that stopped, is never taken for the account.
//
// Only the last version keeps the password hash. A version is superseded once the next is
// stored, and the writer of the next then removes the hash from it (scrub): a reader that
// finds a version without its hash always finds the next one after it, so the account it
// ends on has its hash. A hash left in a superseded version by a writer that stopped is
// removed by the next reader that passes it, and a data folder's versions from before are
// scrubbed once at start-up (see migrateLayout).
const versionsCollection = "user_versions"

// The changes an account version records.
const (
	changeDisabled = "disabled"
	changeEnabled  = "enabled"
	changePassword = "password"
	// changeInvitationAccepted is a first password, set through an invitation's link.
	changeInvitationAccepted = "invitation accepted"
)

// changeAttempts is how often a change is made again on top of another writer's before it
// is refused. With the back-off between tries (at most 64 ms each) a change gives up only
// after some seconds of losing: sixteen tries were used up by six writers racing on one
// account on a loaded machine.
const changeAttempts = 64

// backOff waits before the attempt-th try of a change that lost its version to another
// writer: a random time up to 1 ms doubled with each loss, at most 64 ms, so that writers
// racing on one account stop meeting at the same instant.
func backOff(ctx context.Context, attempt int) error {
	t := time.NewTimer(time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6))))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// userVersion is an account as it stood after one change.
type userVersion struct {
	ID      string `bson:"_id"`
	Change  string `bson:"change"`
	Account User   `bson:"account"`
}

func versionKey(id string, version int64) string { return fmt.Sprintf("%s/%d", id, version) }

// latest is u with every version stored after it applied: the account as it is now.
func (s *Users) latest(ctx context.Context, u User) (User, error) {
	for passed := false; ; passed = true {
		var v userVersion
		err := s.versions.Get(ctx, versionKey(u.ID, u.Version+1), &v)
		if errors.Is(err, failure.ErrNotFound) {
			return u, nil
		}
		if err != nil {
			return User{}, fmt.Errorf("user %s version %d: %w", u.ID, u.Version+1, err)
		}
		if passed && u.PasswordHash != "" {
			s.scrub(ctx, u.ID, u.Version) // left by a writer that stopped
		}
		u = v.Account
	}
}

// scrub removes the password hash from the stored version of the account, which a later
// version supersedes. It is the only update a version gets, and two at once write the same.
func (s *Users) scrub(ctx context.Context, id string, version int64) {
	err := s.versions.Update(ctx, versionKey(id, version), bson.M{"$unset": bson.M{"account.passwordHash": ""}})
	if err != nil {
		slog.Warn("accounts: a superseded account version keeps its password hash until the next reader passes it", "user", id, "version", version, "err", err)
	}
}

// scrubSuperseded removes the password hash from every stored version that a later one
// supersedes, for versions stored before they were scrubbed, and returns how many it
// scrubbed. It reads the whole collection, once, at start-up.
func (s *Users) scrubSuperseded(ctx context.Context) (int, error) {
	all, err := findAll[userVersion](ctx, s.versions, bson.M{})
	if err != nil {
		return 0, err
	}
	last := map[string]int64{}
	for _, v := range all {
		last[v.Account.ID] = max(last[v.Account.ID], v.Account.Version)
	}
	n := 0
	for _, v := range all {
		if v.Account.PasswordHash == "" || v.Account.Version >= last[v.Account.ID] {
			continue
		}
		if err := s.versions.Update(ctx, v.ID, bson.M{"$unset": bson.M{"account.passwordHash": ""}}); err != nil {
			return n, fmt.Errorf("scrub %s: %w", v.ID, err)
		}
		n++
	}
	return n, nil
}

// change makes one change (named by what, made by apply) to the account as it is now and
// stores it as the next version. With base > 0 the account must still be at version base,
// or the change is failure.ErrConflict; with base 0, a version taken by another writer
// first is read and the change made again on top of it.
func (s *Users) change(ctx context.Context, id string, base int64, what string, apply func(*User)) (User, error) {
	for attempt := range changeAttempts {
		if attempt > 0 {
			if err := backOff(ctx, attempt); err != nil {
				return User{}, err
			}
		}
		cur, err := s.ByID(ctx, id)
		if err != nil {
			return User{}, err
		}
		if base > 0 && cur.Version != base {
			return User{}, failure.Conflict("the account was changed by someone else; reload and try again")
		}
		next := cur
		apply(&next)
		next.Version = cur.Version + 1
		next.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
		err = s.versions.Insert(ctx, userVersion{ID: versionKey(id, next.Version), Change: what, Account: next})
		if errors.Is(err, database.ErrDuplicate) {
			continue
		}
		if err != nil {
			return User{}, fmt.Errorf("change user %s: %w", id, err)
		}
		// The change is made. Should the write of the account document fail, or land after
		// a later version's, readers still find the account through the versions. Then the
		// version this one supersedes gives up its password hash.
		if err := s.coll.Replace(ctx, id, next); err != nil {
			slog.Warn("accounts: the account document was not brought up to date; its versions still hold the change", "user", id, "version", next.Version, "err", err)
		}
		s.scrub(ctx, id, cur.Version)
		if s.onChange != nil {
			s.onChange(id)
		}
		return next, nil
	}
	return User{}, failure.Conflict(fmt.Sprintf("the account was changed by others %d times while this change was being made; try again", changeAttempts))
}
