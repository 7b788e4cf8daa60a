package server

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/content"
	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// curriculumItem is a page in a list, with whether the reader's cohort can see it yet.
type curriculumItem struct {
	Page     content.Page
	Released bool
}

// isEditor reports whether the person may write curriculum pages.
func isEditor(u *accounts.User) bool {
	return u.Role == accounts.RoleAdmin || u.Role == accounts.RoleFacilitator
}

// releaseProgramme is the programme whose module dates decide what the person can read: their
// cohort's. nil when they have none.
// A page asks more than once (the page itself, then its links), so the answer is kept on the
// request.
func (s *Server) releaseProgramme(c echo.Context) (*courses.Programme, error) {
	const key = "polyphony.releaseProgramme"
	if p, ok := c.Get(key).(*courses.Programme); ok {
		return p, nil
	}
	_, p, err := s.programmeFor(c)
	if errors.Is(err, errNoCohort) || errors.Is(err, failure.ErrNotFound) {
		c.Set(key, (*courses.Programme)(nil))
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.Set(key, &p)
	return &p, nil
}

func released(pg content.Page, p *courses.Programme, now time.Time) bool {
	return pg.Released(now, func(n int) (time.Time, bool) {
		if p == nil {
			return time.Time{}, false
		}
		return p.ModuleEnd(n)
	})
}

// curriculumItems lists the pages the person may see: every page for editors and other staff
// (marked with whether trainees see it yet), released pages only for trainees.
func (s *Server) curriculumItems(c echo.Context, p *courses.Programme) ([]curriculumItem, error) {
	pages, err := s.deps.Pages.List(c.Request().Context())
	if err != nil {
		return nil, err
	}
	u := currentUser(c)
	now := time.Now()
	var out []curriculumItem
	for _, pg := range pages {
		rel := released(pg, p, now)
		if !rel && u.Role == accounts.RoleTrainee {
			continue
		}
		out = append(out, curriculumItem{Page: pg, Released: rel})
	}
	return out, nil
}

// visiblePage returns the page if the person may read it; an unreleased page does not exist
// for a trainee.
func (s *Server) visiblePage(c echo.Context, slug string) (content.Page, bool, error) {
	pg, err := s.deps.Pages.Get(c.Request().Context(), slug)
	if err != nil {
		return content.Page{}, false, err
	}
	p, err := s.releaseProgramme(c)
	if err != nil {
		return content.Page{}, false, err
	}
	rel := released(pg, p, time.Now())
	if !rel && currentUser(c).Role == accounts.RoleTrainee {
		return content.Page{}, false, failure.ErrNotFound
	}
	return pg, rel, nil
}

// linkResolver rewrites a pack-relative link (other-page.md#part) to the page's address, for
// the pages this reader may open; a link to any other page is left as plain words.
func (s *Server) linkResolver(c echo.Context) (content.LinkResolver, error) {
	p, err := s.releaseProgramme(c)
	if err != nil {
		return nil, err
	}
	items, err := s.curriculumItems(c, p)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, it := range items {
		known[it.Page.Slug] = true
	}
	return content.CurriculumLinks(func(slug string) bool { return known[slug] }), nil
}

type curriculumIndexData struct {
	Modules []curriculumModule
	Editor  bool
}

type curriculumModule struct {
	Number int
	Title  string
	Items  []curriculumItem
}

func moduleHeading(n int) string {
	if n == 0 {
		return "The programme"
	}
	return "Module " + strconv.Itoa(n)
}

func (s *Server) curriculumIndex(c echo.Context) error {
	p, err := s.releaseProgramme(c)
	if err != nil {
		return err
	}
	items, err := s.curriculumItems(c, p)
	if err != nil {
		return err
	}
	d := curriculumIndexData{Editor: isEditor(currentUser(c))}
	for n := 0; n <= 4; n++ {
		m := curriculumModule{Number: n, Title: moduleHeading(n)}
		if p != nil && n > 0 && n <= len(p.Modules) {
			m.Title += ": " + p.Modules[n-1].Title
		}
		for _, it := range items {
			if it.Page.Module == n {
				m.Items = append(m.Items, it)
			}
		}
		if len(m.Items) > 0 {
			d.Modules = append(d.Modules, m)
		}
	}
	return s.render(c, "curriculum", pageData{Title: "Curriculum", Nav: "curriculum", Notice: c.QueryParam("done"), Data: d})
}

type curriculumPageData struct {
	Page     content.Page
	HTML     template.HTML
	Contents []content.Heading
	Released bool
	Editor   bool
	Revision *content.Page
}

func (s *Server) renderPage(c echo.Context, pg content.Page) (content.Rendered, error) {
	links, err := s.linkResolver(c)
	if err != nil {
		return content.Rendered{}, err
	}
	return s.deps.Renderer.Render([]byte(pg.Body), links)
}

func (s *Server) curriculumPage(c echo.Context) error {
	pg, rel, err := s.visiblePage(c, c.Param("slug"))
	if err != nil {
		return err
	}
	r, err := s.renderPage(c, pg)
	if err != nil {
		return err
	}
	u := currentUser(c)
	d := curriculumPageData{Page: pg, HTML: r.HTML, Contents: r.Contents, Released: rel, Editor: isEditor(u)}
	notice := c.QueryParam("done")
	// Everything the page shows besides its HTML, which the cache compares itself.
	csrf := ""
	if sess := currentSession(c); sess != nil {
		csrf = sess.CSRF
	}
	key := cacheKey(u.ID, u.Name, string(u.Role), csrf, notice,
		pg.Slug, strconv.Itoa(pg.Revision), pg.SavedAt.UTC().Format(time.RFC3339Nano), strconv.Itoa(pg.Module), pg.Title,
		strconv.Itoa(pg.ReadingMinutes), pg.Release.String(), strconv.FormatBool(rel), strconv.FormatBool(d.Editor))
	if out, ok := s.rendered.get(key, string(r.HTML)); ok {
		return s.writePage(c, http.StatusOK, out)
	}
	out, err := s.renderBytes(c, "curriculum_page", pageData{Title: pg.Title, Nav: "curriculum", Notice: notice, Data: d})
	if err != nil {
		return err
	}
	s.rendered.put(key, string(r.HTML), out)
	return s.writePage(c, http.StatusOK, out)
}

// cacheKey joins parts so that no two different lists of parts give the same key.
func cacheKey(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(strconv.Itoa(len(p)))
		b.WriteByte(':')
		b.WriteString(p)
	}
	return b.String()
}

