package roster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/failure"
)

// Stores are what importing reads and writes: accounts, cohorts and trusts, the audit log,
// and how an invitation reaches a new person (emailed, or a link for the administrator).
type Stores struct {
	Accounts *accounts.Service
	Courses  *courses.Store
	Audit    *audit.Log
	// Invite sends the new account its invitation once everything is stored, and says how.
	Invite func(ctx context.Context, u accounts.User) (Invitation, error)
}

// Invitation is how a new person got theirs: emailed, or a link to pass on.
type Invitation struct {
	Email   string `json:"email"`
	Name    string `json:"name"`
	Emailed bool   `json:"emailed"`
	Link    string `json:"link,omitempty"`
}

// Result is what an import did.
type Result struct {
	Created     int          `json:"created"`
	Joined      int          `json:"joined"`
	Supervised  int          `json:"supervised"`
	Unchanged   int          `json:"unchanged"`
	Invitations []Invitation `json:"invitations"`
}

// Summary counts what the import did, in a sentence.
func (r Result) Summary() string { return summary(r.Created, r.Joined, r.Supervised, r.Unchanged) }

// World is the stores as a plan reads them.
func (st Stores) World() World { return world{st} }

type world struct{ st Stores }

func (w world) UserByEmail(ctx context.Context, email string) (accounts.User, bool, error) {
	u, err := w.st.Accounts.Users.ByEmail(ctx, email)
	if errors.Is(err, failure.ErrNotFound) {
		return accounts.User{}, false, nil
	}
	return u, err == nil, err
}

func (w world) TrustByName(ctx context.Context, name string) (string, bool, error) {
	t, err := w.st.Courses.TrustByName(ctx, name)
	if errors.Is(err, failure.ErrNotFound) {
		return "", false, nil
	}
	return t.ID, err == nil, err
}

func (w world) Members(ctx context.Context, cohortID string) ([]Member, error) {
	ms, err := w.st.Courses.Members(ctx, cohortID)
	if err != nil {
		return nil, err
	}
	out := make([]Member, 0, len(ms))
	for _, m := range ms {
		u, err := w.st.Accounts.Users.ByID(ctx, m.UserID)
		if err != nil && !errors.Is(err, failure.ErrNotFound) {
			return nil, err
		}
		out = append(out, Member{UserID: m.UserID, Email: u.Email, Role: m.Role, Supervises: m.Supervises})
	}
	return out, nil
}

func (w world) TraineeElsewhere(ctx context.Context, userID, cohortID string) (string, error) {
	ms, err := w.st.Courses.MembershipsOf(ctx, userID)
	if err != nil {
		return "", err
	}
	for _, m := range ms {
		if m.Role == accounts.RoleTrainee && m.CohortID != cohortID {
			c, err := w.st.Courses.Cohort(ctx, m.CohortID)
			if err != nil {
				return "another cohort", nil
			}
			return c.Name, nil
		}
	}
	return "", nil
}

// Actor is who imports, for the audit log: an account, or the command line.
type Actor struct{ ID, Name string }

