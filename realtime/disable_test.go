package realtime

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gorilla/websocket"

	"polyphony/internal/accounts"
	"polyphony/internal/dbtest"
	"polyphony/internal/natstest"
)

// An account disabled straight in the database (as another process does it, telling nobody)
// loses its connections on every instance sharing the room, and nothing it sends after the
// disable becomes a turn.
func TestDisabledAccountLosesItsConnectionsOnEveryInstance(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	users, err := accounts.NewUsers(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	u, err := users.Create(ctx, accounts.NewUser{Email: "ada@example.org", Name: "Ada", Role: accounts.RoleTrainee,
		Password: "a long enough passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := users.Create(ctx, accounts.NewUser{Email: "ben@example.org", Name: "Ben", Role: accounts.RoleTrainee,
		Password: "another long passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	store, err := NewTranscripts(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	url := natstest.Start(t)
	var envs []*testEnv
	for i := range 2 {
		bus, err := ConnectNATS(ctx, url, NATSOptions{Name: fmt.Sprintf("test-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, newEnvOn(t, store, Options{Bus: bus, Inactive: users.Inactive}))
		t.Cleanup(bus.Close)
	}
	me := Member{UserID: u.ID, Name: u.Name, Role: Trainee}
	envs[0].open("r1")
	here := envs[0].join("r1", me, 0)
	there := envs[1].join("r1", me, 0)
	b := envs[1].join("r1", Member{UserID: other.ID, Name: other.Name, Role: Trainee}, 0)
	here.say("before", "before the disable")

	if _, err := users.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	there.send(msg{"type": "say", "id": "after", "text": "after the disable"})
	for name, m := range map[string]*member{"speaking": there, "silent": here} {
		for {
			w, err := m.read()
			if err != nil {
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
					t.Errorf("%s connection ended with %v, want a 1008 close", name, err)
				}
				break
			}
			if w.Type == "ack" && w.ID == "after" {
				t.Errorf("%s connection: the turn after the disable was acknowledged", name)
			}
		}
	}
	b.until("Ada leaving", func(w wire) bool {
		if w.Type == EventSay && w.ID == "after" {
			t.Errorf("the turn after the disable reached the room")
		}
		return w.Type == EventLeft && w.UserID == u.ID
	})
}
