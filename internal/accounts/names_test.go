package accounts

import (
	"context"
	"testing"

	"polyphony/internal/database"
	"polyphony/internal/dbtest"
)

// TestNamesReadOneDocument checks the directory of names: one read by _id names every
// account made through Create, an account the directory lacks (its write lost, or made
// before the directory) is read by its id and added, and an id with no account is left out.
func TestNamesReadOneDocument(t *testing.T) {
	ctx := context.Background()
	log := dbtest.NewFilterLog("user")
	db := dbtest.NewLogged(t, log)
	users, err := NewUsers(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range []string{"Ada Lovelace", "Ben Okri", "Cai Wen"} {
		u, err := users.Create(ctx, NewUser{Email: n[:3] + "@example.org", Name: n, Role: RoleTrainee, Password: "a long enough passphrase"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	log.Record(true)
	got, err := users.Names(ctx, append(ids, "nobody"))
	log.Record(false)
	if err != nil || len(got) != 3 || got[ids[1]] != "Ben Okri" {
		t.Fatalf("names: %v, %v", got, err)
	}
	// The directory, then the one id it lacks, which has no account.
	if all := log.All(); len(all) != 2 || all[0] != "find user_names ok" || all[1] != "find users ok" {
		t.Fatalf("reads: %v, want the directory and the unknown id, each by _id", all)
	}
	if err := database.DeleteByID(ctx, db.Collection(namesCollection), namesID); err != nil {
		t.Fatal(err)
	}
	got, err = users.Names(ctx, ids)
	if err != nil || len(got) != 3 || got[ids[0]] != "Ada Lovelace" {
		t.Fatalf("names without the directory: %v, %v", got, err)
	}
	d, err := database.FindByID[namesDoc](ctx, db.Collection(namesCollection), namesID)
	if err != nil || len(d.Names) != 3 {
		t.Fatalf("the directory after reading the accounts: %v, %v; want all three added back", d.Names, err)
	}
}