// Apply carries the plan out: the new accounts, then the memberships, then each
// supervisor's trainees, then the invitations, once all of that is stored. Every step is
// one that a second run finds done, so an import that stops part way is finished by
// importing the file again.
func Apply(ctx context.Context, st Stores, cohort courses.Cohort, plan Plan, by Actor) (Result, error) {
	var res Result
	record := func(e audit.Entry) {
		if st.Audit == nil {
			return
		}
		e.ActorID, e.ActorName = by.ID, by.Name
		_, _ = st.Audit.Record(ctx, e)
	}
	ids := map[string]string{} // email → user id
	var created []accounts.User
	for i, s := range plan.Steps {
		if !s.NewAccount {
			ids[s.Email] = s.UserID
			continue
		}
		u, err := st.Accounts.Users.Create(ctx, accounts.NewUser{Email: s.Email, Name: s.Name, Role: s.Role, TrustID: s.TrustID, PeerWorker: s.PeerWorker})
		var conflict *failure.ConflictError
		if errors.As(err, &conflict) {
			// Made meanwhile (another import of the same file): join that account.
			if u, err = st.Accounts.Users.ByEmail(ctx, s.Email); err == nil && u.Role == s.Role {
				plan.Steps[i].NewAccount, plan.Steps[i].UserID = false, u.ID
				ids[s.Email] = u.ID
				continue
			}
		}
		if err != nil {
			return res, fmt.Errorf("line %d: %w", s.Line, err)
		}
		ids[s.Email], plan.Steps[i].UserID = u.ID, u.ID
		created = append(created, u)
		res.Created++
		record(audit.Entry{Action: audit.PersonAdded, SubjectID: u.ID, SubjectName: u.Name, Changes: audit.Diff(accounts.FieldNames, nil, u.Fields())})
	}
	for _, s := range plan.Steps {
		if !s.Join {
			continue
		}
		if _, err := st.Courses.Enrol(ctx, cohort.ID, ids[s.Email], s.Role); err != nil {
			return res, fmt.Errorf("line %d: %w", s.Line, err)
		}
		res.Joined++
		record(audit.Entry{Action: audit.MemberAdded, SubjectID: cohort.ID, SubjectName: cohort.Name,
			Changes: []audit.Change{{Field: "member", After: s.Name + " (" + string(s.Role) + ")"}}})
	}
	// Each supervisor's trainees: those they had, and those the file gives them.
	give := map[string][]string{} // supervisor email → trainee ids
	var order []string
	for _, s := range plan.Steps {
		if !s.Supervise {
			continue
		}
		if _, ok := give[s.Supervisor]; !ok {
			order = append(order, s.Supervisor)
		}
		give[s.Supervisor] = append(give[s.Supervisor], ids[s.Email])
	}
	for _, sup := range order {
		supID := ids[sup]
		if supID == "" {
			u, err := st.Accounts.Users.ByEmail(ctx, sup)
			if err != nil {
				return res, fmt.Errorf("supervisor %s: %w", sup, err)
			}
			supID = u.ID
		}
		m, err := st.Courses.Member(ctx, cohort.ID, supID)
		if err != nil {
			return res, fmt.Errorf("supervisor %s: %w", sup, err)
		}
		trainees := slices.Clone(m.Supervises)
		for _, id := range give[sup] {
			if !slices.Contains(trainees, id) {
				trainees = append(trainees, id)
			}
		}
		before, after, err := st.Courses.ChangeMember(ctx, cohort.ID, supID, courses.MemberChange{Role: m.Role, Supervises: trainees})
		if err != nil {
			return res, fmt.Errorf("supervisor %s: %w", sup, err)
		}
		res.Supervised += len(after.Supervises) - len(before.Supervises)
		record(audit.Entry{Action: audit.MemberChanged, SubjectID: cohort.ID, SubjectName: cohort.Name,
			Changes: []audit.Change{{Field: "trainees of " + sup, Before: fmt.Sprint(len(before.Supervises)), After: fmt.Sprint(len(after.Supervises))}}})
	}
	for _, s := range plan.Steps {
		if s.Unchanged() {
			res.Unchanged++
		}
	}
	res.Invitations = []Invitation{}
	for _, u := range created {
		if st.Invite == nil {
			break
		}
		inv, err := st.Invite(ctx, u)
		if err != nil {
			return res, fmt.Errorf("invite %s: %w", u.Email, err)
		}
		res.Invitations = append(res.Invitations, inv)
	}
	if res.Created+res.Joined+res.Supervised > 0 {
		record(audit.Entry{Action: audit.PeopleImported, SubjectID: cohort.ID, SubjectName: cohort.Name,
			Changes: []audit.Change{{Field: "people", After: strings.TrimSpace(fmt.Sprintf("%d new, %d added, %d supervised, %d unchanged",
				res.Created, res.Joined, res.Supervised, res.Unchanged))}}})
	}
	return res, nil
}

// Export lists the cohort's people as rows of the file an import reads: each member with
// their account's details, and for a trainee the first supervisor who supervises them.
func Export(ctx context.Context, st Stores, cohortID string) ([]Row, error) {
	ms, err := st.Courses.Members(ctx, cohortID)
	if err != nil {
		return nil, err
	}
	trusts, err := st.Courses.Trusts(ctx)
	if err != nil {
		return nil, err
	}
	trustName := map[string]string{}
	for _, t := range trusts {
		trustName[t.ID] = t.Name
	}
	users := map[string]accounts.User{}
	for _, m := range ms {
		u, err := st.Accounts.Users.ByID(ctx, m.UserID)
		if errors.Is(err, failure.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		users[m.UserID] = u
	}
	supervisorOf := map[string]string{}
	for _, m := range ms {
		for _, t := range m.Supervises {
			if _, ok := supervisorOf[t]; !ok && users[m.UserID].Email != "" {
				supervisorOf[t] = users[m.UserID].Email
			}
		}
	}
	var rows []Row
	for _, m := range ms {
		u, ok := users[m.UserID]
		if !ok {
			continue
		}
		rows = append(rows, Row{Email: u.Email, Name: u.Name, Role: m.Role, Trust: trustName[u.TrustID], PeerWorker: u.PeerWorker, Supervisor: supervisorOf[u.ID]})
	}
	return rows, nil
}
