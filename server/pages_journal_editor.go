package server

import (
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/content/media"
	"polyphony/courses"
	"polyphony/internal/failure"
)

// The journal editor. With JavaScript (static/journal.js) it saves as the author types,
// through the JSON API; without, its form posts to journalCreateForm or journalSaveForm.
// Either way every save carries the version it was made to and an idempotency key, so a
// stale save is refused with the saved copy shown beside the typed one, and a repeated
// post changes nothing.

type editorData struct {
	New     bool
	ID      string
	Version int
	Updated string // when the version was saved, for the editor's "saved 3 s ago"
	Key     string
	Draft   courses.Draft
	Checked map[string]bool
	Groups  []tagGroup
	Pages   []linkOption
	// Sessions are the dialogue sessions of the author's programme.
	Sessions    []linkOption
	LinkPage    string
	LinkSession string
	// ExtraLinks keeps links the form has no field for (a second page or session linked
	// through the API), so that a save from the form does not drop them.
	ExtraLinks  []string
	Attachments []courses.Attachment
	Preview     template.HTML
	Limits      string
	// MaxBytes lets the page refuse a file over its limit before sending any of it.
	MaxBytes media.Limits
	// Server is the saved copy when a save was refused as stale.
	Server     *courses.Entry
	ServerTags []string
}

type tagGroup struct {
	ID     string
	Legend string
	Hint   string
	Tags   []courses.JournalTag
	Open   bool
}

type linkOption struct {
	Value, Label string
}

var tagGroupText = map[courses.TagKind][2]string{
	courses.TagPrinciple:   {"Principles of Open Dialogue", "The principles this reflection is about."},
	courses.TagModule:      {"Modules", "The residential modules it relates to."},
	courses.TagResidential: {"Residential days", "A day of a residential module."},
}

