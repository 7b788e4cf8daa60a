package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/assessment"
	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// assessmentPageRoutes registers the pages of the MCQ assessment (banks, questions,
// assessments, attempts, results, analysis and standard setting) and the API routes that
// list assessments, change settings and questions, and list a trainee's attempts. Every page
// asks the assessment store, which checks who may do what; pages for staff answer 404 to
// anyone else, as if they did not exist.
func (s *Server) assessmentPageRoutes() {
	s.add(http.MethodGet, "/api/v1/assessments", SignedIn, s.apiListAssessments)
	s.add(http.MethodPut, "/api/v1/assessments/:id", SignedIn, s.apiUpdateAssessment)
	s.add(http.MethodGet, "/api/v1/questions/:id", SignedIn, s.apiGetQuestion)
	s.add(http.MethodPut, "/api/v1/questions/:id", SignedIn, s.apiReviseQuestion)
	s.add(http.MethodGet, "/api/v1/me/attempts", SignedIn, s.apiMyAttempts)

	s.add(http.MethodGet, "/assessments", SignedIn, s.assessmentsPage)
	s.add(http.MethodPost, "/banks", SignedIn, s.bankCreate)
	s.add(http.MethodGet, "/banks/:bank", SignedIn, s.bankPage)
	s.add(http.MethodPost, "/banks/:bank/import", SignedIn, s.bankImport)
	s.add(http.MethodGet, "/banks/:bank/questions/new", SignedIn, s.questionNew)
	s.add(http.MethodPost, "/banks/:bank/questions", SignedIn, s.questionAdd)
	s.add(http.MethodGet, "/questions/:id", SignedIn, s.questionPage)
	s.add(http.MethodPost, "/questions/:id", SignedIn, s.questionRevise)
	s.add(http.MethodGet, "/questions/:id/revisions/:n", SignedIn, s.questionRevisionPage)
	s.add(http.MethodGet, "/assessments/new", SignedIn, s.assessmentNew)
	s.add(http.MethodPost, "/assessments", SignedIn, s.assessmentCreate)
	s.add(http.MethodGet, "/assessments/:id", SignedIn, s.assessmentPage)
	s.add(http.MethodGet, "/assessments/:id/edit", SignedIn, s.assessmentEdit)
	s.add(http.MethodPost, "/assessments/:id", SignedIn, s.assessmentUpdate)
	s.add(http.MethodPost, "/assessments/:id/start", SignedIn, s.attemptStart)
	s.add(http.MethodGet, "/assessments/:id/results", SignedIn, s.resultsPage)
	s.add(http.MethodGet, "/assessments/:id/analysis", SignedIn, s.analysisPage)
	s.add(http.MethodGet, "/assessments/:id/angoff", SignedIn, s.angoffPage)
	s.add(http.MethodPost, "/assessments/:id/angoff", SignedIn, s.angoffSave)
	s.add(http.MethodPost, "/assessments/:id/angoff/adopt", SignedIn, s.angoffAdopt)
	s.add(http.MethodGet, "/attempts/:id", SignedIn, s.attemptPage)
	s.add(http.MethodPost, "/attempts/:id", SignedIn, s.attemptSave)
	s.add(http.MethodGet, "/attempts/:id/summary", SignedIn, s.attemptSummaryPage)
	s.add(http.MethodPost, "/attempts/:id/submit", SignedIn, s.attemptSubmit)
}

// staffOnly answers 404 to anyone but admins and assessors: to a trainee, banks, questions,
// settings and results do not exist.
func staffOnly(c echo.Context) error {
	if !isAssessmentStaff(currentUser(c)) {
		return failure.ErrNotFound
	}
	return nil
}

// mcqRedirect redirects after a form, with a notice for the next page.
func mcqRedirect(c echo.Context, path, notice string) error {
	if notice != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "done=" + url.QueryEscape(notice)
	}
	return c.Redirect(http.StatusSeeOther, path)
}

// mcqUserNames maps the user ids to names, for pages that list people.
func (s *Server) mcqUserNames(ctx context.Context, ids ...string) (map[string]string, error) {
	return s.deps.Accounts.Users.Names(ctx, ids)
}

// ukInput and ukLabel show times as people in the UK read them: in a datetime-local field,
// and in a sentence.
func ukInput(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(ukTime).Format("2006-01-02T15:04")
}

func ukLabel(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(ukTime).Format("2 January 2006, 15:04")
}

// timeOf reads a time or a pointer to one (nil is the zero time), for templates.
func timeOf(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t
	case *time.Time:
		if t != nil {
			return *t
		}
	}
	return time.Time{}
}

func ukClock(v any) string { return timeOf(v).In(ukTime).Format("15:04") }

func isoTime(v any) string { return timeOf(v).UTC().Format(time.RFC3339Nano) }

// duration says a number of seconds in words: "45 minutes", "1 hour 30 minutes".
func durationWords(seconds int) string {
	if seconds <= 0 {
		return "no limit"
	}
	h, m, sec := seconds/3600, seconds%3600/60, seconds%60
	var parts []string
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.Itoa(n) + " " + unit + "s"
	}
	if h > 0 {
		parts = append(parts, plural(h, "hour"))
	}
	if m > 0 {
		parts = append(parts, plural(m, "minute"))
	}
	if sec > 0 {
		parts = append(parts, plural(sec, "second"))
	}
	return strings.Join(parts, " ")
}

