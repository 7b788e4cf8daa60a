package marking

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strings"
)

// safeCell keeps a spreadsheet from reading a cell as a formula: one that starts with = + -
// @ (or a tab or carriage return, which some spreadsheets skip before one) gets a leading '.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func writeCSV(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	for _, row := range rows {
		safe := make([]string, len(row))
		for i, c := range row {
			safe[i] = safeCell(c)
		}
		if err := cw.Write(safe); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// records reads the records of every submission of the piece, in candidate order.
func (s *Store) records(ctx context.Context, p Piece) ([]record, error) {
	subs, err := s.submissionsOf(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	sort.Slice(subs, func(i, j int) bool {
		if subs[i].CandidateNumber != subs[j].CandidateNumber {
			return subs[i].CandidateNumber < subs[j].CandidateNumber
		}
		return subs[i].ID < subs[j].ID
	})
	out := make([]record, 0, len(subs))
	for _, sub := range subs {
		rec, err := s.load(ctx, p, sub)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// ResultsCSV writes the results of the piece for an exam board, one row per trainee:
// candidate number, name (from name), state, late, each marker's total, the agreed total and
// outcome, whether it was moderated and whether released. Administrators export it.
func (s *Store) ResultsCSV(ctx context.Context, a Actor, pieceID string, name func(userID string) string, w io.Writer) error {
	p, err := s.piece(ctx, pieceID)
	if err != nil {
		return err
	}
	if err := mayAdmin(a, p.CohortID, "export results"); err != nil {
		return err
	}
	recs, err := s.records(ctx, p)
	if err != nil {
		return err
	}
	rows := [][]string{{"candidate", "name", "state", "late", "marker 1 total", "marker 2 total", "agreed total", "outcome", "moderated", "released"}}
	for _, rec := range recs {
		totals := []string{"", ""}
		for i, m := range rec.submitted() {
			if i < 2 {
				totals[i] = fmt.Sprint(Result(rec.rubric, m).Total)
			}
		}
		agreed, outcome := "", ""
		if res, ok := rec.agreed(); ok && rec.sub.Active {
			agreed, outcome = fmt.Sprint(res.Total), res.Outcome
		}
		if rec.release != nil {
			agreed, outcome = fmt.Sprint(rec.release.Result.Total), rec.release.Result.Outcome
		}
		st := rec.state()
		rows = append(rows, []string{
			rec.sub.CandidateNumber, name(rec.sub.TraineeID), st.Label(), yesNo(rec.sub.Active && rec.sub.Late),
			totals[0], totals[1], agreed, outcome, yesNo(rec.mod != nil && rec.mod.Result != nil), yesNo(st == Released),
		})
	}
	return writeCSV(w, rows)
}

// AgreementCSV writes the markers' agreement on the piece, one row per submission both
// markers have submitted: candidate number, each marker's total, their difference, whether
// within tolerance, and both markers' level on every criterion. It names no trainee.
// Administrators export it.
func (s *Store) AgreementCSV(ctx context.Context, a Actor, pieceID string, w io.Writer) error {
	p, err := s.piece(ctx, pieceID)
	if err != nil {
		return err
	}
	if err := mayAdmin(a, p.CohortID, "export marker agreement"); err != nil {
		return err
	}
	recs, err := s.records(ctx, p)
	if err != nil {
		return err
	}
	r, err := s.Rubric(ctx, p.RubricID, p.RubricVersion)
	if err != nil {
		return err
	}
	head := []string{"candidate", "marker 1 total", "marker 2 total", "difference", "within tolerance"}
	for _, c := range r.Criteria {
		head = append(head, c.ID+" marker 1", c.ID+" marker 2")
	}
	rows := [][]string{head}
	for _, rec := range recs {
		done := rec.submitted()
		if len(done) < 2 {
			continue
		}
		t1, t2 := Result(r, done[0]).Total, Result(r, done[1]).Total
		diff := t1 - t2
		if diff < 0 {
			diff = -diff
		}
		row := []string{rec.sub.CandidateNumber, fmt.Sprint(t1), fmt.Sprint(t2), fmt.Sprint(diff), yesNo(diff <= p.Tolerance)}
		for _, c := range r.Criteria {
			l1, _ := done[0].Level(c.ID)
			l2, _ := done[1].Level(c.ID)
			row = append(row, l1.LevelID, l2.LevelID)
		}
		rows = append(rows, row)
	}
	return writeCSV(w, rows)
}
