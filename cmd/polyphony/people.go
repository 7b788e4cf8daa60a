package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"polyphony/internal/accounts"
	"polyphony/internal/roster"
)

// cmdPeopleImport imports a cohort's people from a CSV file, as the cohort's import page does.
func cmdPeopleImport(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
	cohort := fs.String("cohort", "", "cohort name or id (required)")
	preview := fs.Bool("preview", false, "say what the import would do, and store nothing")
	return func(ctx context.Context, env *cmdEnv) error {
		if fs.NArg() != 1 {
			fmt.Fprintln(env.stderr, "polyphony people import: give the CSV file, as in: polyphony people import --cohort C FILE")
			return errUsage
		}
		text, err := readFileArg(env, fs.Arg(0))
		if err != nil {
			return err
		}
		return withApp(ctx, env, func(a *app) error {
			co, err := findCohort(ctx, a.courses, *cohort)
			if err != nil {
				return err
			}
			st := a.rosterStores(env)
			rows, err := roster.Parse(strings.NewReader(text))
			if err == nil {
				var plan roster.Plan
				if plan, err = roster.MakePlan(ctx, st.World(), co.ID, rows); err == nil {
					return runImport(ctx, env, st, co.ID, co.Name, plan, *preview, a)
				}
			}
			var ps roster.Problems
			if errors.As(err, &ps) {
				fmt.Fprintf(env.stderr, "The file was not imported; nothing was stored. Its problems:\n  %s\n", strings.Join(ps, "\n  "))
				return fmt.Errorf("%d %s in the file", len(ps), map[bool]string{true: "problem", false: "problems"}[len(ps) == 1])
			}
			return err
		})
	}
}

func runImport(ctx context.Context, env *cmdEnv, st roster.Stores, cohortID, cohortName string, plan roster.Plan, preview bool, a *app) error {
	for _, s := range plan.Steps {
		fmt.Fprintf(env.stdout, "line %d: %s (%s): %s\n", s.Line, s.Email, s.Role, s.Words())
	}
	if preview {
		fmt.Fprintln(env.stdout, "Nothing was stored (--preview).")
		return nil
	}
	co, err := a.courses.Cohort(ctx, cohortID)
	if err != nil {
		return err
	}
	res, err := roster.Apply(ctx, st, co, plan, roster.Actor{})
	if err != nil {
		return fmt.Errorf("import into %s stopped (importing the file again finishes it): %w", cohortName, err)
	}
	fmt.Fprintf(env.stdout, "Imported into %s: %s\n", cohortName, res.Summary())
	for _, inv := range res.Invitations {
		printInvited(env, inv)
	}
	return nil
}

// cmdPeopleExport writes a cohort's people as the CSV file an import reads.
func cmdPeopleExport(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
	cohort := fs.String("cohort", "", "cohort name or id (required)")
	return func(ctx context.Context, env *cmdEnv) error {
		return withApp(ctx, env, func(a *app) error {
			co, err := findCohort(ctx, a.courses, *cohort)
			if err != nil {
				return err
			}
			rows, err := roster.Export(ctx, a.rosterStores(env), co.ID)
			if err != nil {
				return err
			}
			out := env.stdout
			if fs.NArg() == 1 && fs.Arg(0) != "-" {
				f, err := os.Create(fs.Arg(0))
				if err != nil {
					return err
				}
				defer f.Close()
				out = f
			}
			return roster.Write(out, rows)
		})
	}
}

// readFileArg reads a file named on the command line, or standard input for "-".
func readFileArg(env *cmdEnv, name string) (string, error) {
	var r io.Reader = env.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	return string(b), err
}

// rosterStores are the stores an import works on from the command line, inviting as
// `polyphony user invite` does.
func (a *app) rosterStores(env *cmdEnv) roster.Stores {
	return roster.Stores{Accounts: a.accounts, Courses: a.courses, Audit: a.audit,
		Invite: func(ctx context.Context, u accounts.User) (roster.Invitation, error) { return a.invite(ctx, env, u) }}
}