// pageForm is the editor's form, as typed.
type pageForm struct {
	New          bool
	Slug         string
	BaseRevision int
	Current      *content.Page // the newer revision someone else saved, on a conflict
	CurrentHTML  template.HTML
}

func formValues(pg content.Page) map[string]string {
	return map[string]string{
		"page-title": pg.Title, "page-slug": pg.Slug, "page-module": strconv.Itoa(pg.Module), "page-order": strconv.Itoa(pg.Order),
		"page-release": pg.Release.String(), "page-minutes": strconv.Itoa(pg.ReadingMinutes), "page-body": pg.Body,
	}
}

func (s *Server) curriculumNew(c echo.Context) error {
	vals := map[string]string{"page-module": "0", "page-order": "1", "page-release": "immediately"}
	return s.render(c, "curriculum_edit", pageData{Title: "New curriculum page", Nav: "curriculum", Values: vals, Data: pageForm{New: true}})
}

func (s *Server) curriculumEdit(c echo.Context) error {
	pg, err := s.deps.Pages.Get(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	return s.render(c, "curriculum_edit", pageData{Title: "Edit: " + pg.Title, Nav: "curriculum", Values: formValues(pg),
		Data: pageForm{Slug: pg.Slug, BaseRevision: pg.Revision}})
}

// pageFromForm reads the editor's fields; numbers that are not numbers are reported by field.
func pageFromForm(c echo.Context, slug string) (content.Page, error) {
	pg := content.Page{Slug: slug, Title: c.FormValue("title"), Body: strings.ReplaceAll(c.FormValue("body"), "\r\n", "\n")}
	var err error
	if pg.Module, err = strconv.Atoi(strings.TrimSpace(c.FormValue("module"))); err != nil {
		return pg, failure.Invalid("module", "choose a module")
	}
	if pg.Order, err = strconv.Atoi(strings.TrimSpace(c.FormValue("order"))); err != nil {
		return pg, failure.Invalid("order", "must be a whole number")
	}
	if m := strings.TrimSpace(c.FormValue("readingMinutes")); m != "" {
		if pg.ReadingMinutes, err = strconv.Atoi(m); err != nil || pg.ReadingMinutes < 0 {
			return pg, failure.Invalid("readingMinutes", "must be a whole number of minutes, or empty to work it out")
		}
	}
	if pg.Release, err = content.ParseRelease(c.FormValue("release")); err != nil {
		return pg, failure.Invalidf("release", "%v", err)
	}
	return pg, nil
}

var pageFieldIDs = map[string]string{"title": "page-title", "slug": "page-slug", "module": "page-module", "order": "page-order",
	"release": "page-release", "readingMinutes": "page-minutes", "body": "page-body", "": "page-body"}

func (s *Server) curriculumSave(c echo.Context) error {
	isNew := c.Param("slug") == ""
	slug := c.Param("slug")
	if isNew {
		slug = strings.TrimSpace(c.FormValue("slug"))
	}
	base, _ := strconv.Atoi(c.FormValue("baseRevision"))
	pg, err := pageFromForm(c, slug)
	if err == nil {
		pg, err = s.deps.Pages.Save(c.Request().Context(), pg, base, currentUser(c).ID)
	}
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/curriculum/"+pg.Slug+"?done="+url.QueryEscape("Saved revision "+strconv.Itoa(pg.Revision)+"."))
	}
	vals := map[string]string{
		"page-title": c.FormValue("title"), "page-slug": slug, "page-module": c.FormValue("module"), "page-order": c.FormValue("order"),
		"page-release": c.FormValue("release"), "page-minutes": c.FormValue("readingMinutes"), "page-body": c.FormValue("body"),
	}
	form := pageForm{New: isNew, Slug: slug, BaseRevision: base}
	var conflict *content.ConflictError
	if errors.As(err, &conflict) {
		cur := conflict.Current
		form.Current, form.BaseRevision = &cur, cur.Revision
		if r, rerr := s.renderPage(c, cur); rerr == nil {
			form.CurrentHTML = r.HTML
		}
		who := "someone else"
		if u, uerr := s.deps.Accounts.Users.ByID(c.Request().Context(), cur.SavedBy); uerr == nil {
			who = u.Name
		}
		errs := []fieldError{{Field: "page-body", Message: "While you were editing, " + who + " saved revision " + strconv.Itoa(cur.Revision) +
			". Nothing was overwritten: your text is still in the editor and theirs is shown below. Merge what you need and save again."}}
		return s.renderStatus(c, http.StatusConflict, "curriculum_edit", pageData{Title: "Edit: " + cur.Title, Nav: "curriculum", Errors: errs, Values: vals, Data: form})
	}
	errs, err := formErrors(err, pageFieldIDs)
	if err != nil {
		return err
	}
	return s.renderStatus(c, http.StatusBadRequest, "curriculum_edit", pageData{Title: "Edit curriculum page", Nav: "curriculum", Errors: errs, Values: vals, Data: form})
}

