package server

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London without relying on the host's zone files

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/failure"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// views holds one parsed template set per page, each with the shared layout.
type views struct {
	pages map[string]*template.Template
}

// ukTime is the programme's clock: sessions are shown as people in the UK read them.
var ukTime = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err) // time/tzdata is compiled in
	}
	return loc
}()

// viewDatetime is a moment as the pages show it, on the UK's clock.
func viewDatetime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.In(ukTime).Format("2 January 2006, 15:04")
}

var viewFuncs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.Format("2 January 2006")
	},
	"datetime":    viewDatetime,
	"auditAction": audit.ActionLabel,
	"isoDate":     func(t time.Time) string { return t.Format("2006-01-02") },
	"add":         func(a, b int) int { return a + b },
	"hasPrefix":   strings.HasPrefix,
	"activityKind": func(k courses.ActivityKind) string {
		switch k {
		case courses.ActivityReading:
			return "Reading"
		case courses.ActivityCollaboration:
			return "Online task"
		case courses.ActivityDialogue:
			return "Dialogue"
		case courses.ActivityPractice:
			return "Practice"
		}
		return string(k)
	},
	"marks": func() []courses.Mark { return []courses.Mark{courses.Present, courses.Absent, courses.Excused} },
	"markLabel": func(m courses.Mark) string {
		switch m {
		case courses.Present:
			return "Present"
		case courses.Absent:
			return "Absent"
		case courses.Excused:
			return "Excused"
		}
		return string(m)
	},
	"markClass": func(m courses.Mark) string {
		switch m {
		case courses.Present:
			return "nhsuk-tag--green"
		case courses.Absent:
			return "nhsuk-tag--red"
		}
		return "nhsuk-tag--grey"
	},
	// dict builds the argument of a shared partial such as "field".
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict needs pairs")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
}

func loadViews() (*views, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	v := &views{pages: map[string]*template.Template{}}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" || base == "fields" {
			continue
		}
		t, err := template.New(base).Funcs(viewFuncs).ParseFS(templateFS, "templates/layout.html", "templates/fields.html", n)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", n, err)
		}
		v.pages[base] = t
	}
	return v, nil
}

// fieldError is one message in a form's error summary, linked to its field.
type fieldError struct {
	Field   string
	Message string
}

// pageData is what every page template gets. Page-specific data goes in Data.
type pageData struct {
	Title   string
	User    *accounts.User
	CSRF    string
	Nav     string
	Status  int
	Message string
	Notice  string
	Errors  []fieldError
	Values  map[string]string
	Data    any
}

// FieldError returns the message for field, if the form has one.
func (p pageData) FieldError(field string) string {
	for _, e := range p.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// Value returns what the person typed into field, to put back into the form.
func (p pageData) Value(field string) string { return p.Values[field] }

// formErrors turns a validation error into a form's error list, one line for every problem
// found, or returns the error as it is when it is not about the input.
func formErrors(err error, fieldIDs map[string]string) ([]fieldError, error) {
	var conflict *failure.ConflictError
	if invalids := failure.Invalids(err); len(invalids) > 0 {
		errs := make([]fieldError, 0, len(invalids))
		for _, invalid := range invalids {
			id := fieldIDs[invalid.Field]
			if id == "" {
				id = invalid.Field
			}
			errs = append(errs, fieldError{Field: id, Message: invalidMessage(invalid)})
		}
		return errs, nil
	}
	switch {
	case asConflict(err, &conflict):
		return []fieldError{{Field: fieldIDs[""], Message: sentence(conflict.Message)}}, nil
	}
	return nil, err
}

func (s *Server) render(c echo.Context, name string, data pageData) error {
	return s.renderStatus(c, http.StatusOK, name, data)
}

func (s *Server) renderStatus(c echo.Context, status int, name string, data pageData) error {
	out, err := s.renderBytes(c, name, data)
	if err != nil {
		return err
	}
	return s.writePage(c, status, out)
}

// renderBytes executes the page's template in the layout, for the person signed in.
func (s *Server) renderBytes(c echo.Context, name string, data pageData) ([]byte, error) {
	t, ok := s.views.pages[name]
	if !ok {
		return nil, fmt.Errorf("no template %q", name)
	}
	if data.User == nil {
		data.User = currentUser(c)
	}
	if sess := currentSession(c); sess != nil && data.CSRF == "" {
		data.CSRF = sess.CSRF
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// writePage answers with a rendered page, never to be stored by a browser or proxy.
func (s *Server) writePage(c echo.Context, status int, out []byte) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, out)
}

// static serves the embedded style sheets, scripts and images.
func (s *Server) static(c echo.Context) error {
	name := path.Clean("static/" + c.Param("*"))
	if !strings.HasPrefix(name, "static/") {
		return failure.ErrNotFound
	}
	b, err := staticFS.ReadFile(name)
	if err != nil {
		return failure.ErrNotFound
	}
	if name == nhsukStylesheet && s.nhsukCSS != nil {
		b = s.nhsukCSS
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	ctype := mimeByExt[path.Ext(name)]
	if ctype == "" {
		ctype = http.DetectContentType(b)
	}
	return c.Blob(http.StatusOK, ctype, b)
}

var mimeByExt = map[string]string{
	".css":         "text/css; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".ico":         "image/x-icon",
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
}