func percentLabel(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(f, 'f', 1, 64), "0"), ".") + "%"
}

func reviewLabel(l assessment.ReviewLevel) string {
	switch l {
	case assessment.ReviewScore:
		return "The score"
	case assessment.ReviewAnswers:
		return "The score and the right answers"
	case assessment.ReviewFeedback:
		return "The score, the right answers and the feedback"
	}
	return "Nothing"
}

// reviewLevels are the choices of the review options, least first.
var reviewLevels = []assessment.ReviewLevel{assessment.ReviewNone, assessment.ReviewScore, assessment.ReviewAnswers, assessment.ReviewFeedback}

func init() {
	viewFuncs["ukLabel"] = ukLabel
	viewFuncs["ukClock"] = ukClock
	viewFuncs["isoTime"] = isoTime
	viewFuncs["durationWords"] = durationWords
	viewFuncs["percentLabel"] = percentLabel
	viewFuncs["reviewLabel"] = reviewLabel
	viewFuncs["optionLabel"] = assessment.Label
	viewFuncs["mcqTime"] = timeOf
	viewFuncs["sub"] = func(a, b int) int { return a - b }
	viewFuncs["mcqChosen"] = func(p *int, i int) bool { return p != nil && *p == i }
	viewFuncs["mcqTrue"] = func(p *bool) bool { return p != nil && *p }
	viewFuncs["mcqInt"] = func(p *int) int {
		if p == nil {
			return -1
		}
		return *p
	}
	viewFuncs["mcqFloat"] = func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	viewFuncs["fixed2"] = func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
	viewFuncs["groupCount"] = groupCount
	viewFuncs["optFixed2"] = func(f *float64) string {
		if f == nil {
			return "not available"
		}
		return strconv.FormatFloat(*f, 'f', 2, 64)
	}
}

// The index of assessments.

type bankRow struct {
	Bank      assessment.Bank
	Questions int
}

type assessmentRow struct {
	Assessment assessment.Assessment
	BankName   string
	CohortName string
}

type assessmentsIndexData struct {
	Staff       bool
	Trainee     bool
	Banks       []bankRow
	Assessments []assessmentRow
	Mine        []traineeAssessment
}

func (s *Server) assessmentsIndex(c echo.Context) (assessmentsIndexData, error) {
	ctx := c.Request().Context()
	u := currentUser(c)
	d := assessmentsIndexData{Staff: isAssessmentStaff(u), Trainee: u.Role == accounts.RoleTrainee}
	switch {
	case d.Trainee:
		mine, err := s.traineeAssessments(ctx, u)
		if err != nil {
			return d, err
		}
		d.Mine = mine
	case d.Staff:
		banks, err := s.deps.Assessments.Banks(ctx, actor(c))
		if err != nil {
			return d, err
		}
		bankNames := map[string]string{}
		for _, b := range banks {
			qs, err := s.deps.Assessments.Questions(ctx, actor(c), b.ID)
			if err != nil {
				return d, err
			}
			d.Banks = append(d.Banks, bankRow{Bank: b, Questions: len(qs)})
			bankNames[b.ID] = b.Name
		}
		as, err := s.deps.Assessments.Assessments(ctx, actor(c))
		if err != nil {
			return d, err
		}
		cohorts, err := s.cohortNames(ctx)
		if err != nil {
			return d, err
		}
		for _, a := range as {
			d.Assessments = append(d.Assessments, assessmentRow{Assessment: a, BankName: bankNames[a.BankID], CohortName: cohorts[a.CohortID]})
		}
	}
	return d, nil
}

