package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var addedID = regexp.MustCompile(`\(id ([^)]+)\)`)

// `polyphony user add --cohort` and `polyphony cohort add`, as processes of their own, race
// the running server's administrators adding people to the same cohort and making cohorts
// through the API. Both kinds of write add to one list document (the cohort's members, the
// list of cohorts), which the embedded engine updates as a read and a write; every person
// and every cohort added, by either side, is on the lists afterwards.
func TestListWritesFromCommandsAndServerAreAllKept(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	_, base := startServe(t, data)
	if r := runBinary(t, "", "demo", "--data", data); r.code != 0 {
		t.Fatalf("demo: %v", r)
	}
	token := strings.TrimSpace(runBinary(t, "", "token", "add", "--data", data, "--email", "admin@polyphony.example", "--name", "lists").stdout)
	api := tokenAPI(t, base, token)
	code, body := api(http.MethodPost, "/api/v1/cohorts", map[string]string{"name": "Race cohort", "startDate": "2027-01-04"})
	var cohort struct{ ID string }
	if code != http.StatusCreated || json.Unmarshal(body, &cohort) != nil {
		t.Fatalf("make the cohort: %d %s", code, body)
	}

	var mu sync.Mutex
	wantMembers := map[string]string{} // user id → who added them
	wantCohorts := map[string]bool{cohort.ID: true}
	added := func(set map[string]string, id, by string) {
		mu.Lock()
		defer mu.Unlock()
		set[id] = by
	}
	const perWriter = 4
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(2)
		go func() { // people, by the command line
			defer wg.Done()
			for i := range perWriter {
				r := runBinary(t, "Race-password-1\n", "user", "add", "--data", data, "--password-stdin",
					"--email", fmt.Sprintf("cli-%d-%d@race.example", w, i), "--name", fmt.Sprintf("Command %d %d", w, i),
					"--role", "trainee", "--cohort", "Race cohort")
				m := addedID.FindStringSubmatch(r.stdout)
				if r.code != 0 || m == nil {
					t.Errorf("user add: %v", r)
					return
				}
				added(wantMembers, m[1], "the command line")
			}
		}()
		go func() { // cohorts, by the command line
			defer wg.Done()
			for i := range perWriter / 2 {
				r := runBinary(t, "", "cohort", "add", "--data", data, "--name", fmt.Sprintf("Command cohort %d %d", w, i), "--start", "2027-02-01")
				m := addedID.FindStringSubmatch(r.stdout)
				if r.code != 0 || m == nil {
					t.Errorf("cohort add: %v", r)
					return
				}
				mu.Lock()
				wantCohorts[m[1]] = true
				mu.Unlock()
			}
		}()
	}
	for w := range 2 {
		wg.Add(1)
		go func() { // people and cohorts, by the server
			defer wg.Done()
			for i := range 3 * perWriter {
				code, body := api(http.MethodPost, "/api/v1/users", map[string]string{
					"email": fmt.Sprintf("api-%d-%d@race.example", w, i), "name": fmt.Sprintf("Server %d %d", w, i),
					"role": "trainee", "password": "Race-password-1", "cohortId": cohort.ID,
				})
				var u struct{ ID string }
				if code != http.StatusCreated || json.Unmarshal(body, &u) != nil {
					t.Errorf("POST /api/v1/users: %d %s", code, body)
					return
				}
				added(wantMembers, u.ID, "the server")
				code, body = api(http.MethodPost, "/api/v1/cohorts", map[string]string{"name": fmt.Sprintf("Server cohort %d %d", w, i), "startDate": "2027-03-01"})
				var c struct{ ID string }
				if code != http.StatusCreated || json.Unmarshal(body, &c) != nil {
					t.Errorf("POST /api/v1/cohorts: %d %s", code, body)
					return
				}
				mu.Lock()
				wantCohorts[c.ID] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// What the server caches from another process's writes is renewed within seconds; a lost
	// add never comes back, so after that the lists must be whole.
	var missingMembers, missingCohorts []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		missingMembers, missingCohorts = nil, nil
		code, body := api(http.MethodGet, "/api/v1/cohorts/"+cohort.ID+"/members", nil)
		var ms []struct{ UserID string }
		if code != http.StatusOK || json.Unmarshal(body, &ms) != nil {
			t.Fatalf("GET members: %d %s", code, body)
		}
		have := map[string]bool{}
		for _, m := range ms {
			have[m.UserID] = true
		}
		for id, by := range wantMembers {
			if !have[id] {
				missingMembers = append(missingMembers, id+" (added by "+by+")")
			}
		}
		code, body = api(http.MethodGet, "/api/v1/cohorts", nil)
		var cs []struct{ ID string }
		if code != http.StatusOK || json.Unmarshal(body, &cs) != nil {
			t.Fatalf("GET cohorts: %d %s", code, body)
		}
		have = map[string]bool{}
		for _, c := range cs {
			have[c.ID] = true
		}
		for id := range wantCohorts {
			if !have[id] {
				missingCohorts = append(missingCohorts, id)
			}
		}
		if len(missingMembers)+len(missingCohorts) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(missingMembers) > 0 {
		t.Errorf("%d of %d people added to the cohort are not among its members: %v", len(missingMembers), len(wantMembers), missingMembers)
	}
	if len(missingCohorts) > 0 {
		t.Errorf("%d of %d cohorts made are not listed: %v", len(missingCohorts), len(wantCohorts), missingCohorts)
	}
	// A process of its own, reading afresh, sees every cohort too.
	out := runBinary(t, "", "cohort", "list", "--data", data).stdout
	for id := range wantCohorts {
		if !strings.Contains(out, id) {
			t.Errorf("cohort list does not show %s:\n%s", id, out)
		}
	}
}
