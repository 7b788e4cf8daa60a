package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/internal/audit"
	"polyphony/internal/failure"
)

// apiMediaURLTTL is how long a signed media URL works: long enough to start playing a
// recording, short enough that a copied link soon stops working.
const apiMediaURLTTL = 10 * time.Minute

// journalAPIRoutes registers the JSON API of journals, their media, sharing and comments,
// and the supervision and practice logs. Who may read what is the journal domain's
// decision: every handler passes the signed-in person to it as a courses.Viewer.
func (s *Server) journalAPIRoutes() {
	s.add(http.MethodGet, "/api/v1/journal/tags", SignedIn, s.apiJournalTags)
	s.add(http.MethodGet, "/api/v1/journal/entries", SignedIn, s.apiListEntries)
	s.add(http.MethodPost, "/api/v1/journal/entries", SignedIn, s.apiCreateEntry)
	s.add(http.MethodGet, "/api/v1/journal/entries/:id", SignedIn, s.apiGetEntry)
	s.add(http.MethodPut, "/api/v1/journal/entries/:id", SignedIn, s.apiSaveEntry)
	s.add(http.MethodGet, "/api/v1/journal/entries/:id/revisions", SignedIn, s.apiEntryRevisions)
	s.add(http.MethodGet, "/api/v1/journal/entries/:id/revisions/:n", SignedIn, s.apiEntryRevision)
	s.add(http.MethodPost, "/api/v1/journal/entries/:id/revisions/:n/restore", SignedIn, s.apiRestoreEntry)

	s.add(http.MethodPost, "/api/v1/journal/entries/:id/media", SignedIn, s.apiUploadMedia)
	s.add(http.MethodGet, "/api/v1/journal/entries/:id/media", SignedIn, s.apiMediaURL)
	s.add(http.MethodDelete, "/api/v1/journal/entries/:id/media", SignedIn, s.apiDetachMedia)

	s.add(http.MethodPut, "/api/v1/journal/entries/:id/sharing/:audience", SignedIn, s.apiSetSharing)
	s.add(http.MethodGet, "/api/v1/journal/entries/:id/comments", SignedIn, s.apiListComments)
	s.add(http.MethodPost, "/api/v1/journal/entries/:id/comments", SignedIn, s.apiAddComment)

	s.add(http.MethodGet, "/api/v1/me/access-log", SignedIn, s.apiAccessLog)
	s.add(http.MethodGet, "/api/v1/me/notifications", SignedIn, s.apiNotifications)
	s.add(http.MethodPost, "/api/v1/me/notifications/read", SignedIn, s.apiReadNotifications)
	s.add(http.MethodPost, "/api/v1/me/exports", SignedIn, s.startExport)
	s.add(http.MethodGet, "/api/v1/me/exports/:id", SignedIn, s.exportProgress)
	s.add(http.MethodGet, "/api/v1/me/exports/:id/download", SignedIn, s.downloadExport)

	s.add(http.MethodGet, "/api/v1/supervision", SignedIn, s.apiSupervisionLog)
	s.add(http.MethodPost, "/api/v1/supervision", SignedIn, s.apiLogSupervision)
	s.add(http.MethodGet, "/api/v1/supervision/to-confirm", SignedIn, s.apiSupervisionToConfirm)
	s.add(http.MethodPost, "/api/v1/supervision/:id/confirm", SignedIn, s.apiConfirmSupervision)
	s.add(http.MethodGet, "/api/v1/practice", SignedIn, s.apiPractice)
	s.add(http.MethodPost, "/api/v1/practice", SignedIn, s.apiLogPractice)
	s.add(http.MethodGet, "/api/v1/practice/visibility", SignedIn, s.apiPracticeVisibility)
	s.add(http.MethodPut, "/api/v1/practice/visibility", SignedIn, s.apiSetPracticeVisibility)

	s.add(http.MethodPost, "/api/v1/users/:id/erase", AdminOnly, s.apiEraseUser)
}

// viewerFrom is the signed-in person as the journal domain knows them.
func viewerFrom(c echo.Context) courses.Viewer {
	u := currentUser(c)
	if u == nil {
		return courses.Viewer{}
	}
	return courses.Viewer{UserID: u.ID, Role: u.Role}
}

