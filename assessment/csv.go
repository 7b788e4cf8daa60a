package assessment

import (
	"encoding/csv"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// cell makes a text safe to open in a spreadsheet: one that starts like a formula gets an
// apostrophe in front (OWASP's advice on CSV injection).
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 4, 64) }

// weight writes a group count, whole when it is and to four places when an attempt tied at
// the group's boundary counts in part.
func weight(f float64) string {
	return strconv.FormatFloat(math.Round(f*1e4)/1e4, 'f', -1, 64)
}

func optNum(f *float64) string {
	if f == nil {
		return ""
	}
	return num(*f)
}

// passedCell is true or false, or empty while the assessment has no pass mark.
func passedCell(p *bool) string {
	if p == nil {
		return ""
	}
	return strconv.FormatBool(*p)
}

// WriteResultsCSV writes trainees' results as CSV, one row each. name gives the name shown
// for a user id (nil leaves the column empty).
func WriteResultsCSV(w io.Writer, results []TraineeResult, name func(userID string) string) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"user_id", "name", "attempt", "attempts", "started", "closed", "closed_by", "marks", "max", "percent", "passed"})
	for _, r := range results {
		n := ""
		if name != nil {
			n = name(r.UserID)
		}
		cw.Write([]string{
			cell(r.UserID), cell(n), strconv.Itoa(r.Attempt), strconv.Itoa(r.Attempts),
			r.StartedAt.UTC().Format(time.RFC3339), r.ClosedAt.UTC().Format(time.RFC3339), r.ClosedBy,
			strconv.Itoa(r.Marks), strconv.Itoa(r.Max), num(r.Percent), passedCell(r.Passed),
		})
	}
	cw.Flush()
	return cw.Error()
}

// WriteAnalysisCSV writes the item analysis as CSV: one row for each question, with the
// counts of each option (all, upper group, lower group; the right option marked *), then a
// blank line and the statistics of the whole test.
func WriteAnalysisCSV(w io.Writer, an Analysis) error {
	options := 0
	for _, it := range an.Items {
		options = max(options, len(it.Options))
	}
	head := []string{"question_id", "name", "n", "facility", "discrimination", "point_biserial"}
	for i := range options {
		l := Label(i)
		head = append(head, l, l+"_upper", l+"_lower")
	}
	head = append(head, "omitted", "omitted_upper", "omitted_lower")
	cw := csv.NewWriter(w)
	cw.Write(head)
	for _, it := range an.Items {
		row := []string{cell(it.QuestionID), cell(it.Name), strconv.Itoa(it.N), num(it.Facility), optNum(it.Discrimination), optNum(it.PointBiserial)}
		for i := range options {
			if i >= len(it.Options) {
				row = append(row, "", "", "")
				continue
			}
			o := it.Options[i]
			count := strconv.Itoa(o.Count)
			if o.Right {
				count += "*"
			}
			row = append(row, count, weight(o.Upper), weight(o.Lower))
		}
		row = append(row, strconv.Itoa(it.Omitted.Count), weight(it.Omitted.Upper), weight(it.Omitted.Lower))
		cw.Write(row)
	}
	cw.Write([]string{})
	cw.Write([]string{"attempts", "mean", "sd", "kr20", "group_size"})
	cw.Write([]string{strconv.Itoa(an.N), num(an.Mean), num(an.SD), optNum(an.KR20), strconv.Itoa(an.GroupSize)})
	cw.Flush()
	return cw.Error()
}
