package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"polyphony/internal/accounts"
)

// TestJSONBodyMustBeAnObject sends null, a list and other values that are not objects
// where JSON bodies are read: each is a 400 that says so, and nothing is made.
func TestJSONBodyMustBeAnObject(t *testing.T) {
	f := newFixture(t)
	trainee := f.signedIn(t, accounts.RoleTrainee)
	admin := f.signedIn(t, accounts.RoleAdmin)
	for i, body := range []string{"null", " \n null", "[]", `"entry"`, "1", "true"} {
		for _, tc := range []struct {
			who          *client
			method, path string
		}{
			{trainee, "POST", "/api/v1/journal/entries"},
			{trainee, "POST", "/api/v1/practice"},
			{trainee, "POST", "/api/v1/tokens"},
			{admin, "POST", "/api/v1/trusts"},
			{admin, "POST", "/api/v1/banks"},
			{f.client(t), "POST", "/api/v1/session"},
		} {
			res, out := tc.who.doWith(tc.method, tc.path, body, idem(fmt.Sprintf("not-an-object-%d", i)))
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("%s %s with %q: %d %s, want 400", tc.method, tc.path, body, res.StatusCode, out)
				continue
			}
			if msg, _ := errorBody(t, out); !strings.Contains(msg, "must be a JSON object") {
				t.Errorf("%s %s with %q says %q", tc.method, tc.path, body, msg)
			}
		}
	}
	res, out := trainee.do("GET", "/api/v1/journal/entries", nil)
	if res.StatusCode != http.StatusOK || strings.Contains(string(out), `"id"`) {
		t.Errorf("entries after the refused bodies: %d %s, want none", res.StatusCode, out)
	}
	// An object is still taken, with white space before it.
	if res, out := trainee.doWith("POST", "/api/v1/journal/entries", "\n {\"title\": \"Kept\"}", idem("object")); res.StatusCode != http.StatusCreated {
		t.Errorf("an object: %d %s", res.StatusCode, out)
	}
}