func (s *Server) cohortNames(ctx context.Context) (map[string]string, error) {
	cs, err := s.deps.Courses.Cohorts(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, co := range cs {
		names[co.ID] = co.Name
	}
	return names, nil
}

func (s *Server) assessmentsPage(c echo.Context) error {
	d, err := s.assessmentsIndex(c)
	if err != nil {
		return err
	}
	return s.render(c, "assessments", pageData{Title: "Assessments", Nav: "assessments", Notice: c.QueryParam("done"), Data: d})
}

func (s *Server) bankCreate(c echo.Context) error {
	if err := staffOnly(c); err != nil {
		return err
	}
	name := c.FormValue("name")
	b, err := s.deps.Assessments.CreateBank(c.Request().Context(), actor(c), name)
	if err == nil {
		return mcqRedirect(c, "/banks/"+b.ID, "Created the question bank "+b.Name+".")
	}
	errs, err := formErrors(err, map[string]string{"name": "bank-name", "": "bank-name"})
	if err != nil {
		return err
	}
	d, err := s.assessmentsIndex(c)
	if err != nil {
		return err
	}
	return s.renderStatus(c, http.StatusBadRequest, "assessments", pageData{Title: "Assessments", Nav: "assessments", Errors: errs,
		Values: map[string]string{"bank-name": name}, Data: d})
}

// Banks and their questions.

type bankPageData struct {
	Bank      assessment.Bank
	Questions []assessment.Question
	Imported  int
	Problems  []assessment.ImportError
	Tried     bool
}

func (s *Server) bankData(c echo.Context) (bankPageData, error) {
	if err := staffOnly(c); err != nil {
		return bankPageData{}, err
	}
	ctx := c.Request().Context()
	b, err := s.deps.Assessments.Bank(ctx, actor(c), c.Param("bank"))
	if err != nil {
		return bankPageData{}, err
	}
	qs, err := s.deps.Assessments.Questions(ctx, actor(c), b.ID)
	if err != nil {
		return bankPageData{}, err
	}
	return bankPageData{Bank: b, Questions: qs}, nil
}

func (s *Server) bankPage(c echo.Context) error {
	d, err := s.bankData(c)
	if err != nil {
		return err
	}
	return s.render(c, "bank", pageData{Title: d.Bank.Name, Nav: "assessments", Notice: c.QueryParam("done"),
		Values: map[string]string{"import-format": "aiken"}, Data: d})
}

// bankImport stores the questions of an uploaded file: all of them or, when the form says
// to skip what is not valid, the valid ones; every problem is listed with its line.
func (s *Server) bankImport(c echo.Context) error {
	d, err := s.bankData(c)
	if err != nil {
		return err
	}
	vals := map[string]string{"import-format": c.FormValue("format")}
	if c.FormValue("skipInvalid") != "" {
		vals["import-skip"] = "on"
	}
	fail := func(field, msg string) error {
		return s.renderStatus(c, http.StatusBadRequest, "bank", pageData{Title: d.Bank.Name, Nav: "assessments", Values: vals,
			Errors: []fieldError{{Field: field, Message: msg}}, Data: d})
	}
	format, err := assessment.ParseFormat(c.FormValue("format"))
	if err != nil {
		return fail("import-format-aiken", "Choose the format of the file: Aiken, GIFT or Markdown.")
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return fail("import-file", "Choose a file of questions to import.")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, assessment.MaxImportBytes+1))
	if err != nil {
		return err
	}
	if len(src) > assessment.MaxImportBytes {
		return fail("import-file", fmt.Sprintf("The file is larger than %d MiB.", assessment.MaxImportBytes>>20))
	}
	res, err := s.deps.Assessments.Import(c.Request().Context(), actor(c), d.Bank.ID, format, src, assessment.ImportOptions{SkipInvalid: vals["import-skip"] != ""})
	if err != nil {
		errs, err := formErrors(err, map[string]string{"format": "import-format-aiken", "": "import-file"})
		if err != nil {
			return err
		}
		return s.renderStatus(c, http.StatusBadRequest, "bank", pageData{Title: d.Bank.Name, Nav: "assessments", Values: vals, Errors: errs, Data: d})
	}
	if len(res.Errors) == 0 {
		return mcqRedirect(c, "/banks/"+d.Bank.ID, fmt.Sprintf("Imported %d question(s) from %s.", res.Imported, fh.Filename))
	}
	if d.Questions, err = s.deps.Assessments.Questions(c.Request().Context(), actor(c), d.Bank.ID); err != nil {
		return err
	}
	d.Tried, d.Imported, d.Problems = true, res.Imported, res.Errors
	status, notice := http.StatusUnprocessableEntity, ""
	errs := []fieldError{{Field: "import-file", Message: fmt.Sprintf("The file has %d problem(s), so nothing was imported. Each is listed by its line below.", len(res.Errors))}}
	if res.Imported > 0 {
		status, errs = http.StatusOK, nil
		notice = fmt.Sprintf("Imported %d question(s); %d could not be read and were skipped: see the list below.", res.Imported, len(res.Errors))
	}
	return s.renderStatus(c, status, "bank", pageData{Title: d.Bank.Name, Nav: "assessments", Values: vals, Errors: errs, Notice: notice, Data: d})
}

// mcqOptionRow is one option in the question editor.
type mcqOptionRow struct {
	Index    int
	Label    string
	Text     string
	Feedback string
}

// questionForm is the question editor as typed.
type questionForm struct {
	Bank         assessment.Bank
	QuestionID   string
	BaseRevision int
	Right        int
	Options      []mcqOptionRow
	Preview      *assessment.QuestionHTML
	History      []mcqRevisionLine
	Current      *assessment.Question
	CurrentHTML  *assessment.QuestionHTML
}

type mcqRevisionLine struct {
	Question assessment.Question
	By       string
}

const defaultOptionRows = 5

func formFromQuestion(in assessment.QuestionInput) (questionForm, map[string]string) {
	f := questionForm{Right: -1}
	for i, o := range in.Options {
		f.Options = append(f.Options, mcqOptionRow{Index: i, Label: assessment.Label(i), Text: o.Text, Feedback: o.Feedback})
		if o.Right {
			f.Right = i
		}
	}
	for len(f.Options) < defaultOptionRows {
		i := len(f.Options)
		f.Options = append(f.Options, mcqOptionRow{Index: i, Label: assessment.Label(i)})
	}
	vals := map[string]string{"question-name": in.Name, "question-stem": in.Stem, "question-explanation": in.Explanation,
		"question-tags": strings.Join(in.Tags, ", ")}
	return f, vals
}

