package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

var testConfig = Config{
	Session:  SessionConfig{Idle: 30 * time.Minute, Absolute: 12 * time.Hour},
	Throttle: ThrottleConfig{PerAccount: 5, PerIP: 8, Window: time.Minute},
	CacheFor: -1, // every resolve asks the database
}

// inAnotherProcess opens db's database through a connection of its own, as the command line
// does beside a running server: nothing in memory is shared with db.
func inAnotherProcess(t *testing.T, db *database.DB) *database.DB {
	t.Helper()
	other, err := database.Open(context.Background(), database.Config{URI: dbtest.URI(t), Name: db.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close(context.Background()) })
	return other
}

// TestAccountRequestsReadByIDOnly runs every request path of the accounts (sign in, a
// wrong password and the throttle, resolving a session and a token, sign out, sign out
// everywhere, disable and enable, a new password, making, listing and revoking tokens, a
// new account and a taken address, the check of who is inactive) and checks that each
// read, update and delete it sends is by _id alone: on embedded FerretDB any other filter
// reads every document of the collection, so the request would slow down with everything
// stored.
func TestAccountRequestsReadByIDOnly(t *testing.T) {
	ctx := context.Background()
	log := dbtest.NewFilterLog()
	db := dbtest.NewLogged(t, log)
	svc, err := NewService(ctx, db, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	log.Record(true)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	u := mustUser(t, svc, "keys@example.org", RoleAdmin)
	other := mustUser(t, svc, "other@example.org", RoleTrainee)
	if _, err := svc.Users.Create(ctx, NewUser{Email: "KEYS@example.org", Name: "Again", Role: RoleTrainee, Password: "correct horse battery"}); !errors.Is(err, failure.ErrConflict) {
		t.Fatalf("a taken address: %v, want a conflict", err)
	}

	for range 2 {
		if _, _, _, err := svc.Login(ctx, u.Email, "not the password", "10.1.0.1", ""); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if _, _, _, err := svc.Login(ctx, "nobody@example.org", "not the password", "10.1.0.1", ""); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("unknown address: %v", err)
	}
	_, secret, _, err := svc.Login(ctx, "Keys@Example.org", "correct horse battery", "10.1.0.1", "test")
	must("sign in", err)
	_, _, err = svc.FromSession(ctx, secret)
	must("resolve the session", err)
	svc.Sessions.now = func() time.Time { return time.Now().Add(2 * touchEvery) }
	_, _, err = svc.FromSession(ctx, secret)
	must("resolve and keep alive", err)
	svc.Sessions.now = time.Now
	must("sign out", svc.Logout(ctx, secret))
	if _, _, err := svc.FromSession(ctx, secret); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("after signing out: %v", err)
	}
	for i := range 5 {
		if _, _, _, err := svc.Login(ctx, other.Email, "not the password", "10.1.0.2", ""); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	var throttled *failure.ThrottledError
	if _, _, _, err := svc.Login(ctx, other.Email, "correct horse battery", "10.1.0.2", ""); !errors.As(err, &throttled) {
		t.Fatalf("after 5 failures: %v, want throttled", err)
	}

	var secrets []string
	for range 3 {
		_, s, _, err := svc.Login(ctx, u.Email, "correct horse battery", "", "")
		must("sign in again", err)
		secrets = append(secrets, s)
	}
	must("sign out everywhere", svc.Sessions.DeleteForUser(ctx, u.ID))
	for _, s := range secrets {
		if _, _, err := svc.FromSession(ctx, s); !errors.Is(err, ErrSessionExpired) {
			t.Errorf("after signing out everywhere: %v", err)
		}
	}
	_, s, _, err := svc.Login(ctx, u.Email, "correct horse battery", "", "")
	must("sign in before the disable", err)
	gone, err := svc.Users.Inactive(ctx, []string{u.ID, other.ID, "nosuchaccount"})
	must("inactive", err)
	if !slices.Equal(gone, []string{"nosuchaccount"}) {
		t.Errorf("inactive %v, want the missing account only", gone)
	}
	_, err = svc.SetDisabled(ctx, u.ID, true)
	must("disable", err)
	if _, _, err := svc.FromSession(ctx, s); err == nil {
		t.Error("a session of a disabled account still resolves")
	}
	gone, err = svc.Users.Inactive(ctx, []string{u.ID, other.ID})
	must("inactive", err)
	if !slices.Equal(gone, []string{u.ID}) {
		t.Errorf("inactive %v, want the disabled account", gone)
	}
	_, err = svc.SetDisabled(ctx, u.ID, false)
	must("enable", err)
	must("new password", svc.Users.SetPassword(ctx, u.ID, "a new long passphrase"))
	_, _, _, err = svc.Login(ctx, u.Email, "a new long passphrase", "", "")
	must("sign in with the new password", err)

	tokSecret, tok, err := svc.Tokens.Create(ctx, u.ID, "export", 0)
	must("make a token", err)
	_, _, err = svc.Tokens.Create(ctx, u.ID, "second", time.Hour)
	must("make a second token", err)
	who, err := svc.FromToken(ctx, tokSecret)
	must("use the token", err)
	if who.ID != u.ID {
		t.Errorf("the token resolves to %s, want %s", who.ID, u.ID)
	}
	list, err := svc.Tokens.List(ctx, u.ID)
	must("list tokens", err)
	if len(list) != 2 || list[1].ID != tok.ID {
		t.Errorf("tokens listed %+v, want two, the first made last", list)
	}
	if err := svc.Tokens.Revoke(ctx, other.ID, tok.ID); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("revoke another's token: %v", err)
	}
	must("revoke", svc.Tokens.Revoke(ctx, u.ID, tok.ID))
	if _, err := svc.FromToken(ctx, tokSecret); !errors.Is(err, failure.ErrUnauthenticated) {
		t.Errorf("a revoked token: %v", err)
	}
	must("revoke every token", svc.Tokens.RevokeForUser(ctx, u.ID))
	if list, err := svc.Tokens.List(ctx, u.ID); err != nil || len(list) != 0 {
		t.Errorf("tokens after revoking all: %v, %v", list, err)
	}
	log.Check(t, "an account request")
}