// curriculumPreview renders the editor's text as it would be saved, for the live preview.
func (s *Server) curriculumPreview(c echo.Context) error {
	links, err := s.linkResolver(c)
	if err != nil {
		return err
	}
	r, err := s.deps.Renderer.Render([]byte(c.FormValue("body")), links)
	if err != nil {
		return failure.Invalidf("body", "%v", err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTML(http.StatusOK, string(r.HTML))
}

type revisionsData struct {
	Page      content.Page
	Revisions []revisionRow
}

type revisionRow struct {
	Page content.Page
	By   string
}

func (s *Server) curriculumRevisions(c echo.Context) error {
	ctx := c.Request().Context()
	revs, err := s.deps.Pages.Revisions(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	if len(revs) == 0 {
		return failure.ErrNotFound
	}
	d := revisionsData{Page: revs[0]}
	names := map[string]string{}
	for _, r := range revs {
		if _, ok := names[r.SavedBy]; !ok {
			names[r.SavedBy] = "(unknown)"
			if u, err := s.deps.Accounts.Users.ByID(ctx, r.SavedBy); err == nil {
				names[r.SavedBy] = u.Name
			} else if r.SavedBy != "" && !strings.Contains(r.SavedBy, " ") {
				names[r.SavedBy] = r.SavedBy
			}
		}
		d.Revisions = append(d.Revisions, revisionRow{Page: r, By: names[r.SavedBy]})
	}
	return s.render(c, "curriculum_revisions", pageData{Title: "Revisions: " + d.Page.Title, Nav: "curriculum", Data: d})
}

func (s *Server) curriculumRevision(c echo.Context) error {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil {
		return failure.ErrNotFound
	}
	pg, err := s.deps.Pages.Revision(c.Request().Context(), c.Param("slug"), n)
	if err != nil {
		return err
	}
	r, err := s.renderPage(c, pg)
	if err != nil {
		return err
	}
	d := curriculumPageData{Page: pg, HTML: r.HTML, Contents: r.Contents, Released: true, Editor: true, Revision: &pg}
	return s.render(c, "curriculum_page", pageData{Title: pg.Title + " (revision " + strconv.Itoa(n) + ")", Nav: "curriculum", Data: d})
}

func (s *Server) curriculumRestore(c echo.Context) error {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil {
		return failure.ErrNotFound
	}
	base, _ := strconv.Atoi(c.FormValue("baseRevision"))
	pg, err := s.deps.Pages.Restore(c.Request().Context(), c.Param("slug"), n, base, currentUser(c).ID)
	if errors.Is(err, failure.ErrConflict) {
		return c.Redirect(http.StatusSeeOther, "/curriculum/"+c.Param("slug")+"/revisions?done="+url.QueryEscape("Someone saved the page meanwhile; look at the newest revision before restoring."))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/curriculum/"+pg.Slug+"?done="+url.QueryEscape("Restored revision "+strconv.Itoa(n)+" as revision "+strconv.Itoa(pg.Revision)+"."))
}
