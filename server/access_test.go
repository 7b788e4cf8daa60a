package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"polyphony/internal/accounts"
)

// expectedAccess is who may use each route, written out here independently of the server's
// own table so that a route registered with the wrong access is caught. A new route must be
// added here, or the test fails.
var expectedAccess = map[string]string{
	"GET /healthz":                     "anyone",
	"GET /readyz":                      "anyone",
	"GET /static/*":                    "anyone",
	"GET /media/*":                     "signed-url",
	"GET /signin":                      "anyone",
	"POST /signin":                     "anyone",
	"POST /signout":                    "signed-in",
	"GET /":                            "signed-in",
	"GET /account":                     "signed-in",
	"POST /account/tokens":             "signed-in",
	"POST /account/tokens/:id/revoke":  "signed-in",
	"GET /admin":                       "admin",
	"POST /admin/people":               "admin",
	"POST /admin/people/:id/disable":   "admin",
	"POST /admin/people/:id/enable":    "admin",
	"POST /admin/cohorts":              "admin",
	"POST /admin/trusts":               "admin",
	"GET /api/v1/openapi.json":         "anyone",
	"POST /api/v1/session":             "anyone",
	"DELETE /api/v1/session":           "signed-in",
	"GET /api/v1/me":                   "signed-in",
	"GET /api/v1/tokens":               "signed-in",
	"POST /api/v1/tokens":              "signed-in",
	"DELETE /api/v1/tokens/:id":        "signed-in",
	"GET /api/v1/users":                "admin",
	"POST /api/v1/users":               "admin",
	"GET /api/v1/users/:id":            "admin",
	"PATCH /api/v1/users/:id":          "admin",
	"GET /api/v1/trusts":               "admin",
	"POST /api/v1/trusts":              "admin",
	"GET /api/v1/cohorts":              "admin",
	"POST /api/v1/cohorts":             "admin",
	"GET /api/v1/cohorts/:id/members":  "admin",
	"POST /api/v1/cohorts/:id/members": "admin",
}

// TestAccessMatrix sends every route, as every kind of caller, a request that would succeed
// for someone allowed, and counts the 2xx answers that should not have happened.
func TestAccessMatrix(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	victim, err := f.accounts.Users.Create(ctx, accounts.NewUser{Email: "victim@nhs.example", Name: "V", Role: accounts.RoleTrainee, Password: "victim password 1"})
	if err != nil {
		t.Fatal(err)
	}
	cohorts, _ := f.courses.Cohorts(ctx)
	// A trainee of another cohort, and staff assigned to no cohort, are callers too.
	otherTrainee, _ := f.accounts.Users.Create(ctx, accounts.NewUser{Email: "other@nhs.example", Name: "O", Role: accounts.RoleTrainee, Password: "other password 1"})
	unassigned, _ := f.accounts.Users.Create(ctx, accounts.NewUser{Email: "lone@nhs.example", Name: "L", Role: accounts.RoleAssessor, Password: "lone password 1"})

	type caller struct {
		name string
		role accounts.Role // "" for anonymous
		user string        // email
	}
	callers := []caller{{name: "anonymous"}, {name: "other-cohort trainee", role: accounts.RoleTrainee, user: otherTrainee.Email}, {name: "unassigned assessor", role: accounts.RoleAssessor, user: unassigned.Email}}
	for _, r := range accounts.Roles {
		callers = append(callers, caller{name: string(r), role: r, user: f.byRole[r].Email})
	}

	routes := f.srv.Routes()
	for route := range routes {
		if _, ok := expectedAccess[route]; !ok {
			t.Errorf("route %s is missing from expectedAccess: say who may use it", route)
		}
	}
	unexpected := 0
	for route := range routes {
		method, pattern, _ := strings.Cut(route, " ")
		path := strings.NewReplacer(":id", victim.ID, "*", "app.css").Replace(pattern)
		if strings.HasPrefix(pattern, "/api/v1/cohorts/:id") {
			path = strings.Replace(pattern, ":id", cohorts[0].ID, 1)
		}
		for _, cl := range callers {
			allowed := false
			switch expectedAccess[route] {
			case "anyone":
				allowed = true
			case "signed-in":
				allowed = cl.role != ""
			case "admin":
				allowed = cl.role == accounts.RoleAdmin
			case "signed-url":
				allowed = false // no signature given here: never 2xx
			}
			if allowed {
				continue
			}
			c := f.client(t)
			if cl.user != "" {
				u, _ := f.accounts.Users.ByEmail(ctx, cl.user)
				secret, sess, err := f.accounts.Sessions.Create(ctx, u.ID, "", "")
				if err != nil {
					t.Fatal(err)
				}
				c.http.Jar.SetCookies(mustURL(f.ts.URL), []*http.Cookie{{Name: "polyphony", Value: secret}})
				c.csrf = sess.CSRF
			}
			res, body := c.do(method, path, "{}")
			if res.StatusCode >= 200 && res.StatusCode < 300 {
				unexpected++
				t.Errorf("%s as %s: %d %.200s", route, cl.name, res.StatusCode, body)
			}
		}
	}
	t.Logf("unexpected 2xx: %d over %d routes × %d callers", unexpected, len(routes), len(callers))
}
