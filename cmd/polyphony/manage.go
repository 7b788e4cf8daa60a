package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"polyphony/assessment/marking"
	"polyphony/content"
	"polyphony/courses"
	"polyphony/courses/award"
	"polyphony/courses/progress"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/demo"
	"polyphony/internal/failure"
	"polyphony/internal/roster"
	"polyphony/server"
)

// withApp opens the stores for a management command, sharing a running server's database.
// That makes the command a second writer beside the server. The embedded engine does not
// make an update atomic, so every record the server changes too is changed either by
// inserting its next revision or version under a unique key (curriculum pages, accounts: see
// accounts.Users), or under the document's lock, which holds across processes on that engine
// (lists such as a cohort's members: see database.DB.Serialize).
func withApp(ctx context.Context, env *cmdEnv, body func(a *app) error) error {
	a, err := openApp(ctx, env.cfg, env.cfg.logger(env.stderr).With("component", "cli"), true)
	if err != nil {
		return err
	}
	defer a.close()
	return body(a)
}

// stringList is a flag that may be given more than once.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func cmdUserAdd(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
	email := fs.String("email", "", "email address (required)")
	name := fs.String("name", "", "full name (required)")
	role := fs.String("role", "", "trainee, facilitator, supervisor, assessor or admin (required)")
	cohort := fs.String("cohort", "", "cohort name or id to enrol in")
	trust := fs.String("trust", "", "trust name or id")
	peer := fs.Bool("peer-worker", false, "a trainee who is a peer support worker")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (otherwise the person is invited to choose one, and the link is printed)")
	return func(ctx context.Context, env *cmdEnv) error {
		r, err := accounts.ParseRole(*role)
		if err != nil {
			return err
		}
		if *cohort != "" && r == accounts.RoleAdmin {
			return fmt.Errorf("--cohort: an administrator runs every cohort and is not a member of one")
		}
		var password string
		if *fromStdin {
			line, err := bufio.NewReader(env.stdin).ReadString('\n')
			if err != nil && line == "" {
				return fmt.Errorf("--password-stdin: nothing on standard input")
			}
			password = strings.TrimRight(line, "\r\n")
			if err := accounts.CheckPassword(password, *email); err != nil {
				return err
			}
		}
		return withApp(ctx, env, func(a *app) error {
			var trustID string
			if *trust != "" {
				t, err := findTrust(ctx, a.courses, *trust)
				if err != nil {
					return err
				}
				trustID = t.ID
			}
			var co courses.Cohort
			if *cohort != "" {
				if co, err = findCohort(ctx, a.courses, *cohort); err != nil {
					return err
				}
			}
			u, err := a.accounts.Users.Create(ctx, accounts.NewUser{Email: *email, Name: *name, Role: r, TrustID: trustID, PeerWorker: *peer, Password: password})
			if err != nil {
				return err
			}
			if co.ID != "" {
				if _, err := a.courses.Enrol(ctx, co.ID, u.ID, u.Role); err != nil {
					return err
				}
			}
			a.record(ctx, env, audit.Entry{Action: audit.PersonAdded, SubjectID: u.ID, SubjectName: u.Name,
				Changes: audit.Diff(accounts.FieldNames, nil, u.Fields())})
			if co.ID != "" {
				a.record(ctx, env, audit.Entry{Action: audit.MemberAdded, SubjectID: co.ID, SubjectName: co.Name,
					Changes: []audit.Change{{Field: "member", After: u.Name + " (" + string(u.Role) + ")"}}})
			}
			fmt.Fprintf(env.stdout, "Added %s <%s> as %s (id %s)\n", u.Name, u.Email, u.Role, u.ID)
			if co.ID != "" {
				fmt.Fprintf(env.stdout, "Enrolled in %s\n", co.Name)
			}
			if password == "" {
				return printInvitation(ctx, env, a, u)
			}
			return nil
		})
	}
}

