package progress

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// FieldNames are the parameters of the rules as Fields names them, in order: the audit log
// records a change of rules as the fields that changed.
var FieldNames = []string{
	"residential.days", "residential.everyModule", "dialogue.sessions", "tests.assessments",
	"pieces", "supervision.hours", "practice.weeks",
}

// Fields writes each rule's parameters as text; a kind the rules leave out has none.
func (r Rules) Fields() map[string]string {
	out := map[string]string{}
	for _, x := range r.Rules {
		switch x.Kind {
		case KindResidential:
			out["residential.days"] = strconv.Itoa(x.Days)
			out["residential.everyModule"] = strconv.FormatBool(x.EveryModule)
		case KindDialogue:
			out["dialogue.sessions"] = strconv.Itoa(x.Sessions)
		case KindTests:
			out["tests.assessments"] = "every test of the cohort"
			if len(x.AssessmentIDs) > 0 {
				out["tests.assessments"] = strings.Join(x.AssessmentIDs, ", ")
			}
		case KindPieces:
			out["pieces"] = "every piece passed"
		case KindSupervision:
			out["supervision.hours"] = strconv.Itoa(x.Hours)
		case KindPractice:
			out["practice.weeks"] = strconv.Itoa(x.Weeks)
		}
	}
	return out
}

// cell makes a text safe to open in a spreadsheet: one that starts like a formula (= + - @,
// or a tab or carriage return) gets an apostrophe in front, as OWASP advises against CSV
// injection.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes the grid as CSV: a row per trainee with their name (from names, by user
// id), the rules met, whether at risk, then the state and the count of each rule.
func WriteCSV(w io.Writer, g Grid, names map[string]string) error {
	cw := csv.NewWriter(w)
	head := []string{"Trainee", "Rules met", "At risk"}
	for _, r := range g.Rules.Rules {
		head = append(head, r.Kind.Title(), r.Kind.Title()+": counted", r.Kind.Title()+": needed")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	for _, p := range g.Trainees {
		name := names[p.TraineeID]
		if name == "" {
			name = p.TraineeID
		}
		row := []string{cell(name), strconv.Itoa(p.Met) + " of " + strconv.Itoa(len(p.Results)), map[bool]string{true: "yes", false: "no"}[p.AtRisk]}
		for _, r := range p.Results {
			row = append(row, string(r.State), num(r.Count), num(r.Need))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
