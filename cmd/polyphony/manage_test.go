package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/database"
	"polyphony/internal/dbtest"
)

const testPassword = "a-long-and-unusual-passphrase\n"

// serviceConfig is the account settings the checks under the commands use: the defaults.
var serviceConfig = accounts.Config{
	Session:  accounts.SessionConfig{Idle: 30 * time.Minute, Absolute: 12 * time.Hour},
	Throttle: accounts.DefaultThrottle,
}

var idPattern = regexp.MustCompile(`\(id ([0-9a-f]{24})\)`)

// idIn returns the record id a command printed as "(id ...)".
func idIn(t *testing.T, out string) string {
	t.Helper()
	m := idPattern.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no id in %q", out)
	}
	return m[1]
}

// userRows reads `polyphony user list` output into email → fields (id, name..., role, state).
func userRows(t *testing.T, out string) map[string][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("user list has no header:\n%s", out)
	}
	rows := map[string][]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		for _, w := range f {
			if strings.Contains(w, "@") {
				rows[w] = f
			}
		}
	}
	return rows
}

// openData opens the embedded database a command left in data, for looking under the
// commands at what they stored.
func openData(t *testing.T, data string) *database.DB {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, database.Config{Dir: filepath.Join(data, "db"), Listen: "127.0.0.1:0", Name: "polyphony"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return db
}

func TestUserAdd(t *testing.T) {
	data := t.TempDir()
	r := mustRun(t, nil, testPassword, "user", "add", "--data", data,
		"--email", "Ada.Lovelace@Example.org", "--name", "Ada Lovelace", "--role", "Facilitator", "--password-stdin")
	if !strings.Contains(r.stdout, "Added Ada Lovelace <ada.lovelace@example.org> as facilitator") || strings.Contains(r.stdout, "Password:") {
		t.Errorf("user add --password-stdin: want the account named and no password shown; got %v", r)
	}
	id := idIn(t, r.stdout)

	list := mustRun(t, nil, "", "user", "list", "--data", data)
	row := userRows(t, list.stdout)["ada.lovelace@example.org"]
	if row == nil || row[0] != id || row[len(row)-2] != "facilitator" || row[len(row)-1] != "active" {
		t.Errorf("user list row = %v, want id %s, facilitator, active:\n%s", row, id, list.stdout)
	}

	// The same address again, in other letters: refused, with a message, and nothing changed.
	r = runIn(t, nil, "another-long-passphrase\n", "user", "add", "--data", data,
		"--email", "ADA.LOVELACE@example.org", "--name", "Someone Else", "--role", "admin", "--password-stdin")
	if r.code != 1 || !strings.Contains(r.stderr, "an account with the email ada.lovelace@example.org already exists") || r.stdout != "" {
		t.Errorf("duplicate user add: want exit 1 saying the account exists; got %v", r)
	}
	// Unknown role, common password, unknown cohort or trust, empty standard input: each
	// refused with a message that says what is wrong.
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{testPassword, []string{"--email", "b@example.org", "--name", "B", "--role", "wizard"}, "Select a role: trainee, facilitator, supervisor, assessor or admin"},
		{"password\n", []string{"--email", "b@example.org", "--name", "B", "--role", "trainee"}, "Choose a password that is not one of the most common passwords"},
		{"short\n", []string{"--email", "b@example.org", "--name", "B", "--role", "trainee"}, "Password must be 8 characters or more"},
		{"b@example.org\n", []string{"--email", "b@example.org", "--name", "B", "--role", "trainee"}, "Choose a password that is not the email address"},
		{"", []string{"--email", "b@example.org", "--name", "B", "--role", "trainee"}, "--password-stdin: nothing on standard input"},
		{testPassword, []string{"--email", "not-an-address", "--name", "B", "--role", "trainee"}, "Enter an email address in the correct format"},
		{testPassword, []string{"--email", "b@example.org", "--name", "B", "--role", "trainee", "--cohort", "No Such Cohort"}, `no cohort is named or has the id "No Such Cohort"`},
		{testPassword, []string{"--email", "b@example.org", "--name", "B", "--role", "trainee", "--trust", "No Such Trust"}, `no trust is named or has the id "No Such Trust"`},
	} {
		args := append([]string{"user", "add", "--data", data, "--password-stdin"}, tc.args...)
		r := runIn(t, nil, tc.stdin, args...)
		if r.code != 1 || !strings.HasPrefix(r.stderr, "polyphony user add: ") || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("polyphony %v: want exit 1 saying %q; got %v", args, tc.want, r)
		}
	}

	list = mustRun(t, nil, "", "user", "list", "--data", data)
	rows := userRows(t, list.stdout)
	if len(rows) != 1 {
		t.Errorf("after the refused additions there are %d accounts, want 1:\n%s", len(rows), list.stdout)
	}
	if row := rows["ada.lovelace@example.org"]; row == nil || strings.Join(row[1:len(row)-3], " ") != "Ada Lovelace" || row[len(row)-2] != "facilitator" {
		t.Errorf("the first account changed: %v", row)
	}

	// Without --password-stdin the person is invited: a link is printed, no password works
	// until it is used, and the password chosen through it then does.
	r = mustRun(t, nil, "", "user", "add", "--data", data, "--email", "grace@example.org", "--name", "Grace Hopper", "--role", "admin")
	m := regexp.MustCompile(`(?m)^https?://\S+/password\?link=(ppl_\S+)$`).FindStringSubmatch(r.stdout)
	if m == nil || strings.Contains(r.stdout, "Password:") {
		t.Fatalf("user add without --password-stdin prints no invitation link: %v", r)
	}
	db := openData(t, data)
	svc, err := accounts.NewService(context.Background(), db, serviceConfig)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := svc.Login(context.Background(), "grace@example.org", "any password at all", "", "test"); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Errorf("an invited account before its link is used: %v, want refused", err)
	}
	// user invite makes another; either works until one is used.
	again := mustRun(t, nil, "", "user", "invite", "--data", data, "--email", "Grace@example.org")
	if !strings.Contains(again.stdout, "/password?link=ppl_") {
		t.Errorf("user invite: %v", again)
	}
	if _, _, err := svc.UseLink(context.Background(), m[1], "grace's own password"); err != nil {
		t.Fatalf("use the printed link: %v", err)
	}
	if _, _, _, err := svc.Login(context.Background(), "grace@example.org", "grace's own password", "", "test"); err != nil {
		t.Errorf("sign in with the password chosen through the link: %v", err)
	}
	if _, _, _, err := svc.Login(context.Background(), "ada.lovelace@example.org", strings.TrimSpace(testPassword), "", "test"); err != nil {
		t.Errorf("sign in with the password from standard input: %v", err)
	}
}

