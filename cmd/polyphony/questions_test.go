package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// aikenWithErrors has errors on lines 1 and 7 and one valid question.
const aikenWithErrors = `A. An option with no question
First question
A) one
B) two
ANSWER: B

One option only
A) one
ANSWER: A
`

// bankCounts reads `polyphony banks list` into name → question count.
func bankCounts(t *testing.T, out string) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("banks list has no header:\n%s", out)
	}
	rows := map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		rows[strings.Join(f[1:len(f)-1], " ")] = f[len(f)-1]
	}
	return rows
}

// moodleAiken is the path of the example in Moodle's documentation of the Aiken format.
func moodleAiken(t *testing.T) string {
	p, err := filepath.Abs("../../assessment/testdata/moodle-aiken.txt")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestQuestionsImportExportRoundTrip(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	r := runBinary(t, "", "banks", "add", "--data", data, "Open Dialogue principles")
	if r.code != 0 {
		t.Fatalf("banks add: %v", r)
	}
	first := idIn(t, r.stdout)
	if r := runBinary(t, "", "banks", "add", "--data", data, "Copy"); r.code != 0 {
		t.Fatalf("banks add: %v", r)
	}

	// By name.
	r = runBinary(t, "", "questions", "import", "--data", data, "--bank", "Open Dialogue principles", "--format", "aiken", moodleAiken(t))
	if r.code != 0 || strings.TrimSpace(r.stdout) != "imported 2 questions" {
		t.Fatalf("import: %v", r)
	}
	// Export as Markdown to a file, by id, and import it into the other bank.
	md := filepath.Join(dir, "export.md")
	if r := runBinary(t, "", "questions", "export", "--data", data, "--bank", first, "--format", "md", md); r.code != 0 {
		t.Fatalf("export: %v", r)
	}
	r = runBinary(t, "", "questions", "import", "--data", data, "--bank", "Copy", "--format", "md", md)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "imported 2 questions" {
		t.Fatalf("import the export: %v", r)
	}
	// Both banks now export the same Aiken, to standard output.
	a := runBinary(t, "", "questions", "export", "--data", data, "--bank", first, "--format", "aiken", "-")
	b := runBinary(t, "", "questions", "export", "--data", data, "--bank", "Copy", "--format", "aiken")
	if a.code != 0 || b.code != 0 || a.stdout != b.stdout || !strings.Contains(a.stdout, "ANSWER: D") {
		t.Errorf("the round trip changed the questions:\n%v\n%v", a, b)
	}

	// A file with errors is refused whole: every error as FILE:LINE, exit 1.
	bad := write("bad.txt", aikenWithErrors)
	r = runBinary(t, "", "questions", "import", "--data", data, "--bank", "Copy", "--format", "aiken", bad)
	if r.code != 1 || !strings.Contains(r.stderr, bad+":1: ") || !strings.Contains(r.stderr, bad+":7: ") || strings.Contains(r.stdout, "imported") {
		t.Errorf("a file with errors: %v", r)
	}
	r = runBinary(t, "", "banks", "list", "--data", data)
	if got := bankCounts(t, r.stdout); got["Copy"] != "2" || got["Open Dialogue principles"] != "2" {
		t.Errorf("after a refused import: %v\n%s", got, r.stdout)
	}
	// --skip-invalid keeps the valid question and still reports the errors.
	r = runBinary(t, "", "questions", "import", "--data", data, "--bank", "Copy", "--format", "aiken", "--skip-invalid", bad)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "imported 1 questions" || !strings.Contains(r.stderr, bad+":7: ") {
		t.Errorf("--skip-invalid: %v", r)
	}
	r = runBinary(t, "", "banks", "list", "--data", data)
	if got := bankCounts(t, r.stdout); got["Copy"] != "3" {
		t.Errorf("after --skip-invalid: %v\n%s", got, r.stdout)
	}

	// Mistakes in the command line.
	if r := runBinary(t, "", "questions", "import", "--data", data, "--bank", "Nope", "--format", "aiken", bad); r.code != 1 || !strings.Contains(r.stderr, "no question bank") {
		t.Errorf("unknown bank: %v", r)
	}
	if r := runBinary(t, "", "questions", "import", "--data", data, "--bank", "Copy", "--format", "qti", bad); r.code != 1 || !strings.Contains(r.stderr, "--format") {
		t.Errorf("unknown format: %v", r)
	}
	if r := runBinary(t, "", "questions", "import", "--data", data, "--bank", "Copy", "--format", "aiken"); r.code != 2 {
		t.Errorf("no file: %v", r)
	}
}
