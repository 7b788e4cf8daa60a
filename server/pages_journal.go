package server

import (
	"context"
	"crypto/rand"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// journalPageRoutes registers the pages of journals, supervision and practice.
func (s *Server) journalPageRoutes() {
	s.add(http.MethodGet, "/journal", SignedIn, s.journalListPage)
	s.add(http.MethodGet, "/journal/new", SignedIn, s.journalNewPage)
	s.add(http.MethodPost, "/journal", SignedIn, s.journalCreateForm)
	s.add(http.MethodPost, "/journal/preview", SignedIn, s.journalPreview)
	s.add(http.MethodGet, "/journal/access-log", SignedIn, s.journalAccessLogPage)
	s.add(http.MethodGet, "/journal/:id", SignedIn, s.journalEntryPage)
	s.add(http.MethodGet, "/journal/:id/edit", SignedIn, s.journalEditPage)
	s.add(http.MethodPost, "/journal/:id", SignedIn, s.journalSaveForm)
	s.add(http.MethodGet, "/journal/:id/submit", SignedIn, s.submitConfirm)
	s.add(http.MethodPost, "/journal/:id/sharing", SignedIn, s.journalShareForm)
	s.add(http.MethodPost, "/journal/:id/comments", SignedIn, s.journalCommentForm)
	s.add(http.MethodPost, "/journal/:id/attachments/remove", SignedIn, s.journalDetachForm)
	s.add(http.MethodGet, "/journal/:id/revisions", SignedIn, s.journalRevisionsPage)
	s.add(http.MethodGet, "/journal/:id/revisions/:n", SignedIn, s.journalRevisionPage)
	s.add(http.MethodPost, "/journal/:id/revisions/:n/restore", SignedIn, s.journalRestoreForm)

	s.add(http.MethodGet, "/supervision", SignedIn, s.supervisionPage)
	s.add(http.MethodPost, "/supervision", SignedIn, s.supervisionLogForm)
	s.add(http.MethodPost, "/supervision/:id/confirm", SignedIn, s.supervisionConfirmForm)
	s.add(http.MethodGet, "/practice", SignedIn, s.practicePage)
	s.add(http.MethodPost, "/practice", SignedIn, s.practiceLogForm)
	s.add(http.MethodPost, "/practice/visibility", SignedIn, s.practiceVisibilityForm)

	s.add(http.MethodGet, "/account/export", SignedIn, s.exportPage)
	s.add(http.MethodPost, "/account/export", SignedIn, s.exportDownload)
	s.add(http.MethodGet, "/admin/people/:id/erase", AdminOnly, s.erasePage)
	s.add(http.MethodPost, "/admin/people/:id/erase", AdminOnly, s.eraseForm)
}

func init() {
	viewFuncs["tagLabel"] = tagLabel
	viewFuncs["journalModules"] = func() []string { return []string{"1", "2", "3", "4"} }
	viewFuncs["minutesLabel"] = minutesLabel
	viewFuncs["fileSize"] = fileSize
}

// minutesLabel writes a number of minutes as people say it: "45 minutes", "2 hours 5 minutes".
func minutesLabel(n int) string {
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	}
	h, m := n/60, n%60
	switch {
	case h == 0:
		return plural(m, "minute", "minutes")
	case m == 0:
		return plural(h, "hour", "hours")
	}
	return plural(h, "hour", "hours") + " " + plural(m, "minute", "minutes")
}

// fileSize writes a size in bytes for people: "820 KB", "4.2 MB".
func fileSize(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " bytes"
	case n < 1000_000:
		return strconv.FormatInt((n+500)/1000, 10) + " KB"
	case n%1000_000 == 0:
		return strconv.FormatInt(n/1000_000, 10) + " MB"
	}
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
}

// formKey is a fresh idempotency key for a form: posting the same form twice (a double
// click, a resubmission after a lost answer) then changes nothing the second time.
func formKey() string { return "f-" + rand.Text() }

// nameBook finds people's names by account id, asking the account store once per person.
type nameBook struct {
	s     *Server
	ctx   context.Context
	names map[string]string
}

func (s *Server) names(ctx context.Context) *nameBook {
	return &nameBook{s: s, ctx: ctx, names: map[string]string{}}
}

