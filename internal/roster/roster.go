// Package roster reads a cohort's people from a CSV file and works out what importing it
// would do, so that the pages, the API and the command line show the same preview, refuse
// the same files with the same list of problems, and store the same changes.
//
// The file has a header row naming its columns, in any order and any case:
//
//	email, name, role, trust, peer worker, supervisor email
//
// email, name and role are required; role is trainee, facilitator, supervisor or assessor;
// trust is a trust's name as Polyphony knows it; peer worker is yes or no (trainees only);
// supervisor email names, for a trainee, the supervisor who reads what they share with their
// supervisor: someone with the role supervisor in the file or already in the cohort.
package roster

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"polyphony/internal/accounts"
)

// Columns are the header's names, in the order an export writes them.
var Columns = []string{"email", "name", "role", "trust", "peer worker", "supervisor email"}

// MaxRows bounds a file: a cohort is some tens of people.
const MaxRows = 2000

// Row is one person of the file.
type Row struct {
	Line       int
	Email      string
	Name       string
	Role       accounts.Role
	Trust      string // the trust's name as written
	PeerWorker bool
	Supervisor string // the supervisor's email, for a trainee
}

// Problems is every problem found in a file, each "line N: …"; the whole file is refused.
type Problems []string

func (p Problems) Error() string { return strings.Join(p, "; ") }

// columnNames maps the names a header may use to the column.
var columnNames = map[string]string{
	"email": "email", "email address": "email", "e-mail": "email",
	"name": "name", "full name": "name",
	"role":        "role",
	"trust":       "trust",
	"peer worker": "peer worker", "peer_worker": "peer worker", "peerworker": "peer worker", "peer support worker": "peer worker",
	"supervisor email": "supervisor email", "supervisor": "supervisor email", "supervisor_email": "supervisor email", "supervisor's email": "supervisor email",
}

// Parse reads the file. A file with any problem is refused with all of them (Problems).
func Parse(r io.Reader) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, Problems{"line 1: the file is empty; its first line names the columns: " + strings.Join(Columns, ", ")}
	}
	if err != nil {
		return nil, Problems{csvProblem(err)}
	}
	at := map[string]int{}
	var problems Problems
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		col, ok := columnNames[name]
		switch {
		case !ok && name != "":
			problems = append(problems, fmt.Sprintf("line 1: %q is not a column Polyphony knows (the columns are %s)", h, strings.Join(Columns, ", ")))
		case ok:
			if _, dup := at[col]; dup {
				problems = append(problems, fmt.Sprintf("line 1: the column %s is named twice", col))
			}
			at[col] = i
		}
	}
	for _, need := range []string{"email", "name", "role"} {
		if _, ok := at[need]; !ok {
			problems = append(problems, "line 1: there is no "+need+" column (the first line names the columns: "+strings.Join(Columns, ", ")+")")
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	var rows []Row
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems = append(problems, csvProblem(err))
			break
		}
		line, _ := cr.FieldPos(0)
		get := func(col string) string {
			if i, ok := at[col]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if strings.Join(rec, "") == "" {
			continue // a blank line
		}
		if len(rows) == MaxRows {
			problems = append(problems, fmt.Sprintf("line %d: a file holds at most %d people", line, MaxRows))
			break
		}
		row := Row{Line: line, Name: uncell(get("name")), Trust: uncell(get("trust"))}
		lp := func(format string, args ...any) {
			problems = append(problems, fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, args...))
		}
		email, err := accounts.NormalizeEmail(get("email"))
		switch {
		case get("email") == "":
			lp("the email address is missing")
		case err != nil:
			lp("%q is not an email address", get("email"))
		case seen[email] > 0:
			lp("%s is also on line %d", email, seen[email])
		default:
			seen[email] = line
		}
		row.Email = email
		if row.Name == "" {
			lp("the name is missing")
		} else if len([]rune(row.Name)) > 120 {
			lp("the name must be 120 characters or fewer")
		}
		role, err := accounts.ParseRole(strings.ToLower(get("role")))
		switch {
		case get("role") == "":
			lp("the role is missing (trainee, facilitator, supervisor or assessor)")
		case err != nil || role == accounts.RoleAdmin:
			lp("%q is not a role in a cohort: use trainee, facilitator, supervisor or assessor", get("role"))
		}
		row.Role = role
		switch strings.ToLower(get("peer worker")) {
		case "", "no", "n", "false", "0":
		case "yes", "y", "true", "1":
			row.PeerWorker = true
			if role != "" && role != accounts.RoleTrainee {
				lp("only trainees are peer workers in Polyphony, and this is a %s", role)
			}
		default:
			lp("peer worker must be yes or no, not %q", get("peer worker"))
		}
		if sup := get("supervisor email"); sup != "" {
			supEmail, err := accounts.NormalizeEmail(sup)
			switch {
			case err != nil:
				lp("the supervisor's email %q is not an email address", sup)
			case role != "" && role != accounts.RoleTrainee:
				lp("only a trainee has a supervisor, and this is a %s", role)
			case supEmail == email:
				lp("a person cannot be their own supervisor")
			}
			row.Supervisor = supEmail
		}
		rows = append(rows, row)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	if len(rows) == 0 {
		return nil, Problems{"line 2: the file has no people in it, only the line naming the columns"}
	}
	return rows, nil
}

