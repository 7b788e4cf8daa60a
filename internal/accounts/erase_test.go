package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
)

// Erasing an account's identity leaves no document holding the person's name or address,
// in the account, its earlier versions, the address keys or the names; the account stays,
// disabled, under ErasedName; the address can be given to a new account; and no password
// signs in to it.
func TestEraseIdentity(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	users, err := NewUsers(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	u, err := users.Create(ctx, NewUser{Email: "tara.trainee@nhs.example", Name: "Tara Trainee", Role: RoleTrainee, TrustID: "trust1", PeerWorker: true, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	name := "Tara Marguerite Trainee"
	if _, _, err := users.Edit(ctx, u.ID, 0, Edit{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if _, err := users.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}

	erased, err := users.EraseIdentity(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := users.ByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != ErasedName || got.Email == u.Email || got.TrustID != "" || got.PeerWorker || got.HasPassword() || !got.Disabled || got.Version != erased.Version {
		t.Errorf("the erased account: %+v", got)
	}
	if _, err := users.ByEmail(ctx, "tara.trainee@nhs.example"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("the erased address still finds an account: %v", err)
	}
	names, err := users.Names(ctx, []string{u.ID})
	if err != nil || names[u.ID] != ErasedName {
		t.Errorf("names: %v %v", names, err)
	}
	for _, coll := range []string{"users", versionsCollection, emailsCollection, namesCollection} {
		var docs []bson.M
		if err := db.Collection(coll).ScanAll(ctx, bson.M{}, database.Scan{}, &docs); err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			b, _ := json.Marshal(d)
			if strings.Contains(string(b), "Tara") || strings.Contains(string(b), "tara.trainee") || strings.Contains(string(b), "trust1") {
				t.Errorf("%s still holds the person: %s", coll, b)
			}
		}
	}
	// The address is free for someone new.
	if _, err := users.Create(ctx, NewUser{Email: "tara.trainee@nhs.example", Name: "Someone new", Role: RoleTrainee, Password: "another horse battery"}); err != nil {
		t.Errorf("the erased address cannot be given again: %v", err)
	}
}
