package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/courses/award"
	"polyphony/internal/accounts"
	"polyphony/internal/mail"
	"polyphony/internal/mailtest"
)

// expectedAccess is who may use each route, written out here independently of the server's
// own table so that a route registered with the wrong access is caught. A new route must be
// added here, or the test fails.
var expectedAccess = map[string]string{
	"GET /healthz":                       "anyone",
	"GET /readyz":                        "anyone",
	"GET /static/*":                      "anyone",
	"GET /media/*":                       "signed-url",
	"GET /signin":                        "anyone",
	"POST /signin":                       "anyone",
	"GET /signin/forgot":                 "anyone",
	"POST /signin/forgot":                "anyone",
	"GET /password":                      "anyone",
	"POST /password":                     "anyone",
	"POST /account/password":             "signed-in",
	"POST /admin/people/:id/invite":      "admin",
	"POST /api/v1/password-resets":       "anyone",
	"POST /api/v1/password-links":        "anyone",
	"POST /api/v1/me/password":           "signed-in",
	"POST /api/v1/users/:id/invitations": "admin",
	"GET /signin/sso":                    "anyone", // registered when an OpenID provider is configured
	"GET /signin/sso/callback":           "anyone",
	"POST /signout":                      "signed-in",
	"GET /":                              "signed-in",
	"GET /account":                       "signed-in",
	"POST /account/tokens":               "signed-in",
	"POST /account/tokens/:id/revoke":    "signed-in",
	"GET /account/email":                 "signed-in",
	"POST /account/email":                "signed-in",
	"GET /admin":                         "admin",
	"GET /admin/people/:id":              "admin",
	"POST /admin/people/:id":             "admin",
	"GET /admin/audit":                   "admin",
	"GET /api/v1/me/emails":              "signed-in",
	"PUT /api/v1/me/emails":              "signed-in",
	"GET /cohorts/:id/import":            "admin",
	"POST /cohorts/:id/import":           "admin",
	"GET /cohorts/:id/people.csv":        "admin",
	"POST /api/v1/cohorts/:id/people":    "admin",
	"GET /api/v1/cohorts/:id/people":     "admin",
	"GET /api/v1/audit":                  "admin",
	"POST /admin/people":                 "admin",
	"POST /admin/people/:id/disable":     "admin",
	"POST /admin/people/:id/enable":      "admin",
	"POST /admin/cohorts":                "admin",
	"POST /admin/trusts":                 "admin",
	"GET /api/v1/openapi.json":           "anyone",
	"POST /api/v1/session":               "anyone",
	"DELETE /api/v1/session":             "signed-in",
	"GET /api/v1/me":                     "signed-in",
	"GET /api/v1/tokens":                 "signed-in",
	"POST /api/v1/tokens":                "signed-in",
	"DELETE /api/v1/tokens/:id":          "signed-in",
	"GET /api/v1/users":                  "admin",
	"POST /api/v1/users":                 "admin",
	"GET /api/v1/users/:id":              "admin",
	"PATCH /api/v1/users/:id":            "admin",
	"GET /api/v1/trusts":                 "admin",
	"POST /api/v1/trusts":                "admin",
	"GET /api/v1/cohorts":                "admin",
	"POST /api/v1/cohorts":               "admin",
	"GET /api/v1/cohorts/:id/members":    "admin",
	"POST /api/v1/cohorts/:id/members":   "admin",

	// Staffing a cohort, from its page and the API.
	"PUT /api/v1/cohorts/:id/members/:userId":    "admin",
	"DELETE /api/v1/cohorts/:id/members/:userId": "admin",
	"POST /cohorts/:id/members":                  "admin",
	"POST /cohorts/:id/members/:userId":          "admin",
	"POST /cohorts/:id/members/:userId/remove":   "admin",

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
	"GET /rooms/:cohort/:room/register":                  "room-facilitator",
	"POST /rooms/:cohort/:room/register":                 "room-facilitator",
	"POST /api/v1/rooms/:cohort/:room/open":              "room-facilitator",
	"POST /api/v1/rooms/:cohort/:room/close":             "room-facilitator",
	"POST /api/v1/rooms/:cohort/:room/register":          "room-facilitator",
	"GET /api/v1/rooms/:cohort/:room/transcript":         "room",

	// Emails that could not be delivered.
	"GET /admin/emails":                      "admin",
	"POST /admin/emails/:id/dismiss":         "admin",
	"GET /api/v1/admin/emails/failed":        "admin",
	"DELETE /api/v1/admin/emails/failed/:id": "admin",
	// The certificates: anyone may check a code; only the holder downloads theirs.
	"GET /verify":                           "anyone",
	"GET /verify/:code":                     "anyone",
	"GET /api/v1/verify/:code":              "anyone",
	"GET /account/certificate/:id":          "trainee",
	"GET /api/v1/me/awards/:id/certificate": "trainee",
	"GET /api/v1/me/awards":                 "signed-in",
	"POST /account/certificate-name":        "signed-in",
	"PUT /api/v1/me/certificate-name":       "signed-in",
	"GET /admin/certificate":                "admin",
	"POST /admin/certificate":               "admin",
	"GET /api/v1/certificate-settings":      "admin",
	"PUT /api/v1/certificate-settings":      "admin",

	// Progress towards the award: a trainee's own, the cohort's for its staff, and the rules.
	"GET /progress":                             "signed-in",
	"GET /api/v1/me/progress":                   "trainee",
	"GET /cohorts/:id/progress":                 "cohort-progress",
	"GET /cohorts/:id/progress.csv":             "cohort-progress",
	"GET /cohorts/:id/progress/:trainee":        "cohort-progress",
	"GET /api/v1/cohorts/:id/progress":          "cohort-progress",
	"GET /api/v1/cohorts/:id/progress/:trainee": "cohort-progress",
	"GET /cohorts/:id/award-rules":              "admin",
	"POST /cohorts/:id/award-rules":             "admin",
	"GET /api/v1/cohorts/:id/award-rules":       "cohort-member",
	"PUT /api/v1/cohorts/:id/award-rules":       "admin",

	// The exam boards and their records are administrators' (the domain refuses everyone
	// else); revoking an award too. A trainee downloads their own training record.
	"GET /cohorts/:id/boards":            "admin",
	"POST /cohorts/:id/boards":           "admin",
	"GET /boards/:id":                    "admin",
	"POST /boards/:id/decisions":         "admin",
	"GET /boards/:id/record.csv":         "admin",
	"GET /boards/:id/minutes.pdf":        "admin",
	"POST /awards/:id/revoke":            "admin",
	"GET /api/v1/cohorts/:id/boards":     "admin",
	"POST /api/v1/cohorts/:id/boards":    "admin",
	"GET /api/v1/boards/:id":             "admin",
	"POST /api/v1/boards/:id/decisions":  "admin",
	"GET /api/v1/boards/:id/record.csv":  "admin",
	"GET /api/v1/boards/:id/minutes.pdf": "admin",
	"POST /api/v1/awards/:id/revoke":     "admin",
	"GET /account/training-record.pdf":   "trainee",
	"GET /api/v1/me/training-record":     "trainee",
}