func TestUserDisableAndEnable(t *testing.T) {
	data := t.TempDir()
	mustRun(t, nil, testPassword, "user", "add", "--data", data, "--email", "d@example.org", "--name", "Dee", "--role", "trainee", "--password-stdin")
	r := mustRun(t, nil, "", "user", "disable", "--data", data, "--email", "d@example.org")
	if !strings.Contains(r.stdout, "Disabled") {
		t.Errorf("user disable: %v", r)
	}
	if row := userRows(t, mustRun(t, nil, "", "user", "list", "--data", data).stdout)["d@example.org"]; row == nil || row[len(row)-1] != "disabled" {
		t.Errorf("after disable, user list row = %v", row)
	}
	mustRun(t, nil, "", "user", "enable", "--data", data, "--email", "d@example.org")
	if row := userRows(t, mustRun(t, nil, "", "user", "list", "--data", data).stdout)["d@example.org"]; row == nil || row[len(row)-1] != "active" {
		t.Errorf("after enable, user list row = %v", row)
	}
	if r := runIn(t, nil, "", "user", "disable", "--data", data, "--email", "nobody@example.org"); r.code != 1 || !strings.Contains(r.stderr, "polyphony user disable:") || !strings.Contains(r.stderr, `no account has the email "nobody@example.org"`) {
		t.Errorf("disable an unknown account: want exit 1 with a message; got %v", r)
	}
}