// idempotencyKey is the Idempotency-Key header a change must carry; the domain checks its
// form.
func idempotencyKey(c echo.Context) (string, error) {
	key := strings.TrimSpace(c.Request().Header.Get("Idempotency-Key"))
	if key == "" {
		return "", failure.Invalid("Idempotency-Key", "header is required: send a new random key (a UUID) with each change, and the same key when retrying it")
	}
	return key, nil
}

// intParam reads an integer from a path or query parameter; missing gives def.
func intParam(field, raw string, def int) (int, error) {
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return 0, failure.Invalidf(field, "must be a whole number, not %q", raw)
	}
	return n, nil
}

func (s *Server) apiJournalTags(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"tags": courses.JournalTags()})
}

// entryFilter is what a list of entries may be narrowed to.
type entryFilter struct {
	tag    string
	module int
	shared string
}

func parseEntryFilter(c echo.Context) (entryFilter, error) {
	f := entryFilter{tag: strings.TrimSpace(c.QueryParam("tag")), shared: c.QueryParam("shared")}
	if f.tag != "" && !slices.ContainsFunc(courses.JournalTags(), func(t courses.JournalTag) bool { return t.ID == f.tag }) {
		return f, failure.Invalidf("tag", "%q is not a known tag; GET /api/v1/journal/tags lists them", f.tag)
	}
	if raw := c.QueryParam("module"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 4 {
			return f, failure.Invalidf("module", "must be a module number from 1 to 4, not %q", raw)
		}
		f.module = n
	}
	switch f.shared {
	case "", "private", "supervisor", "assessors":
	default:
		return f, failure.Invalidf("shared", "%q is not a sharing state; use private, supervisor or assessors", f.shared)
	}
	return f, nil
}

func (f entryFilter) keep(e courses.EntrySummary) bool {
	if f.tag != "" && !slices.Contains(e.Tags, f.tag) {
		return false
	}
	if f.module > 0 {
		m := "module-" + strconv.Itoa(f.module)
		if !slices.ContainsFunc(e.Tags, func(t string) bool { return t == m || strings.HasPrefix(t, m+"-") }) {
			return false
		}
	}
	// The author sees the sharing; anyone else reads an entry only on the footing it is
	// shared with them.
	sup, ass := e.As == courses.AccessSupervisor, e.As == courses.AccessAssessor
	if e.Sharing != nil {
		sup, ass = e.Sharing.Supervisor, e.Sharing.Assessors
	}
	switch f.shared {
	case "private":
		return !sup && !ass
	case "supervisor":
		return sup
	case "assessors":
		return ass
	}
	return true
}

func (s *Server) apiListEntries(c echo.Context) error {
	v := viewerFrom(c)
	f, err := parseEntryFilter(c)
	if err != nil {
		return err
	}
	owner := c.QueryParam("owner")
	if owner == "" {
		owner = v.UserID
	}
	all, err := s.deps.Journals.Entries(c.Request().Context(), v, owner)
	if err != nil {
		return err
	}
	out := []courses.EntrySummary{}
	for _, e := range all {
		if f.keep(e) {
			out = append(out, e)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"entries": out})
}

func (s *Server) apiCreateEntry(c echo.Context) error {
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var d courses.Draft
	if err := decodeJSON(c, &d); err != nil {
		return err
	}
	e, err := s.deps.Journals.Create(c.Request().Context(), viewerFrom(c), d, key)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, e)
}

