package roster_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"polyphony/internal/accounts"
	"polyphony/internal/roster"
)

func TestParse(t *testing.T) {
	rows, err := roster.Parse(strings.NewReader("\ufeffEmail,Name,Role,Trust,Peer worker,Supervisor email\n" +
		"Ana@Example.org, Ana Ash ,trainee,North Moor,yes,sam@example.org\n" +
		"\n" +
		"sam@example.org,Sam Supervisor,Supervisor,,,\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []roster.Row{
		{Line: 2, Email: "ana@example.org", Name: "Ana Ash", Role: accounts.RoleTrainee, Trust: "North Moor", PeerWorker: true, Supervisor: "sam@example.org"},
		{Line: 4, Email: "sam@example.org", Name: "Sam Supervisor", Role: accounts.RoleSupervisor},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v", rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
}

// A file with problems is refused whole, every problem named by its line.
func TestParseListsEveryProblem(t *testing.T) {
	_, err := roster.Parse(strings.NewReader("email,name,role,peer worker,supervisor email\n" +
		"a@example.org,A,trainee,no,\n" +
		"A@example.org,A again,trainee,no,\n" +
		"b@example.org,B,chief,no,\n" +
		"not an address,C,trainee,no,\n" +
		"d@example.org,,facilitator,yes,\n" +
		"e@example.org,E,assessor,no,a@example.org\n" +
		"f@example.org,F,admin,maybe,\n"))
	var ps roster.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("%v", err)
	}
	for _, want := range []string{
		"line 3: a@example.org is also on line 2",
		`line 4: "chief" is not a role in a cohort`,
		`line 5: "not an address" is not an email address`,
		"line 6: the name is missing",
		"line 6: only trainees are peer workers",
		"line 7: only a trainee has a supervisor",
		`line 8: "admin" is not a role in a cohort`,
		`line 8: peer worker must be yes or no, not "maybe"`,
	} {
		found := false
		for _, p := range ps {
			found = found || strings.HasPrefix(p, want)
		}
		if !found {
			t.Errorf("no problem %q among:\n  %s", want, strings.Join(ps, "\n  "))
		}
	}
	for _, tc := range []struct{ file, want string }{
		{"", "line 1: the file is empty"},
		{"email,name\n", "line 1: there is no role column"},
		{"email,name,role,colour\n", `line 1: "colour" is not a column`},
		{"email,name,role\n", "line 2: the file has no people in it"},
		{"email,name,role\n\"a@example.org,A,trainee\n", "line 2:"},
	} {
		_, err := roster.Parse(strings.NewReader(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("file %q: %v, want %q", tc.file, err, tc.want)
		}
	}
}

// What Write writes, Parse reads back as it was, formulas kept from spreadsheets.
func TestWriteReadsBack(t *testing.T) {
	rows := []roster.Row{
		{Email: "a@example.org", Name: "=HYPERLINK(\"x\")", Role: accounts.RoleTrainee, Trust: "North, Moor", PeerWorker: true, Supervisor: "s@example.org"},
		{Email: "s@example.org", Name: "Sam \"Sup\"", Role: accounts.RoleSupervisor},
	}
	var b bytes.Buffer
	if err := roster.Write(&b, rows); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), ",=HYPERLINK") {
		t.Errorf("a formula is written as it is:\n%s", b.String())
	}
	back, err := roster.Parse(&b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		back[i].Line = 0
		if back[i] != rows[i] {
			t.Errorf("row %d: %+v, want %+v", i, back[i], rows[i])
		}
	}
}
