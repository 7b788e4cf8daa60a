package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// binary is the polyphony command built once for the tests that run it as a process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "polyphony-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "polyphony")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "build polyphony: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the program left behind.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// envFrom turns a map into the getenv that run takes; anything not in the map is unset, so
// the tests never see the settings of the shell that runs them.
func envFrom(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// runIn runs the program in this process, with env as its whole environment and stdin as
// its standard input.
func runIn(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, envFrom(env), strings.NewReader(stdin), &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// mustRun runs the program in this process and fails the test unless it exits 0.
func mustRun(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	r := runIn(t, env, stdin, args...)
	if r.code != 0 {
		t.Fatalf("polyphony %s: %v", strings.Join(args, " "), r)
	}
	return r
}

// processEnv is this process's environment without any Polyphony, MongoDB or MinIO setting,
// so a child process uses only what a test gives it.
func processEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "POLYPHONY_") || strings.HasPrefix(k, "MINIO_") || strings.HasPrefix(k, "MONGODB_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// runBinary runs the built program as a process and waits for it.
func runBinary(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = processEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run polyphony %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestHelpAndUnknownCommands(t *testing.T) {
	for _, args := range [][]string{nil, {"help"}, {"-h"}, {"--help"}} {
		r := runIn(t, nil, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") || r.stderr != "" {
			t.Errorf("polyphony %v: want exit 0 and the usage on stdout; got %v", args, r)
		}
	}

	for _, tc := range []struct {
		args []string
		name string
	}{
		{[]string{"frobnicate"}, `"frobnicate"`},
		{[]string{"user"}, `"user"`},
		{[]string{"user", "frob"}, `"user frob"`},
		{[]string{"cohort", "delete", "--name", "x"}, `"cohort delete"`},
	} {
		r := runIn(t, nil, "", tc.args...)
		if r.code != 2 {
			t.Errorf("polyphony %v: exit %d, want 2", tc.args, r.code)
		}
		first, _, _ := strings.Cut(r.stderr, "\n")
		if first != "polyphony: unknown command "+tc.name {
			t.Errorf("polyphony %v: first line %q, want it to name the command %s", tc.args, first, tc.name)
		}
		if !strings.Contains(r.stderr, "Usage:") || r.stdout != "" {
			t.Errorf("polyphony %v: want the usage on stderr only; got %v", tc.args, r)
		}
	}

	// A command's own help is not a mistake; a stray argument is.
	if r := runIn(t, nil, "", "user", "add", "-h"); r.code != 0 || !strings.Contains(r.stderr, "-password-stdin") {
		t.Errorf("user add -h: want exit 0 and the flags described; got %v", r)
	}
	if r := runIn(t, nil, "", "user", "list", "--data", t.TempDir(), "extra"); r.code != 2 || !strings.Contains(r.stderr, `unexpected argument "extra"`) {
		t.Errorf("user list extra: want exit 2 naming the argument; got %v", r)
	}
	if r := runIn(t, nil, "", "config", "--no-such-setting", "1"); r.code != 2 || !strings.Contains(r.stderr, "no-such-setting") {
		t.Errorf("config --no-such-setting: want exit 2 naming the flag; got %v", r)
	}
}