// TestAccessMatrix sends every route, as every kind of caller, a request that succeeds for
// someone allowed: its path holds real records (the ids the allowed callers reach) and its
// body is one that works (successRequests). It counts as access an answer in 2xx, a websocket
// upgrade, and a redirect to anywhere but the sign-in page; the callers not allowed must get
// none, and on every route at least one allowed caller must get it.
func TestAccessMatrix(t *testing.T) {
	// Email goes to a mail server that refuses one domain, so that there are emails not
	// delivered for the administrators' routes to list and dismiss.
	f := newFixture(t, withMailServer(mailtest.Options{AllowedRecipients: `@[a-z]+\.example$`}))
	ctx := context.Background()
	w := f.accessWorld(t)
	// A trainee of another cohort, and staff assigned to no cohort, are callers too.
	otherTrainee, _ := f.accounts.Users.Create(ctx, accounts.NewUser{Email: "other@nhs.example", Name: "O", Role: accounts.RoleTrainee, Password: "other password 1"})
	unassigned, _ := f.accounts.Users.Create(ctx, accounts.NewUser{Email: "lone@nhs.example", Name: "L", Role: accounts.RoleAssessor, Password: "lone password 1"})
	loneFacilitator, _ := f.accounts.Users.Create(ctx, accounts.NewUser{Email: "lonef@nhs.example", Name: "LF", Role: accounts.RoleFacilitator, Password: "lone password 2"})

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
	allowedFor := func(route string, cl caller) bool {
		switch expectedAccess[route] {
		case "anyone":
			return true
		case "signed-in":
			return cl.role != ""
		case "admin":
			return cl.role == accounts.RoleAdmin
		case "editor":
			return cl.role == accounts.RoleAdmin || cl.role == accounts.RoleFacilitator
		case "assessor": // the assessment store refuses everyone else
			return cl.role == accounts.RoleAdmin || cl.role == accounts.RoleAssessor
		case "trainee": // only trainees sit assessments, and only their own attempts
			return cl.role == accounts.RoleTrainee
		case "staff":
			return cl.role != "" && cl.role != accounts.RoleTrainee
		case "room":
			return cl.member && (cl.role == accounts.RoleTrainee || cl.role == accounts.RoleFacilitator)
		case "room-facilitator":
			return cl.member && cl.role == accounts.RoleFacilitator
		case "consent-speaker": // the speaker asked (consent_test.go: the facilitator)
			return cl.member && cl.role == accounts.RoleFacilitator
		case "cohort-member":
			return cl.member || cl.role == accounts.RoleAdmin
		case "cohort-manager":
			return cl.role == accounts.RoleAdmin || cl.member && cl.role == accounts.RoleFacilitator
		case "cohort-progress": // the domain shows a supervisor only their own trainees
			return cl.role == accounts.RoleAdmin || cl.member && (cl.role == accounts.RoleFacilitator || cl.role == accounts.RoleSupervisor)
		case "cohort-assessor": // assessed work: administrators and the cohort's assessors
			return cl.role == accounts.RoleAdmin || cl.member && cl.role == accounts.RoleAssessor
		case "cohort-trainee":
			return cl.member && cl.role == accounts.RoleTrainee
		case "marker", "moderator": // the demo assessor, on the piece the matrix gives them in that part
			return cl.member && cl.role == accounts.RoleAssessor
		case "signed-url":
			return false // no signature given here; TestAccessMatrix checks the signed ones apart
		}
		t.Errorf("route %s: unknown access %q", route, expectedAccess[route])
		return false
	}
	send := func(cl caller, method, path string, body any, extra map[string]string) (*http.Response, []byte) {
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
		headers := map[string]string{"Idempotency-Key": "matrix-" + randomWord()}
		if strings.HasSuffix(path, "/ws") {
			// A websocket upgrade as a browser on this site asks for it.
			key := make([]byte, 16)
			rand.Read(key)
			headers["Connection"], headers["Upgrade"] = "Upgrade", "websocket"
			headers["Sec-WebSocket-Version"], headers["Sec-WebSocket-Key"] = "13", base64.StdEncoding.EncodeToString(key)
			headers["Origin"] = f.ts.URL
		}
		if _, raw := body.([]byte); raw {
			headers["Content-Type"] = "application/octet-stream"
		}
		if text, ok := body.(plainText); ok {
			body, headers["Content-Type"] = string(text), "text/plain"
		}
		for k, v := range extra {
			headers[k] = v
		}
		return c.doWith(method, path, body, headers)
	}

	routes := f.srv.Routes()
	var order []string
	for route := range routes {
		if _, ok := expectedAccess[route]; !ok {
			t.Errorf("route %s is missing from expectedAccess: say who may use it", route)
			continue
		}
		order = append(order, route)
	}
	// Routes that end what others use (a submitted attempt, a closed room, an erased
	// account) go last; the rest in a fixed order.
	slices.SortFunc(order, func(a, b string) int {
		if fa, fb := finishing(a), finishing(b); fa != fb {
			if fa {
				return 1
			}
			return -1
		}
		_, pa, _ := strings.Cut(a, " ")
		_, pb, _ := strings.Cut(b, " ")
		return strings.Compare(pa+" "+a, pb+" "+b)
	})
	unexpected, unreached := 0, 0
	for _, route := range order {
		method, pattern, _ := strings.Cut(route, " ")
		path, ok := w.fill(pattern)
		if !ok {
			t.Errorf("route %s: the matrix has no record for one of its parameters; add one to accessWorld.fill", route)
			continue
		}
		// A fresh request for each caller: it may name the version now stored.
		prepare := func() (string, any, map[string]string) {
			r := request{body: "{}"}
			if method == http.MethodGet || method == http.MethodDelete {
				r.body = nil
			}
			if build, ok := successRequests[route]; ok {
				r = build(w)
			}
			return path + r.query, r.body, r.headers
		}
		// The callers not allowed go first, so that an allowed caller's change does not
		// alter what they are refused.
		for _, cl := range callers {
			if allowedFor(route, cl) {
				continue
			}
			p, b, h := prepare()
			res, answer := send(cl, method, p, b, h)
			if granted(res) {
				unexpected++
				t.Errorf("%s as %s: %d %s %.200s", route, cl.name, res.StatusCode, res.Header.Get("Location"), answer)
			}
		}
		if expectedAccess[route] == "signed-url" {
			path = w.signed(pattern)
			if res, answer := send(caller{name: "anonymous"}, method, path, nil, nil); !granted(res) {
				unreached++
				t.Errorf("%s with its signature: %d %.200s, want access", route, res.StatusCode, answer)
			}
			continue
		}
		var tried []string
		reached := false
		for _, cl := range callers {
			if !allowedFor(route, cl) {
				continue
			}
			p, b, h := prepare()
			res, answer := send(cl, method, p, b, h)
			if granted(res) {
				reached = true
				break
			}
			tried = append(tried, cl.name+": "+res.Status+" "+res.Header.Get("Location")+" "+strings.TrimSpace(string(answer[:min(len(answer), 160)])))
		}
		if !reached {
			unreached++
			t.Errorf("%s (%s): no allowed caller succeeds at %s:\n  %s", route, expectedAccess[route], path, strings.Join(tried, "\n  "))
		}
	}
	t.Logf("%d routes × %d callers: %d unexpected accesses, %d routes no allowed caller reached", len(order), len(callers), unexpected, unreached)
}

