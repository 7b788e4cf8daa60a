package accounts

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/dbtest"
)

// usersInAnotherProcess opens the account store on db's database through a connection of
// its own, as the command line does beside a running server: nothing in memory is shared
// with db, so only the database can keep the two from overwriting each other.
func usersInAnotherProcess(t *testing.T, db *database.DB) *Users {
	t.Helper()
	ctx := context.Background()
	other, err := database.Open(ctx, database.Config{URI: dbtest.URI(t), Name: db.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close(context.Background()) })
	users, err := NewUsers(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	return users
}

// Changes to one account from two processes at once are each applied, in one order: none is
// overwritten by another (a disable stays, the last password set is the password) and the
// version counts every change.
func TestAccountChangesFromTwoProcessesAreNotLost(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	here, err := NewUsers(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	there := usersInAnotherProcess(t, db)
	u, err := here.Create(ctx, NewUser{Email: "raced@example.org", Name: "Raced", Role: RoleTrainee, Password: "the first passphrase"})
	if err != nil {
		t.Fatal(err)
	}

	const workers, each = 3, 12
	var changes atomic.Int64
	var wg sync.WaitGroup
	for _, users := range []*Users{here, there} {
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					if _, err := users.SetDisabled(ctx, u.ID, true); err != nil {
						t.Errorf("disable: %v", err)
						return
					}
					changes.Add(1)
				}
			}()
		}
	}
	passwords := []string{"the second passphrase", "the third passphrase"}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, p := range passwords {
			if err := there.SetPassword(ctx, u.ID, p); err != nil {
				t.Errorf("set password: %v", err)
				return
			}
			changes.Add(1)
		}
	}()
	wg.Wait()

	for name, users := range map[string]*Users{"this process": here, "the other process": there} {
		got, err := users.ByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Disabled {
			t.Errorf("%s reads the account enabled: a password change overwrote a disable", name)
		}
		if ok, _ := VerifyPassword(got.PasswordHash, passwords[len(passwords)-1]); !ok {
			t.Errorf("%s reads a password other than the last one set: a disable overwrote a password change", name)
		}
		if want := 1 + changes.Load(); got.Version != want {
			t.Errorf("%s reads version %d after %d changes, want %d: changes were lost", name, got.Version, changes.Load(), want)
		}
	}
	checkHistory(t, db, u)
}

// checkHistory checks the stored versions of the account created as first: one for each
// version after the first, each the one before with its one change made, the last the
// account as read. Only the last keeps the password hash: a superseded version has none.
func checkHistory(t *testing.T, db *database.DB, first User) {
	t.Helper()
	ctx := context.Background()
	users, err := NewUsers(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	id := first.ID
	got, err := users.ByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordHash == "" {
		t.Error("the account as read has no password hash")
	}
	prev := first
	prev.PasswordHash = ""
	for v := int64(2); v <= got.Version; v++ {
		var rec userVersion
		if err := db.Collection(versionsCollection).Get(ctx, fmt.Sprintf("%s/%d", id, v), &rec); err != nil {
			t.Fatalf("version %d of %d: %v", v, got.Version, err)
		}
		if rec.Account.Version != v {
			t.Errorf("version %d holds the account at version %d", v, rec.Account.Version)
		}
		switch hash := rec.Account.PasswordHash; {
		case v < got.Version && hash != "":
			t.Errorf("version %d, superseded by %d, keeps a password hash", v, got.Version)
		case v == got.Version && hash != got.PasswordHash:
			t.Errorf("the last version's password hash is not the account's")
		}
		want := prev
		switch rec.Change {
		case changeDisabled:
			want.Disabled = true
		case changeEnabled:
			want.Disabled = false
		case changePassword:
		default:
			t.Errorf("version %d: change %q", v, rec.Change)
		}
		want.Version, want.UpdatedAt = v, rec.Account.UpdatedAt
		acct := rec.Account
		acct.PasswordHash = ""
		if !sameAccount(acct, want) {
			t.Errorf("version %d is not version %d with its change (%s):\n got %+v\nwant %+v", v, v-1, rec.Change, acct, want)
		}
		prev = acct
	}
	got.PasswordHash = ""
	if !sameAccount(prev, got) {
		t.Errorf("the account as read is not its last stored version:\n got %+v\nwant %+v", got, prev)
	}
}

// sameAccount compares two accounts field by field, their times as instants.
func sameAccount(a, b User) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) || !a.UpdatedAt.Equal(b.UpdatedAt) {
		return false
	}
	a.CreatedAt, a.UpdatedAt = b.CreatedAt, b.UpdatedAt
	return a == b
}