// questionFromForm reads the editor: the rows left empty are not options. kept[k] is the
// row of the k-th option, to put an error about it next to the right field.
func questionFromForm(c echo.Context) (in assessment.QuestionInput, f questionForm, vals map[string]string, kept []int) {
	rows, _ := strconv.Atoi(c.FormValue("rows"))
	rows = min(max(rows, assessment.MinOptions), assessment.MaxOptions)
	if c.FormValue("action") == "more" && rows < assessment.MaxOptions {
		rows++
	}
	f.Right = -1
	if r, err := strconv.Atoi(c.FormValue("right")); err == nil && r >= 0 && r < rows {
		f.Right = r
	}
	in = assessment.QuestionInput{Name: c.FormValue("name"), Stem: c.FormValue("stem"), Explanation: c.FormValue("explanation")}
	for _, t := range strings.Split(c.FormValue("tags"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			in.Tags = append(in.Tags, t)
		}
	}
	for i := range rows {
		row := mcqOptionRow{Index: i, Label: assessment.Label(i), Text: c.FormValue(fmt.Sprintf("option%d", i)), Feedback: c.FormValue(fmt.Sprintf("feedback%d", i))}
		f.Options = append(f.Options, row)
		if strings.TrimSpace(row.Text) == "" && strings.TrimSpace(row.Feedback) == "" && i != f.Right {
			continue
		}
		in.Options = append(in.Options, assessment.Option{Text: row.Text, Feedback: row.Feedback, Right: i == f.Right})
		kept = append(kept, i)
	}
	f.Options, f.Right, kept = compactOptions(f.Options, f.Right, kept)
	vals = map[string]string{"question-name": in.Name, "question-stem": in.Stem, "question-explanation": in.Explanation,
		"question-tags": c.FormValue("tags")}
	return in, f, vals, kept
}

// compactOptions moves the written options up, in order, ahead of the empty rows, so the
// form letters them as the question will (a message about option B is about the row
// labelled B); right and kept follow the rows.
func compactOptions(rows []mcqOptionRow, right int, kept []int) ([]mcqOptionRow, int, []int) {
	used := map[int]bool{}
	out := make([]mcqOptionRow, 0, len(rows))
	newRight := -1
	for _, i := range kept {
		used[i] = true
		if i == right {
			newRight = len(out)
		}
		out = append(out, rows[i])
	}
	for i, row := range rows {
		if !used[i] {
			out = append(out, row)
		}
	}
	newKept := make([]int, len(kept))
	for k := range out {
		out[k].Index, out[k].Label = k, assessment.Label(k)
		if k < len(kept) {
			newKept[k] = k
		}
	}
	return out, newRight, newKept
}

// questionFieldIDs maps the store's field names to the editor's fields.
func questionFieldIDs(kept []int) map[string]string {
	ids := map[string]string{"name": "question-name", "stem": "question-stem", "explanation": "question-explanation",
		"tags": "question-tags", "options": "option-0-text", "baseRevision": "question-stem", "": "question-stem"}
	for k, row := range kept {
		for _, part := range []string{"text", "feedback"} {
			ids[fmt.Sprintf("options[%d].%s", k, part)] = fmt.Sprintf("option-%d-%s", row, part)
		}
		ids[fmt.Sprintf("options[%d].right", k)] = "right-0"
	}
	for k := range 20 {
		ids[fmt.Sprintf("tags[%d]", k)] = "question-tags"
	}
	return ids
}

// preview renders what the editor holds with the same safe renderer as a saved question.
func mcqPreview(in assessment.QuestionInput) *assessment.QuestionHTML {
	h := assessment.Question{Stem: in.Stem, Options: in.Options, Explanation: in.Explanation}.Render()
	return &h
}

func (s *Server) questionNew(c echo.Context) error {
	d, err := s.bankData(c)
	if err != nil {
		return err
	}
	f, vals := formFromQuestion(assessment.QuestionInput{})
	f.Bank = d.Bank
	return s.render(c, "question_edit", pageData{Title: "Add a question", Nav: "assessments", Values: vals, Data: f})
}

func (s *Server) questionAdd(c echo.Context) error {
	d, err := s.bankData(c)
	if err != nil {
		return err
	}
	in, f, vals, kept := questionFromForm(c)
	f.Bank = d.Bank
	page := pageData{Title: "Add a question", Nav: "assessments", Values: vals, Data: &f}
	if a := c.FormValue("action"); a == "preview" || a == "more" {
		if a == "preview" {
			f.Preview = mcqPreview(in)
		}
		return s.render(c, "question_edit", page)
	}
	q, err := s.deps.Assessments.AddQuestion(c.Request().Context(), actor(c), d.Bank.ID, in)
	if err == nil {
		return mcqRedirect(c, "/banks/"+d.Bank.ID, "Added the question "+q.Name+".")
	}
	if page.Errors, err = formErrors(err, questionFieldIDs(kept)); err != nil {
		return err
	}
	return s.renderStatus(c, http.StatusBadRequest, "question_edit", page)
}

