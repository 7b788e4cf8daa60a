package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"polyphony/assessment"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// cliActor is who the management commands act as in the assessment store: an administrator.
var cliActor = assessment.Actor{ID: "polyphony-cli", Role: accounts.RoleAdmin}

// findBank finds a question bank by id or by name.
func findBank(ctx context.Context, s *assessment.Store, ref string) (assessment.Bank, error) {
	if ref == "" {
		return assessment.Bank{}, failure.Invalid("bank", "say which bank, by id or name (--bank)")
	}
	bs, err := s.Banks(ctx, cliActor)
	if err != nil {
		return assessment.Bank{}, err
	}
	for _, b := range bs {
		if b.ID == ref {
			return b, nil
		}
	}
	for _, b := range bs {
		if b.Name == ref {
			return b, nil
		}
	}
	return assessment.Bank{}, fmt.Errorf("there is no question bank with the id or name %q (see polyphony banks list)", ref)
}

func cmdBanksAdd(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
	return func(ctx context.Context, env *cmdEnv) error {
		if fs.NArg() != 1 {
			fmt.Fprintln(env.stderr, "usage: polyphony banks add NAME")
			return errUsage
		}
		return withApp(ctx, env, func(a *app) error {
			b, err := a.assessments.CreateBank(ctx, cliActor, fs.Arg(0))
			if err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "Added question bank %s (id %s)\n", b.Name, b.ID)
			return nil
		})
	}
}

func cmdBanksList(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
	return func(ctx context.Context, env *cmdEnv) error {
		return withApp(ctx, env, func(a *app) error {
			bs, err := a.assessments.Banks(ctx, cliActor)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tQUESTIONS")
			for _, b := range bs {
				qs, err := a.assessments.Questions(ctx, cliActor, b.ID)
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\n", b.ID, b.Name, len(qs))
			}
			return tw.Flush()
		})
	}
}

func cmdQuestionsImport(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
	bank := fs.String("bank", "", "the bank's id or name (required)")
	format := fs.String("format", "", "aiken, gift or md (required)")
	skip := fs.Bool("skip-invalid", false, "import the valid questions of a file that has errors")
	return func(ctx context.Context, env *cmdEnv) error {
		if fs.NArg() != 1 {
			fmt.Fprintln(env.stderr, "usage: polyphony questions import --bank B --format aiken|gift|md [--skip-invalid] FILE")
			return errUsage
		}
		f, err := assessment.ParseFormat(*format)
		if err != nil {
			return fmt.Errorf("--format: %q is not aiken, gift or md", *format)
		}
		file := fs.Arg(0)
		src, err := readLimited(file, env.stdin, assessment.MaxImportBytes)
		if err != nil {
			return err
		}
		return withApp(ctx, env, func(a *app) error {
			b, err := findBank(ctx, a.assessments, *bank)
			if err != nil {
				return err
			}
			res, err := a.assessments.Import(ctx, cliActor, b.ID, f, src, assessment.ImportOptions{SkipInvalid: *skip})
			if err != nil {
				return err
			}
			for _, e := range res.Errors {
				fmt.Fprintf(env.stderr, "%s:%d: %s\n", file, e.Line, e.Reason)
			}
			if res.Imported == 0 && len(res.Errors) > 0 {
				return fmt.Errorf("the file was refused: %d errors, nothing was imported (--skip-invalid imports the valid questions)", len(res.Errors))
			}
			fmt.Fprintf(env.stdout, "imported %d questions\n", res.Imported)
			return nil
		})
	}
}

// readLimited reads a file ("-" for standard input) of at most max bytes.
func readLimited(name string, stdin io.Reader, max int64) ([]byte, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	src, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(src)) > max {
		return nil, fmt.Errorf("%s is larger than %d MiB", name, max>>20)
	}
	return src, nil
}

func cmdQuestionsExport(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
	bank := fs.String("bank", "", "the bank's id or name (required)")
	format := fs.String("format", "", "aiken, gift or md (required)")
	return func(ctx context.Context, env *cmdEnv) error {
		if fs.NArg() > 1 {
			fmt.Fprintln(env.stderr, "usage: polyphony questions export --bank B --format aiken|gift|md [FILE|-]")
			return errUsage
		}
		f, err := assessment.ParseFormat(*format)
		if err != nil {
			return fmt.Errorf("--format: %q is not aiken, gift or md", *format)
		}
		return withApp(ctx, env, func(a *app) error {
			b, err := findBank(ctx, a.assessments, *bank)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := a.assessments.Export(ctx, cliActor, b.ID, f, &buf); err != nil {
				return err
			}
			if out := fs.Arg(0); out != "" && out != "-" {
				return os.WriteFile(out, buf.Bytes(), 0o644)
			}
			_, err = env.stdout.Write(buf.Bytes())
			return err
		})
	}
}