// granted says whether an answer gave access: a 2xx, a websocket upgrade, or a redirect
// onwards that is neither to the sign-in page nor back with an error.
func granted(res *http.Response) bool {
	switch {
	case res.StatusCode/100 == 2, res.StatusCode == http.StatusSwitchingProtocols:
		return true
	case res.StatusCode/100 != 3:
		return false
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		return false
	}
	// Signing out, and setting a password, end on the sign-in page, saying so.
	return (loc.Path != "/signin" || loc.Query().Has("signedout") || loc.Query().Get("password") == "set") && !loc.Query().Has("error")
}

// finishing says whether a route ends something the other routes use.
func finishing(route string) bool {
	for _, end := range []string{"/submit", "/close", "/erase", "/disable", "/adopt", "/withdraw", "/signout", "DELETE /api/v1/session"} {
		if strings.HasSuffix(route, end) || route == end {
			return true
		}
	}
	return false
}

// plainText is a body sent as text/plain.
type plainText string

func randomWord() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// accessWorld is the records the access matrix fills its routes with: each one that an
// allowed caller of the route can reach. The demo trainee owns the trainee's records.
type accessWorld struct {
	t                          *testing.T
	f                          *fixture
	cohort, occasion           string
	sessionRoom                string // a dialogue session's room, for routes the cohort's own room has not
	entry, supervision, export string
	bank, question, assessment string
	attempt                    string
	pageToken, apiToken        string
	person, personEmail        string
	calendarToken, mediaKey    string
	mediaURL, detachKey        string
	erasedPerson, erasedEmail  string
	questions                  []string
	turn                       string
	traineeID                  string
	// consentTurn is the facilitator's turn the trainee quoted, consentRequest the request
	// that made of the facilitator (quoteForMatrix).
	consentTurn, consentRequest string
	trainee, facilitator        *client
	assessor, admin             *client

	// staffMember is a supervisor whom the staffing routes add to the demo cohort, change
	// and remove.
	staffMember, staffEmail string

	// failedEmail and failedAPIEmail are emails the mail server refused, one for the page's
	// route to dismiss and one for the API's.
	failedEmail, failedAPIEmail string

	// award is the demo trainee's award, and awardCode its verification code.
	award, awardCode string
	// revocable and revocableAPI are awards for the revocation routes, one each.
	revocable, revocableAPI string

	// marking is the assessed work (marking_access_test.go).
	marking markingWorld
}

// freshBoard opens an exam board for the demo cohort under its rules as they are now (the
// matrix changes them, and a board opened before decides nothing more).
func (w *accessWorld) freshBoard() string {
	b, err := w.f.boards.Open(context.Background(), courses.Viewer{UserID: "matrix-admin", Role: accounts.RoleAdmin}, w.cohort, time.Now())
	if err != nil {
		w.t.Fatal(err)
	}
	return b.ID
}