// questionData loads a question for the editor, with its bank and history.
func (s *Server) questionData(c echo.Context) (assessment.Question, questionForm, error) {
	if err := staffOnly(c); err != nil {
		return assessment.Question{}, questionForm{}, err
	}
	ctx := c.Request().Context()
	q, err := s.deps.Assessments.Question(ctx, actor(c), c.Param("id"))
	if err != nil {
		return q, questionForm{}, err
	}
	b, err := s.deps.Assessments.Bank(ctx, actor(c), q.BankID)
	if err != nil {
		return q, questionForm{}, err
	}
	hist, err := s.deps.Assessments.QuestionHistory(ctx, actor(c), q.ID)
	if err != nil {
		return q, questionForm{}, err
	}
	var savers []string
	for _, h := range hist {
		savers = append(savers, h.SavedBy)
	}
	names, err := s.mcqUserNames(ctx, savers...)
	if err != nil {
		return q, questionForm{}, err
	}
	f := questionForm{Bank: b, QuestionID: q.ID, BaseRevision: q.Revision}
	for i := len(hist) - 1; i >= 0; i-- {
		f.History = append(f.History, mcqRevisionLine{Question: hist[i], By: names[hist[i].SavedBy]})
	}
	return q, f, nil
}

func (s *Server) questionPage(c echo.Context) error {
	q, base, err := s.questionData(c)
	if err != nil {
		return err
	}
	f, vals := formFromQuestion(q.Input())
	f.Bank, f.QuestionID, f.BaseRevision, f.History = base.Bank, q.ID, q.Revision, base.History
	f.Preview = mcqPreview(q.Input())
	return s.render(c, "question_edit", pageData{Title: "Question: " + q.Name, Nav: "assessments", Notice: c.QueryParam("done"), Values: vals, Data: f})
}

func (s *Server) questionRevise(c echo.Context) error {
	q, base, err := s.questionData(c)
	if err != nil {
		return err
	}
	in, f, vals, kept := questionFromForm(c)
	f.Bank, f.QuestionID, f.History = base.Bank, q.ID, base.History
	f.BaseRevision, _ = strconv.Atoi(c.FormValue("baseRevision"))
	page := pageData{Title: "Question: " + q.Name, Nav: "assessments", Values: vals, Data: &f}
	if a := c.FormValue("action"); a == "preview" || a == "more" {
		if a == "preview" {
			f.Preview = mcqPreview(in)
		}
		return s.render(c, "question_edit", page)
	}
	saved, err := s.deps.Assessments.ReviseQuestion(c.Request().Context(), actor(c), q.ID, f.BaseRevision, in)
	if err == nil {
		return mcqRedirect(c, "/questions/"+q.ID, fmt.Sprintf("Saved revision %d.", saved.Revision))
	}
	if errors.Is(err, failure.ErrConflict) {
		// Someone saved meanwhile: keep what was typed, show theirs, and base the next save
		// on theirs.
		cur := q
		h := cur.Render()
		f.Current, f.CurrentHTML, f.BaseRevision = &cur, &h, cur.Revision
		_, msg, _ := classify(err)
		page.Errors = []fieldError{{Field: "question-stem", Message: sentence(msg) + " Your text is still in the form; the latest revision is shown below it."}}
		return s.renderStatus(c, http.StatusConflict, "question_edit", page)
	}
	if page.Errors, err = formErrors(err, questionFieldIDs(kept)); err != nil {
		return err
	}
	return s.renderStatus(c, http.StatusBadRequest, "question_edit", page)
}

type questionRevisionData struct {
	Question assessment.Question
	HTML     assessment.QuestionHTML
	By       string
	Latest   int
}

func (s *Server) questionRevisionPage(c echo.Context) error {
	q, base, err := s.questionData(c)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil {
		return failure.ErrNotFound
	}
	for _, h := range base.History {
		if h.Question.Revision == n {
			d := questionRevisionData{Question: h.Question, HTML: h.Question.Render(), By: h.By, Latest: q.Revision}
			return s.render(c, "question_revision", pageData{Title: fmt.Sprintf("%s (revision %d)", q.Name, n), Nav: "assessments", Data: d})
		}
	}
	return failure.ErrNotFound
}

// Assessment settings.

type questionChoice struct {
	Question assessment.Question
	Checked  bool
}

type mcqDrawRow struct {
	Index int
	Tag   string
	Count string
}

type mcqTagCount struct {
	Tag   string
	Count int
}

// assessmentForm is the setup form as typed.
type assessmentForm struct {
	New              bool
	ID               string
	BaseVersion      int
	Banks            []assessment.Bank
	Bank             assessment.Bank
	Questions        []questionChoice
	Tags             []mcqTagCount
	Draws            []mcqDrawRow
	Cohorts          []courses.Cohort
	CohortID         string
	ShuffleQuestions bool
	ShuffleOptions   bool
	ReviewAfter      assessment.ReviewLevel
	ReviewClose      assessment.ReviewLevel
	Levels           []assessment.ReviewLevel
}

const drawRows = 3