// Ending every session of a person from another process (the command line) reaches the
// sessions by their list and leaves the list to the server, whose sweep then takes the
// ended ones off and keeps the live ones.
func TestSessionsEndedElsewhereAreSweptFromTheList(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	svc, err := NewService(ctx, db, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := NewService(ctx, inAnotherProcess(t, db), testConfig)
	if err != nil {
		t.Fatal(err)
	}
	u := mustUser(t, svc, "swept@example.org", RoleTrainee)
	var ended []string
	for range 2 {
		_, s, _, err := svc.Login(ctx, u.Email, "correct horse battery", "", "")
		if err != nil {
			t.Fatal(err)
		}
		ended = append(ended, s)
	}
	if _, err := cli.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, s := range ended {
		if _, err := svc.Sessions.Lookup(ctx, s); !errors.Is(err, ErrSessionExpired) {
			t.Errorf("a session ended from the other process: %v", err)
		}
	}
	if _, err := svc.SetDisabled(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	_, live, _, err := svc.Login(ctx, u.Email, "correct horse battery", "", "")
	if err != nil {
		t.Fatal(err)
	}
	listed := func() []string {
		t.Helper()
		l, err := database.FindByID[sessionList](ctx, db.Collection(userSessionsCollection), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return l.Sessions
	}
	if n := len(listed()); n != 3 {
		t.Fatalf("%d sessions listed before the sweep, want the two ended and the live one", n)
	}
	if _, err := svc.Sessions.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got := listed(); !slices.Equal(got, []string{secretID(live)}) {
		t.Errorf("listed after the sweep: %v, want only the live session %s", got, secretID(live))
	}
	if _, err := svc.Sessions.Lookup(ctx, live); err != nil {
		t.Errorf("the live session after the sweep: %v", err)
	}
}

// Two processes making accounts with one address at once: exactly one gets it. A key
// document left by a writer that stopped before storing its account holds the address for
// a minute, then is taken over.
func TestOneAddressOneAccountAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	stores := []*Users{}
	for _, d := range []*database.DB{db, inAnotherProcess(t, db)} {
		u, err := NewUsers(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, u)
	}
	for round := range 3 {
		email := fmt.Sprintf("race%d@example.org", round)
		var wg sync.WaitGroup
		var mu sync.Mutex
		made, taken := 0, 0
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := stores[i%2].Create(ctx, NewUser{Email: email, Name: "Racer", Role: RoleTrainee, Password: "correct horse battery"})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					made++
				case errors.Is(err, failure.ErrConflict):
					taken++
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if made != 1 || taken != 5 {
			t.Errorf("%s: %d accounts made, %d refused; want 1 and 5", email, made, taken)
		}
		if _, err := stores[1].ByEmail(ctx, email); err != nil {
			t.Errorf("%s: %v", email, err)
		}
	}

	users := stores[0]
	const email = "orphan@example.org"
	orphan := emailKey{ID: emailKeyID(email), UserID: "neverstored", At: time.Now().UTC()}
	if err := database.Insert(ctx, users.emails, orphan); err != nil {
		t.Fatal(err)
	}
	nu := NewUser{Email: email, Name: "Orphan", Role: RoleTrainee, Password: "correct horse battery"}
	if _, err := users.Create(ctx, nu); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("an address whose key is a second old: %v, want a conflict", err)
	}
	if _, err := users.ByEmail(ctx, email); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("the address of a key naming no account: %v, want not found", err)
	}
	users.now = func() time.Time { return time.Now().Add(orphanKeyAge + time.Second) }
	u, err := users.Create(ctx, nu)
	if err != nil {
		t.Fatalf("an address whose key is older than %s: %v", orphanKeyAge, err)
	}
	if got, err := users.ByEmail(ctx, email); err != nil || got.ID != u.ID {
		t.Errorf("by address: %v, %v; want %s", got.ID, err, u.ID)
	}

	// An old key naming no account while an account has the address (another writer took
	// the key over at the same time and stored its account first): the takeover is refused
	// and the key is made to name the account that has the address.
	if err := database.DeleteByID(ctx, users.emails, orphan.ID); err != nil {
		t.Fatal(err)
	}
	if err := database.Insert(ctx, users.emails, orphan); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Create(ctx, nu); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("an address an account has, under a key naming none: %v, want a conflict", err)
	}
	if got, err := users.ByEmail(ctx, email); err != nil || got.ID != u.ID {
		t.Errorf("by address after the refused takeover: %v, %v; want %s", got.ID, err, u.ID)
	}
}