func csvProblem(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("line %d: %v", pe.StartLine, pe.Err)
	}
	return "the file is not CSV: " + err.Error()
}

// Member is someone already in the cohort, as the plan needs to know them.
type Member struct {
	UserID     string
	Email      string
	Role       accounts.Role
	Supervises []string // trainees' user ids, for a supervisor
}

// World is what a plan reads: accounts by email, trusts by name, the cohort's members.
type World interface {
	UserByEmail(ctx context.Context, email string) (accounts.User, bool, error)
	TrustByName(ctx context.Context, name string) (id string, ok bool, err error)
	Members(ctx context.Context, cohortID string) ([]Member, error)
	// TraineeElsewhere names the other cohort the person is a trainee in, or "".
	TraineeElsewhere(ctx context.Context, userID, cohortID string) (string, error)
}

// Step is what importing does with one row.
type Step struct {
	Row
	TrustID string
	// UserID is the person's account; "" for one the import makes.
	UserID string
	// NewAccount: an account is made, and the person is sent an invitation.
	NewAccount bool
	// Join: the person is added to the cohort in the row's role (a person's role in a
	// cohort is their account's).
	Join bool
	// Supervise: the trainee gets Row.Supervisor as their supervisor.
	Supervise bool
	// Kept lists what stays as it is although the file differs (an account's own name or
	// trust is not changed by an import), for the preview to say so.
	Kept []string
}

// Unchanged says the row changes nothing.
func (s Step) Unchanged() bool { return !s.NewAccount && !s.Join && !s.Supervise }

// Plan is what importing a file into a cohort would do.
type Plan struct {
	Steps []Step
}

// Counts sums a plan up for the preview.
func (p Plan) Counts() (newAccounts, joins, supervisors, unchanged int) {
	for _, s := range p.Steps {
		switch {
		case s.Unchanged():
			unchanged++
		default:
			if s.NewAccount {
				newAccounts++
			}
			if s.Join {
				joins++
			}
			if s.Supervise {
				supervisors++
			}
		}
	}
	return
}

// Words says what importing does with the row, as the preview shows it.
func (s Step) Words() string {
	var parts []string
	switch {
	case s.NewAccount:
		parts = append(parts, "new account, sent an invitation; added to the cohort")
	case s.Join:
		parts = append(parts, "has an account; added to the cohort")
	default:
		parts = append(parts, "already in the cohort")
	}
	if s.Supervise {
		parts = append(parts, "supervised by "+s.Supervisor)
	}
	parts = append(parts, s.Kept...)
	if s.Unchanged() {
		parts = append(parts, "nothing changes")
	}
	return strings.Join(parts, "; ")
}

// Summary counts what importing does, in a sentence.
func (p Plan) Summary() string { return summary(p.Counts()) }

func summary(created, joined, supervised, unchanged int) string {
	accounts := "accounts"
	if created == 1 {
		accounts = "account"
	}
	return fmt.Sprintf("%d new %s, %d added to the cohort, %d given a supervisor, %d unchanged.", created, accounts, joined, supervised, unchanged)
}

// Changes reports whether the plan changes anything.
func (p Plan) Changes() bool {
	for _, s := range p.Steps {
		if !s.Unchanged() {
			return true
		}
	}
	return false
}