// setupForm fills the choices of the form for the bank: its questions, their tags, the
// cohorts.
func (s *Server) setupForm(ctx context.Context, c echo.Context, f *assessmentForm, bankID string, fixed []string) error {
	b, err := s.deps.Assessments.Bank(ctx, actor(c), bankID)
	if err != nil {
		return err
	}
	qs, err := s.deps.Assessments.Questions(ctx, actor(c), b.ID)
	if err != nil {
		return err
	}
	chosen := map[string]bool{}
	for _, id := range fixed {
		chosen[id] = true
	}
	tags := map[string]int{}
	f.Bank, f.Questions = b, nil
	for _, q := range qs {
		f.Questions = append(f.Questions, questionChoice{Question: q, Checked: chosen[q.ID]})
		for _, t := range q.Tags {
			tags[t]++
		}
	}
	f.Tags = nil
	for t, n := range tags {
		f.Tags = append(f.Tags, mcqTagCount{t, n})
	}
	sort.Slice(f.Tags, func(i, j int) bool { return f.Tags[i].Tag < f.Tags[j].Tag })
	for len(f.Draws) < drawRows {
		f.Draws = append(f.Draws, mcqDrawRow{Index: len(f.Draws)})
	}
	if f.Cohorts, err = s.deps.Courses.Cohorts(ctx); err != nil {
		return err
	}
	f.Levels = reviewLevels
	return nil
}

func settingsValues(in assessment.AssessmentInput) map[string]string {
	minutes := ""
	if in.TimeLimitSeconds > 0 {
		minutes = strconv.FormatFloat(float64(in.TimeLimitSeconds)/60, 'f', -1, 64)
	}
	return map[string]string{
		"assessment-title": in.Title, "assessment-opens": ukInput(in.Opens), "assessment-closes": ukInput(in.Closes),
		"assessment-time-limit": minutes, "assessment-grace": strconv.Itoa(in.GraceSeconds),
		"assessment-attempts": strconv.Itoa(in.AttemptsAllowed), "assessment-pass-mark": strconv.FormatFloat(in.PassMark, 'f', -1, 64),
	}
}

func (s *Server) assessmentNew(c echo.Context) error {
	if err := staffOnly(c); err != nil {
		return err
	}
	ctx := c.Request().Context()
	f := assessmentForm{New: true, ReviewAfter: assessment.ReviewScore, ReviewClose: assessment.ReviewFeedback}
	bankID := c.QueryParam("bank")
	if bankID == "" {
		banks, err := s.deps.Assessments.Banks(ctx, actor(c))
		if err != nil {
			return err
		}
		f.Banks = banks
		return s.render(c, "assessment_edit", pageData{Title: "Set up an assessment", Nav: "assessments", Data: f})
	}
	if err := s.setupForm(ctx, c, &f, bankID, nil); err != nil {
		return err
	}
	vals := settingsValues(assessment.AssessmentInput{GraceSeconds: 30, AttemptsAllowed: 1, PassMark: 60})
	return s.render(c, "assessment_edit", pageData{Title: "Set up an assessment", Nav: "assessments", Values: vals, Data: f})
}

