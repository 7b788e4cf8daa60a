package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// polyphony people import previews, refuses a bad file with its lines, imports, prints the
// invitation links where no email is set up, changes nothing the second time; export writes
// the file back.
func TestPeopleImportAndExport(t *testing.T) {
	data := t.TempDir()
	mustRun(t, nil, "", "cohort", "add", "--data", data, "--name", "Spring 2032", "--start", "2032-03-01")
	file := filepath.Join(t.TempDir(), "people.csv")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("email,name,role,supervisor email\nkim@example.org,Kim,trainee,lee@example.org\nkim@example.org,Kim Again,trainee,\n")
	r := runIn(t, nil, "", "people", "import", "--data", data, "--cohort", "Spring 2032", file)
	if r.code == 0 || !strings.Contains(r.stderr, "line 3: kim@example.org is also on line 2") || !strings.Contains(r.stderr, "nothing was stored") {
		t.Errorf("a bad file: %v", r)
	}

	write("email,name,role,supervisor email\nkim@example.org,Kim Trainee,trainee,lee@example.org\nlee@example.org,Lee Supervisor,supervisor,\n")
	r = mustRun(t, nil, "", "people", "import", "--data", data, "--cohort", "Spring 2032", "--preview", file)
	if !strings.Contains(r.stdout, "line 2: kim@example.org (trainee): new account, sent an invitation; added to the cohort; supervised by lee@example.org") ||
		!strings.Contains(r.stdout, "Nothing was stored") {
		t.Errorf("preview: %v", r)
	}
	r = mustRun(t, nil, "", "people", "import", "--data", data, "--cohort", "Spring 2032", file)
	if !strings.Contains(r.stdout, "2 new accounts, 2 added to the cohort, 1 given a supervisor, 0 unchanged") || strings.Count(r.stdout, "/password?link=ppl_") != 2 {
		t.Errorf("import: %v", r)
	}
	r = mustRun(t, nil, "", "people", "import", "--data", data, "--cohort", "Spring 2032", file)
	if !strings.Contains(r.stdout, "0 new accounts, 0 added to the cohort, 0 given a supervisor, 2 unchanged") || strings.Contains(r.stdout, "ppl_") {
		t.Errorf("import again: %v", r)
	}
	out := mustRun(t, nil, "", "people", "export", "--data", data, "--cohort", "Spring 2032").stdout
	for _, want := range []string{"email,name,role,trust,peer worker,supervisor email", "kim@example.org,Kim Trainee,trainee,,no,lee@example.org", "lee@example.org,Lee Supervisor,supervisor,,no,"} {
		if !strings.Contains(out, want) {
			t.Errorf("export lacks %q:\n%s", want, out)
		}
	}
}
