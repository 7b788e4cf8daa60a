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

	"GET /programme":                                     "signed-in",
	"GET /modules/:n":                                    "signed-in",
	"GET /schedule":                                      "signed-in",
	"POST /schedule/calendar/rotate":                     "signed-in",
	"GET /calendar/:token":                               "signed-url",
	"GET /reading-list":                                  "signed-in",
	"GET /curriculum":                                    "signed-in",
	"GET /curriculum/new":                                "editor",
	"POST /curriculum":                                   "editor",
	"POST /curriculum/preview":                           "editor",
	"GET /curriculum/:slug":                              "staff",
	"GET /curriculum/:slug/edit":                         "editor",
	"POST /curriculum/:slug":                             "editor",
	"GET /curriculum/:slug/revisions":                    "editor",
	"GET /curriculum/:slug/revisions/:n":                 "editor",
	"POST /curriculum/:slug/revisions/:n/restore":        "editor",
	"GET /cohorts":                                       "signed-in",
	"GET /cohorts/:id":                                   "cohort-manager",
	"POST /cohorts/:id/modules":                          "cohort-manager",
	"GET /cohorts/:id/register/:occasion":                "cohort-manager",
	"POST /cohorts/:id/register/:occasion":               "cohort-manager",
	"GET /api/v1/cohorts/:id/programme":                  "cohort-member",
	"PUT /api/v1/cohorts/:id/programme":                  "cohort-manager",
	"GET /api/v1/cohorts/:id/registers/:occasion":        "cohort-manager",
	"PUT /api/v1/cohorts/:id/registers/:occasion":        "cohort-manager",
	"GET /api/v1/me/attendance":                          "signed-in",
	"GET /api/v1/me/calendar":                            "signed-in",
	"POST /api/v1/me/calendar":                           "signed-in",
	"GET /api/v1/curriculum":                             "signed-in",
	"GET /api/v1/curriculum/:slug":                       "staff",
	"PUT /api/v1/curriculum/:slug":                       "editor",
	"GET /api/v1/curriculum/:slug/revisions":             "editor",
	"POST /api/v1/curriculum/:slug/revisions/:n/restore": "editor",

	"GET /api/v1/banks":                         "assessor",
	"POST /api/v1/banks":                        "assessor",
	"GET /api/v1/banks/:bank/questions":         "assessor",
	"POST /api/v1/banks/:bank/questions":        "assessor",
	"POST /api/v1/banks/:bank/import":           "assessor",
	"GET /api/v1/banks/:bank/export":            "assessor",
	"POST /api/v1/assessments":                  "assessor",
	"GET /api/v1/assessments/:id":               "assessor",
	"GET /api/v1/assessments/:id/results":       "assessor",
	"GET /api/v1/assessments/:id/analysis":      "assessor",
	"GET /api/v1/assessments/:id/angoff":        "assessor",
	"PUT /api/v1/assessments/:id/angoff":        "assessor",
	"POST /api/v1/assessments/:id/angoff/adopt": "admin",
	"POST /api/v1/assessments/:id/attempts":     "trainee",
	"GET /api/v1/attempts/:id":                  "trainee",
	"PUT /api/v1/attempts/:id/answers/:q":       "trainee",
	"POST /api/v1/attempts/:id/submit":          "trainee",

	"GET /rooms/:cohort/:room":                           "room",
	"GET /rooms/:cohort/:room/ws":                        "room",
	"POST /rooms/:cohort/:room/open":                     "room-facilitator",
	"GET /rooms/:cohort/:room/close":                     "room-facilitator",
	"POST /rooms/:cohort/:room/close":                    "room-facilitator",
	"GET /rooms/:cohort/:room/transcript":                "room",
	"GET /rooms/:cohort/:room/transcript.md":             "room",
	"GET /rooms/:cohort/:room/transcript/:seq/withdraw":  "room",
	"POST /rooms/:cohort/:room/transcript/:seq/withdraw": "room",
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
	// A trainee of another cohort, and staff assigned to no cohort, are callers too.
	otherTrainee, _ := f.accounts.Users.Create(ctx, accounts.NewUser{Email: "other@nhs.example", Name: "O", Role: accounts.RoleTrainee, Password: "other password 1"})
	unassigned, _ := f.accounts.Users.Create(ctx, accounts.NewUser{Email: "lone@nhs.example", Name: "L", Role: accounts.RoleAssessor, Password: "lone password 1"})
	loneFacilitator, _ := f.accounts.Users.Create(ctx, accounts.NewUser{Email: "lonef@nhs.example", Name: "LF", Role: accounts.RoleFacilitator, Password: "lone password 2"})
	demoCohort := f.demoCohort(t)
	prog, err := f.courses.Programme(ctx, demoCohort.ID)
	if err != nil {
		t.Fatal(err)
	}
	occasion := prog.Occasions()[0].ID

	type caller struct {
		name string
		role accounts.Role // "" for anonymous
		user string        // email
		// member says whether the caller belongs to the demo cohort the cohort routes name.
		member bool
	}
	callers := []caller{{name: "anonymous"}, {name: "other-cohort trainee", role: accounts.RoleTrainee, user: otherTrainee.Email},
		{name: "unassigned assessor", role: accounts.RoleAssessor, user: unassigned.Email},
		{name: "unassigned facilitator", role: accounts.RoleFacilitator, user: loneFacilitator.Email}}
	for _, r := range accounts.Roles {
		callers = append(callers, caller{name: string(r), role: r, user: f.byRole[r].Email, member: r != accounts.RoleAdmin})
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
		id := victim.ID
		if strings.HasPrefix(pattern, "/api/v1/cohorts/:id") || strings.HasPrefix(pattern, "/cohorts/:id") {
			id = demoCohort.ID
		}
		// An unreleased page, so that "staff" routes are tested against a trainee too.
		path := strings.NewReplacer(":id", id, "*", "app.css", ":slug", "risk-and-governance", ":n", "1",
			":occasion", occasion, ":token", "not-a-token", ":cohort", demoCohort.ID, ":room", "cohort", ":seq", "1").Replace(pattern)
		for _, cl := range callers {
			allowed := false
			switch expectedAccess[route] {
			case "anyone":
				allowed = true
			case "signed-in":
				allowed = cl.role != ""
			case "admin":
				allowed = cl.role == accounts.RoleAdmin
			case "editor":
				allowed = cl.role == accounts.RoleAdmin || cl.role == accounts.RoleFacilitator
			case "assessor": // the assessment store refuses everyone else
				allowed = cl.role == accounts.RoleAdmin || cl.role == accounts.RoleAssessor
			case "trainee": // only trainees sit assessments, and only their own attempts
				allowed = cl.role == accounts.RoleTrainee
			case "staff":
				allowed = cl.role != "" && cl.role != accounts.RoleTrainee
			case "room":
				allowed = cl.member && (cl.role == accounts.RoleTrainee || cl.role == accounts.RoleFacilitator)
			case "room-facilitator":
				allowed = cl.member && cl.role == accounts.RoleFacilitator
			case "cohort-member":
				allowed = cl.member || cl.role == accounts.RoleAdmin
			case "cohort-manager":
				allowed = cl.role == accounts.RoleAdmin || cl.member && cl.role == accounts.RoleFacilitator
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
