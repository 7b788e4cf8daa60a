package award

import (
	"fmt"

	"polyphony/courses/progress"
)

// recordKinds are the rules whose evidence the training record lists, in its order:
// attendance, the knowledge tests and the assessed pieces as their results are released,
// and supervision. Personal practice is left out: the record is for others to read, and
// the practice log is the trainee's own.
var recordKinds = []progress.Kind{progress.KindResidential, progress.KindDialogue, progress.KindTests, progress.KindPieces, progress.KindSupervision}

// TrainingRecord is a trainee's training record as a PDF: for each rule of the award that
// it lists (recordKinds), what counts against what is needed, and every record the rule
// read, dated, with its result: the module days and dialogue sessions with the mark of
// each, the tests with the trainee's best attempt, the assessed pieces as released, the
// supervision sessions and their confirmed hours. It reads the trainee's progress (p), so it
// shows what the award's evaluation reads and nothing else; the awards are listed at the end.
func TrainingRecord(name, cohortName string, p progress.Progress, awards []Award) ([]byte, error) {
	pdf := newDocument("Training record: "+name, p.At)
	w := writer{pdf}
	w.heading(18, "Training record")
	w.item("Trainee:", name)
	w.item("Cohort:", cohortName)
	w.item("As at:", Date(p.At)+fmt.Sprintf(", under version %d of the cohort's award rules", p.RulesVersion))
	w.rule()
	for _, k := range recordKinds {
		r, ok := p.Result(k)
		if !ok {
			continue
		}
		w.heading(13, r.Title)
		w.item("Standing:", string(r.State)+" — "+r.Summary)
		if len(r.Evidence) == 0 {
			w.para("Nothing recorded yet.")
		}
		for _, e := range r.Evidence {
			line := e.Label
			if !e.Date.IsZero() && e.Label != "" {
				line += " (" + Date(e.Date) + ")"
			}
			detail := e.Detail
			if e.Counts {
				detail += " — counts"
			}
			w.item("•", line+": "+detail)
		}
		w.rule()
	}
	if len(awards) > 0 {
		w.heading(13, "Awards")
		for _, a := range awards {
			state := "valid"
			if a.Status == Revoked && a.Revoked != nil {
				state = "revoked on " + Date(a.Revoked.At)
			}
			w.item("•", a.Title+", awarded on "+Date(a.AwardedAt)+", verification code "+a.Code+" ("+state+")")
		}
	}
	return finish(pdf, "training record")
}
