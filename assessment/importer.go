package assessment

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// Format is a file format for questions.
type Format string

// The formats. Aiken and GIFT are read as Moodle reads them; Markdown is ours (FORMAT.md)
// and the only one that holds everything a question has.
const (
	FormatAiken    Format = "aiken"
	FormatGIFT     Format = "gift"
	FormatMarkdown Format = "markdown"
)

// ParseFormat reads a format name (aiken, gift, markdown or md).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "aiken":
		return FormatAiken, nil
	case "gift":
		return FormatGIFT, nil
	case "markdown", "md":
		return FormatMarkdown, nil
	}
	return "", failure.Invalidf("format", "%q is not a question format; use aiken, gift or markdown", s)
}

// MaxImportBytes is the largest file Import reads.
const MaxImportBytes = 4 << 20

// ImportError is one problem in an imported file: the line it is on (1 for the first) and
// what is wrong.
type ImportError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

func (e ImportError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// ImportResult is what an import did: how many questions it stored, and every problem found.
// When Errors is not empty and Imported is 0, the file was refused as a whole.
type ImportResult struct {
	Imported  int           `json:"imported"`
	Errors    []ImportError `json:"errors"`
	Questions []Question    `json:"-"`
}

// ImportOptions changes how Import treats a file with errors.
type ImportOptions struct {
	// SkipInvalid stores the valid questions of a file that has errors (the errors are still
	// listed). Without it, any error refuses the whole file.
	SkipInvalid bool
}

// ParsedQuestion is one question read from a file, before it is checked: the line it starts
// on, the line of each option (for error messages), and what it says.
type ParsedQuestion struct {
	Line        int
	OptionLines []int
	Input       QuestionInput
}

// Parse reads questions in the format. Every problem is returned with its line; the
// questions returned are those that parsed, not yet checked (see QuestionInput.Normalize).
func Parse(format Format, src []byte) ([]ParsedQuestion, []ImportError) {
	switch format {
	case FormatAiken:
		return ParseAiken(src)
	case FormatGIFT:
		return ParseGIFT(src)
	case FormatMarkdown:
		return ParseMarkdown(src)
	}
	return nil, []ImportError{{Line: 1, Reason: fmt.Sprintf("%q is not a question format; use aiken, gift or markdown", format)}}
}

// Check parses a file and checks every question as Import would, storing nothing: the
// questions that passed, in order, and every error, ordered by line.
func Check(format Format, src []byte) ([]QuestionInput, []ImportError) {
	if len(src) > MaxImportBytes {
		return nil, []ImportError{{Line: 1, Reason: fmt.Sprintf("the file is %d KB; at most %d KB can be imported at once", len(src)>>10, MaxImportBytes>>10)}}
	}
	parsed, errs := Parse(format, src)
	var valid []QuestionInput
	for _, p := range parsed {
		in, err := p.Input.Normalize()
		if invalids := failure.Invalids(err); len(invalids) > 0 {
			for _, invalid := range invalids {
				errs = append(errs, ImportError{Line: p.lineOf(invalid.Field), Reason: invalid.Error()})
			}
			continue
		} else if err != nil {
			errs = append(errs, ImportError{Line: p.lineOf(""), Reason: err.Error()})
			continue
		}
		valid = append(valid, in)
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return valid, errs
}

var optionField = regexp.MustCompile(`^options\[(\d+)\]`)

// lineOf is the line an invalid field is on: its option's line for an option's field, the
// question's otherwise.
func (p ParsedQuestion) lineOf(field string) int {
	if m := optionField.FindStringSubmatch(field); m != nil {
		if i, _ := strconv.Atoi(m[1]); i < len(p.OptionLines) && p.OptionLines[i] > 0 {
			return p.OptionLines[i]
		}
	}
	return p.Line
}

// Import reads a file of questions into the bank. It is all or nothing unless
// opts.SkipInvalid is set: a file with any error stores nothing, and the result lists every
// error with its line. The HTTP layer answers 422 when the result has errors and imported
// nothing, 200 otherwise.
func (s *Store) Import(ctx context.Context, actor Actor, bankID string, format Format, src []byte, opts ImportOptions) (ImportResult, error) {
	if err := requireStaff(actor, "import questions"); err != nil {
		return ImportResult{}, err
	}
	if _, err := s.bank(ctx, bankID); err != nil {
		return ImportResult{}, err
	}
	valid, errs := Check(format, src)
	res := ImportResult{Errors: errs}
	if res.Errors == nil {
		res.Errors = []ImportError{}
	}
	if len(valid) == 0 && len(errs) == 0 {
		res.Errors = append(res.Errors, ImportError{Line: 1, Reason: "the file has no questions"})
	}
	if len(res.Errors) > 0 && !opts.SkipInvalid || len(valid) == 0 {
		return res, nil
	}
	now := s.clock()
	docs := make([]any, len(valid))
	ids := make([]string, len(valid))
	for i, in := range valid {
		q := newQuestion(bankID, in, actor.ID, now)
		res.Questions = append(res.Questions, q)
		docs[i], ids[i] = toRevisionDoc(q), revisionID(q.ID, 1)
	}
	// Listed before they are stored. Should the import fail, the listing of questions that
	// were never stored (or were taken back) names nothing, and the bank's readers skip it.
	if err := s.list(ctx, revisionsList(bankID), ids...); err != nil {
		return ImportResult{}, fmt.Errorf("import questions: %w", err)
	}
	err := s.w.run(func() error {
		return s.revisions.InsertMany(ctx, docs, database.InsertManyOptions{})
	})
	if err != nil {
		// Take back what went in, so that a failed import leaves the bank as it was: one
		// delete by _id each, as a filter on $in reads the whole collection on FerretDB.
		var derr error
		for _, id := range ids {
			if derr = s.w.run(func() error { return database.DeleteByID(ctx, s.revisions, id) }); derr != nil {
				break
			}
		}
		if derr != nil {
			return ImportResult{}, fmt.Errorf("import questions: %w (and removing those stored failed: %v)", err, derr)
		}
		return ImportResult{}, fmt.Errorf("import questions: %w", err)
	}
	res.Imported = len(valid)
	return res, s.touch(ctx, revisionsCollection)
}

// Export writes the latest revision of every question in the bank in the format.
func (s *Store) Export(ctx context.Context, actor Actor, bankID string, format Format, w io.Writer) error {
	if err := requireStaff(actor, "export questions"); err != nil {
		return err
	}
	b, err := s.bank(ctx, bankID)
	if err != nil {
		return err
	}
	qs, err := s.questionsOf(ctx, bankID)
	if err != nil {
		return err
	}
	switch format {
	case FormatAiken:
		return WriteAiken(w, qs)
	case FormatGIFT:
		return WriteGIFT(w, qs)
	case FormatMarkdown:
		return WriteMarkdown(w, b.Name, qs)
	}
	return failure.Invalidf("format", "%q is not a question format; use aiken, gift or markdown", format)
}

// sourceLines turns a file into lines without their line ends, dropping a byte order mark.
// A file that is not UTF-8 is an error on the first line that is not.
func sourceLines(src []byte) ([]string, []ImportError) {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	text := strings.ReplaceAll(string(src), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if !utf8.ValidString(l) {
			return nil, []ImportError{{Line: i + 1, Reason: "the file is not UTF-8 text: save it as UTF-8 and import it again"}}
		}
	}
	return lines, nil
}