// cmdUserInvite makes a new invitation link for an account, as the list of people does.
func cmdUserInvite(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
	email := fs.String("email", "", "email address of the account (required)")
	return func(ctx context.Context, env *cmdEnv) error {
		return withApp(ctx, env, func(a *app) error {
			u, err := findUser(ctx, a, *email)
			if err != nil {
				return err
			}
			return printInvitation(ctx, env, a, u)
		})
	}
}

// invite makes an invitation for the account, as the pages do: it is logged, and queued
// for the server's mail worker to email; where no email is set up, its link is returned to
// pass on.
func (a *app) invite(ctx context.Context, env *cmdEnv, u accounts.User) (roster.Invitation, error) {
	secret, _, err := a.accounts.Invite(ctx, u.ID, "")
	if err != nil {
		return roster.Invitation{}, err
	}
	a.record(ctx, env, audit.Entry{Action: audit.PersonInvited, SubjectID: u.ID, SubjectName: u.Name})
	link := server.PasswordLinkURL(a.cfg.PublicURL, secret)
	mails := a.mail.Accounts()
	if err := mails.Invitation(ctx, u, link, time.Now().Add(accounts.InvitationLasts), "your programme administrator"); err != nil {
		return roster.Invitation{}, err
	}
	inv := roster.Invitation{Email: u.Email, Name: u.Name, Emailed: mails.Delivers()}
	if !inv.Emailed {
		inv.Link = link
	}
	return inv, nil
}

// printInvitation invites the person and says how: emailed, or the link to pass on, which
// works once, for 7 days.
func printInvitation(ctx context.Context, env *cmdEnv, a *app, u accounts.User) error {
	inv, err := a.invite(ctx, env, u)
	if err != nil {
		return err
	}
	printInvited(env, inv)
	return nil
}

func printInvited(env *cmdEnv, inv roster.Invitation) {
	if inv.Emailed {
		fmt.Fprintf(env.stdout, "Invitation emailed to %s\n", inv.Email)
		return
	}
	fmt.Fprintf(env.stdout, "Invitation link for %s (works once, until %s; pass it on privately):\n%s\n",
		inv.Email, time.Now().Add(accounts.InvitationLasts).Format("2 January 2006 15:04"), inv.Link)
}

func findUser(ctx context.Context, a *app, email string) (accounts.User, error) {
	u, err := a.accounts.Users.ByEmail(ctx, email)
	if errors.Is(err, failure.ErrNotFound) {
		return accounts.User{}, failure.Invalidf("email", "no account has the email %q (see `polyphony user list`)", email)
	}
	return u, err
}

func findCohort(ctx context.Context, s *courses.Store, ref string) (courses.Cohort, error) {
	c, err := s.CohortByName(ctx, ref)
	if errors.Is(err, failure.ErrNotFound) {
		c, err = s.Cohort(ctx, ref)
	}
	if errors.Is(err, failure.ErrNotFound) {
		return courses.Cohort{}, failure.Invalidf("cohort", "no cohort is named or has the id %q (see `polyphony cohort list`)", ref)
	}
	return c, err
}

func findTrust(ctx context.Context, s *courses.Store, ref string) (courses.Trust, error) {
	t, err := s.TrustByName(ctx, ref)
	if errors.Is(err, failure.ErrNotFound) {
		t, err = s.Trust(ctx, ref)
	}
	if errors.Is(err, failure.ErrNotFound) {
		return courses.Trust{}, failure.Invalidf("trust", "no trust is named or has the id %q", ref)
	}
	return t, err
}