// refusedEmails queues n emails to an address the access matrix's mail server refuses and
// waits until each is recorded as failed.
func (w *accessWorld) refusedEmails(n int) []string {
	ctx := context.Background()
	var ids []string
	for range n {
		id, err := w.f.email.Send(ctx, mail.Message{Kind: mail.KindInvitation, To: randomWord() + "@refused.invalid",
			Name: "Refused", Link: w.f.ts.URL + "/password?t=x", Values: mail.Values{Expires: time.Now().Add(time.Hour)}})
		if err != nil {
			w.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, id := range ids {
		for {
			st, err := w.f.email.Status(ctx, id)
			if err != nil {
				w.t.Fatal(err)
			}
			if st.State == mail.StateFailed {
				break
			}
			if time.Now().After(deadline) {
				w.t.Fatalf("email %s is %s after 20 s, want it refused", id, st.State)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return ids
}

// invitation makes a person with no password yet and returns their invitation link's secret.
func (w *accessWorld) invitation() string {
	ctx := context.Background()
	u, err := w.f.accounts.Users.Create(ctx, accounts.NewUser{Email: randomWord() + "@invited.example", Name: "Invited", Role: accounts.RoleTrainee})
	if err != nil {
		w.t.Fatal(err)
	}
	secret, _, err := w.f.accounts.Invite(ctx, u.ID, w.person)
	if err != nil {
		w.t.Fatal(err)
	}
	return secret
}

func (f *fixture) accessWorld(t *testing.T) *accessWorld {
	t.Helper()
	ctx := context.Background()
	w := &accessWorld{t: t, f: f}
	cohort := f.demoCohort(t)
	w.cohort = cohort.ID
	prog, err := f.courses.Programme(ctx, cohort.ID)
	if err != nil {
		t.Fatal(err)
	}
	w.occasion = prog.Occasions()[0].ID
	w.sessionRoom = dialogueSession(t, f, w.cohort, true)
	jc := f.journalCast(t)
	w.trainee, w.assessor, w.admin, w.traineeID = jc.trainee, jc.assessor, jc.admin, jc.traineeID
	w.facilitator = f.signedIn(t, accounts.RoleFacilitator)
	if f.mailpit != nil {
		refused := w.refusedEmails(2)
		w.failedEmail, w.failedAPIEmail = refused[0], refused[1]
	}
	e := createEntry(t, jc.trainee, "Matrix entry", "Written for the access matrix.")
	w.entry = e.ID
	for _, key := range []*string{&w.mediaKey, &w.detachKey} {
		res, body := upload(jc.trainee, e.ID, "garden.png", pngWithExif(t))
		wantStatus(t, "upload", res, body, http.StatusCreated)
		*key = decodeAs[uploaded](t, body).Attachment.Key
	}
	// Shared with the supervisor, so that its author may comment on it.
	res, body := jc.trainee.send("PUT", "/api/v1/journal/entries/"+e.ID+"/sharing/supervisor", map[string]any{"shared": true}, nil)
	wantStatus(t, "share", res, body, http.StatusOK)
	// The media link as the server issues it, bound to its reader and entry.
	res, body = jc.trainee.send("GET", "/api/v1/journal/entries/"+e.ID, nil, nil)
	wantStatus(t, "read the entry", res, body, http.StatusOK)
	for _, m := range decodeAs[jEntry](t, body).Media {
		if m.Key == w.mediaKey {
			w.mediaURL = m.URL
		}
	}
	res, body = jc.trainee.send("POST", "/api/v1/supervision", map[string]any{"date": time.Now().Format(time.DateOnly), "minutes": 60,
		"supervisorId": jc.supervisorID, "kind": "individual", "reflection": "For the matrix."}, idem("matrix-sv"))
	wantStatus(t, "log supervision", res, body, http.StatusCreated)
	w.supervision = decodeAs[struct {
		ID string `json:"id"`
	}](t, body).ID
	w.export = startExport(t, jc.trainee)
	for _, tok := range []*string{&w.pageToken, &w.apiToken} {
		res, body = jc.trainee.send("POST", "/api/v1/tokens", map[string]any{"name": "matrix"}, nil)
		wantStatus(t, "token", res, body, http.StatusCreated)
		*tok = decodeAs[struct {
			Token struct {
				ID string `json:"id"`
			} `json:"token"`
		}](t, body).Token.ID
	}
	w.calendarToken, err = f.courses.CalendarToken(ctx, jc.traineeID)
	if err != nil {
		t.Fatal(err)
	}
	assessor := f.signedIn(t, accounts.RoleAssessor)
	m := newMCQ(t, f, assessor, nil)
	w.bank, w.question, w.assessment, w.questions = m.bank, m.questions[0], m.assessment, m.questions
	res, body = jc.trainee.send("POST", "/api/v1/assessments/"+m.assessment+"/attempts", nil, nil)
	wantStatus(t, "start attempt", res, body, http.StatusCreated)
	w.attempt = decodeAs[struct {
		ID string `json:"id"`
	}](t, body).ID
	w.personEmail = "person@nhs.example"
	person, err := f.accounts.Users.Create(ctx, accounts.NewUser{Email: w.personEmail, Name: "P", Role: accounts.RoleTrainee, Password: "person password 1"})
	if err != nil {
		t.Fatal(err)
	}
	w.person = person.ID
	w.erasedEmail = "erased@nhs.example"
	erased, err := f.accounts.Users.Create(ctx, accounts.NewUser{Email: w.erasedEmail, Name: "E", Role: accounts.RoleTrainee, Password: "erased password 1"})
	if err != nil {
		t.Fatal(err)
	}
	w.erasedPerson = erased.ID
	w.staffEmail = "staff@nhs.example"
	staff, err := f.accounts.Users.Create(ctx, accounts.NewUser{Email: w.staffEmail, Name: "S", Role: accounts.RoleSupervisor, Password: "staff password 1"})
	if err != nil {
		t.Fatal(err)
	}
	w.staffMember = staff.ID
	w.turn = w.sayInRoom(t)
	w.quoteForMatrix(t)
	a, err := f.awards.Issue(ctx, award.Decision{UserID: w.traineeID, CohortID: w.cohort, BoardID: "matrix-board", DecidedBy: "matrix", AccountName: "Trainee"})
	if err != nil {
		t.Fatal(err)
	}
	w.award, w.awardCode = a.ID, a.Code
	for _, r := range []*string{&w.revocable, &w.revocableAPI} {
		a, err := f.awards.Issue(ctx, award.Decision{UserID: w.traineeID, CohortID: w.cohort, BoardID: "matrix-board-" + randomWord(), DecidedBy: "matrix", AccountName: "Trainee"})
		if err != nil {
			t.Fatal(err)
		}
		*r = a.ID
	}
	w.marking.entry = w.markingEntry(t)
	w.buildMarking(t)
	return w
}

// sayInRoom opens the demo cohort's room and says something in it as the trainee; it
// returns the turn's sequence number.
func (w *accessWorld) sayInRoom(t *testing.T) string {
	t.Helper()
	path := "/rooms/" + w.cohort + "/cohort"
	if res, body := w.facilitator.do("POST", path+"/open", url.Values{"csrf": {w.facilitator.csrf}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("open the room: %d %s", res.StatusCode, body)
	}
	conn, _, err := w.trainee.dialRoom(path+"/ws?lastSeq=0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	next(t, conn, "welcome")
	if err := conn.WriteJSON(map[string]string{"type": "say", "text": "For the matrix", "id": "m1"}); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(int64(next(t, conn, "ack")["ackSeq"].(float64)))
}

// enrolStaffMember makes the staff member a supervisor of the demo cohort, if they are not.
func (w *accessWorld) enrolStaffMember() {
	if _, err := w.f.courses.Enrol(context.Background(), w.cohort, w.staffMember, accounts.RoleSupervisor); err != nil {
		w.t.Fatal(err)
	}
}

// etag is the version c reads of path, as its ETag holds it: `"3"`.
func (w *accessWorld) etag(c *client, path string) string {
	res, body := c.do("GET", path, nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("ETag") == "" {
		c.t.Fatalf("GET %s: %d %s, want an ETag", path, res.StatusCode, body)
	}
	return res.Header.Get("ETag")
}

// version is etag without its quotes.
func (w *accessWorld) version(c *client, path string) string {
	return strings.Trim(w.etag(c, path), `"`)
}

// fill puts real records into a route's parameters; it says false for a parameter it has
// no record for.
func (w *accessWorld) fill(pattern string) (string, bool) {
	ids := []struct{ prefix, id string }{
		{"/account/tokens/:id", w.pageToken},
		{"/api/v1/tokens/:id", w.apiToken},
		{"/admin/people/:id", w.person},
		{"/api/v1/users/:id/erase", w.erasedPerson},
		{"/api/v1/users/:id", w.person},
		{"/api/v1/cohorts/:id", w.cohort},
		{"/marking/cohorts/:id", w.cohort},
		{"/cohorts/:id", w.cohort},
		{"/api/v1/assessments/:id", w.assessment},
		{"/assessments/:id", w.assessment},
		{"/api/v1/attempts/:id", w.attempt},
		{"/attempts/:id", w.attempt},
		{"/api/v1/questions/:id", w.question},
		{"/questions/:id", w.question},
		{"/api/v1/journal/entries/:id", w.entry},
		{"/journal/:id", w.entry},
		{"/api/v1/supervision/:id", w.supervision},
		{"/supervision/:id", w.supervision},
		{"/api/v1/me/exports/:id", w.export},
		{"/admin/emails/:id", w.failedEmail},
		{"/api/v1/admin/emails/failed/:id", w.failedAPIEmail},
		{"/api/v1/assessors/:id", w.marking.marker},
		{"/consent/:id", w.consentRequest},
		{"/api/v1/consent/requests/:id", w.consentRequest},
		{"/account/certificate/:id", w.award},
		{"/api/v1/me/awards/:id", w.award},
		{"/awards/:id", w.revocable},
		{"/api/v1/awards/:id", w.revocableAPI},
	}
	if strings.HasPrefix(pattern, "/boards/:id") || strings.HasPrefix(pattern, "/api/v1/boards/:id") {
		ids = append([]struct{ prefix, id string }{{pattern, w.freshBoard()}}, ids...)
	}
	id := ""
	for _, p := range ids {
		if strings.HasPrefix(pattern, p.prefix) {
			id = p.id
			break
		}
	}
	if strings.Contains(pattern, ":piece") {
		pattern = w.fillMarking(pattern)
	}
	star := "app.css"
	if strings.HasPrefix(pattern, "/media/") {
		star = w.mediaKey // with no signature
	}
	room := "cohort"
	if strings.HasSuffix(pattern, "/:room/register") {
		room = w.sessionRoom // only a session's room has a register
	}
	path := strings.NewReplacer(":id", id, "*", star, ":slug", "risk-and-governance", ":n", "1",
		":occasion", w.occasion, ":token", "not-a-token", ":cohort", w.cohort, ":room", room, ":seq", w.turn,
		":bank", w.bank, ":q", "1", ":audience", "supervisor", ":userId", w.staffMember, ":code", w.awardCode,
		":trainee", w.traineeID).Replace(pattern)
	return path, !strings.Contains(path, ":") && (id != "" || !strings.Contains(pattern, ":id"))
}

// signed is the path of a signed-url route with its signature.
func (w *accessWorld) signed(pattern string) string {
	if strings.HasPrefix(pattern, "/media/") {
		u, _ := url.Parse(w.mediaURL)
		return u.RequestURI()
	}
	return strings.ReplaceAll(pattern, ":token", w.calendarToken)
}

// request is what the matrix sends beyond the path: a body (JSON unless it is url.Values, a
// []byte upload or plainText), more headers, and a query.
type request struct {
	body    any
	headers map[string]string
	query   string
}

// form is a page's form as a browser sends it.
func form(kv ...string) request {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return request{body: v}
}

func jsonBody(v any) request { return request{body: v} }

// successRequests is, for a route whose request needs more than an empty JSON object, one
// that succeeds for an allowed caller.
var successRequests = map[string]func(w *accessWorld) request{
	"POST /signin": func(w *accessWorld) request {
		l := w.f.byRole[accounts.RoleTrainee]
		r := form("email", l.Email, "password", l.Password, "csrf", "matrix-signin")
		r.headers = map[string]string{"Cookie": "polyphony-signin=matrix-signin"}
		return r
	},
	"POST /api/v1/session": func(w *accessWorld) request {
		l := w.f.byRole[accounts.RoleTrainee]
		return jsonBody(map[string]string{"email": l.Email, "password": l.Password})
	},
	"POST /signin/forgot": func(w *accessWorld) request {
		r := form("email", w.f.byRole[accounts.RoleTrainee].Email, "csrf", "matrix-signin")
		r.headers = map[string]string{"Cookie": "polyphony-signin=matrix-signin"}
		return r
	},
	"GET /password": func(w *accessWorld) request { return request{query: "?link=" + url.QueryEscape(w.invitation())} },
	"POST /password": func(w *accessWorld) request {
		r := form("link", w.invitation(), "password", "a chosen password", "confirm", "a chosen password", "csrf", "matrix-signin")
		r.headers = map[string]string{"Cookie": "polyphony-signin=matrix-signin"}
		return r
	},
	"POST /api/v1/password-resets": func(w *accessWorld) request {
		return jsonBody(map[string]string{"email": w.f.byRole[accounts.RoleTrainee].Email})
	},
	"POST /api/v1/password-links": func(w *accessWorld) request {
		return jsonBody(map[string]string{"link": w.invitation(), "password": "a chosen password"})
	},
	// Only the unassigned callers' passwords are known here, and nothing else signs in as them.
	"POST /account/password": func(w *accessWorld) request {
		return form("currentPassword", "lone password 1", "newPassword", "lone password 3", "confirmPassword", "lone password 3")
	},
	"POST /api/v1/me/password": func(w *accessWorld) request {
		return jsonBody(map[string]string{"currentPassword": "lone password 2", "newPassword": "lone password 4"})
	},
	"POST /account/certificate-name":  func(w *accessWorld) request { return form("shownName", "Matrix Name") },
	"PUT /api/v1/me/certificate-name": func(w *accessWorld) request { return jsonBody(map[string]any{"shownName": "Matrix Name"}) },
	"POST /admin/certificate":         func(w *accessWorld) request { return form("title", "Diploma", "organisations", "NHS England") },
	"PUT /api/v1/certificate-settings": func(w *accessWorld) request {
		return jsonBody(map[string]any{"title": "Diploma", "organisations": []string{"NHS England"}})
	},
	"POST /account/tokens": func(w *accessWorld) request { return form("name", "matrix", "days", "30") },
	"POST /api/v1/tokens":  func(w *accessWorld) request { return jsonBody(map[string]any{"name": "matrix"}) },
	"POST /admin/trusts":   func(w *accessWorld) request { return form("name", "Trust "+randomWord()) },
	"POST /api/v1/trusts":  func(w *accessWorld) request { return jsonBody(map[string]any{"name": "Trust " + randomWord()}) },
	"POST /admin/cohorts":  func(w *accessWorld) request { return form("name", "Cohort "+randomWord(), "startDate", "2027-09-01") },
	"POST /api/v1/cohorts": func(w *accessWorld) request {
		return jsonBody(map[string]any{"name": "Cohort " + randomWord(), "startDate": "2027-09-01"})
	},
	"POST /admin/people": func(w *accessWorld) request {
		return form("email", randomWord()+"@nhs.example", "name", "New Person", "role", "trainee", "password", "a long enough password")
	},
	"POST /api/v1/users": func(w *accessWorld) request {
		return jsonBody(map[string]any{"email": randomWord() + "@nhs.example", "name": "New Person", "role": "trainee", "password": "a long enough password"})
	},
	"PATCH /api/v1/users/:id": func(w *accessWorld) request { return jsonBody(map[string]any{"disabled": false}) },
	"PUT /api/v1/me/emails":   func(w *accessWorld) request { return jsonBody(map[string]any{"off": []string{"entry-comment"}}) },
	"POST /cohorts/:id/import": func(w *accessWorld) request {
		return form("csv", "email,name,role\nmatrix-"+randomWord()+"@nhs.example,Matrix Person,assessor\n")
	},
	"POST /api/v1/cohorts/:id/people": func(w *accessWorld) request {
		return request{body: plainText("email,name,role\nmatrix-" + randomWord() + "@nhs.example,Matrix Person,assessor\n"), query: "?preview=true"}
	},
	"POST /admin/people/:id": func(w *accessWorld) request {
		return form("name", "Renamed Person", "email", w.personEmail, "role", "trainee")
	},
	"POST /api/v1/cohorts/:id/members": func(w *accessWorld) request { return jsonBody(map[string]any{"userId": w.person}) },
	"POST /admin/people/:id/erase":     func(w *accessWorld) request { return form("confirm", w.personEmail) },
	"POST /api/v1/users/:id/erase":     func(w *accessWorld) request { return jsonBody(map[string]any{"confirm": w.erasedEmail}) },

	// The staff member is enrolled again before each request that changes or removes them.
	"PUT /api/v1/cohorts/:id/members/:userId": func(w *accessWorld) request {
		w.enrolStaffMember()
		return jsonBody(map[string]any{"role": "supervisor", "supervises": []string{w.traineeID}})
	},
	"DELETE /api/v1/cohorts/:id/members/:userId": func(w *accessWorld) request {
		w.enrolStaffMember()
		return request{}
	},
	"POST /cohorts/:id/members": func(w *accessWorld) request {
		return form("email", w.staffEmail, "supervises", w.traineeID)
	},
	"POST /cohorts/:id/members/:userId": func(w *accessWorld) request {
		w.enrolStaffMember()
		return form("supervises", w.traineeID)
	},
	"POST /cohorts/:id/members/:userId/remove": func(w *accessWorld) request {
		w.enrolStaffMember()
		return form()
	},

	"POST /cohorts/:id/boards":        func(w *accessWorld) request { return form("date", "2027-07-01") },
	"POST /api/v1/cohorts/:id/boards": func(w *accessWorld) request { return jsonBody(map[string]string{"date": "2027-07-01"}) },
	"POST /boards/:id/decisions": func(w *accessWorld) request {
		return form("userId", w.traineeID, "outcome", "not awarded", "reason", "Matrix")
	},
	"POST /api/v1/boards/:id/decisions": func(w *accessWorld) request {
		return jsonBody(map[string]string{"userId": w.traineeID, "outcome": "not awarded", "reason": "Matrix"})
	},
	"POST /awards/:id/revoke":        func(w *accessWorld) request { return form("reason", "Matrix") },
	"POST /api/v1/awards/:id/revoke": func(w *accessWorld) request { return jsonBody(map[string]string{"reason": "Matrix"}) },

	"POST /cohorts/:id/award-rules": func(w *accessWorld) request {
		r, err := w.f.progress.Rules(context.Background(), w.cohort)
		if err != nil {
			w.t.Fatal(err)
		}
		return form("version", fmt.Sprint(r.Version), "include-supervision", "on", "supervision-hours", "12")
	},
	"PUT /api/v1/cohorts/:id/award-rules": func(w *accessWorld) request {
		path := "/api/v1/cohorts/" + w.cohort + "/award-rules"
		return request{body: map[string]any{"rules": []map[string]any{{"kind": "supervision", "hours": 12}}},
			headers: map[string]string{"If-Match": w.etag(w.admin, path)}}
	},

	"PUT /api/v1/cohorts/:id/programme": func(w *accessWorld) request {
		path := "/api/v1/cohorts/" + w.cohort + "/programme"
		_, body := w.facilitator.do("GET", path, nil)
		got := decodeAs[struct {
			Programme struct {
				Modules []map[string]any `json:"modules"`
				Periods []map[string]any `json:"periods"`
			} `json:"programme"`
		}](w.facilitator.t, body)
		return request{body: map[string]any{"modules": got.Programme.Modules, "periods": got.Programme.Periods},
			headers: map[string]string{"If-Match": w.etag(w.facilitator, path)}}
	},
	"POST /cohorts/:id/modules": func(w *accessWorld) request {
		prog, err := w.f.courses.Programme(context.Background(), w.cohort)
		if err != nil {
			w.t.Fatal(err)
		}
		london, err := time.LoadLocation("Europe/London")
		if err != nil {
			w.t.Fatal(err)
		}
		var kv []string
		for i, m := range prog.Modules {
			n := fmt.Sprint(i + 1)
			kv = append(kv, "start"+n, m.Start.In(london).Format(time.DateOnly), "end"+n, m.End.In(london).Format(time.DateOnly), "venue"+n, m.Venue)
		}
		return form(kv...)
	},
	"PUT /api/v1/cohorts/:id/registers/:occasion": func(w *accessWorld) request {
		return jsonBody(map[string]any{"entries": []map[string]string{{"userId": w.traineeID, "mark": "present"}}})
	},
	"POST /cohorts/:id/register/:occasion": func(w *accessWorld) request {
		return form("trainee", w.traineeID, "mark-"+w.traineeID, "present")
	},
	"POST /curriculum": func(w *accessWorld) request {
		return form("slug", "matrix-"+randomWord(), "title", "A new page", "module", "0", "order", "9", "release", "immediately", "body", "Some words.")
	},
	"POST /curriculum/:slug": func(w *accessWorld) request {
		return form("title", "Risk and governance", "module", "0", "order", "9", "release", "immediately", "body", "Some words.",
			"baseRevision", w.version(w.facilitator, "/api/v1/curriculum/risk-and-governance"))
	},
	"POST /curriculum/:slug/revisions/:n/restore": func(w *accessWorld) request {
		return form("baseRevision", w.version(w.facilitator, "/api/v1/curriculum/risk-and-governance"))
	},
	"PUT /api/v1/curriculum/:slug": func(w *accessWorld) request {
		path := "/api/v1/curriculum/risk-and-governance"
		return request{body: map[string]any{"title": "Risk and governance", "module": 0, "order": 9, "release": "immediately", "markdown": "Some words."},
			headers: map[string]string{"If-Match": w.etag(w.facilitator, path)}}
	},
	"POST /api/v1/curriculum/:slug/revisions/:n/restore": func(w *accessWorld) request {
		return request{headers: map[string]string{"If-Match": w.etag(w.facilitator, "/api/v1/curriculum/risk-and-governance")}}
	},

	"POST /api/v1/banks":             func(w *accessWorld) request { return jsonBody(map[string]any{"name": "Bank " + randomWord()}) },
	"POST /banks":                    func(w *accessWorld) request { return form("name", "Bank "+randomWord()) },
	"GET /api/v1/banks/:bank/export": func(w *accessWorld) request { return request{query: "?format=md"} },
	"POST /api/v1/banks/:bank/import": func(w *accessWorld) request {
		return request{body: plainText(moodleAiken), query: "?format=aiken"}
	},
	"POST /banks/:bank/import": func(w *accessWorld) request {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("format", "aiken")
		fw, _ := mw.CreateFormFile("file", "moodle.txt")
		io.WriteString(fw, moodleAiken)
		mw.Close()
		return request{body: b.Bytes(), headers: map[string]string{"Content-Type": mw.FormDataContentType()}}
	},
	"POST /api/v1/banks/:bank/questions": func(w *accessWorld) request {
		return jsonBody(map[string]any{"name": "Matrix question", "stem": "Which answer is right?", "options": []map[string]any{{"text": "This one", "right": true}, {"text": "That one"}}})
	},
	"POST /banks/:bank/questions": func(w *accessWorld) request {
		return form("name", "Matrix question", "stem", "Which is right?", "rows", "2", "option0", "This one", "option1", "That one", "right", "0")
	},
	"PUT /api/v1/questions/:id": func(w *accessWorld) request {
		return request{body: map[string]any{"stem": "Which answer is right?", "options": []map[string]any{{"text": "This one", "right": true}, {"text": "That one"}}},
			headers: map[string]string{"If-Match": w.etag(w.assessor, "/api/v1/questions/"+w.question)}}
	},
	"POST /questions/:id": func(w *accessWorld) request {
		return form("name", "Matrix question", "stem", "Which is right?", "rows", "2", "option0", "This one", "option1", "That one", "right", "0",
			"baseRevision", w.version(w.assessor, "/api/v1/questions/"+w.question))
	},
	"POST /api/v1/assessments": func(w *accessWorld) request {
		return jsonBody(map[string]any{"title": "Matrix test", "bankId": w.bank, "cohortId": w.cohort, "questions": w.questions, "passMark": 50})
	},
	"PUT /api/v1/assessments/:id": func(w *accessWorld) request {
		return request{body: map[string]any{"title": "Matrix test", "bankId": w.bank, "cohortId": w.cohort, "questions": w.questions, "passMark": 50},
			headers: map[string]string{"If-Match": w.etag(w.assessor, "/api/v1/assessments/"+w.assessment)}}
	},
	"POST /assessments": func(w *accessWorld) request { return w.settingsForm("") },
	"POST /assessments/:id": func(w *accessWorld) request {
		return w.settingsForm(w.version(w.assessor, "/api/v1/assessments/"+w.assessment))
	},
	"PUT /api/v1/assessments/:id/angoff": func(w *accessWorld) request {
		est := map[string]float64{}
		for _, q := range w.questions {
			est[q] = 0.6
		}
		return jsonBody(map[string]any{"estimates": est})
	},
	"PUT /api/v1/attempts/:id/answers/:q": func(w *accessWorld) request { return jsonBody(map[string]any{"option": 0}) },

	"PUT /api/v1/journal/entries/:id": func(w *accessWorld) request {
		return jsonBody(map[string]any{"baseVersion": w.entryVersion(), "title": "Matrix entry", "body": "Written again."})
	},
	"POST /journal/:id": func(w *accessWorld) request {
		return form("baseVersion", fmt.Sprint(w.entryVersion()), "title", "Matrix entry", "body", "Written again.", "key", randomWord())
	},
	"POST /journal": func(w *accessWorld) request {
		return form("title", "Another entry", "body", "Words.", "key", randomWord())
	},
	"POST /api/v1/journal/entries/:id/revisions/:n/restore": func(w *accessWorld) request {
		return jsonBody(map[string]any{"baseVersion": w.entryVersion()})
	},
	"POST /journal/:id/revisions/:n/restore": func(w *accessWorld) request {
		return form("baseVersion", fmt.Sprint(w.entryVersion()), "key", randomWord())
	},
	"POST /api/v1/journal/entries/:id/comments": func(w *accessWorld) request {
		return jsonBody(map[string]any{"body": "A comment.", "audience": "supervisor"})
	},
	"PUT /api/v1/journal/entries/:id/sharing/:audience": func(w *accessWorld) request {
		return jsonBody(map[string]any{"shared": true})
	},
	"POST /api/v1/journal/entries/:id/media":   func(w *accessWorld) request { return request{body: pngWithExif(w.t), query: "?name=more.png"} },
	"GET /api/v1/journal/entries/:id/media":    func(w *accessWorld) request { return request{query: "?key=" + url.QueryEscape(w.mediaKey)} },
	"DELETE /api/v1/journal/entries/:id/media": func(w *accessWorld) request { return request{query: "?key=" + url.QueryEscape(w.detachKey)} },
	"POST /api/v1/practice": func(w *accessWorld) request {
		return jsonBody(map[string]any{"date": time.Now().Format(time.DateOnly), "minutes": 20, "kind": "walking"})
	},
	"POST /practice": func(w *accessWorld) request {
		return form("date", time.Now().Format(time.DateOnly), "minutes", "20", "kind", "sitting", "key", randomWord())
	},
	"PUT /api/v1/practice/visibility": func(w *accessWorld) request { return jsonBody(map[string]any{"visibility": "totals"}) },
	"POST /practice/visibility":       func(w *accessWorld) request { return form("visibility", "totals") },
	"POST /api/v1/supervision": func(w *accessWorld) request {
		return jsonBody(map[string]any{"date": time.Now().Format(time.DateOnly), "minutes": 30, "supervisorId": w.f.userID(w.t, w.f.byRole[accounts.RoleSupervisor].Email), "kind": "individual"})
	},
	"POST /supervision": func(w *accessWorld) request {
		return form("date", time.Now().Format(time.DateOnly), "minutes", "30", "supervisorId", w.f.userID(w.t, w.f.byRole[accounts.RoleSupervisor].Email),
			"kind", "individual", "key", randomWord())
	},
}

// settingsForm is the assessment setup form, for a new assessment (base "") or a change.
func (w *accessWorld) settingsForm(base string) request {
	r := form("bankId", w.bank, "title", "Matrix test", "cohortId", w.cohort, "timeLimitMinutes", "20", "graceSeconds", "30",
		"attemptsAllowed", "2", "passMark", "60", "reviewAfterAttempt", "score", "reviewAfterClose", "feedback")
	v := r.body.(url.Values)
	for _, q := range w.questions {
		v.Add("questions", q)
	}
	if base != "" {
		v.Set("baseVersion", base)
	}
	return r
}

// entryVersion is the matrix entry's latest version.
func (w *accessWorld) entryVersion() int {
	res, body := w.trainee.send("GET", "/api/v1/journal/entries/"+w.entry, nil, nil)
	wantStatus(w.trainee.t, "read the entry", res, body, http.StatusOK)
	return decodeAs[jEntry](w.trainee.t, body).Version
}