func (n *nameBook) of(id string) string {
	if name, ok := n.names[id]; ok {
		return name
	}
	name := "Someone no longer registered"
	if u, err := n.s.deps.Accounts.Users.ByID(n.ctx, id); err == nil {
		name = u.Name
	}
	n.names[id] = name
	return name
}

// tagLabels maps each known tag to its label.
var tagLabels = func() map[string]string {
	m := map[string]string{}
	for _, t := range courses.JournalTags() {
		m[t.ID] = t.Label
	}
	return m
}()

func tagLabel(id string) string {
	if l, ok := tagLabels[id]; ok {
		return l
	}
	return id
}

// journalDone redirects after a change with a notice, so that a reload repeats nothing.
func journalDone(c echo.Context, path, notice string) error {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	if i := strings.IndexByte(path, '#'); i >= 0 {
		return c.Redirect(http.StatusSeeOther, path[:i]+sep+"done="+url.QueryEscape(notice)+path[i:])
	}
	return c.Redirect(http.StatusSeeOther, path+sep+"done="+url.QueryEscape(notice))
}

// The journal list.

type journalListData struct {
	Own      []courses.EntrySummary
	Total    int
	Tags     []courses.JournalTag
	Tag      string
	Module   string
	Shared   string
	Filtered bool
}

// matches reports whether an entry passes the list's filters.
func (d journalListData) matches(e courses.EntrySummary) bool {
	if d.Tag != "" && !slices.Contains(e.Tags, d.Tag) {
		return false
	}
	if d.Module != "" {
		prefix := "module-" + d.Module
		if !slices.ContainsFunc(e.Tags, func(t string) bool { return t == prefix || strings.HasPrefix(t, prefix+"-day-") }) {
			return false
		}
	}
	if e.Sharing != nil {
		switch d.Shared {
		case "private":
			return e.Sharing.Private()
		case "supervisor":
			return e.Sharing.Supervisor
		case "assessors":
			return e.Sharing.Assessors
		}
	}
	return true
}

// journalListPage is a trainee's own journal. Supervisors and assessors, who read the
// journals of others, get the entries shared with them instead (pages_journal_shared.go).
func (s *Server) journalListPage(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	v := viewerFrom(c)
	if u.Role == accounts.RoleSupervisor || u.Role == accounts.RoleAssessor {
		return s.sharedJournalPage(c, v)
	}
	d := journalListData{Tags: courses.JournalTags(), Tag: c.QueryParam("tag"), Module: c.QueryParam("module"), Shared: c.QueryParam("shared")}
	if _, ok := tagLabels[d.Tag]; !ok {
		d.Tag = ""
	}
	if !slices.Contains([]string{"1", "2", "3", "4"}, d.Module) {
		d.Module = ""
	}
	if !slices.Contains([]string{"private", "supervisor", "assessors"}, d.Shared) {
		d.Shared = ""
	}
	d.Filtered = d.Tag != "" || d.Module != "" || d.Shared != ""
	own, err := s.deps.Journals.Entries(ctx, v, u.ID)
	if err != nil {
		return err
	}
	d.Total = len(own)
	for _, e := range own {
		if d.matches(e) {
			d.Own = append(d.Own, e)
		}
	}
	return s.render(c, "journal", pageData{Title: "Journal", Nav: "journal", Notice: c.QueryParam("done"), Data: d})
}