// Tokens made at once by the server and the command line for one person are each listed.
func TestTokensMadeAcrossProcessesAreAllListed(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	svc, err := NewService(ctx, db, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := NewTokens(ctx, inAnotherProcess(t, db))
	if err != nil {
		t.Fatal(err)
	}
	u := mustUser(t, svc, "tokens@example.org", RoleAdmin)
	var wg sync.WaitGroup
	const each = 4
	for _, s := range []*Tokens{svc.Tokens, cli} {
		for i := range each {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := s.Create(ctx, u.ID, fmt.Sprintf("token %d", i), 0); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	list, err := svc.Tokens.List(ctx, u.ID)
	if err != nil || len(list) != 2*each {
		t.Errorf("%d tokens listed, %v; want %d", len(list), err, 2*each)
	}
}

// Failed sign-ins recorded at once by two instances on one account are all counted.
func TestThrottleCountsFailuresFromTwoProcesses(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	cfg := ThrottleConfig{PerAccount: 8, PerIP: 100, Window: time.Minute}
	var throttles []*Throttle
	for _, d := range []*database.DB{db, inAnotherProcess(t, db)} {
		th, err := NewThrottle(ctx, d, cfg)
		if err != nil {
			t.Fatal(err)
		}
		throttles = append(throttles, th)
	}
	var wg sync.WaitGroup
	for i := range 7 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := throttles[i%2].Fail(ctx, "both@example.org", "10.2.0.1"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := throttles[0].Check(ctx, "both@example.org", ""); err != nil {
		t.Fatalf("after 7 failures of 8 allowed: %v", err)
	}
	if err := throttles[1].Fail(ctx, "both@example.org", ""); err != nil {
		t.Fatal(err)
	}
	var throttled *failure.ThrottledError
	if err := throttles[0].Check(ctx, "both@example.org", ""); !errors.As(err, &throttled) {
		t.Errorf("after 8 failures of 8 allowed, from two processes: %v, want throttled", err)
	}
	if _, recent, err := throttles[1].state(ctx, ipKey("10.2.0.1"), time.Now()); err != nil || len(recent) != 7 {
		t.Errorf("the address's failures: %d, %v; want 7", len(recent), err)
	}
}

// earlierLayout turns the accounts' records in db back into the layout of the previous
// release: no address keys, session lists or token entries, tokens stored under their ID
// with a unique index on the hash, every account version keeping its password hash, and
// failed sign-ins one document each (failed, for each address, that many just now).
func earlierLayout(t *testing.T, db *database.DB, failed map[string]int) {
	t.Helper()
	ctx := context.Background()
	for email, n := range failed {
		for range n {
			f := bson.M{"_id": database.NewID(), "key": accountKey(email), "at": time.Now().UTC().Truncate(time.Millisecond)}
			if err := db.Collection("login_failures").Insert(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range []string{emailsCollection, userSessionsCollection, userTokensCollection} {
		if err := db.Collection(c).Drop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tokens := db.Collection("tokens")
	recs, err := findAll[tokenRecord](ctx, tokens, bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if _, err := tokens.Delete(ctx, r.Key); err != nil {
			t.Fatal(err)
		}
		old := legacyToken{ID: r.ID, Hash: r.Hash, UserID: r.UserID, Name: r.Name, CreatedAt: r.CreatedAt, LastUsed: r.LastUsed, ExpiresAt: r.ExpiresAt}
		if err := tokens.Insert(ctx, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := database.EnsureIndexes(ctx, tokens, database.Index{Keys: []string{"hash"}, Unique: true}); err != nil {
		t.Fatal(err)
	}
	versions := db.Collection(versionsCollection)
	all, err := findAll[userVersion](ctx, versions, bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range all {
		if v.Account.PasswordHash == "" {
			old, err := HashPassword(fmt.Sprintf("an earlier passphrase %d", v.Account.Version))
			if err != nil {
				t.Fatal(err)
			}
			if err := versions.Update(ctx, v.ID, bson.M{"$set": bson.M{"account.passwordHash": old}}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestAccountsOpenEarlierLayout takes accounts, sessions and tokens written in the layout of
// the previous release and checks that a service opened on them signs in, resolves the
// sessions and tokens, signs out everywhere, revokes and throttles as before, that the
// account versions no longer keep superseded password hashes, and that it says so in the
// log once.
func TestAccountsOpenEarlierLayout(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	svc, err := NewService(ctx, db, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	u := mustUser(t, svc, "before@example.org", RoleAdmin)
	for _, p := range []string{"the second passphrase", "the third passphrase"} {
		if err := svc.Users.SetPassword(ctx, u.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetDisabled(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	other := mustUser(t, svc, "other@example.org", RoleTrainee)
	_, sessSecret, _, err := svc.Login(ctx, u.Email, "the third passphrase", "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, otherSession, _, err := svc.Login(ctx, other.Email, "correct horse battery", "", "")
	if err != nil {
		t.Fatal(err)
	}
	tokSecret, tok, err := svc.Tokens.Create(ctx, u.ID, "nightly", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Tokens.Create(ctx, u.ID, "weekly", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := database.FindByID[bson.M](ctx, db.Collection(emailsCollection), layoutMark); err != nil {
		t.Fatalf("a new data folder has no layout mark: %v", err)
	}

	third := mustUser(t, svc, "guessed@example.org", RoleTrainee)
	earlierLayout(t, db, map[string]int{third.Email: testConfig.Throttle.PerAccount})
	versions := db.Collection(versionsCollection)
	withHash, err := versions.Count(ctx, bson.M{"account.passwordHash": bson.M{"$ne": ""}})
	if err != nil || withHash < 4 {
		t.Fatalf("%d versions with a password hash in the earlier layout, %v", withHash, err)
	}

	var logged strings.Builder
	cfg := testConfig
	cfg.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	svc, err = NewService(ctx, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logged.String(), "layout read by id") || !strings.Contains(logged.String(), "tokens=2") ||
		!strings.Contains(logged.String(), "signInFailures=5") {
		t.Errorf("the log says %q, want the records brought over", logged.String())
	}

	if got, err := svc.Users.ByEmail(ctx, "Before@example.org"); err != nil || got.ID != u.ID {
		t.Errorf("by address: %v, %v", got.ID, err)
	}
	if _, _, _, err := svc.Login(ctx, u.Email, "the second passphrase", "", ""); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("an earlier password: %v, want refused", err)
	}
	if _, _, _, err := svc.Login(ctx, u.Email, "the third passphrase", "", ""); err != nil {
		t.Errorf("sign in: %v", err)
	}
	var throttled *failure.ThrottledError
	if _, _, _, err := svc.Login(ctx, third.Email, "correct horse battery", "", ""); !errors.As(err, &throttled) {
		t.Errorf("an account with its failures used up before: %v, want throttled", err)
	}
	if _, err := svc.Users.Create(ctx, NewUser{Email: other.Email, Name: "Twin", Role: RoleTrainee, Password: "correct horse battery"}); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("an address taken before: %v, want a conflict", err)
	}
	all, err := findAll[userVersion](ctx, versions, bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	last, _ := svc.Users.ByID(ctx, u.ID)
	for _, v := range all {
		if v.Account.Version < last.Version && v.Account.PasswordHash != "" {
			t.Errorf("superseded version %s keeps a password hash", v.ID)
		}
	}
	if ok, _ := VerifyPassword(last.PasswordHash, "the third passphrase"); !ok {
		t.Error("the account's password hash is not its last password's")
	}

	if who, err := svc.FromToken(ctx, tokSecret); err != nil || who.ID != u.ID {
		t.Errorf("a token from before: %v, %v", who.ID, err)
	}
	list, err := svc.Tokens.List(ctx, u.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("tokens from before listed: %+v, %v", list, err)
	}
	if err := svc.Tokens.Revoke(ctx, u.ID, tok.ID); err != nil {
		t.Errorf("revoke a token from before by its id: %v", err)
	}
	if _, err := svc.FromToken(ctx, tokSecret); !errors.Is(err, failure.ErrUnauthenticated) {
		t.Errorf("a revoked token from before: %v", err)
	}
	if _, _, err := svc.FromSession(ctx, sessSecret); err != nil {
		t.Errorf("a session from before: %v", err)
	}
	if err := svc.Sessions.DeleteForUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.FromSession(ctx, sessSecret); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("a session from before, after signing out everywhere: %v", err)
	}
	if _, _, err := svc.FromSession(ctx, otherSession); err != nil {
		t.Errorf("another person's session from before: %v", err)
	}

	logged.Reset()
	if _, err := NewService(ctx, db, cfg); err != nil {
		t.Fatal(err)
	}
	if logged.Len() != 0 {
		t.Errorf("the second start logs %q, want nothing: the records were brought over once", logged.String())
	}
}

// The sweep deletes a key's chain once its failures have left the window; the key then
// reads as no failures and counts again from there.
func TestThrottleSweepEndsChains(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	th, err := NewThrottle(ctx, db, ThrottleConfig{PerAccount: 3, PerIP: 100, Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	th.now = func() time.Time { return clock }
	for range 3 {
		if err := th.Fail(ctx, "swept@example.org", "10.3.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	var throttled *failure.ThrottledError
	if err := th.Check(ctx, "swept@example.org", ""); !errors.As(err, &throttled) {
		t.Fatalf("after 3 failures: %v, want throttled", err)
	}
	clock = clock.Add(2 * time.Minute)
	if err := th.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := db.Collection("login_failures").Count(ctx, nil); err != nil || n != 0 {
		t.Errorf("%d documents after the sweep, %v; want none", n, err)
	}
	for i := range 3 {
		if err := th.Check(ctx, "swept@example.org", "10.3.0.1"); err != nil {
			t.Fatalf("attempt %d after the sweep: %v", i, err)
		}
		if err := th.Fail(ctx, "swept@example.org", "10.3.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := th.Check(ctx, "swept@example.org", ""); !errors.As(err, &throttled) {
		t.Errorf("3 failures after the sweep: %v, want throttled", err)
	}
}

// No address a client sends names another key's failure records: failures recorded against
// addresses built to look like another account's records leave that account throttled.
func TestThrottleKeysDoNotReachOtherKeys(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	th, err := NewThrottle(ctx, db, ThrottleConfig{PerAccount: 3, PerIP: 100, Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	const victim = "victim@example.org"
	for range 3 {
		if err := th.Fail(ctx, victim, ""); err != nil {
			t.Fatal(err)
		}
	}
	for n := range 6 {
		for _, forged := range []string{
			fmt.Sprintf("%s#%d", victim, n), fmt.Sprintf("%d/%s", n, accountKey(victim)), "head/" + accountKey(victim),
			fmt.Sprintf("x/%d/%s", n, accountKey(victim)), strings.Repeat("v", 400),
		} {
			if err := th.Fail(ctx, forged, ""); err != nil {
				t.Fatal(err)
			}
			if err := th.Reset(ctx, forged); err != nil {
				t.Fatal(err)
			}
		}
	}
	var throttled *failure.ThrottledError
	if err := th.Check(ctx, victim, ""); !errors.As(err, &throttled) {
		t.Errorf("after failures under forged addresses: %v, want the account still throttled", err)
	}
}