// mediaLink is an attachment with a signed URL to fetch it.
type mediaLink struct {
	courses.Attachment
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// entryResponse is an entry as the reader may see it, with links to its media.
type entryResponse struct {
	courses.EntryView
	Media []mediaLink `json:"media"`
}

func (s *Server) apiGetEntry(c echo.Context) error {
	ctx, v, id := c.Request().Context(), viewerFrom(c), c.Param("id")
	view, err := s.deps.Journals.ReadEntry(ctx, v, id)
	if err != nil {
		return err
	}
	out := entryResponse{EntryView: view, Media: []mediaLink{}}
	for _, a := range view.Attachments {
		link, err := s.mediaLink(ctx, v, id, a.Key)
		if err != nil {
			return err
		}
		out.Media = append(out.Media, link)
	}
	return c.JSON(http.StatusOK, out)
}

// mediaLink signs a URL for an attachment after the journal's access check (which logs a
// read by anyone but the author).
func (s *Server) mediaLink(ctx context.Context, v courses.Viewer, entryID, key string) (mediaLink, error) {
	a, err := s.deps.Journals.Attachment(ctx, v, entryID, key)
	if err != nil {
		return mediaLink{}, err
	}
	url, expires, err := s.attachmentURL(ctx, v, entryID, a.Key, apiMediaURLTTL)
	if err != nil {
		return mediaLink{}, err
	}
	return mediaLink{Attachment: a, URL: url, ExpiresAt: expires.UTC().Truncate(time.Second)}, nil
}

// saveRequest is an autosave: the draft and the version the editor had.
type saveRequest struct {
	BaseVersion int `json:"baseVersion"`
	courses.Draft
}

// answerChange answers a save or a restore: a stale one with 409 and the server's copy,
// so that the editor can show both texts side by side.
func answerChange(c echo.Context, e courses.Entry, err error) error {
	var stale *courses.SaveConflictError
	if errors.As(err, &stale) {
		return c.JSON(http.StatusConflict, map[string]any{"error": stale.Error(), "server": stale.Current})
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

func (s *Server) apiSaveEntry(c echo.Context) error {
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req saveRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	e, err := s.deps.Journals.Save(c.Request().Context(), viewerFrom(c), c.Param("id"), req.Draft, req.BaseVersion, key)
	return answerChange(c, e, err)
}

func (s *Server) apiEntryRevisions(c echo.Context) error {
	before, err := intParam("before", c.QueryParam("before"), 0)
	if err != nil {
		return err
	}
	limit, err := intParam("limit", c.QueryParam("limit"), 0)
	if err != nil {
		return err
	}
	revs, err := s.deps.Journals.Revisions(c.Request().Context(), viewerFrom(c), c.Param("id"), before, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"revisions": revs})
}

func (s *Server) apiEntryRevision(c echo.Context) error {
	n, err := intParam("n", c.Param("n"), 0)
	if err != nil {
		return err
	}
	e, err := s.deps.Journals.ReadRevision(c.Request().Context(), viewerFrom(c), c.Param("id"), n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

type restoreRequest struct {
	BaseVersion int `json:"baseVersion"`
}

func (s *Server) apiRestoreEntry(c echo.Context) error {
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	n, err := intParam("n", c.Param("n"), 0)
	if err != nil {
		return err
	}
	var req restoreRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	e, err := s.deps.Journals.Restore(c.Request().Context(), viewerFrom(c), c.Param("id"), n, req.BaseVersion, key)
	return answerChange(c, e, err)
}

// mediaKeyParam is the key query parameter naming an attachment.
func mediaKeyParam(c echo.Context) (string, error) {
	key := c.QueryParam("key")
	if key == "" {
		return "", failure.Invalid("key", "is required: the attachment's key, as listed in the entry's media")
	}
	return key, nil
}

func (s *Server) apiMediaURL(c echo.Context) error {
	key, err := mediaKeyParam(c)
	if err != nil {
		return err
	}
	link, err := s.mediaLink(c.Request().Context(), viewerFrom(c), c.Param("id"), key)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"url": link.URL, "expiresAt": link.ExpiresAt})
}

// apiDetachMedia takes an attachment off the entry. The object stays in the media store:
// earlier revisions still list it, and restoring one of them must lose nothing.
func (s *Server) apiDetachMedia(c echo.Context) error {
	key, err := mediaKeyParam(c)
	if err != nil {
		return err
	}
	e, err := s.deps.Journals.RemoveAttachment(c.Request().Context(), viewerFrom(c), c.Param("id"), key)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

type sharingRequest struct {
	Shared *bool `json:"shared"`
}

func (s *Server) apiSetSharing(c echo.Context) error {
	var req sharingRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Shared == nil {
		return failure.Invalid("shared", "is required: true to share, false to stop sharing")
	}
	sh, err := s.setSharing(c, c.Param("id"), courses.Audience(c.Param("audience")), *req.Shared)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sh)
}

func (s *Server) apiListComments(c echo.Context) error {
	cs, err := s.deps.Journals.Comments(c.Request().Context(), viewerFrom(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"comments": cs})
}

// commentRequest is a comment; its idempotency key comes in the Idempotency-Key header
// (or, for clients that cannot set headers, as key).
type commentRequest struct {
	Body     string           `json:"body"`
	Audience courses.Audience `json:"audience"`
	Key      string           `json:"key"`
}

// bodyOrHeaderKey is the idempotency key of a request whose body may carry it.
func bodyOrHeaderKey(c echo.Context, inBody string) (string, error) {
	if k := strings.TrimSpace(c.Request().Header.Get("Idempotency-Key")); k != "" {
		return k, nil
	}
	if inBody != "" {
		return inBody, nil
	}
	return idempotencyKey(c)
}

func (s *Server) apiAddComment(c echo.Context) error {
	var req commentRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	key, err := bodyOrHeaderKey(c, req.Key)
	if err != nil {
		return err
	}
	cm, err := s.deps.Journals.AddComment(c.Request().Context(), viewerFrom(c), c.Param("id"),
		courses.NewComment{Audience: req.Audience, Body: req.Body, Key: key})
	if err != nil {
		return err
	}
	s.notifyComment(c.Request().Context(), cm)
	return c.JSON(http.StatusCreated, cm)
}

func (s *Server) apiAccessLog(c echo.Context) error {
	before, err := intParam("before", c.QueryParam("before"), 0)
	if err != nil {
		return err
	}
	limit, err := intParam("limit", c.QueryParam("limit"), 0)
	if err != nil {
		return err
	}
	recs, next, err := s.deps.Journals.AccessLogPage(c.Request().Context(), viewerFrom(c), before, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"records": recs, "next": next})
}

func (s *Server) apiNotifications(c echo.Context) error {
	ns, err := s.deps.Journals.Notifications(c.Request().Context(), viewerFrom(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"notifications": ns})
}

type readNotificationsRequest struct {
	IDs []string `json:"ids"`
}

func (s *Server) apiReadNotifications(c echo.Context) error {
	var req readNotificationsRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if len(req.IDs) > 1000 {
		return failure.Invalid("ids", "mark at most 1000 notifications at a time")
	}
	if err := s.deps.Journals.MarkNotificationsRead(c.Request().Context(), viewerFrom(c), req.IDs...); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// supervisionRequest is courses.NewSupervision with its date as written.
type supervisionRequest struct {
	Date         string                  `json:"date"`
	Minutes      int                     `json:"minutes"`
	SupervisorID string                  `json:"supervisorId"`
	PeerWorker   string                  `json:"peerWorker"`
	Kind         courses.SupervisionKind `json:"kind"`
	Reflection   string                  `json:"reflection"`
	Key          string                  `json:"key"`
}

func (s *Server) apiSupervisionLog(c echo.Context) error {
	v := viewerFrom(c)
	trainee := c.QueryParam("trainee")
	if trainee == "" {
		trainee = v.UserID
	}
	sessions, err := s.deps.Journals.SupervisionLog(c.Request().Context(), v, trainee)
	if err != nil {
		return err
	}
	if sessions == nil {
		sessions = []courses.SupervisionSession{}
	}
	return c.JSON(http.StatusOK, map[string]any{"sessions": sessions, "totals": courses.TotalSupervision(sessions)})
}

func (s *Server) apiLogSupervision(c echo.Context) error {
	var req supervisionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	date, err := parseDate("date", "the date", req.Date)
	if err != nil {
		return err
	}
	key, err := bodyOrHeaderKey(c, req.Key)
	if err != nil {
		return err
	}
	ss, err := s.deps.Journals.LogSupervision(c.Request().Context(), viewerFrom(c), courses.NewSupervision{
		Date: date, Minutes: req.Minutes, SupervisorID: req.SupervisorID, PeerWorker: req.PeerWorker,
		Kind: req.Kind, Reflection: req.Reflection, Key: key,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, ss)
}

func (s *Server) apiSupervisionToConfirm(c echo.Context) error {
	sessions, err := s.deps.Journals.SupervisionToConfirm(c.Request().Context(), viewerFrom(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"sessions": sessions})
}

func (s *Server) apiConfirmSupervision(c echo.Context) error {
	ss, err := s.deps.Journals.ConfirmSupervision(c.Request().Context(), viewerFrom(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ss)
}

// practiceRange is the range of days a practice summary covers: from and to as given,
// by default the year up to today.
func practiceRange(c echo.Context) (time.Time, time.Time, error) {
	to := time.Now().In(ukTime)
	to = time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, time.UTC)
	if raw := c.QueryParam("to"); raw != "" {
		d, err := parseDate("to", "the last day", raw)
		if err != nil {
			return time.Time{}, time.Time{}, err
		}
		to = d
	}
	from := to.AddDate(-1, 0, 1)
	if raw := c.QueryParam("from"); raw != "" {
		d, err := parseDate("from", "the first day", raw)
		if err != nil {
			return time.Time{}, time.Time{}, err
		}
		from = d
	}
	return from, to, nil
}

func (s *Server) apiPractice(c echo.Context) error {
	ctx, v := c.Request().Context(), viewerFrom(c)
	from, to, err := practiceRange(c)
	if err != nil {
		return err
	}
	owner := c.QueryParam("owner")
	if owner == "" {
		owner = v.UserID
	}
	sum, err := s.deps.Journals.PracticeSummary(ctx, v, owner, from, to)
	if err != nil {
		return err
	}
	sessions := []courses.PracticeSession{}
	if owner == v.UserID {
		if sessions, err = s.deps.Journals.PracticeSessions(ctx, v, from, to); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"summary": sum, "sessions": sessions})
}

// practiceRequest is courses.NewPractice with its date as written.
type practiceRequest struct {
	Date    string               `json:"date"`
	Minutes int                  `json:"minutes"`
	Kind    courses.PracticeKind `json:"kind"`
	Key     string               `json:"key"`
}

func (s *Server) apiLogPractice(c echo.Context) error {
	var req practiceRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	date, err := parseDate("date", "the date", req.Date)
	if err != nil {
		return err
	}
	key, err := bodyOrHeaderKey(c, req.Key)
	if err != nil {
		return err
	}
	ps, err := s.deps.Journals.LogPractice(c.Request().Context(), viewerFrom(c), courses.NewPractice{Date: date, Minutes: req.Minutes, Kind: req.Kind, Key: key})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, ps)
}

type visibilityBody struct {
	Visibility courses.PracticeVisibility `json:"visibility"`
}

func (s *Server) apiPracticeVisibility(c echo.Context) error {
	vis, err := s.deps.Journals.PracticeVisibility(c.Request().Context(), viewerFrom(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, visibilityBody{Visibility: vis})
}

func (s *Server) apiSetPracticeVisibility(c echo.Context) error {
	var req visibilityBody
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.deps.Journals.SetPracticeVisibility(c.Request().Context(), viewerFrom(c), req.Visibility); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, req)
}

type eraseRequest struct {
	Confirm string `json:"confirm"`
}

// apiEraseUser erases an account's journal data: it disables the account first (ending
// its sessions, so that nothing is saved meanwhile), then removes the records, then the
// media objects no record refers to any more. An object whose deletion fails is left to
// the orphan sweep.
func (s *Server) apiEraseUser(c echo.Context) error {
	ctx, id := c.Request().Context(), c.Param("id")
	var req eraseRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := s.deps.Accounts.Users.ByID(ctx, id)
	if err != nil {
		return err
	}
	if !strings.EqualFold(strings.TrimSpace(req.Confirm), u.Email) {
		return failure.Invalid("confirm", "must be the email address of the account to erase, to show that it is the right one")
	}
	if _, err := s.setDisabled(c, id, true, "Personal data erased"); err != nil {
		return err
	}
	report, err := s.deps.Journals.Erase(ctx, viewerFrom(c), id, s.awardRecords())
	if err != nil {
		return err
	}
	if err := s.eraseBeyondJournal(c, id); err != nil {
		return err
	}
	if s.deps.Audit != nil {
		if err := s.deps.Audit.Redact(ctx, id); err != nil {
			return err
		}
	}
	s.record(c, audit.Entry{Action: audit.PersonErased, SubjectID: id, SubjectName: audit.Erased})
	for _, key := range report.MediaKeys {
		if err := s.deps.Media.Delete(ctx, key); err != nil {
			s.log.Warn("erase: media object left for the sweep", "user", id, "key", key, "err", err)
		}
	}
	s.log.Info("account data erased", "user", id, "by", currentUser(c).ID, "media", len(report.MediaKeys))
	return c.JSON(http.StatusOK, report)
}