// traineesOf lists the trainees of the cohorts in which the person has one of roles: as a
// supervisor, only the trainees they supervise.
func (s *Server) traineesOf(ctx context.Context, userID string, roles ...accounts.Role) ([]accounts.User, error) {
	ms, err := s.deps.Courses.MembershipsOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []accounts.User
	for _, m := range ms {
		if !slices.Contains(roles, m.Role) {
			continue
		}
		members, err := s.deps.Courses.Members(ctx, m.CohortID)
		if err != nil {
			return nil, err
		}
		for _, mm := range members {
			if mm.Role != accounts.RoleTrainee || seen[mm.UserID] || mm.UserID == userID {
				continue
			}
			if m.Role == accounts.RoleSupervisor && !slices.Contains(m.Supervises, mm.UserID) {
				continue
			}
			seen[mm.UserID] = true
			if t, err := s.deps.Accounts.Users.ByID(ctx, mm.UserID); err == nil {
				out = append(out, t)
			}
		}
	}
	slices.SortFunc(out, func(a, b accounts.User) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// The entry view.

type entryViewData struct {
	Entry      courses.EntryView
	HTML       template.HTML
	Author     string
	Own        bool
	Tags       []string
	Links      []entryLink
	Media      []mediaItem
	MediaError string
	Threads    []commentThread
	Submitted  bool
}

type entryLink struct {
	Href, Text, Kind string
}

type mediaItem struct {
	courses.Attachment
	URL string
}

type commentThread struct {
	Audience courses.Audience
	Heading  string
	Comments []commentRow
	CanPost  bool
	Key      string
	Hint     string
}

type commentRow struct {
	Comment courses.Comment
	Author  string
	HTML    template.HTML
	Mine    bool
}

// mediaURLTTL is how long a media link on a page works: long enough to play a recording
// through, short enough that a copied link soon stops working.
const mediaURLTTL = 30 * time.Minute

func (s *Server) journalEntryPage(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	id := c.Param("id")
	view, err := s.deps.Journals.ReadEntry(ctx, v, id)
	if err != nil {
		return err
	}
	names := s.names(ctx)
	d := entryViewData{Entry: view, HTML: s.entryHTML(ctx, view.Entry), Author: names.of(view.OwnerID), Own: view.As == courses.AccessOwner}
	for _, t := range view.Tags {
		d.Tags = append(d.Tags, tagLabel(t))
	}
	d.Links = s.entryLinks(c, view.Links)
	for _, a := range view.Attachments {
		// The same access check as the entry, once more for each object: a link is issued
		// only to someone who may read it, and a read by someone else is logged.
		rec, err := s.deps.Journals.Attachment(ctx, v, id, a.Key)
		if err != nil {
			return err
		}
		link, _, err := s.attachmentURL(ctx, v, id, rec.Key, mediaURLTTL)
		if err != nil {
			s.log.Warn("media link", "key", rec.Key, "err", err)
			d.MediaError = "Some attachments cannot be shown just now. Reload the page to try again."
			continue
		}
		d.Media = append(d.Media, mediaItem{Attachment: rec, URL: link})
	}
	comments, err := s.deps.Journals.Comments(ctx, v, id)
	if err != nil {
		return err
	}
	d.Threads = entryThreads(view, comments, names, v.UserID)
	if view.Sharing != nil {
		d.Submitted = view.Sharing.Assessors
	}
	// Opening the entry reads the comments that the notifications were about.
	if err := s.markEntryNotificationsRead(ctx, v, id); err != nil {
		return err
	}
	title := view.Title
	if title == "" {
		title = "Untitled entry"
	}
	return s.render(c, "journal_entry", pageData{Title: title, Nav: "journal", Notice: c.QueryParam("done"), Data: d})
}

func (s *Server) markEntryNotificationsRead(ctx context.Context, v courses.Viewer, entryID string) error {
	ns, err := s.deps.Journals.Notifications(ctx, v)
	if err != nil {
		return err
	}
	var ids []string
	for _, n := range ns {
		if n.EntryID == entryID {
			ids = append(ids, n.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return s.deps.Journals.MarkNotificationsRead(ctx, v, ids...)
}

// entryThreads arranges the comments in their threads: the author sees a thread for each
// audience the entry is shared with or that has comments; anyone else sees their own.
func entryThreads(view courses.EntryView, comments []courses.Comment, names *nameBook, me string) []commentThread {
	byAudience := map[courses.Audience][]commentRow{}
	for _, cm := range comments {
		byAudience[cm.Audience] = append(byAudience[cm.Audience], commentRow{Comment: cm, Author: names.of(cm.AuthorID), HTML: cm.HTML(), Mine: cm.AuthorID == me})
	}
	var out []commentThread
	add := func(a courses.Audience, heading string, canPost bool, hint string) {
		out = append(out, commentThread{Audience: a, Heading: heading, Comments: byAudience[a], CanPost: canPost, Key: formKey(), Hint: hint})
	}
	switch view.As {
	case courses.AccessOwner:
		sh := view.Sharing
		if sh.Supervisor || len(byAudience[courses.AudienceSupervisor]) > 0 {
			add(courses.AudienceSupervisor, "With your supervisor", sh.Supervisor, "Your supervisor can no longer read this entry: share it again to go on talking.")
		}
		if sh.Assessors || len(byAudience[courses.AudienceAssessors]) > 0 {
			add(courses.AudienceAssessors, "With the assessors", sh.Assessors, "The entry is no longer submitted: submit it again to go on talking.")
		}
	case courses.AccessSupervisor:
		add(courses.AudienceSupervisor, "Between you and "+names.of(view.OwnerID), true, "")
	case courses.AccessAssessor:
		add(courses.AudienceAssessors, "Between the assessors and "+names.of(view.OwnerID), true, "")
	}
	return out
}

// entryLinks turns an entry's links into addresses and words: a curriculum page by its
// title, a dialogue session by its title in the reader's programme.
func (s *Server) entryLinks(c echo.Context, links []courses.Link) []entryLink {
	ctx := c.Request().Context()
	var sessions map[string]courses.Activity
	var out []entryLink
	for _, l := range links {
		switch l.Kind {
		case courses.LinkPage:
			text := l.Target
			if pg, err := s.deps.Pages.Get(ctx, l.Target); err == nil {
				text = pg.Title
			}
			out = append(out, entryLink{Href: "/curriculum/" + l.Target, Text: text, Kind: "Curriculum page"})
		case courses.LinkSession:
			if sessions == nil {
				sessions = s.dialogueSessions(c)
			}
			text := "A dialogue session"
			if a, ok := sessions[l.Target]; ok {
				text = sessionLabel(a)
			}
			out = append(out, entryLink{Href: "/schedule", Text: text, Kind: "Dialogue session"})
		}
	}
	return out
}

// dialogueSessions lists the dialogue sessions of the person's cohort's programme by id.
func (s *Server) dialogueSessions(c echo.Context) map[string]courses.Activity {
	out := map[string]courses.Activity{}
	_, p, err := s.programmeFor(c)
	if err != nil {
		return out
	}
	for _, per := range p.Periods {
		for _, a := range per.Activities {
			if a.Kind == courses.ActivityDialogue {
				out[a.ID] = a
			}
		}
	}
	return out
}

func sessionLabel(a courses.Activity) string {
	if a.Session != nil && !a.Session.Start.IsZero() {
		return a.Title + ", " + a.Session.Start.In(ukTime).Format("2 January 2006")
	}
	return a.Title
}

// Sharing, comments and attachments: the forms of the entry view.

func (s *Server) journalShareForm(c echo.Context) error {
	id := c.Param("id")
	audience := courses.Audience(c.FormValue("audience"))
	shared := c.FormValue("shared") == "true"
	if audience == courses.AudienceAssessors && shared && c.FormValue("version") != "" {
		if changed, err := s.changedSinceConfirm(c, id, c.FormValue("version")); err != nil || changed {
			return err
		}
	}
	_, err := s.setSharing(c, id, audience, shared)
	var invalid *failure.InvalidError
	if errors.As(err, &invalid) {
		return journalDone(c, "/journal/"+id+"#sharing", sentence(invalid.Error()))
	}
	if err != nil {
		return err
	}
	var notice string
	switch {
	case audience == courses.AudienceSupervisor && shared:
		notice = "Your supervisor can now read this entry. You can stop sharing it at any time."
	case audience == courses.AudienceSupervisor:
		notice = "Your supervisor can no longer read this entry."
	case shared:
		notice = "Submitted to the assessors. They read this version; later changes do not alter what you submitted."
	default:
		notice = "Withdrawn: the assessors can no longer read this entry."
	}
	return journalDone(c, "/journal/"+id+"#sharing", notice)
}

// changedSinceConfirm sends the author back to the confirmation when the entry is no longer
// at the version they confirmed submitting (saved since, in another window): what is frozen
// is always what they were shown.
func (s *Server) changedSinceConfirm(c echo.Context, id, confirmed string) (bool, error) {
	view, err := s.deps.Journals.ReadEntry(c.Request().Context(), viewerFrom(c), id)
	if err != nil {
		return false, err
	}
	if strconv.Itoa(view.Version) == confirmed {
		return false, nil
	}
	return true, journalDone(c, "/journal/"+url.PathEscape(id)+"/submit",
		"The entry was saved again since you were asked, so nothing was submitted. Check the version below and confirm again.")
}

func (s *Server) journalCommentForm(c echo.Context) error {
	id := c.Param("id")
	nc := courses.NewComment{Audience: courses.Audience(c.FormValue("audience")), Body: c.FormValue("body"), Key: c.FormValue("key")}
	cm, err := s.deps.Journals.AddComment(c.Request().Context(), viewerFrom(c), id, nc)
	var invalid *failure.InvalidError
	if errors.As(err, &invalid) {
		return journalDone(c, "/journal/"+id+"#comments", "Your comment was not added. "+invalidMessage(invalid))
	}
	if err != nil {
		return err
	}
	s.notifyComment(c.Request().Context(), cm)
	return journalDone(c, "/journal/"+id+"#comments", "Your comment was added.")
}

func (s *Server) journalDetachForm(c echo.Context) error {
	id := c.Param("id")
	if _, err := s.deps.Journals.RemoveAttachment(c.Request().Context(), viewerFrom(c), id, c.FormValue("key")); err != nil {
		return err
	}
	return journalDone(c, "/journal/"+id+"/edit#media", "The attachment was removed from the entry. Earlier versions in the history still hold it.")
}

// The access log.

type accessRow struct {
	Record courses.AccessRecord
	Who    string
	Title  string
	As     string
}

func (s *Server) journalAccessLogPage(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	before, err := intParam("before", c.QueryParam("before"), 0)
	if err != nil {
		return err
	}
	recs, next, err := s.deps.Journals.AccessLogPage(ctx, v, before, accessLogPageSize)
	if err != nil {
		return err
	}
	titles := map[string]string{}
	if len(recs) > 0 {
		own, err := s.deps.Journals.Entries(ctx, v, v.UserID)
		if err != nil {
			return err
		}
		for _, e := range own {
			titles[e.ID] = e.Title
		}
	}
	names := s.names(ctx)
	rows := make([]accessRow, 0, len(recs))
	for _, r := range recs {
		as := "Supervisor"
		if r.As == courses.AccessAssessor {
			as = "Assessor"
		}
		who := "An assessor marking your work"
		if r.ViewerID != courses.MarkingReader {
			who = names.of(r.ViewerID)
		}
		rows = append(rows, accessRow{Record: r, Who: who, Title: titles[r.EntryID], As: as})
	}
	page := accessLogView{Rows: rows}
	if next > 0 {
		page.Older = "/journal/access-log?before=" + strconv.Itoa(next)
	}
	return s.render(c, "journal_access", pageData{Title: "Who has read your records", Nav: "journal", Data: page})
}

// accessLogPageSize is about how many reads a page of the access log shows.
const accessLogPageSize = 200

// accessLogView is a page of the access log and the address of the older reads, if any.
type accessLogView struct {
	Rows  []accessRow
	Older string
}

// Notifications on the home page.

// homeNotice is an unread notification of a comment, as the home page lists it.
type homeNotice struct {
	Text string
	Href string
	At   time.Time
}

// homeNotices lists the person's unread comment notifications. They hold no text of the
// entry or the comment; an entry's title is shown only to its author.
func (s *Server) homeNotices(ctx context.Context, u *accounts.User) ([]homeNotice, error) {
	if s.deps.Journals == nil {
		return nil, nil
	}
	v := courses.Viewer{UserID: u.ID, Role: u.Role}
	ns, err := s.deps.Journals.Notifications(ctx, v)
	if err != nil {
		return nil, err
	}
	names := s.names(ctx)
	titles := map[string]string{}
	if len(ns) > 0 {
		own, err := s.deps.Journals.Entries(ctx, v, u.ID)
		if err != nil {
			return nil, err
		}
		for _, e := range own {
			titles[e.ID] = e.Title
		}
	}
	var out []homeNotice
	for _, n := range ns {
		author := names.of(n.AuthorID)
		var text string
		switch {
		case n.OwnerID == u.ID:
			title := titles[n.EntryID]
			if title == "" {
				title = "an untitled entry"
			} else {
				title = "“" + title + "”"
			}
			text = author + " commented on your entry " + title
		case n.AuthorID == n.OwnerID:
			text = author + " replied on an entry of their journal"
		default:
			text = author + " commented on an entry in " + names.of(n.OwnerID) + "'s journal"
		}
		out = append(out, homeNotice{Text: text, Href: "/journal/" + n.EntryID + "#comments", At: n.At})
	}
	return out, nil
}