// settingsFromForm reads the setup form. kept[k] is the draw row of the k-th draw.
func settingsFromForm(c echo.Context) (in assessment.AssessmentInput, f assessmentForm, vals map[string]string, kept []int, err error) {
	form, ferr := c.FormParams()
	if ferr != nil {
		return in, f, nil, nil, failure.Invalid("", "the form could not be read")
	}
	in = assessment.AssessmentInput{
		Title: form.Get("title"), BankID: form.Get("bankId"), CohortID: form.Get("cohortId"), Questions: form["questions"],
		ShuffleQuestions: form.Get("shuffleQuestions") != "", ShuffleOptions: form.Get("shuffleOptions") != "",
		ReviewAfterAttempt: assessment.ReviewLevel(form.Get("reviewAfterAttempt")), ReviewAfterClose: assessment.ReviewLevel(form.Get("reviewAfterClose")),
	}
	f = assessmentForm{CohortID: in.CohortID, ShuffleQuestions: in.ShuffleQuestions, ShuffleOptions: in.ShuffleOptions,
		ReviewAfter: in.ReviewAfterAttempt, ReviewClose: in.ReviewAfterClose}
	f.BaseVersion, _ = strconv.Atoi(form.Get("baseVersion"))
	vals = map[string]string{
		"assessment-title": in.Title, "assessment-opens": form.Get("opens"), "assessment-closes": form.Get("closes"),
		"assessment-time-limit": form.Get("timeLimitMinutes"), "assessment-grace": form.Get("graceSeconds"),
		"assessment-attempts": form.Get("attemptsAllowed"), "assessment-pass-mark": form.Get("passMark"),
	}
	var errs []error
	for i := range drawRows {
		row := mcqDrawRow{Index: i, Tag: form.Get(fmt.Sprintf("drawTag%d", i)), Count: form.Get(fmt.Sprintf("drawCount%d", i))}
		f.Draws = append(f.Draws, row)
		if strings.TrimSpace(row.Tag) == "" && strings.TrimSpace(row.Count) == "" {
			continue
		}
		n, cerr := strconv.Atoi(strings.TrimSpace(row.Count))
		if cerr != nil {
			errs = append(errs, failure.Problemf(fmt.Sprintf("draws[%d].count", len(kept)), "Enter how many questions to draw for draw %d, as a whole number", len(kept)+1))
		}
		in.Draws = append(in.Draws, assessment.Draw{Tag: row.Tag, Count: n})
		kept = append(kept, i)
	}
	when := func(field, v string) time.Time {
		if strings.TrimSpace(v) == "" {
			return time.Time{}
		}
		t, perr := time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(v), ukTime)
		if perr != nil {
			errs = append(errs, failure.Problemf(field, "Enter the %s time as a real date and time, like 2027-03-01 09:30", map[string]string{"opens": "opening", "closes": "closing"}[field]))
		}
		return t
	}
	in.Opens, in.Closes = when("opens", form.Get("opens")), when("closes", form.Get("closes"))
	whole := func(field, v, what string) int {
		v = strings.TrimSpace(v)
		if v == "" {
			return 0
		}
		n, perr := strconv.Atoi(v)
		if perr != nil {
			errs = append(errs, failure.Problemf(field, "Enter %s as a whole number", what))
		}
		return n
	}
	if m := strings.TrimSpace(form.Get("timeLimitMinutes")); m != "" {
		minutes, perr := strconv.ParseFloat(m, 64)
		if perr != nil || minutes < 0 {
			errs = append(errs, failure.Problem("timeLimitSeconds", "Enter the time limit in minutes, or leave it empty for none"))
		}
		in.TimeLimitSeconds = int(minutes * 60)
	}
	in.GraceSeconds = whole("graceSeconds", form.Get("graceSeconds"), "the grace period in seconds")
	in.AttemptsAllowed = whole("attemptsAllowed", form.Get("attemptsAllowed"), "the number of attempts")
	if pm := strings.TrimSpace(form.Get("passMark")); pm != "" {
		v, perr := strconv.ParseFloat(strings.TrimSuffix(pm, "%"), 64)
		if perr != nil {
			errs = append(errs, failure.Problem("passMark", "Enter the pass mark as a percentage, like 60"))
		}
		in.PassMark = v
	}
	return in, f, vals, kept, failure.Problems(errs...)
}

func settingsFieldIDs(kept []int, f assessmentForm) map[string]string {
	ids := map[string]string{"title": "assessment-title", "bankId": "assessment-title", "cohortId": "assessment-cohort",
		"opens": "assessment-opens", "closes": "assessment-closes", "timeLimitSeconds": "assessment-time-limit",
		"graceSeconds": "assessment-grace", "attemptsAllowed": "assessment-attempts", "passMark": "assessment-pass-mark",
		"reviewAfterAttempt": "review-after-attempt", "reviewAfterClose": "review-after-close",
		"baseVersion": "assessment-title", "": "assessment-title", "questions": "draw-0-tag"}
	if len(f.Questions) > 0 {
		ids["questions"] = "question-0"
	}
	for k := range maxFixedErrors {
		ids[fmt.Sprintf("questions[%d]", k)] = ids["questions"]
	}
	for k, row := range kept {
		ids[fmt.Sprintf("draws[%d].tag", k)] = fmt.Sprintf("draw-%d-tag", row)
		ids[fmt.Sprintf("draws[%d].count", k)] = fmt.Sprintf("draw-%d-count", row)
	}
	return ids
}

const maxFixedErrors = 200

func (s *Server) assessmentCreate(c echo.Context) error {
	if err := staffOnly(c); err != nil {
		return err
	}
	ctx := c.Request().Context()
	in, f, vals, kept, err := settingsFromForm(c)
	f.New = true
	if err == nil {
		var a assessment.Assessment
		if a, err = s.deps.Assessments.CreateAssessment(ctx, actor(c), in); err == nil {
			s.notifyAssessment(ctx, a)
			return mcqRedirect(c, "/assessments/"+a.ID, "Set up the assessment "+a.Title+".")
		}
	} else {
		err = joinProblems([]error{err}, s.deps.Assessments.CheckSettings(ctx, actor(c), in))
	}
	return s.settingsError(c, err, in, f, vals, kept)
}

// settingsError shows the setup form again with what was typed and what is wrong.
func (s *Server) settingsError(c echo.Context, err error, in assessment.AssessmentInput, f assessmentForm, vals map[string]string, kept []int) error {
	ctx := c.Request().Context()
	if serr := s.setupForm(ctx, c, &f, in.BankID, in.Questions); serr != nil {
		if errors.Is(serr, failure.ErrNotFound) {
			return failure.Invalid("bankId", "choose a question bank")
		}
		return serr
	}
	status := http.StatusBadRequest
	if errors.Is(err, failure.ErrConflict) {
		status = http.StatusConflict
	}
	errs, err := formErrors(err, settingsFieldIDs(kept, f))
	if err != nil {
		return err
	}
	title := "Set up an assessment"
	if !f.New {
		title = "Change the assessment"
	}
	return s.renderStatus(c, status, "assessment_edit", pageData{Title: title, Nav: "assessments", Errors: errs, Values: vals, Data: f})
}