// An account document written late (or never, by a writer that stopped after storing its
// change) is only where reading starts: every way of reading the account finds the stored
// versions after it, and the next change goes on top of them.
func TestAccountDocumentLeftBehindIsNotTakenForTheAccount(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	users, err := NewUsers(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	first, err := users.Create(ctx, NewUser{Email: "behind@example.org", Name: "Behind", Role: RoleTrainee, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := users.SetDisabled(ctx, first.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := db.Collection("users").Replace(ctx, first.ID, first); err != nil {
		t.Fatal(err)
	}

	check := func(how string, u User) {
		t.Helper()
		if !u.Disabled || u.Version != 2 {
			t.Errorf("%s: disabled=%v at version %d, want disabled at version 2", how, u.Disabled, u.Version)
		}
	}
	u, err := users.ByID(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	check("ByID", u)
	if u, err = users.ByEmail(ctx, first.Email); err != nil {
		t.Fatal(err)
	}
	check("ByEmail", u)
	list, err := users.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("List: %v %v", list, err)
	}
	check("List", list[0])
	if gone, err := users.Inactive(ctx, []string{first.ID}); err != nil || len(gone) != 1 {
		t.Errorf("Inactive: %v %v, want the disabled account", gone, err)
	}

	if u, err = users.SetDisabled(ctx, first.ID, false); err != nil || u.Version != 3 || u.Disabled {
		t.Errorf("enable on top: disabled=%v at version %d, %v; want enabled at version 3", u.Disabled, u.Version, err)
	}
	checkHistory(t, db, first)
}

// An account stored before its changes were kept as versions (a document at some version
// and no versions) reads as it is, and its next change is the version after.
func TestAccountFromBeforeVersionsAreStored(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	users, err := NewUsers(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	old, err := users.Create(ctx, NewUser{Email: "old@example.org", Name: "Old", Role: RoleTrainee, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Collection("users").Update(ctx, old.ID, bson.M{"$set": bson.M{"version": 7, "disabled": true}}); err != nil {
		t.Fatal(err)
	}
	u, err := users.ByID(ctx, old.ID)
	if err != nil || u.Version != 7 || !u.Disabled {
		t.Fatalf("read: disabled=%v at version %d, %v; want disabled at version 7", u.Disabled, u.Version, err)
	}
	if u, err = users.SetDisabled(ctx, old.ID, false); err != nil || u.Version != 8 {
		t.Fatalf("enable: version %d, %v; want 8", u.Version, err)
	}
	var rec userVersion
	if err := db.Collection(versionsCollection).Get(ctx, old.ID+"/8", &rec); err != nil || rec.Change != changeEnabled || rec.Account.Disabled {
		t.Errorf("version 8 stored: %+v, %v; want the enable", rec, err)
	}
}

// A superseded version that still has its password hash (its successor's writer stopped
// before removing it) loses it to the first reader that passes it on the way to the account.
func TestReaderScrubsAPasswordHashLeftInASupersededVersion(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	users, err := NewUsers(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	first, err := users.Create(ctx, NewUser{Email: "left@example.org", Name: "Left", Role: RoleTrainee, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"the second passphrase", "the third passphrase"} {
		if err := users.SetPassword(ctx, first.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	versions := db.Collection(versionsCollection)
	if err := versions.Update(ctx, first.ID+"/2", bson.M{"$set": bson.M{"account.passwordHash": "left behind"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Collection("users").Replace(ctx, first.ID, first); err != nil {
		t.Fatal(err)
	}
	u, err := users.ByID(ctx, first.ID)
	if err != nil || u.Version != 3 {
		t.Fatalf("read: version %d, %v; want 3", u.Version, err)
	}
	if ok, _ := VerifyPassword(u.PasswordHash, "the third passphrase"); !ok {
		t.Error("the account read does not have its last password")
	}
	var rec userVersion
	if err := versions.Get(ctx, first.ID+"/2", &rec); err != nil || rec.Account.PasswordHash != "" {
		t.Errorf("version 2 after a reader passed it: hash %q, %v; want none", rec.Account.PasswordHash, err)
	}
}
