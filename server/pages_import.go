package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/roster"
)

func (s *Server) importRoutes() {
	s.add(http.MethodGet, "/cohorts/:id/import", AdminOnly, s.importPage)
	s.add(http.MethodPost, "/cohorts/:id/import", AdminOnly, s.importPost)
	s.add(http.MethodGet, "/cohorts/:id/people.csv", AdminOnly, s.exportPeople)
	s.add(http.MethodPost, "/api/v1/cohorts/:id/people", AdminOnly, s.apiImportPeople)
	s.add(http.MethodGet, "/api/v1/cohorts/:id/people", AdminOnly, s.exportPeople)
}

// maxImportBytes bounds a file: 2,000 people fit in far less.
const maxImportBytes = 512 << 10

// rosterStores are the stores an import works on, with invitations sent as the pages send
// them: emailed, or a link for the administrator where no email is set up.
func (s *Server) rosterStores(c echo.Context) roster.Stores {
	return roster.Stores{Accounts: s.deps.Accounts, Courses: s.deps.Courses, Audit: s.deps.Audit,
		Invite: func(ctx context.Context, u accounts.User) (roster.Invitation, error) {
			inv, _, err := s.invite(c, u.ID)
			return roster.Invitation{Email: u.Email, Name: u.Name, Emailed: inv.Emailed, Link: inv.Link}, err
		}}
}

// importStep is one row of the preview, in the page's words.
type importStep struct {
	roster.Step
	What string
}

type importData struct {
	Cohort   courses.Cohort
	CSV      string
	Problems []string
	Steps    []importStep
	Changes  bool
	Summary  string
	Result   *roster.Result
	Columns  []string
}

func (s *Server) importCohort(c echo.Context) (courses.Cohort, error) {
	return s.deps.Courses.Cohort(c.Request().Context(), c.Param("id"))
}

func (s *Server) importPage(c echo.Context) error {
	co, err := s.importCohort(c)
	if err != nil {
		return err
	}
	return s.render(c, "import", pageData{Title: "Import people into " + co.Name, Nav: "admin", Data: importData{Cohort: co, Columns: roster.Columns}})
}

// importText is the file the form sent: an upload, or text pasted or carried from the preview.
func importText(c echo.Context) (string, error) {
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		if fh.Size > maxImportBytes {
			return "", fmt.Errorf("the file is larger than %d KB", maxImportBytes>>10)
		}
		f, err := fh.Open()
		if err != nil {
			return "", err
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxImportBytes+1))
		return string(b), err
	}
	return c.FormValue("csv"), nil
}

// preview parses and plans the file; problems come back as the list the page shows.
func (s *Server) preview(ctx context.Context, st roster.Stores, cohortID, text string) (roster.Plan, []string, error) {
	rows, err := roster.Parse(strings.NewReader(text))
	var ps roster.Problems
	if errors.As(err, &ps) {
		return roster.Plan{}, ps, nil
	}
	if err != nil {
		return roster.Plan{}, nil, err
	}
	plan, err := roster.MakePlan(ctx, st.World(), cohortID, rows)
	if errors.As(err, &ps) {
		return roster.Plan{}, ps, nil
	}
	return plan, nil, err
}

func (s *Server) importPost(c echo.Context) error {
	ctx := c.Request().Context()
	co, err := s.importCohort(c)
	if err != nil {
		return err
	}
	d := importData{Cohort: co, Columns: roster.Columns}
	title := "Import people into " + co.Name
	text, err := importText(c)
	if err != nil {
		d.Problems = []string{"The file could not be read: " + err.Error()}
		return s.renderStatus(c, http.StatusBadRequest, "import", pageData{Title: title, Nav: "admin", Data: d,
			Errors: []fieldError{{Field: "import-file", Message: d.Problems[0]}}})
	}
	if strings.TrimSpace(text) == "" {
		return s.renderStatus(c, http.StatusBadRequest, "import", pageData{Title: title, Nav: "admin", Data: d,
			Errors: []fieldError{{Field: "import-file", Message: "Choose a CSV file, or paste its lines"}}})
	}
	st := s.rosterStores(c)
	plan, problems, err := s.preview(ctx, st, co.ID, text)
	if err != nil {
		return err
	}
	d.CSV = text
	if len(problems) > 0 {
		d.Problems = problems
		errs := make([]fieldError, len(problems))
		for i, p := range problems {
			errs[i] = fieldError{Field: "import-file", Message: p}
		}
		return s.renderStatus(c, http.StatusBadRequest, "import", pageData{Title: title, Nav: "admin", Data: d, Errors: errs})
	}
	if c.FormValue("confirm") != "yes" {
		for _, st := range plan.Steps {
			d.Steps = append(d.Steps, importStep{Step: st, What: st.Words()})
		}
		d.Changes, d.Summary = plan.Changes(), plan.Summary()
		return s.render(c, "import", pageData{Title: "Check the import into " + co.Name, Nav: "admin", Data: d})
	}
	res, err := roster.Apply(ctx, st, co, plan, roster.Actor{ID: currentUser(c).ID, Name: currentUser(c).Name})
	if err != nil {
		return fmt.Errorf("import people into %s (import the file again to finish it): %w", co.Name, err)
	}
	d.Result = &res
	d.CSV = ""
	return s.render(c, "import", pageData{Title: "People imported into " + co.Name, Nav: "admin", Data: d,
		Notice: "Imported: " + res.Summary()})
}

// apiImportPeople imports a CSV body into the cohort, or with ?preview=true says what it
// would do; a file with problems is refused whole, 400 with every problem.
func (s *Server) apiImportPeople(c echo.Context) error {
	ctx := c.Request().Context()
	co, err := s.importCohort(c)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(io.LimitReader(c.Request().Body, maxImportBytes+1))
	if err != nil {
		return err
	}
	if len(b) > maxImportBytes {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is larger than %d KB", maxImportBytes>>10))
	}
	st := s.rosterStores(c)
	plan, problems, err := s.preview(ctx, st, co.ID, string(b))
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return c.JSON(http.StatusBadRequest, map[string]any{"error": "the file was not imported: " + strings.Join(problems, "; "), "field": "file", "problems": problems})
	}
	if c.QueryParam("preview") == "true" {
		type step struct {
			Line       int    `json:"line"`
			Email      string `json:"email"`
			Role       string `json:"role"`
			NewAccount bool   `json:"newAccount"`
			Join       bool   `json:"join"`
			Supervisor string `json:"supervisor,omitempty"`
			Unchanged  bool   `json:"unchanged"`
			What       string `json:"what"`
		}
		out := []step{}
		for _, st := range plan.Steps {
			sup := ""
			if st.Supervise {
				sup = st.Supervisor
			}
			out = append(out, step{Line: st.Line, Email: st.Email, Role: string(st.Role), NewAccount: st.NewAccount, Join: st.Join,
				Supervisor: sup, Unchanged: st.Unchanged(), What: st.Words()})
		}
		return c.JSON(http.StatusOK, map[string]any{"steps": out, "summary": plan.Summary()})
	}
	res, err := roster.Apply(ctx, st, co, plan, roster.Actor{ID: currentUser(c).ID, Name: currentUser(c).Name})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// exportPeople writes the cohort's people as the CSV file an import reads.
func (s *Server) exportPeople(c echo.Context) error {
	ctx := c.Request().Context()
	co, err := s.importCohort(c)
	if err != nil {
		return err
	}
	rows, err := roster.Export(ctx, s.rosterStores(c), co.ID)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := roster.Write(&b, rows); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s people.csv"`, strings.ReplaceAll(co.Name, `"`, "")))
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
}