func (s *Server) assessmentEdit(c echo.Context) error {
	if err := staffOnly(c); err != nil {
		return err
	}
	ctx := c.Request().Context()
	a, err := s.deps.Assessments.Assessment(ctx, actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	f := assessmentForm{ID: a.ID, BaseVersion: a.Version, CohortID: a.CohortID, ShuffleQuestions: a.ShuffleQuestions,
		ShuffleOptions: a.ShuffleOptions, ReviewAfter: a.ReviewAfterAttempt, ReviewClose: a.ReviewAfterClose}
	for i, d := range a.Draws {
		f.Draws = append(f.Draws, mcqDrawRow{Index: i, Tag: d.Tag, Count: strconv.Itoa(d.Count)})
	}
	if err := s.setupForm(ctx, c, &f, a.BankID, a.Questions); err != nil {
		return err
	}
	return s.render(c, "assessment_edit", pageData{Title: "Change the assessment", Nav: "assessments", Values: settingsValues(a.AssessmentInput), Data: f})
}

func (s *Server) assessmentUpdate(c echo.Context) error {
	if err := staffOnly(c); err != nil {
		return err
	}
	ctx := c.Request().Context()
	cur, err := s.deps.Assessments.Assessment(ctx, actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	in, f, vals, kept, err := settingsFromForm(c)
	f.ID, in.BankID = cur.ID, cur.BankID
	if err == nil {
		var a assessment.Assessment
		if a, err = s.deps.Assessments.UpdateAssessment(ctx, actor(c), cur.ID, f.BaseVersion, in); err == nil {
			s.notifyAssessment(ctx, a)
			return mcqRedirect(c, "/assessments/"+a.ID, fmt.Sprintf("Saved version %d of the settings.", a.Version))
		}
	} else {
		err = joinProblems([]error{err}, s.deps.Assessments.CheckSettings(ctx, actor(c), in))
	}
	if errors.Is(err, failure.ErrConflict) {
		f.BaseVersion = cur.Version
	}
	return s.settingsError(c, err, in, f, vals, kept)
}

// One assessment: its settings for staff, what a trainee may know and their attempts.

type assessmentPageData struct {
	Staff      bool
	Admin      bool
	Assessment assessment.Assessment
	BankName   string
	CohortName string
	Fixed      []assessment.Question
	Mine       *traineeAssessment
}

func (s *Server) assessmentPage(c echo.Context) error {
	d, err := s.assessmentPageData(c)
	if err != nil {
		return err
	}
	title := d.Assessment.Title
	if d.Mine != nil {
		title = d.Mine.Title
	}
	return s.render(c, "assessment", pageData{Title: title, Nav: "assessments", Notice: c.QueryParam("done"), Data: d})
}

func (s *Server) assessmentPageData(c echo.Context) (assessmentPageData, error) {
	ctx := c.Request().Context()
	u := currentUser(c)
	id := c.Param("id")
	d := assessmentPageData{Staff: isAssessmentStaff(u), Admin: u.Role == accounts.RoleAdmin}
	switch {
	case u.Role == accounts.RoleTrainee:
		mine, err := s.traineeAssessments(ctx, u)
		if err != nil {
			return d, err
		}
		for i := range mine {
			if mine[i].ID == id {
				d.Mine = &mine[i]
				return d, nil
			}
		}
		return d, failure.ErrNotFound
	case d.Staff:
		a, err := s.deps.Assessments.Assessment(ctx, actor(c), id)
		if err != nil {
			return d, err
		}
		d.Assessment = a
		if b, err := s.deps.Assessments.Bank(ctx, actor(c), a.BankID); err == nil {
			d.BankName = b.Name
		}
		if a.CohortID != "" {
			if co, err := s.deps.Courses.Cohort(ctx, a.CohortID); err == nil {
				d.CohortName = co.Name
			}
		}
		qs, err := s.deps.Assessments.Questions(ctx, actor(c), a.BankID)
		if err != nil {
			return d, err
		}
		byID := map[string]assessment.Question{}
		for _, q := range qs {
			byID[q.ID] = q
		}
		for _, qid := range a.Questions {
			if q, ok := byID[qid]; ok {
				d.Fixed = append(d.Fixed, q)
			}
		}
		return d, nil
	}
	return d, failure.ErrNotFound
}

// attemptStart starts the trainee's attempt, or opens the one they have open.
func (s *Server) attemptStart(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	if u.Role != accounts.RoleTrainee {
		return failure.ErrNotFound
	}
	info, err := s.deps.Assessments.AssessmentInfo(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.checkSitter(ctx, u, info); err != nil {
		return err
	}
	v, err := s.deps.Assessments.Start(ctx, actor(c), info.ID)
	var conflict *failure.ConflictError
	if errors.As(err, &conflict) {
		d, derr := s.assessmentPageData(c)
		if derr != nil {
			return derr
		}
		return s.renderStatus(c, http.StatusConflict, "assessment", pageData{Title: info.Title, Nav: "assessments",
			Errors: []fieldError{{Message: sentence(conflict.Message)}}, Data: d})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/attempts/"+url.PathEscape(v.ID))
}
