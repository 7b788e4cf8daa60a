package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/failure"
)

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// meResponse is who the caller is; csrfToken is what a cookie-authenticated script sends
// back in X-CSRF-Token.
type meResponse struct {
	User        accounts.User        `json:"user"`
	Memberships []courses.Membership `json:"memberships"`
	CSRFToken   string               `json:"csrfToken,omitempty"`
}

func (s *Server) me(c echo.Context) (meResponse, error) {
	u := currentUser(c)
	ms, err := s.deps.Courses.MembershipsOf(c.Request().Context(), u.ID)
	if err != nil {
		return meResponse{}, err
	}
	resp := meResponse{User: *u, Memberships: ms}
	if sess := currentSession(c); sess != nil {
		resp.CSRFToken = sess.CSRF
	}
	return resp, nil
}

func (s *Server) apiLogin(c echo.Context) error {
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var emailErr, passwordErr error
	if strings.TrimSpace(req.Email) == "" {
		emailErr = failure.Problem("email", "Enter your email address")
	}
	if req.Password == "" {
		passwordErr = failure.Problem("password", "Enter your password")
	}
	if err := failure.Problems(emailErr, passwordErr); err != nil {
		return err
	}
	if _, err := s.login(c, req.Email, req.Password); err != nil {
		return err
	}
	resp, err := s.me(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resp)
}

func (s *Server) apiLogout(c echo.Context) error {
	if currentSession(c) == nil {
		return failure.Invalid("", "this request is signed with an API token; revoke the token instead (DELETE /api/v1/tokens/{id})")
	}
	if cookie, err := c.Cookie(s.sessionCookieName()); err == nil {
		if err := s.deps.Accounts.Logout(c.Request().Context(), cookie.Value); err != nil {
			return err
		}
	}
	s.clearSessionCookie(c)
	s.closeRooms(currentUser(c))
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiMe(c echo.Context) error {
	resp, err := s.me(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resp)
}

type createTokenRequest struct {
	Name          string `json:"name"`
	ExpiresInDays int    `json:"expiresInDays"`
}

type createTokenResponse struct {
	Token accounts.Token `json:"token"`
	// Secret is shown once; only its hash is kept.
	Secret string `json:"secret"`
}

func (s *Server) apiListTokens(c echo.Context) error {
	ts, err := s.deps.Accounts.Tokens.List(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ts)
}

func (s *Server) apiCreateToken(c echo.Context) error {
	var req createTokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.ExpiresInDays < 0 || req.ExpiresInDays > 3650 {
		return failure.Invalid("expiresInDays", "must be between 0 (no expiry) and 3650")
	}
	secret, tok, err := s.deps.Accounts.Tokens.Create(c.Request().Context(), currentUser(c).ID, req.Name, time.Duration(req.ExpiresInDays)*24*time.Hour)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, createTokenResponse{Token: tok, Secret: secret})
}