func TestCohortsTrustsAndEnrolment(t *testing.T) {
	data := t.TempDir()
	r := mustRun(t, nil, "", "trust", "add", "--data", data, "--name", "Northmoor NHS Foundation Trust")
	trustID := idIn(t, r.stdout)
	if !strings.Contains(r.stdout, "Added trust Northmoor NHS Foundation Trust") {
		t.Errorf("trust add: %v", r)
	}

	r = mustRun(t, nil, "", "cohort", "add", "--data", data, "--name", "Spring 2031", "--start", "2031-03-03", "--trust", "Northmoor NHS Foundation Trust")
	if !strings.Contains(r.stdout, "Added cohort Spring 2031, starting 3 March 2031") {
		t.Errorf("cohort add: %v", r)
	}
	cohortID := idIn(t, r.stdout)
	r = mustRun(t, nil, "", "cohort", "add", "--data", data, "--name", "Autumn 2031", "--start", "2031-09-01", "--trust", trustID)
	autumnID := idIn(t, r.stdout)

	if r := runIn(t, nil, "", "cohort", "add", "--data", data, "--name", "Bad", "--start", "1 March"); r.code != 1 || !strings.Contains(r.stderr, "YYYY-MM-DD") {
		t.Errorf("cohort add with a bad date: want exit 1 asking for YYYY-MM-DD; got %v", r)
	}
	if r := runIn(t, nil, "", "cohort", "add", "--data", data, "--name", "Bad", "--start", "2031-01-01", "--trust", "Nowhere"); r.code != 1 || !strings.Contains(r.stderr, `"Nowhere"`) {
		t.Errorf("cohort add with an unknown trust: want exit 1 naming it; got %v", r)
	}

	list := mustRun(t, nil, "", "cohort", "list", "--data", data).stdout
	for _, want := range []string{cohortID + "  Spring 2031  2031-03-03", autumnID + "  Autumn 2031  2031-09-01"} {
		if !strings.Contains(list, want) {
			t.Errorf("cohort list lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "Bad") {
		t.Errorf("cohort list shows a cohort that was refused:\n%s", list)
	}

	// Enrol by name and by id; the trust is recorded on the account.
	r = mustRun(t, nil, testPassword, "user", "add", "--data", data, "--email", "t@example.org", "--name", "Tam Trainee", "--role", "trainee",
		"--peer-worker", "--cohort", "Spring 2031", "--trust", "Northmoor NHS Foundation Trust", "--password-stdin")
	if !strings.Contains(r.stdout, "Enrolled in Spring 2031") {
		t.Errorf("user add --cohort: %v", r)
	}
	traineeID := idIn(t, r.stdout)
	r = mustRun(t, nil, testPassword, "user", "add", "--data", data, "--email", "s@example.org", "--name", "Sol Supervisor", "--role", "supervisor",
		"--cohort", autumnID, "--password-stdin")
	supervisorID := idIn(t, r.stdout)

	ctx := context.Background()
	db := openData(t, data)
	store, err := courses.NewStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user, cohort string
		role         accounts.Role
	}{{traineeID, cohortID, accounts.RoleTrainee}, {supervisorID, autumnID, accounts.RoleSupervisor}} {
		ms, err := store.MembershipsOf(ctx, tc.user)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 1 || ms[0].CohortID != tc.cohort || ms[0].Role != tc.role {
			t.Errorf("memberships of %s = %+v, want one in %s as %s", tc.user, ms, tc.cohort, tc.role)
		}
	}
	users, err := accounts.NewUsers(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	u, err := users.ByID(ctx, traineeID)
	if err != nil {
		t.Fatal(err)
	}
	if u.TrustID != trustID || !u.PeerWorker {
		t.Errorf("trainee trust %q, peer worker %v; want %s, true", u.TrustID, u.PeerWorker, trustID)
	}
}

func TestTokenAdd(t *testing.T) {
	data := t.TempDir()
	mustRun(t, nil, testPassword, "user", "add", "--data", data, "--email", "bot@example.org", "--name", "Script Owner", "--role", "admin", "--password-stdin")
	r := mustRun(t, nil, "", "token", "add", "--data", data, "--email", "bot@example.org", "--name", "nightly export", "--days", "7")
	token := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(token, accounts.TokenPrefix) || strings.Contains(token, "\n") || len(token) < len(accounts.TokenPrefix)+20 {
		t.Fatalf("token add printed %q, want one pph_ token", r.stdout)
	}
	if accounts.TokenPrefix != "pph_" {
		t.Errorf("token prefix is %q, want pph_", accounts.TokenPrefix)
	}

	db := openData(t, data)
	svc, err := accounts.NewService(context.Background(), db, serviceConfig)
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.FromToken(context.Background(), token)
	if err != nil || u.Email != "bot@example.org" {
		t.Errorf("the printed token signs in as %q, %v; want bot@example.org", u.Email, err)
	}
	db.Close(context.Background())

	if r := runIn(t, nil, "", "token", "add", "--data", data, "--email", "nobody@example.org", "--name", "x"); r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, `no account has the email "nobody@example.org"`) {
		t.Errorf("token for an unknown account: want exit 1 and no token; got %v", r)
	}
	if r := runIn(t, nil, "", "token", "add", "--data", data, "--email", "bot@example.org", "--name", "x", "--days", "-1"); r.code != 1 || !strings.Contains(r.stderr, "days") {
		t.Errorf("token with negative days: want exit 1 naming --days; got %v", r)
	}
}

// demoLogins reads the logins `polyphony demo` printed: email → [role, password].
func demoLogins(t *testing.T, out string) map[string][2]string {
	t.Helper()
	logins := map[string][2]string{}
	inTable := false
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) > 0 && f[0] == "ROLE":
			inTable = true
		case inTable && len(f) >= 4:
			logins[f[1]] = [2]string{f[0], f[2]}
		}
	}
	return logins
}

