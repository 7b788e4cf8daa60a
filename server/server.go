// Package server is Polyphony's web face: the pages, the JSON API under /api/v1, sessions,
// CSRF, security headers and the one place where domain errors become HTTP answers. It is
// the only package that imports echo.
package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"polyphony/assessment"
	"polyphony/assessment/consent"
	"polyphony/assessment/marking"
	"polyphony/content"
	"polyphony/content/media"
	"polyphony/courses"
	"polyphony/courses/award"
	"polyphony/courses/progress"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/mail"
	"polyphony/internal/notify"
	"polyphony/internal/sso"
	"polyphony/realtime"
)

// Config is how the web server behaves.
type Config struct {
	// PublicURL is the address people open; an https scheme turns on Secure cookies with the
	// __Host- prefix, and HSTS.
	PublicURL *url.URL
	// ClientIP says where the client's address comes from: "direct" (the TCP peer),
	// "x-forwarded-for" or "x-real-ip" (set by a proxy in TrustedProxies).
	ClientIP       string
	TrustedProxies []*net.IPNet
	Logger         *slog.Logger
	// UploadLimits caps the size of each kind of journal media upload (video, audio,
	// image); a zero field takes its value from media.DefaultLimits.
	UploadLimits media.Limits
	// BodyTimeout is how long the body of a request may take to arrive once its headers
	// have, and how long an upload may pause (zero: 30 s). UploadMinRate is the slowest, in
	// bytes a second, that an upload may arrive on average (zero: 4 kB/s). Either falling
	// behind is answered 408.
	BodyTimeout   time.Duration
	UploadMinRate int64
	// MaxConnsPerClient caps the connections open at once from one client address, those
	// of TrustedProxies apart; more are closed as soon as they are accepted (zero: 256).
	MaxConnsPerClient int
	// TLS, when set, serves HTTPS with it.
	TLS *tls.Config
	// Fonts is the address of the folder holding the NHS.UK font files, such as NHSUKFonts.
	// Empty, pages use the machine's own fonts and ask no other site for anything: what a
	// closed network, and every test, needs.
	Fonts string
}

// Pinger is anything /readyz checks.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are the domain services the server calls.
type Deps struct {
	Accounts *accounts.Service
	Courses  *courses.Store
	Pages    *content.Pages
	Renderer *content.Renderer
	Media    media.Store
	DB       Pinger
	// Rooms runs the live dialogue rooms; Transcripts keeps what was said in them.
	Rooms       *realtime.Hub
	Transcripts *realtime.Transcripts
	// Assessments keeps the question banks, the assessments and the trainees' attempts.
	Assessments *assessment.Store
	// Marking keeps the assessed work: rubrics, pieces, submissions, marks, moderation and
	// release; nil serves none of it.
	Marking *marking.Store
	// Journals keeps reflective journals, their sharing and comments, and the supervision
	// and practice logs.
	Journals *courses.Journals
	// Exports runs each person's export of everything they hold, on any instance.
	Exports *courses.ExportJobs
	// Mail sends the emails about passwords and invitations; nil sends none.
	Mail AccountMail
	// Audit logs every administrative change; nil logs none.
	Audit *audit.Log
	// SSO, when set, is the organisation's OpenID provider people may sign in through.
	SSO *sso.Provider
	// Email queues the emails and keeps each person's choice of them; nil sends none.
	Email *mail.Queue
	// Notify emails people of what happened (a comment, a shared entry, an assessment
	// open); nil sends none of those.
	Notify *notify.Notifier
	// Consent asks the speakers of a room before their words are used as evidence (quotes
	// in journal entries, submitted transcripts); nil offers no quoting and no /consent.
	Consent *consent.Store
	// Awards keeps the diploma's awards and answers the public verification of their
	// certificates; nil serves no certificate routes.
	Awards *award.Store
	// Boards keeps the exam boards, which decide the awards; nil serves no board routes.
	Boards *award.Boards
	// Progress keeps the award rules and works out each trainee's progress; nil shows none.
	Progress *progress.Service
}