func (s *Server) apiRevokeToken(c echo.Context) error {
	if err := s.deps.Accounts.Tokens.Revoke(c.Request().Context(), currentUser(c).ID, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type createUserRequest struct {
	Email      string `json:"email"`
	Name       string `json:"name"`
	Role       string `json:"role"`
	Password   string `json:"password"`
	TrustID    string `json:"trustId"`
	CohortID   string `json:"cohortId"`
	PeerWorker bool   `json:"peerWorker"`
}

// createPerson is the one way an account is made from the web, by page or API: the account,
// then its cohort membership when a cohort is named.
func (s *Server) createPerson(c echo.Context, req createUserRequest) (accounts.User, error) {
	ctx := c.Request().Context()
	nu := accounts.NewUser{
		Email: req.Email, Name: req.Name, Role: accounts.Role(req.Role), TrustID: req.TrustID, PeerWorker: req.PeerWorker, Password: req.Password,
	}
	role, _ := accounts.ParseRole(req.Role)
	var trustErr, cohortErr error
	if req.TrustID != "" {
		if _, err := s.deps.Courses.Trust(ctx, req.TrustID); errors.Is(err, failure.ErrNotFound) {
			trustErr = failure.Problem("trustId", "Select a trust from the list")
		} else if err != nil {
			return accounts.User{}, err
		}
	}
	if req.CohortID != "" {
		if _, err := s.deps.Courses.Cohort(ctx, req.CohortID); errors.Is(err, failure.ErrNotFound) {
			cohortErr = failure.Problem("cohortId", "Select a cohort from the list")
		} else if err != nil {
			return accounts.User{}, err
		} else if role == accounts.RoleAdmin {
			cohortErr = failure.Problem("cohortId", "An administrator runs every cohort and is not a member of one: choose No cohort yet")
		}
	}
	if err := failure.Problems(nu.Validate(), cohortErr, trustErr); err != nil {
		return accounts.User{}, err
	}
	nu.Role = role
	u, err := s.deps.Accounts.Users.Create(ctx, nu)
	if err != nil {
		return accounts.User{}, err
	}
	if req.CohortID != "" {
		if _, err := s.deps.Courses.Enrol(ctx, req.CohortID, u.ID, role); err != nil {
			return accounts.User{}, err
		}
	}
	s.log.Info("account created", "user", u.ID, "role", u.Role, "by", currentUser(c).ID)
	s.record(c, audit.Entry{Action: audit.PersonAdded, SubjectID: u.ID, SubjectName: u.Name,
		Changes: audit.Diff(accounts.FieldNames, nil, u.Fields())})
	if req.CohortID != "" {
		s.record(c, audit.Entry{Action: audit.MemberAdded, SubjectID: req.CohortID, SubjectName: s.cohortName(c, req.CohortID),
			Changes: []audit.Change{{Field: "member", After: u.Name + " (" + string(role) + ")"}}})
	}
	return u, nil
}

// createdUser is a new account and, when it was made without a password, its invitation.
type createdUser struct {
	accounts.User
	Invitation *invitation `json:"invitation,omitempty"`
}

func (s *Server) apiCreateUser(c echo.Context) error {
	var req createUserRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := s.createPerson(c, req)
	if err != nil {
		return err
	}
	out := createdUser{User: u}
	if req.Password == "" {
		inv, _, err := s.invite(c, u.ID)
		if err != nil {
			return err
		}
		out.Invitation = &inv
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) apiListUsers(c echo.Context) error {
	us, err := s.deps.Accounts.Users.List(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, us)
}

func (s *Server) apiGetUser(c echo.Context) error {
	u, err := s.deps.Accounts.Users.ByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

// patchUserRequest holds what an administrator changes of an account through the API: any
// of its details, and whether it is disabled (with the reason). Version, when given, must be
// the account's version, or the change is refused as made on a stale copy.
type patchUserRequest struct {
	Name       *string `json:"name"`
	Email      *string `json:"email"`
	Role       *string `json:"role"`
	TrustID    *string `json:"trustId"`
	PeerWorker *bool   `json:"peerWorker"`
	Disabled   *bool   `json:"disabled"`
	Reason     string  `json:"reason"`
	Version    int64   `json:"version"`
}

func (s *Server) apiPatchUser(c echo.Context) error {
	var req patchUserRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	id := c.Param("id")
	edit := accounts.Edit{Name: req.Name, Email: req.Email, TrustID: req.TrustID, PeerWorker: req.PeerWorker}
	if req.Role != nil {
		r := accounts.Role(*req.Role)
		edit.Role = &r
	}
	details := edit != (accounts.Edit{})
	if !details && req.Disabled == nil {
		return failure.Problem("", "Give at least one of name, email, role, trustId, peerWorker and disabled")
	}
	u, err := s.deps.Accounts.Users.ByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if details {
		if u, err = s.editPerson(c, id, req.Version, edit); err != nil {
			return err
		}
	}
	// Disabling stores a change even when the account is disabled already, so that each
	// request answered 200 is one change on record (TestUserCommandsRaceTheServer counts them).
	if req.Disabled != nil {
		if req.Version > 0 && !details && u.Version != req.Version {
			return failure.Conflict("the account was changed by someone else; reload and try again")
		}
		if u, err = s.setDisabled(c, id, *req.Disabled, req.Reason); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, u)
}

func (s *Server) setDisabled(c echo.Context, id string, disabled bool, reason string) (accounts.User, error) {
	if id == currentUser(c).ID && disabled {
		return accounts.User{}, failure.Invalid("disabled", "you cannot disable your own account")
	}
	u, err := s.deps.Accounts.SetDisabledBecause(c.Request().Context(), id, disabled, reason)
	if err != nil {
		return accounts.User{}, err
	}
	s.log.Info("account disabled changed", "user", id, "disabled", disabled, "by", currentUser(c).ID)
	action := audit.PersonEnabled
	if disabled {
		action = audit.PersonDisabled
	}
	s.record(c, audit.Entry{Action: action, SubjectID: u.ID, SubjectName: u.Name, Reason: u.DisabledReason,
		Changes: []audit.Change{{Field: "disabled", Before: strconv.FormatBool(!disabled), After: strconv.FormatBool(disabled)}}})
	return u, nil
}

type createTrustRequest struct {
	Name string `json:"name"`
}

func (s *Server) apiListTrusts(c echo.Context) error {
	ts, err := s.deps.Courses.Trusts(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ts)
}

func (s *Server) apiCreateTrust(c echo.Context) error {
	var req createTrustRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	t, err := s.deps.Courses.CreateTrust(c.Request().Context(), req.Name)
	if err != nil {
		return err
	}
	s.record(c, audit.Entry{Action: audit.TrustAdded, SubjectID: t.ID, SubjectName: t.Name})
	return c.JSON(http.StatusCreated, t)
}

type createCohortRequest struct {
	Name      string   `json:"name"`
	StartDate string   `json:"startDate"`
	TrustIDs  []string `json:"trustIds"`
}

// parseDate reads a date written YYYY-MM-DD (as a browser's date field sends it); what names
// the date in the form's words ("the start date") for the message when it is missing or
// not a real date.
func parseDate(field, what, s string) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, failure.Problem(field, "Enter "+what)
	}
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, failure.Problem(field, sentenceStart(what)+" must be a real date, like 2027-03-01")
	}
	return t, nil
}

// sentenceStart capitalises the first letter, to begin a message with a name from a form.
func sentenceStart(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// joinProblems joins the problems found reading a form (dates, numbers) with the domain's
// own problems for the other fields, so every wrong field is listed at once; a field that
// could not be read is named once, by the reading problem.
func joinProblems(reading []error, domain error) error {
	seen := map[string]bool{}
	var all []error
	for _, err := range reading {
		for _, invalid := range failure.Invalids(err) {
			seen[invalid.Field] = true
			all = append(all, invalid)
		}
	}
	invalids := failure.Invalids(domain)
	if domain != nil && len(invalids) == 0 {
		return domain
	}
	for _, invalid := range invalids {
		if !seen[invalid.Field] {
			all = append(all, invalid)
		}
	}
	return failure.Problems(all...)
}

func (s *Server) apiListCohorts(c echo.Context) error {
	cs, err := s.deps.Courses.Cohorts(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cs)
}

func (s *Server) apiCreateCohort(c echo.Context) error {
	var req createCohortRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	nc := courses.NewCohort{Name: req.Name, TrustIDs: req.TrustIDs}
	start, err := parseDate("startDate", "the start date", req.StartDate)
	if err != nil {
		return joinProblems([]error{err}, nc.Validate())
	}
	nc.StartDate = start
	co, _, err := s.deps.Courses.CreateCohortFromTemplate(c.Request().Context(), nc, currentUser(c).ID)
	if err != nil {
		return err
	}
	s.record(c, audit.Entry{Action: audit.CohortAdded, SubjectID: co.ID, SubjectName: co.Name,
		Changes: []audit.Change{{Field: "start", After: co.StartDate.Format("2006-01-02")}}})
	return c.JSON(http.StatusCreated, co)
}

func (s *Server) apiListMembers(c echo.Context) error {
	ctx := c.Request().Context()
	if _, err := s.deps.Courses.Cohort(ctx, c.Param("id")); err != nil {
		return err
	}
	ms, err := s.deps.Courses.Members(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ms)
}