func TestDemoTwice(t *testing.T) {
	data := t.TempDir()
	first := demoLogins(t, mustRun(t, nil, "", "demo", "--data", data).stdout)
	r := mustRun(t, nil, "", "demo", "--data", data)
	if !strings.Contains(r.stdout, "Demo trust") {
		t.Errorf("demo: %v", r)
	}
	second := demoLogins(t, r.stdout)

	for _, logins := range []map[string][2]string{first, second} {
		roles := map[string]int{}
		for _, l := range logins {
			roles[l[0]]++
		}
		for _, role := range []string{"admin", "facilitator", "supervisor", "assessor", "trainee"} {
			if roles[role] == 0 {
				t.Errorf("demo printed no login for %s: %v", role, logins)
			}
		}
	}
	if len(second) != len(first) {
		t.Errorf("the second demo printed %d logins, the first %d", len(second), len(first))
	}
	for email, l := range second {
		if first[email][1] == l[1] {
			t.Errorf("demo gave %s the same password twice", email)
		}
	}

	// Running it again made nothing twice, and the newest passwords are the ones that work.
	rows := userRows(t, mustRun(t, nil, "", "user", "list", "--data", data).stdout)
	if len(rows) != len(second) {
		t.Errorf("after two demos there are %d accounts, want %d", len(rows), len(second))
	}
	list := mustRun(t, nil, "", "cohort", "list", "--data", data).stdout
	for _, name := range []string{"Demo cohort", "Finished demo cohort"} {
		if n := strings.Count(list, name); n != 1 {
			t.Errorf("after two demos there are %d cohorts named %q, want 1", n, name)
		}
	}
	for _, email := range []string{"eligible@polyphony.example", "awarded@polyphony.example", "deferred@polyphony.example"} {
		if second[email][0] != "trainee" {
			t.Errorf("demo printed no trainee login for %s: %v", email, second)
		}
	}
	db := openData(t, data)
	svc, err := accounts.NewService(context.Background(), db, serviceConfig)
	if err != nil {
		t.Fatal(err)
	}
	l := second["admin@polyphony.example"]
	if _, _, _, err := svc.Login(context.Background(), "admin@polyphony.example", l[1], "", "test"); err != nil {
		t.Errorf("the admin's new demo password: %v", err)
	}
}