// Server holds the echo instance and everything its handlers use.
type Server struct {
	e        *echo.Echo
	cfg      Config
	deps     Deps
	log      *slog.Logger
	views    *views
	rendered *pageCache // whole curriculum pages as each reader was last shown them
	secure   bool
	csp      string // the Content-Security-Policy of every answer
	nhsukCSS []byte // the NHS.UK frontend's style sheet, with its fonts as Config.Fonts says
	access   map[string]Access
}

// Access says who may use a route.
type Access int

// The levels of access a route can ask for.
const (
	Public Access = iota
	SignedIn
	Editors // administrators and facilitators
	AdminOnly
)

// New builds the server and its routes.
func New(cfg Config, deps Deps) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PublicURL == nil {
		cfg.PublicURL = &url.URL{Scheme: "http", Host: "127.0.0.1:8080"}
	}
	cfg.BodyTimeout = cmp.Or(max(cfg.BodyTimeout, 0), defaultBodyTimeout)
	cfg.UploadMinRate = cmp.Or(max(cfg.UploadMinRate, 0), defaultUploadMinRate)
	cfg.MaxConnsPerClient = cmp.Or(max(cfg.MaxConnsPerClient, 0), defaultMaxConnsPerClient)
	v, err := loadViews()
	if err != nil {
		return nil, err
	}
	s := &Server{
		e: echo.New(), cfg: cfg, deps: deps, log: cfg.Logger, views: v,
		rendered: newPageCache(pageCacheBytes), secure: cfg.PublicURL.Scheme == "https", access: map[string]Access{},
	}
	mediaOrigin := ""
	if o, ok := deps.Media.(originer); ok {
		mediaOrigin = o.Origin()
	}
	fonts, err := parseFontSource(cfg.Fonts)
	if err != nil {
		return nil, err
	}
	s.csp = contentSecurityPolicy(mediaOrigin, fonts)
	if css, err := staticFS.ReadFile(nhsukStylesheet); err == nil {
		s.nhsukCSS = fonts.stylesheet(css)
	}
	s.e.HideBanner, s.e.HidePort = true, true
	s.e.HTTPErrorHandler = s.handleError
	extractor, err := ipExtractor(cfg.ClientIP, cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	s.e.IPExtractor = extractor
	s.routes()
	return s, nil
}

func ipExtractor(mode string, trusted []*net.IPNet) (echo.IPExtractor, error) {
	var opts []echo.TrustOption
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	switch mode {
	case "", "direct":
		return echo.ExtractIPDirect(), nil
	case "x-forwarded-for":
		return echo.ExtractIPFromXFFHeader(opts...), nil
	case "x-real-ip":
		return echo.ExtractIPFromRealIPHeader(opts...), nil
	}
	return nil, fmt.Errorf("client-ip: %q is not one of direct, x-forwarded-for, x-real-ip", mode)
}

// Handler is the whole application as an http.Handler.
func (s *Server) Handler() http.Handler { return s.e }

// Routes lists every route with the access it asks for, for tests and the API description.
func (s *Server) Routes() map[string]Access {
	out := make(map[string]Access, len(s.access))
	for k, v := range s.access {
		out[k] = v
	}
	return out
}

