// Command polyphony runs the Polyphony platform and manages its accounts and cohorts from the
// command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `polyphony: training and supervision for the Foundation Diploma in Peer-supported Open Dialogue

Usage:
  polyphony serve [settings]                 start the platform (prints the address to open)
  polyphony config [settings]                print the effective settings, secrets hidden
  polyphony demo [settings]                  add a demo trust, cohort and one account per role; print their logins
  polyphony user add --email E --name N --role R [--cohort C] [--trust T] [--peer-worker] [--password-stdin]
                                             without --password-stdin, prints an invitation link
  polyphony user invite --email E            print a new invitation link (7 days) to choose a password
  polyphony user list
  polyphony user disable --email E            (and: user enable)
  polyphony cohort add --name N --start YYYY-MM-DD [--trust T]...
  polyphony cohort list
  polyphony people import --cohort C [--preview] FILE
                                             add a cohort's people from a CSV file (columns in the README)
  polyphony people export --cohort C [FILE|-]   the cohort's people as the same CSV file
  polyphony trust add --name N
  polyphony token add --email E --name N [--days D]   make a personal API token for a script
  polyphony content import DIR               load a content pack (a folder of Markdown pages); all or nothing
  polyphony banks add NAME                   add a question bank
  polyphony banks list
  polyphony questions import --bank B --format aiken|gift|md [--skip-invalid] FILE
                                             import questions (B: bank id or name); all or nothing
  polyphony questions export --bank B --format aiken|gift|md [FILE|-]

Every command takes the settings (see 'polyphony config -h'), as flags or environment variables.
Commands other than serve work on the same --data folder while the server runs, through its
database listener, and on MONGODB_URI when it is set.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errUsage marks a mistake in the command line; its message has been printed already.
var errUsage = errors.New("usage")

// run is the whole program, with its surroundings passed in so tests can run it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	name := args[0]
	if (name == "user" || name == "cohort" || name == "people" || name == "trust" || name == "token" || name == "content" || name == "questions" || name == "banks") && len(args) > 1 {
		name += " " + args[1]
		args = args[1:]
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "polyphony: unknown command %q\n\n%s", name, usage)
		return 2
	}
	fs := flag.NewFlagSet("polyphony "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	flags := settingFlags(fs)
	run := cmd(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 && !takesArguments[name] {
		fmt.Fprintf(stderr, "polyphony %s: unexpected argument %q\n", name, fs.Arg(0))
		return 2
	}
	cfg, err := loadConfig(flags, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "polyphony: %v\n", err)
		return 2
	}
	env := &cmdEnv{cfg: cfg, flags: flags, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if err := run(ctx, env); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintf(stderr, "polyphony %s: %v\n", name, err)
		}
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

// cmdEnv is what a command's body gets.
type cmdEnv struct {
	cfg            *Config
	flags          map[string]*string
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command declares its own flags on fs and returns the body to run once they are parsed.
type command func(fs *flag.FlagSet) func(ctx context.Context, env *cmdEnv) error

var commands = map[string]command{
	"serve":            cmdServe,
	"config":           cmdConfig,
	"demo":             cmdDemo,
	"user add":         cmdUserAdd,
	"user list":        cmdUserList,
	"user invite":      cmdUserInvite,
	"user disable":     cmdUserDisable(true),
	"user enable":      cmdUserDisable(false),
	"cohort add":       cmdCohortAdd,
	"people import":    cmdPeopleImport,
	"people export":    cmdPeopleExport,
	"cohort list":      cmdCohortList,
	"trust add":        cmdTrustAdd,
	"token add":        cmdTokenAdd,
	"content import":   cmdContentImport,
	"banks add":        cmdBanksAdd,
	"banks list":       cmdBanksList,
	"questions import": cmdQuestionsImport,
	"questions export": cmdQuestionsExport,
}

// takesArguments lists the commands that take arguments after their flags.
var takesArguments = map[string]bool{"people import": true, "people export": true, "content import": true, "banks add": true, "questions import": true, "questions export": true}

func cmdServe(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
	return func(ctx context.Context, env *cmdEnv) error {
		return serve(ctx, env.cfg, env.stdout, env.stderr, nil)
	}
}

func cmdConfig(fs *flag.FlagSet) func(context.Context, *cmdEnv) error {
	return func(ctx context.Context, env *cmdEnv) error {
		env.cfg.print(env.stdout, env.getenv, env.flags)
		return nil
	}
}