// With MONGODB_URI set, the commands use that server and make no embedded database folder.
func TestCommandsOnMongoDBURI(t *testing.T) {
	uri := dbtest.URI(t)
	b := make([]byte, 6)
	rand.Read(b)
	name := "cmdtest_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := dbtest.Client(t).Database(name).Drop(ctx); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	env := map[string]string{"MONGODB_URI": uri, "POLYPHONY_MONGODB_DATABASE": name}
	data := filepath.Join(t.TempDir(), "data")

	r := mustRun(t, env, testPassword, "user", "add", "--data", data, "--email", "m@example.org", "--name", "Mo Mongo", "--role", "assessor", "--password-stdin")
	id := idIn(t, r.stdout)
	list := mustRun(t, env, "", "user", "list", "--data", data)
	if row := userRows(t, list.stdout)["m@example.org"]; row == nil || row[0] != id || row[len(row)-2] != "assessor" {
		t.Errorf("user list on MONGODB_URI: %v", list)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("with MONGODB_URI set, the commands made %s (stat: %v)", data, err)
	}

	// The account is where the URI says: in that server, in the named database.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := dbtest.Client(t).Database(name).Collection("users").CountDocuments(ctx, bson.M{"email": "m@example.org"})
	if err != nil || n != 1 {
		t.Errorf("users with that email in %s: %d, %v; want 1", name, n, err)
	}
}

// A server that does not answer is reported without the connection string's password.
func TestUnreachableMongoDBURIHidesPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var stdout, stderr strings.Builder
	env := map[string]string{"MONGODB_URI": "mongodb://u:secretpw@127.0.0.1:1/?connectTimeoutMS=200"}
	data := filepath.Join(t.TempDir(), "data")
	code := run(ctx, []string{"user", "list", "--data", data}, envFrom(env), strings.NewReader(""), &stdout, &stderr)
	if code != 1 {
		t.Errorf("user list on an unreachable server: exit %d, want 1\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "polyphony user list: reach database at mongodb://u:xxxxx@127.0.0.1:1/") {
		t.Errorf("want the server named, password hidden; got %q", stderr.String())
	}
	if strings.Contains(stderr.String()+stdout.String(), "secretpw") {
		t.Errorf("the password was printed: %q", stderr.String())
	}
}

// What the command line changes is in the audit log beside the administrators' changes.
func TestCommandsWriteTheAuditLog(t *testing.T) {
	data := t.TempDir()
	mustRun(t, nil, testPassword, "user", "add", "--data", data, "--email", "logged@example.org", "--name", "Logged Person", "--role", "trainee", "--password-stdin")
	mustRun(t, nil, "", "user", "disable", "--data", data, "--email", "logged@example.org")
	mustRun(t, nil, "", "trust", "add", "--data", data, "--name", "Logged Trust")
	log, err := audit.New(context.Background(), openData(t, data))
	if err != nil {
		t.Fatal(err)
	}
	page, err := log.List(context.Background(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range page.Entries {
		got = append(got, e.Action+" "+e.SubjectName+" by "+e.ActorName)
	}
	want := []string{"trust.added Logged Trust by the command line", "person.disabled Logged Person by the command line", "person.added Logged Person by the command line"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("audit log:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
