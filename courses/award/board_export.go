package award

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// cell makes a text safe to open in a spreadsheet: one that starts like a formula (= + - @,
// or a tab or carriage return) gets an apostrophe in front, as OWASP advises against CSV
// injection.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Outcome is an outcome as the record writes it.
func Outcome(o string) string {
	switch o {
	case Awarded:
		return "Awarded"
	case Deferred:
		return "Deferred"
	case NotAwarded:
		return "Not awarded"
	}
	return "No decision yet"
}

// evidenceLine is a decision's or a candidate's evidence in one line.
func evidenceLine(ev []RuleSummary) string {
	parts := make([]string, 0, len(ev))
	for _, e := range ev {
		parts = append(parts, e.Title+": "+e.State+" ("+e.Summary+")")
	}
	return strings.Join(parts, "; ")
}

// Name is a person's name as the record shows it (the user id when they have none).
func (b *Boards) Name(ctx context.Context, userID string) string { return b.names(ctx, userID) }

// WriteBoardCSV writes the board's record: a row for every decision, the superseded ones
// too, each with the evidence summary it was decided on and the rules version, and a row
// for each trainee not decided on yet, with the evidence as it stands.
func (b *Boards) WriteBoardCSV(ctx context.Context, w io.Writer, v BoardView) error {
	cw := csv.NewWriter(w)
	head := []string{"Board", "Board date", "Rules version", "Trainee", "Eligible", "Outcome", "Current", "Reason",
		"Outstanding", "Due by", "Decided by", "Decided at", "Award", "Award status", "Evidence"}
	if err := cw.Write(head); err != nil {
		return err
	}
	yesNo := map[bool]string{true: "yes", false: "no"}
	date := v.Board.Date.Format(time.DateOnly)
	for _, c := range v.Candidates {
		if len(c.History) == 0 {
			row := []string{v.Board.ID, date, strconv.Itoa(v.Board.RulesVersion), cell(c.Name), yesNo[c.Eligible], Outcome(""), "yes",
				"", "", "", "", "", "", "", cell(evidenceLine(c.Evidence))}
			if err := cw.Write(row); err != nil {
				return err
			}
			continue
		}
		for i, d := range c.History {
			until, status := "", ""
			if !d.Until.IsZero() {
				until = d.Until.Format(time.DateOnly)
			}
			if d.AwardID != "" && c.Award != nil && c.Award.ID == d.AwardID {
				status = c.Award.Status
			}
			row := []string{v.Board.ID, date, strconv.Itoa(d.RulesVersion), cell(c.Name), yesNo[d.Eligible], Outcome(d.Outcome),
				yesNo[i == len(c.History)-1], cell(d.Reason), cell(d.Outstanding), until, cell(b.names(ctx, d.DecidedBy)),
				d.DecidedAt.UTC().Format(time.RFC3339), d.AwardID, status, cell(evidenceLine(d.Evidence))}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// newDocument is an A4 document in the certificate's fonts, with the title and the
// creation date set (so the same record makes the same file).
func newDocument(title string, at time.Time) *fpdf.Fpdf {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(true)
	pdf.AddUTF8FontFromBytes("go", "", goregular.TTF)
	pdf.AddUTF8FontFromBytes("go", "B", gobold.TTF)
	pdf.SetTitle(printable(title), true)
	pdf.SetCreator("Polyphony", true)
	pdf.SetCreationDate(at)
	pdf.SetModificationDate(at)
	pdf.SetMargins(20, 20, 20)
	pdf.SetAutoPageBreak(true, 20)
	pdf.AliasNbPages("")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-14)
		pdf.SetFont("go", "", 8)
		pdf.SetTextColor(75, 90, 104)
		pdf.CellFormat(0, 5, fmt.Sprintf("%s — page %d of {nb}", printable(title), pdf.PageNo()), "", 0, "C", false, 0, "")
		pdf.SetTextColor(33, 43, 50)
	})
	pdf.AddPage()
	pdf.SetTextColor(33, 43, 50)
	return pdf
}

// writer puts paragraphs on a document: text is made printable in the fonts first.
type writer struct{ pdf *fpdf.Fpdf }