// MakePlan works out what importing rows into the cohort would do, or refuses the whole
// file with every problem found against what is stored (Problems).
func MakePlan(ctx context.Context, w World, cohortID string, rows []Row) (Plan, error) {
	members, err := w.Members(ctx, cohortID)
	if err != nil {
		return Plan{}, err
	}
	byUser := map[string]Member{}
	for _, m := range members {
		byUser[m.UserID] = m
	}
	var problems Problems
	var plan Plan
	supervisorRole := map[string]accounts.Role{} // email → role, from the file and the cohort
	emailOf := map[string]string{}               // user id → email
	for _, m := range members {
		if m.Email != "" {
			supervisorRole[m.Email] = m.Role
			emailOf[m.UserID] = m.Email
		}
	}
	for _, r := range rows {
		supervisorRole[r.Email] = r.Role
	}
	for _, r := range rows {
		st := Step{Row: r}
		lp := func(format string, args ...any) {
			problems = append(problems, fmt.Sprintf("line %d: ", r.Line)+fmt.Sprintf(format, args...))
		}
		if r.Trust != "" {
			id, ok, err := w.TrustByName(ctx, r.Trust)
			if err != nil {
				return Plan{}, err
			}
			if !ok {
				lp("no trust is called %q (add it on People and cohorts first, or leave the trust empty)", r.Trust)
			}
			st.TrustID = id
		}
		u, found, err := w.UserByEmail(ctx, r.Email)
		if err != nil {
			return Plan{}, err
		}
		switch {
		case !found:
			st.NewAccount, st.Join = true, true
		case u.Disabled:
			lp("the account of %s is disabled: enable it first, or take the line out", r.Email)
		case u.Role == accounts.RoleAdmin:
			lp("%s is an administrator, who is not a member of a cohort", r.Email)
		case u.Role != r.Role:
			lp("%s has a %s's account, so they can be a %s in the cohort, not a %s: change the role in the file, or edit their account first",
				r.Email, u.Role, u.Role, r.Role)
		default:
			st.UserID = u.ID
			if r.Role == accounts.RoleTrainee {
				other, err := w.TraineeElsewhere(ctx, u.ID, cohortID)
				if err != nil {
					return Plan{}, err
				}
				if other != "" {
					lp("%s is a trainee in %s: a trainee is in one cohort at a time, so remove them from it first", r.Email, other)
				}
			}
			if u.Name != r.Name {
				st.Kept = append(st.Kept, fmt.Sprintf("their name stays %q", u.Name))
			}
			if r.Trust != "" && st.TrustID != u.TrustID {
				st.Kept = append(st.Kept, "their trust stays as it is")
			}
			if _, in := byUser[u.ID]; !in {
				st.Join = true
			}
		}
		if r.Supervisor != "" {
			role, ok := supervisorRole[r.Supervisor]
			switch {
			case !ok:
				lp("the supervisor %s is not in the file or the cohort", r.Supervisor)
			case role != accounts.RoleSupervisor:
				lp("%s is a %s here, not a supervisor", r.Supervisor, role)
			default:
				st.Supervise = !alreadySupervises(members, emailOf, r.Supervisor, st.UserID)
			}
		}
		plan.Steps = append(plan.Steps, st)
	}
	if len(problems) > 0 {
		return Plan{}, problems
	}
	return plan, nil
}

// alreadySupervises reports whether the supervisor with that email already supervises the
// trainee with that account (never, for an account not made yet).
func alreadySupervises(members []Member, emailOf map[string]string, supervisor, traineeID string) bool {
	if traineeID == "" {
		return false
	}
	for _, m := range members {
		if emailOf[m.UserID] == supervisor && slices.Contains(m.Supervises, traineeID) {
			return true
		}
	}
	return false
}

// Write writes people as the CSV file that Parse reads, header first.
func Write(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns); err != nil {
		return err
	}
	for _, r := range rows {
		peer := "no"
		if r.PeerWorker {
			peer = "yes"
		}
		if err := cw.Write([]string{r.Email, cell(r.Name), string(r.Role), cell(r.Trust), peer, r.Supervisor}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell keeps a value from being taken for a formula by a spreadsheet that opens the file: one
// starting with =, +, -, @ or a tab gets a leading apostrophe, which Parse takes off again.
func cell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// uncell undoes cell.
func uncell(v string) string {
	if len(v) > 1 && v[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(v[1])) {
		return v[1:]
	}
	return v
}