// Serve answers on ln until ctx ends, then stops taking connections and lets requests in
// flight finish (for up to drain). It keeps each client address to MaxConnsPerClient
// connections, counted below TLS.
func (s *Server) Serve(ctx context.Context, ln net.Listener, drain time.Duration) error {
	ln = limitPerClient(ln, s.cfg.MaxConnsPerClient, s.cfg.TrustedProxies, s.log)
	if s.cfg.TLS != nil {
		ln = tls.NewListener(ln, s.cfg.TLS)
	}
	hs := &http.Server{
		Handler:           s.e,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	// Rooms first: refuse new upgrades, close members with 1001, write what is pending.
	var roomsErr error
	if s.deps.Rooms != nil {
		roomsErr = s.deps.Rooms.Shutdown(shutdownCtx)
	}
	err := hs.Shutdown(shutdownCtx)
	if err == nil {
		err = roomsErr
	}
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}

// add registers a route with the access it requires. Every route goes through here, so the
// access table in Routes is complete.
func (s *Server) add(method, path string, access Access, h echo.HandlerFunc) {
	s.access[method+" "+path] = access
	var mw []echo.MiddlewareFunc
	switch access {
	case SignedIn:
		mw = append(mw, s.requireUser)
	case Editors:
		mw = append(mw, s.requireUser, s.requireRole(accounts.RoleAdmin, accounts.RoleFacilitator))
	case AdminOnly:
		mw = append(mw, s.requireUser, s.requireRole(accounts.RoleAdmin))
	}
	s.e.Add(method, path, h, mw...)
}

func (s *Server) routes() {
	e := s.e
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic", "err", err, "path", c.Request().URL.Path, "stack", string(stack))
			return err
		},
	}))
	// The body limit comes before anything that reads a body (the CSRF check reads forms).
	e.Use(s.securityHeaders, s.logRequests, s.boundBodies, middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit: "1M", Skipper: func(c echo.Context) bool { return streamsBody(c.Request()) },
	}), s.identify, s.checkCSRF)

	s.add(http.MethodGet, "/healthz", Public, s.healthz)
	s.add(http.MethodGet, "/readyz", Public, s.readyz)
	s.add(http.MethodGet, "/static/*", Public, s.static)
	s.add(http.MethodGet, "/media/*", Public, s.media)

	s.add(http.MethodGet, "/signin", Public, s.signinPage)
	s.add(http.MethodPost, "/signin", Public, s.signin)
	s.passwordRoutes()
	s.peopleRoutes()
	s.emailRoutes()
	s.importRoutes()
	s.add(http.MethodPost, "/signout", SignedIn, s.signout)
	s.ssoRoutes()
	s.add(http.MethodGet, "/", SignedIn, s.home)
	s.add(http.MethodGet, "/account", SignedIn, s.accountPage)
	s.add(http.MethodPost, "/account/tokens", SignedIn, s.accountCreateToken)
	s.add(http.MethodPost, "/account/tokens/:id/revoke", SignedIn, s.accountRevokeToken)
	s.accountEmailRoutes()
	s.add(http.MethodGet, "/admin", AdminOnly, s.adminPage)
	s.add(http.MethodPost, "/admin/people", AdminOnly, s.adminAddPerson)
	s.add(http.MethodPost, "/admin/people/:id/disable", AdminOnly, s.adminDisablePerson)
	s.add(http.MethodPost, "/admin/people/:id/enable", AdminOnly, s.adminEnablePerson)
	s.add(http.MethodPost, "/admin/cohorts", AdminOnly, s.adminAddCohort)
	s.add(http.MethodPost, "/admin/trusts", AdminOnly, s.adminAddTrust)

	s.add(http.MethodGet, "/programme", SignedIn, s.programmePage)
	s.add(http.MethodGet, "/modules/:n", SignedIn, s.modulePage)
	s.add(http.MethodGet, "/schedule", SignedIn, s.schedulePage)
	s.add(http.MethodPost, "/schedule/calendar/rotate", SignedIn, s.rotateCalendar)
	s.add(http.MethodGet, "/calendar/:token", Public, s.calendarFeed)
	s.add(http.MethodGet, "/reading-list", SignedIn, s.readingListPage)
	s.add(http.MethodGet, "/curriculum", SignedIn, s.curriculumIndex)
	s.add(http.MethodGet, "/curriculum/new", Editors, s.curriculumNew)
	s.add(http.MethodPost, "/curriculum", Editors, s.curriculumSave)
	s.add(http.MethodPost, "/curriculum/preview", Editors, s.curriculumPreview)
	s.add(http.MethodGet, "/curriculum/:slug", SignedIn, s.curriculumPage)
	s.add(http.MethodGet, "/curriculum/:slug/edit", Editors, s.curriculumEdit)
	s.add(http.MethodPost, "/curriculum/:slug", Editors, s.curriculumSave)
	s.add(http.MethodGet, "/curriculum/:slug/revisions", Editors, s.curriculumRevisions)
	s.add(http.MethodGet, "/curriculum/:slug/revisions/:n", Editors, s.curriculumRevision)
	s.add(http.MethodPost, "/curriculum/:slug/revisions/:n/restore", Editors, s.curriculumRestore)
	s.add(http.MethodGet, "/cohorts", SignedIn, s.cohortsPage)
	s.add(http.MethodGet, "/cohorts/:id", SignedIn, s.cohortPage)
	s.add(http.MethodPost, "/cohorts/:id/modules", SignedIn, s.saveModuleDates)
	s.add(http.MethodPost, "/cohorts/:id/members", AdminOnly, s.pageAddMember)
	s.add(http.MethodPost, "/cohorts/:id/members/:userId", AdminOnly, s.pageChangeMember)
	s.add(http.MethodPost, "/cohorts/:id/members/:userId/remove", AdminOnly, s.pageRemoveMember)
	s.add(http.MethodGet, "/cohorts/:id/register/:occasion", SignedIn, s.registerPage)
	s.add(http.MethodPost, "/cohorts/:id/register/:occasion", SignedIn, s.takeRegister)

	s.add(http.MethodGet, "/rooms/:cohort/:room", SignedIn, s.roomPage)
	s.add(http.MethodGet, "/rooms/:cohort/:room/ws", SignedIn, s.roomSocket)
	s.add(http.MethodPost, "/rooms/:cohort/:room/open", SignedIn, s.roomOpen)
	s.add(http.MethodGet, "/rooms/:cohort/:room/close", SignedIn, s.roomCloseConfirm)
	s.add(http.MethodPost, "/rooms/:cohort/:room/close", SignedIn, s.roomClose)
	s.add(http.MethodGet, "/rooms/:cohort/:room/transcript", SignedIn, s.transcriptPage)
	s.add(http.MethodGet, "/rooms/:cohort/:room/transcript.md", SignedIn, s.transcriptMarkdown)
	s.add(http.MethodGet, "/rooms/:cohort/:room/transcript/:seq/withdraw", SignedIn, s.withdrawConfirm)
	s.add(http.MethodPost, "/rooms/:cohort/:room/transcript/:seq/withdraw", SignedIn, s.withdrawTurn)
	s.add(http.MethodGet, "/rooms/:cohort/:room/register", SignedIn, s.roomRegisterPage)
	s.add(http.MethodPost, "/rooms/:cohort/:room/register", SignedIn, s.roomRegisterTake)
	s.add(http.MethodPost, "/api/v1/rooms/:cohort/:room/open", SignedIn, s.roomOpen)
	s.add(http.MethodPost, "/api/v1/rooms/:cohort/:room/close", SignedIn, s.roomClose)
	s.add(http.MethodPost, "/api/v1/rooms/:cohort/:room/register", SignedIn, s.roomRegisterTake)
	s.add(http.MethodGet, "/api/v1/rooms/:cohort/:room/transcript", SignedIn, s.apiTranscript)

	s.add(http.MethodGet, "/api/v1/openapi.json", Public, s.openAPI)
	s.add(http.MethodPost, "/api/v1/session", Public, s.apiLogin)
	s.add(http.MethodDelete, "/api/v1/session", SignedIn, s.apiLogout)
	s.add(http.MethodGet, "/api/v1/me", SignedIn, s.apiMe)
	s.add(http.MethodGet, "/api/v1/tokens", SignedIn, s.apiListTokens)
	s.add(http.MethodPost, "/api/v1/tokens", SignedIn, s.apiCreateToken)
	s.add(http.MethodDelete, "/api/v1/tokens/:id", SignedIn, s.apiRevokeToken)
	s.add(http.MethodGet, "/api/v1/users", AdminOnly, s.apiListUsers)
	s.add(http.MethodPost, "/api/v1/users", AdminOnly, s.apiCreateUser)
	s.add(http.MethodGet, "/api/v1/users/:id", AdminOnly, s.apiGetUser)
	s.add(http.MethodPatch, "/api/v1/users/:id", AdminOnly, s.apiPatchUser)
	s.add(http.MethodGet, "/api/v1/trusts", AdminOnly, s.apiListTrusts)
	s.add(http.MethodPost, "/api/v1/trusts", AdminOnly, s.apiCreateTrust)
	s.add(http.MethodGet, "/api/v1/cohorts", AdminOnly, s.apiListCohorts)
	s.add(http.MethodPost, "/api/v1/cohorts", AdminOnly, s.apiCreateCohort)
	s.add(http.MethodGet, "/api/v1/cohorts/:id/members", AdminOnly, s.apiListMembers)
	s.add(http.MethodPost, "/api/v1/cohorts/:id/members", AdminOnly, s.apiAddMember)
	s.add(http.MethodPut, "/api/v1/cohorts/:id/members/:userId", AdminOnly, s.apiChangeMember)
	s.add(http.MethodDelete, "/api/v1/cohorts/:id/members/:userId", AdminOnly, s.apiRemoveMember)
	s.add(http.MethodGet, "/api/v1/cohorts/:id/programme", SignedIn, s.apiGetProgramme)
	s.add(http.MethodPut, "/api/v1/cohorts/:id/programme", SignedIn, s.apiPutProgramme)
	s.add(http.MethodGet, "/api/v1/cohorts/:id/registers/:occasion", SignedIn, s.apiGetRegister)
	s.add(http.MethodPut, "/api/v1/cohorts/:id/registers/:occasion", SignedIn, s.apiPutRegister)
	s.add(http.MethodGet, "/api/v1/me/attendance", SignedIn, s.apiMyAttendance)
	s.add(http.MethodGet, "/api/v1/me/calendar", SignedIn, s.apiMyCalendar)
	s.add(http.MethodPost, "/api/v1/me/calendar", SignedIn, s.apiRotateCalendar)
	s.add(http.MethodGet, "/api/v1/curriculum", SignedIn, s.apiListCurriculum)
	s.add(http.MethodGet, "/api/v1/curriculum/:slug", SignedIn, s.apiGetCurriculum)
	s.add(http.MethodPut, "/api/v1/curriculum/:slug", Editors, s.apiPutCurriculum)
	s.add(http.MethodGet, "/api/v1/curriculum/:slug/revisions", Editors, s.apiCurriculumRevisions)
	s.add(http.MethodPost, "/api/v1/curriculum/:slug/revisions/:n/restore", Editors, s.apiRestoreCurriculum)

	s.add(http.MethodGet, "/api/v1/banks", SignedIn, s.apiListBanks)
	s.add(http.MethodPost, "/api/v1/banks", SignedIn, s.apiCreateBank)
	s.add(http.MethodGet, "/api/v1/banks/:bank/questions", SignedIn, s.apiListQuestions)
	s.add(http.MethodPost, "/api/v1/banks/:bank/questions", SignedIn, s.apiAddQuestion)
	s.add(http.MethodPost, "/api/v1/banks/:bank/import", SignedIn, s.apiImportQuestions)
	s.add(http.MethodGet, "/api/v1/banks/:bank/export", SignedIn, s.apiExportQuestions)
	s.add(http.MethodPost, "/api/v1/assessments", SignedIn, s.apiCreateAssessment)
	s.add(http.MethodGet, "/api/v1/assessments/:id", SignedIn, s.apiGetAssessment)
	s.add(http.MethodGet, "/api/v1/assessments/:id/results", SignedIn, s.apiAssessmentResults)
	s.add(http.MethodGet, "/api/v1/assessments/:id/analysis", SignedIn, s.apiAssessmentAnalysis)
	s.add(http.MethodGet, "/api/v1/assessments/:id/angoff", SignedIn, s.apiGetAngoff)
	s.add(http.MethodPut, "/api/v1/assessments/:id/angoff", SignedIn, s.apiPutAngoff)
	s.add(http.MethodPost, "/api/v1/assessments/:id/angoff/adopt", SignedIn, s.apiAdoptAngoff)
	s.add(http.MethodPost, "/api/v1/assessments/:id/attempts", SignedIn, s.apiStartAttempt)
	s.add(http.MethodGet, "/api/v1/attempts/:id", SignedIn, s.apiGetAttempt)
	s.add(http.MethodPut, "/api/v1/attempts/:id/answers/:q", SignedIn, s.apiSaveAnswer)
	s.add(http.MethodPost, "/api/v1/attempts/:id/submit", SignedIn, s.apiSubmitAttempt)

	s.assessmentPageRoutes()
	s.consentRoutes()
	s.journalAPIRoutes()
	s.journalPageRoutes()
	s.awardRoutes()
	s.boardRoutes()
	s.progressRoutes()
	s.markingAPIRoutes()
	s.markingReportRoutes()
	s.markingPageRoutes()
}

// isAPI reports whether the request is for the JSON API (errors answer in JSON).
func isAPI(c echo.Context) bool {
	return strings.HasPrefix(c.Request().URL.Path, "/api/")
}