func (w writer) heading(size float64, text string) {
	w.pdf.SetFont("go", "B", size)
	w.pdf.MultiCell(0, size*0.5, printable(text), "", "L", false)
	w.pdf.Ln(1.5)
}

func (w writer) para(text string) {
	w.pdf.SetFont("go", "", 10)
	w.pdf.MultiCell(0, 5, printable(text), "", "L", false)
}

func (w writer) item(label, text string) {
	w.pdf.SetFont("go", "B", 10)
	w.pdf.Write(5, printable(label)+" ")
	w.pdf.SetFont("go", "", 10)
	w.pdf.Write(5, printable(text))
	w.pdf.Ln(5)
}

func (w writer) rule() {
	w.pdf.Ln(2)
	x, y := w.pdf.GetXY()
	w.pdf.SetDrawColor(216, 221, 224)
	w.pdf.Line(x, y, 190, y)
	w.pdf.Ln(3)
}

func finish(pdf *fpdf.Fpdf, what string) ([]byte, error) {
	if pdf.Err() {
		return nil, fmt.Errorf("%s: %w", what, pdf.Error())
	}
	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out.Bytes(), nil
}

// BoardMinutes is the board's record as a PDF for the minutes: the cohort, the date, the
// rules version, and for each trainee the current decision with its reason, what is
// outstanding and by when, who decided, the evidence it was decided on, and the decisions
// it superseded.
func (b *Boards) BoardMinutes(ctx context.Context, v BoardView, cohortName string) ([]byte, error) {
	pdf := newDocument("Exam board minutes: "+cohortName, v.Board.OpenedAt)
	w := writer{pdf}
	w.heading(18, "Exam board: "+cohortName)
	w.para(fmt.Sprintf("Sat on %s under version %d of the cohort's award rules; opened by %s.",
		Date(v.Board.Date), v.Board.RulesVersion, b.names(ctx, v.Board.OpenedBy)))
	counts := map[string]int{}
	for _, c := range v.Candidates {
		o := ""
		if c.Current != nil {
			o = c.Current.Outcome
		}
		counts[o]++
	}
	w.para(fmt.Sprintf("%d trainees: %d awarded, %d deferred, %d not awarded, %d without a decision.",
		len(v.Candidates), counts[Awarded], counts[Deferred], counts[NotAwarded], counts[""]))
	w.rule()
	for _, c := range v.Candidates {
		w.heading(13, c.Name)
		if c.Current == nil {
			elig := "Does not meet every rule."
			if c.Eligible {
				elig = "Meets every rule."
			}
			w.item("Decision:", "No decision yet. "+elig)
			for _, e := range c.Evidence {
				w.item(e.Title+":", e.State+" — "+e.Summary)
			}
			w.rule()
			continue
		}
		d := *c.Current
		w.item("Decision:", Outcome(d.Outcome))
		if d.Reason != "" {
			w.item("Reason:", d.Reason)
		}
		if d.Outcome == Deferred {
			w.item("Outstanding:", d.Outstanding+", by "+Date(d.Until))
		}
		if c.Award != nil {
			state := "valid"
			if c.Award.Status == Revoked && c.Award.Revoked != nil {
				state = "revoked on " + Date(c.Award.Revoked.At) + ": " + c.Award.Revoked.Reason
			}
			w.item("Award:", "verification code "+c.Award.Code+", "+state)
		}
		w.item("Decided by:", b.names(ctx, d.DecidedBy)+" on "+Date(d.DecidedAt))
		w.item("Evidence:", "")
		for _, e := range d.Evidence {
			w.item("   "+e.Title+":", e.State+" — "+e.Summary)
		}
		if n := len(c.History) - 1; n > 0 {
			w.item("Superseded:", "")
			for _, old := range c.History[:n] {
				line := Outcome(old.Outcome) + " on " + Date(old.DecidedAt) + " by " + b.names(ctx, old.DecidedBy)
				if old.Reason != "" {
					line += ": " + old.Reason
				}
				w.item("   —", line)
			}
		}
		w.rule()
	}
	return finish(pdf, "exam board minutes")
}
