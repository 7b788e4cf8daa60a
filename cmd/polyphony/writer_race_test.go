package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"polyphony/internal/database"
)

// raceTally counts what the writers racing on one account were told.
type raceTally struct {
	mu      sync.Mutex
	applied map[bool]int // disables (true) and enables (false) that were applied
	refused int
}

func (r *raceTally) add(disabled bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applied[disabled]++
}

func (r *raceTally) refuse() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refused++
}

// `polyphony user disable` and `enable`, several at once as processes of their own, and
// `polyphony demo` (a new password) race the running server's administrators changing the
// same account through the API. Every change is applied, in one order, or refused with a
// message; none is overwritten: the version counts every change applied, the stored
// versions are exactly those changes, and the password demo printed is the password.
func TestUserCommandsRaceTheServer(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	_, base := startServe(t, data)
	if r := runBinary(t, "", "demo", "--data", data); r.code != 0 {
		t.Fatalf("demo: %v", r)
	}
	const target = "trainee@polyphony.example"
	token := strings.TrimSpace(runBinary(t, "", "token", "add", "--data", data, "--email", "admin@polyphony.example", "--name", "race").stdout)
	api := tokenAPI(t, base, token)
	id := userRows(t, runBinary(t, "", "user", "list", "--data", data).stdout)[target][0]

	tally := &raceTally{applied: map[bool]int{}}
	var demoOut string
	done := make(chan struct{})
	var commands sync.WaitGroup
	for w := range 3 {
		commands.Add(1)
		go func() {
			defer commands.Done()
			if w == 0 {
				demoOut = runBinary(t, "", "demo", "--data", data).stdout
			}
			for i := range 4 {
				disable := (w+i)%2 == 0
				verb := map[bool]string{true: "disable", false: "enable"}[disable]
				r := runBinary(t, "", "user", verb, "--data", data, "--email", target)
				switch {
				case r.code == 0:
					tally.add(disable)
				case strings.Contains(r.stderr, "try again"):
					tally.refuse()
				default:
					t.Errorf("user %s: %v", verb, r)
				}
			}
		}()
	}
	var admins sync.WaitGroup
	for a := range 3 {
		admins.Add(1)
		go func() {
			defer admins.Done()
			for i := 0; i < 100; i++ {
				select {
				case <-done:
					return
				default:
				}
				disable := (a+i)%2 == 0
				switch code, body := api(http.MethodPatch, "/api/v1/users/"+id, map[string]bool{"disabled": disable}); {
				case code == http.StatusOK:
					tally.add(disable)
				case code == http.StatusConflict && strings.Contains(string(body), "try again"):
					tally.refuse()
				default:
					t.Errorf("PATCH disabled=%v: %d %s", disable, code, body)
					return
				}
			}
		}()
	}
	commands.Wait()
	close(done)
	admins.Wait()
	if t.Failed() {
		return
	}

	code, body := api(http.MethodGet, "/api/v1/users/"+id, nil)
	var got struct {
		Disabled bool  `json:"disabled"`
		Version  int64 `json:"version"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &got) != nil {
		t.Fatalf("GET the account: %d %s", code, body)
	}
	changes := tally.applied[true] + tally.applied[false] + 1 // and demo's new password
	t.Logf("%d disables and %d enables applied, %d refused", tally.applied[true], tally.applied[false], tally.refused)
	// The demo made the account at version 1.
	if want := int64(1 + changes); got.Version != want {
		t.Errorf("the account is at version %d after %d changes, want %d: changes were lost", got.Version, changes, want)
	}

	// The password demo printed while the others raced it is the account's password: signing
	// in with it is refused only because the account may be disabled.
	password := demoLogins(t, demoOut)[target][1]
	resp := signIn(t, base, target, password)
	if want := map[bool]int{true: http.StatusForbidden, false: http.StatusOK}[got.Disabled]; resp.StatusCode != want {
		t.Errorf("signing in with the password demo printed, the account disabled=%v: %d, want %d", got.Disabled, resp.StatusCode, want)
	}

	// The stored versions are the changes applied, each once, and the last is the account.
	ctx := context.Background()
	db, err := database.Open(ctx, database.Config{Dir: filepath.Join(data, "db"), Listen: "127.0.0.1:0", Share: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	kinds := map[string]int{}
	var last bool
	for v := int64(2); v <= got.Version; v++ {
		var rec struct {
			Change  string `bson:"change"`
			Account struct {
				Disabled bool  `bson:"disabled"`
				Version  int64 `bson:"version"`
			} `bson:"account"`
		}
		if err := db.Collection("user_versions").Get(ctx, fmt.Sprintf("%s/%d", id, v), &rec); err != nil {
			t.Fatalf("version %d of %d: %v", v, got.Version, err)
		}
		kinds[rec.Change]++
		if rec.Change == "disabled" || rec.Change == "enabled" {
			if rec.Account.Disabled != (rec.Change == "disabled") {
				t.Errorf("version %d records %q with the account disabled=%v", v, rec.Change, rec.Account.Disabled)
			}
		}
		last = rec.Account.Disabled
	}
	if kinds["disabled"] != tally.applied[true] || kinds["enabled"] != tally.applied[false] || kinds["password"] != 1 {
		t.Errorf("stored changes %v; applied %d disables, %d enables and one password", kinds, tally.applied[true], tally.applied[false])
	}
	if last != got.Disabled {
		t.Errorf("the server reads disabled=%v, the last stored version disabled=%v", got.Disabled, last)
	}
	row := userRows(t, runBinary(t, "", "user", "list", "--data", data).stdout)[target]
	if want := map[bool]string{true: "disabled", false: "active"}[got.Disabled]; row == nil || row[len(row)-1] != want {
		t.Errorf("user list shows %v, the server reads disabled=%v", row, got.Disabled)
	}
}

// tokenAPI is a JSON API caller with a personal token, for tests that race the server's
// API against commands: it answers the status and body, and reports a failed request as a
// test error (0, nil).
func tokenAPI(t *testing.T, base, token string) func(method, path string, body any) (int, []byte) {
	return func(method, path string, body any) (int, []byte) {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = strings.NewReader(string(b))
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", method, path, err)
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
}