func cmdUserList(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
	return func(ctx context.Context, env *cmdEnv) error {
		return withApp(ctx, env, func(a *app) error {
			users, err := a.accounts.Users.List(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tEMAIL\tROLE\tSTATE")
			for _, u := range users {
				state := "active"
				if u.Disabled {
					state = "disabled"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Name, u.Email, u.Role, state)
			}
			return tw.Flush()
		})
	}
}

func cmdUserDisable(disable bool) command {
	return func(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
		email := fs.String("email", "", "email address of the account (required)")
		return func(ctx context.Context, env *cmdEnv) error {
			return withApp(ctx, env, func(a *app) error {
				u, err := findUser(ctx, a, *email)
				if err != nil {
					return err
				}
				if _, err := a.accounts.SetDisabled(ctx, u.ID, disable); err != nil {
					return err
				}
				action := audit.PersonEnabled
				if disable {
					action = audit.PersonDisabled
				}
				a.record(ctx, env, audit.Entry{Action: action, SubjectID: u.ID, SubjectName: u.Name,
					Changes: []audit.Change{{Field: "disabled", Before: strconv.FormatBool(!disable), After: strconv.FormatBool(disable)}}})
				word := "Enabled"
				if disable {
					word = "Disabled (every session ended)"
				}
				fmt.Fprintf(env.stdout, "%s: %s <%s>\n", word, u.Name, u.Email)
				return nil
			})
		}
	}
}

func cmdCohortAdd(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
	name := fs.String("name", "", "cohort name (required)")
	start := fs.String("start", "", "first day, YYYY-MM-DD (required)")
	var trusts stringList
	fs.Var(&trusts, "trust", "trust name or id taking part (repeat for several)")
	return func(ctx context.Context, env *cmdEnv) error {
		day, err := time.Parse("2006-01-02", *start)
		if err != nil {
			return failure.Invalidf("start", "%q is not a date in the form YYYY-MM-DD", *start)
		}
		return withApp(ctx, env, func(a *app) error {
			var ids []string
			for _, t := range trusts {
				tr, err := findTrust(ctx, a.courses, t)
				if err != nil {
					return err
				}
				ids = append(ids, tr.ID)
			}
			c, p, err := a.courses.CreateCohortFromTemplate(ctx, courses.NewCohort{Name: *name, StartDate: day, TrustIDs: ids}, "polyphony cohort add")
			if err != nil {
				return err
			}
			a.record(ctx, env, audit.Entry{Action: audit.CohortAdded, SubjectID: c.ID, SubjectName: c.Name,
				Changes: []audit.Change{{Field: "start", After: c.StartDate.Format("2006-01-02")}}})
			fmt.Fprintf(env.stdout, "Added cohort %s, starting %s (id %s), with the standard nine-month programme:\n", c.Name, c.StartDate.Format("2 January 2006"), c.ID)
			for _, m := range p.Modules {
				fmt.Fprintf(env.stdout, "  module %d: %s to %s\n", m.Number, m.Start.Format("Mon 2 Jan 2006"), m.End.Format("Mon 2 Jan 2006"))
			}
			return nil
		})
	}
}

func cmdCohortList(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
	return func(ctx context.Context, env *cmdEnv) error {
		return withApp(ctx, env, func(a *app) error {
			cs, err := a.courses.Cohorts(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSTARTS")
			for _, c := range cs {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", c.ID, c.Name, c.StartDate.Format("2006-01-02"))
			}
			return tw.Flush()
		})
	}
}

func cmdTrustAdd(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
	name := fs.String("name", "", "trust name (required)")
	return func(ctx context.Context, env *cmdEnv) error {
		return withApp(ctx, env, func(a *app) error {
			t, err := a.courses.CreateTrust(ctx, *name)
			if err != nil {
				return err
			}
			a.record(ctx, env, audit.Entry{Action: audit.TrustAdded, SubjectID: t.ID, SubjectName: t.Name})
			fmt.Fprintf(env.stdout, "Added trust %s (id %s)\n", t.Name, t.ID)
			return nil
		})
	}
}

func cmdTokenAdd(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
	email := fs.String("email", "", "account the token acts as (required)")
	name := fs.String("name", "", "what the token is for (required)")
	days := fs.Int("days", 90, "days until it expires (0: until revoked)")
	return func(ctx context.Context, env *cmdEnv) error {
		if *days < 0 {
			return failure.Invalid("days", "must not be negative")
		}
		return withApp(ctx, env, func(a *app) error {
			u, err := findUser(ctx, a, *email)
			if err != nil {
				return err
			}
			secret, _, err := a.accounts.Tokens.Create(ctx, u.ID, *name, time.Duration(*days)*24*time.Hour)
			if err != nil {
				return err
			}
			fmt.Fprintln(env.stdout, secret)
			return nil
		})
	}
}

func cmdDemo(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
	return func(ctx context.Context, env *cmdEnv) error {
		return withApp(ctx, env, func(a *app) error {
			logins, err := demo.Seed(ctx, a.accounts.Users, a.courses, time.Now())
			if err != nil {
				return err
			}
			if err := demo.SeedProgress(ctx, a.accounts.Users, a.courses, a.journals, time.Now()); err != nil {
				return err
			}
			st, err := demoStores(ctx, a)
			if err != nil {
				return err
			}
			finished, err := demo.SeedFinished(ctx, st, time.Now())
			if err != nil {
				return err
			}
			logins = append(logins, finished...)
			fmt.Fprintf(env.stdout, "Demo trust %q, cohort %q and %q are ready. Sign in as any of these (passwords are new each time this runs):\n", demo.TrustName, demo.CohortName, demo.FinishedCohortName)
			tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "  ROLE\tEMAIL\tPASSWORD\tNAME")
			for _, l := range logins {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", l.Role, l.Email, l.Password, l.Name)
			}
			return tw.Flush()
		})
	}
}

// demoStores opens what the finished demo cohort is written through as serve opens it: the
// marking of assessed work, progress reading its released results, and the exam boards.
func demoStores(ctx context.Context, a *app) (demo.Stores, error) {
	ms, err := marking.NewStore(ctx, a.db, marking.Options{Supervises: server.MarkingSupervises(a.courses)})
	if err != nil {
		return demo.Stores{}, err
	}
	if err := ms.EnsureExamples(ctx); err != nil {
		return demo.Stores{}, err
	}
	rules, err := progress.New(ctx, a.db, a.courses, a.journals, a.assessments, server.ProgressPieces(ms))
	if err != nil {
		return demo.Stores{}, err
	}
	boards, err := award.NewBoards(ctx, a.db, a.awards, rules, award.BoardOptions{Names: server.AccountNames(a.accounts)})
	if err != nil {
		return demo.Stores{}, err
	}
	return demo.Stores{Users: a.accounts.Users, Courses: a.courses, Journals: a.journals, Tests: a.assessments, Marking: ms, Boards: boards}, nil
}

func cmdContentImport(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
	return func(ctx context.Context, env *cmdEnv) error {
		if fs.NArg() != 1 {
			fmt.Fprintln(env.stderr, "usage: polyphony content import DIR")
			return errUsage
		}
		dir := fs.Arg(0)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("%s is not a folder", dir)
		}
		pack, err := content.LoadPack(os.DirFS(dir))
		var perr *content.PackError
		if errors.As(err, &perr) {
			for _, p := range perr.Problems {
				fmt.Fprintf(env.stderr, "%s:%d: %s\n", filepath.Join(dir, p.File), p.Line, p.Reason)
			}
			return fmt.Errorf("the content pack was refused: %d problems, nothing was imported", len(perr.Problems))
		}
		if err != nil {
			return err
		}
		return withApp(ctx, env, func(a *app) error {
			res, err := a.pages.Import(ctx, pack, "polyphony content import")
			if err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "Imported %d pages: %d new, %d changed, %d unchanged\n", len(pack.Pages), res.Created, res.Updated, res.Unchanged)
			return nil
		})
	}
}

// record adds a change the command line made to the audit log, where the administrators'
// own changes are: the change is made already, so a log that cannot be written is a warning.
func (a *app) record(ctx context.Context, env *cmdEnv, e audit.Entry) {
	if _, err := a.audit.Record(ctx, e); err != nil {
		fmt.Fprintf(env.stderr, "warning: the change was made but not written to the audit log: %v\n", err)
	}
}