// editorFor builds the editor for a draft.
func (s *Server) editorFor(c echo.Context, d editorData) (editorData, error) {
	d.Checked = map[string]bool{}
	for _, t := range d.Draft.Tags {
		d.Checked[t] = true
	}
	for _, kind := range []courses.TagKind{courses.TagPrinciple, courses.TagModule, courses.TagResidential} {
		g := tagGroup{ID: "tags-" + string(kind), Legend: tagGroupText[kind][0], Hint: tagGroupText[kind][1]}
		for _, t := range courses.JournalTags() {
			if t.Kind == kind {
				g.Tags = append(g.Tags, t)
				g.Open = g.Open || d.Checked[t.ID]
			}
		}
		if kind != courses.TagResidential {
			g.Open = true
		}
		d.Groups = append(d.Groups, g)
	}
	p, err := s.releaseProgramme(c)
	if err != nil {
		return d, err
	}
	items, err := s.curriculumItems(c, p)
	if err != nil {
		return d, err
	}
	for _, it := range items {
		d.Pages = append(d.Pages, linkOption{Value: it.Page.Slug, Label: it.Page.Title})
	}
	sessions := s.dialogueSessions(c)
	var acts []courses.Activity
	for _, a := range sessions {
		acts = append(acts, a)
	}
	slices.SortFunc(acts, func(a, b courses.Activity) int {
		if a.Session != nil && b.Session != nil && !a.Session.Start.Equal(b.Session.Start) {
			return a.Session.Start.Compare(b.Session.Start)
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, a := range acts {
		d.Sessions = append(d.Sessions, linkOption{Value: a.ID, Label: sessionLabel(a)})
	}
	d.ExtraLinks = nil
	for _, l := range d.Draft.Links {
		switch {
		case l.Kind == courses.LinkPage && d.LinkPage == "":
			d.LinkPage = l.Target
		case l.Kind == courses.LinkSession && d.LinkSession == "":
			d.LinkSession = l.Target
		default:
			d.ExtraLinks = append(d.ExtraLinks, string(l.Kind)+":"+l.Target)
		}
	}
	// A page or session the picker does not offer (no longer released, or from another
	// cohort) stays chosen.
	if d.LinkPage != "" && !slices.ContainsFunc(d.Pages, func(o linkOption) bool { return o.Value == d.LinkPage }) {
		d.Pages = append(d.Pages, linkOption{Value: d.LinkPage, Label: d.LinkPage})
	}
	if d.LinkSession != "" && !slices.ContainsFunc(d.Sessions, func(o linkOption) bool { return o.Value == d.LinkSession }) {
		d.Sessions = append(d.Sessions, linkOption{Value: d.LinkSession, Label: "A dialogue session (" + d.LinkSession + ")"})
	}
	if strings.TrimSpace(d.Draft.Body) != "" {
		d.Preview = previewHTML(d.Draft.Body)
	}
	d.Limits, d.MaxBytes = s.uploadLimitsText(), s.uploadLimits()
	if d.Server != nil {
		for _, t := range d.Server.Tags {
			d.ServerTags = append(d.ServerTags, tagLabel(t))
		}
	}
	return d, nil
}

func (s *Server) renderEditor(c echo.Context, status int, d editorData, errs []fieldError) error {
	d, err := s.editorFor(c, d)
	if err != nil {
		return err
	}
	title := "New journal entry"
	if !d.New {
		title = "Edit: " + d.Draft.Title
		if d.Draft.Title == "" {
			title = "Edit an untitled entry"
		}
	}
	return s.renderStatus(c, status, "journal_edit", pageData{Title: title, Nav: "journal", Errors: errs, Notice: c.QueryParam("done"), Data: d})
}

func (s *Server) journalNewPage(c echo.Context) error {
	return s.renderEditor(c, http.StatusOK, editorData{New: true, Key: formKey()}, nil)
}

func (s *Server) journalEditPage(c echo.Context) error {
	view, err := s.deps.Journals.ReadEntry(c.Request().Context(), viewerFrom(c), c.Param("id"))
	if err != nil {
		return err
	}
	if view.As != courses.AccessOwner {
		return failure.ErrNotFound // only the author writes; to anyone else there is no editor
	}
	d := editorData{ID: view.ID, Version: view.Version, Updated: view.UpdatedAt.Format(time.RFC3339Nano), Key: formKey(), Draft: view.Draft(), Attachments: view.Attachments}
	return s.renderEditor(c, http.StatusOK, d, nil)
}

// uploadLimits are the largest uploads of each kind, the defaults filled in.
func (s *Server) uploadLimits() media.Limits { return s.cfg.UploadLimits.OrDefaults() }

// uploadLimitsText says how large an attachment of each kind may be.
func (s *Server) uploadLimitsText() string {
	l := s.uploadLimits()
	return "Pictures up to " + fileSize(l.Image) + ", recordings up to " + fileSize(l.Audio) + ", videos up to " + fileSize(l.Video) + "."
}

// draftFromForm reads the editor's fields.
func draftFromForm(c echo.Context) courses.Draft {
	form, _ := c.FormParams()
	d := courses.Draft{Title: c.FormValue("title"), Body: c.FormValue("body"), Tags: form["tags"], Links: []courses.Link{}}
	if p := strings.TrimSpace(c.FormValue("linkPage")); p != "" {
		d.Links = append(d.Links, courses.Link{Kind: courses.LinkPage, Target: p})
	}
	if sess := strings.TrimSpace(c.FormValue("linkSession")); sess != "" {
		d.Links = append(d.Links, courses.Link{Kind: courses.LinkSession, Target: sess})
	}
	for _, l := range form["links"] {
		kind, target, ok := strings.Cut(l, ":")
		if ok {
			d.Links = append(d.Links, courses.Link{Kind: courses.LinkKind(kind), Target: target})
		}
	}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	return d
}

// editorFieldID names the field of the editor that an error of the domain is about.
func editorFieldID(field string) string {
	switch {
	case field == "title":
		return "entry-title"
	case strings.HasPrefix(field, "tags"):
		return "tag-" + courses.JournalTags()[0].ID
	case strings.HasPrefix(field, "links"):
		return "entry-link-page"
	}
	return "entry-body"
}

// editorRefused shows the form again with what was typed and every reason it was not saved.
func (s *Server) editorRefused(c echo.Context, d editorData, err error) error {
	invalids := failure.Invalids(err)
	if len(invalids) == 0 {
		return err
	}
	errs := make([]fieldError, 0, len(invalids))
	for _, invalid := range invalids {
		errs = append(errs, fieldError{Field: editorFieldID(invalid.Field), Message: invalidMessage(invalid)})
	}
	return s.renderEditor(c, http.StatusBadRequest, d, errs)
}

func (s *Server) journalCreateForm(c echo.Context) error {
	draft := draftFromForm(c)
	key := c.FormValue("key")
	e, err := s.deps.Journals.Create(c.Request().Context(), viewerFrom(c), draft, key)
	if err != nil {
		return s.editorRefused(c, editorData{New: true, Key: key, Draft: draft}, err)
	}
	return journalDone(c, "/journal/"+e.ID, "Saved.")
}

func (s *Server) journalSaveForm(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	draft := draftFromForm(c)
	base, _ := strconv.Atoi(c.FormValue("baseVersion"))
	key := c.FormValue("key")
	e, err := s.deps.Journals.Save(ctx, viewerFrom(c), id, draft, base, key)
	if err == nil {
		return journalDone(c, "/journal/"+e.ID, "Saved version "+strconv.Itoa(e.Version)+".")
	}
	var conflict *courses.SaveConflictError
	if errors.As(err, &conflict) {
		cur := conflict.Current
		d := editorData{ID: id, Version: cur.Version, Key: formKey(), Draft: draft, Attachments: cur.Attachments, Server: &cur}
		errs := []fieldError{{Field: "entry-body", Message: "This entry was saved somewhere else (version " + strconv.Itoa(cur.Version) +
			") while you were writing. Nothing was overwritten: your text is still in the editor and the saved copy is beside it. Save again to keep yours."}}
		return s.renderEditor(c, http.StatusConflict, d, errs)
	}
	if !errors.As(err, new(*failure.InvalidError)) {
		return err // not found for anyone but the author, or a failure of ours
	}
	view, rerr := s.deps.Journals.ReadEntry(ctx, viewerFrom(c), id)
	if rerr != nil {
		return rerr
	}
	d := editorData{ID: id, Version: base, Key: formKey(), Draft: draft, Attachments: view.Attachments}
	return s.editorRefused(c, d, err)
}

// journalPreview renders the editor's text as the entry will show it.
func (s *Server) journalPreview(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTML(http.StatusOK, string(previewHTML(c.FormValue("body"))))
}

// History.

type revisionsPageData struct {
	Entry     courses.EntryView
	Revisions []courses.RevisionInfo
}

func (s *Server) journalRevisionsPage(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	view, err := s.deps.Journals.ReadEntry(ctx, v, c.Param("id"))
	if err != nil {
		return err
	}
	if view.As != courses.AccessOwner {
		return failure.ErrNotFound
	}
	revs, err := s.deps.Journals.Revisions(ctx, v, view.ID, 0, 100)
	if err != nil {
		return err
	}
	return s.render(c, "journal_revisions", pageData{Title: "History of an entry", Nav: "journal", Notice: c.QueryParam("done"),
		Data: revisionsPageData{Entry: view, Revisions: revs}})
}

type revisionPageData struct {
	Revision courses.Entry
	HTML     template.HTML
	Latest   int
	Key      string
	Tags     []string
}

func (s *Server) journalRevisionPage(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil {
		return failure.ErrNotFound
	}
	view, err := s.deps.Journals.ReadEntry(ctx, v, c.Param("id"))
	if err != nil {
		return err
	}
	if view.As != courses.AccessOwner {
		return failure.ErrNotFound
	}
	rev, err := s.deps.Journals.ReadRevision(ctx, v, view.ID, n)
	if err != nil {
		return err
	}
	d := revisionPageData{Revision: rev, HTML: s.entryHTML(ctx, rev), Latest: view.Version, Key: formKey()}
	for _, t := range rev.Tags {
		d.Tags = append(d.Tags, tagLabel(t))
	}
	return s.render(c, "journal_revision", pageData{Title: "Version " + strconv.Itoa(n) + " of an entry", Nav: "journal", Data: d})
}

func (s *Server) journalRestoreForm(c echo.Context) error {
	id := c.Param("id")
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil {
		return failure.ErrNotFound
	}
	base, _ := strconv.Atoi(c.FormValue("baseVersion"))
	e, err := s.deps.Journals.Restore(c.Request().Context(), viewerFrom(c), id, n, base, c.FormValue("key"))
	if errors.Is(err, failure.ErrConflict) {
		return journalDone(c, "/journal/"+id+"/revisions", "The entry was saved somewhere else meanwhile, so nothing was restored. Look at the newest version before restoring.")
	}
	if err != nil {
		return err
	}
	return journalDone(c, "/journal/"+id, "Restored version "+strconv.Itoa(n)+" as version "+strconv.Itoa(e.Version)+".")
}
