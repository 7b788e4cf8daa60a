package server

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// contentSecurityPolicy is every page's policy. Media come from this server, or from the
// media store's own address (MinIO's signed URLs) when it has one; fonts from this server and
// the font source.
func contentSecurityPolicy(mediaOrigin string, fonts fontSource) string {
	extra := ""
	if mediaOrigin != "" {
		extra = " " + mediaOrigin
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:" + extra + "; " +
		"media-src 'self' blob:" + extra + "; connect-src 'self'; " + fonts.fontSrc() + "; form-action 'self'; " +
		"object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
}

// originer is a media store whose signed URLs point at another address.
type originer interface{ Origin() string }

// securityHeaders sets the headers every answer carries.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", s.csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), geolocation=(), microphone=(self)")
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		return next(c)
	}
}

// logRequests writes one line per request. Query strings are left out: they can carry
// signatures and tokens.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req, res := c.Request(), c.Response()
		level := slog.LevelInfo
		if res.Status >= 500 {
			level = slog.LevelError
		}
		attrs := []any{
			"method", req.Method, "path", req.URL.Path, "status", res.Status,
			"bytes", res.Size, "ms", float64(time.Since(start).Microseconds()) / 1000, "ip", c.RealIP(),
		}
		if u := currentUser(c); u != nil {
			attrs = append(attrs, "user", u.ID)
		}
		s.log.Log(req.Context(), level, "request", attrs...)
		return nil
	}
}

// Keys under which identify leaves what it found.
const (
	ctxUser    = "polyphony.user"
	ctxSession = "polyphony.session"
	ctxViaAuth = "polyphony.via"
	ctxEnded   = "polyphony.ended"
)

func currentUser(c echo.Context) *accounts.User {
	u, _ := c.Get(ctxUser).(*accounts.User)
	return u
}

func currentSession(c echo.Context) *accounts.Session {
	sess, _ := c.Get(ctxSession).(*accounts.Session)
	return sess
}

func (s *Server) sessionCookieName() string {
	if s.secure {
		return "__Host-polyphony"
	}
	return "polyphony"
}

func (s *Server) setSessionCookie(c echo.Context, secret string) {
	c.SetCookie(&http.Cookie{
		Name: s.sessionCookieName(), Value: secret, Path: "/",
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSessionCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{
		Name: s.sessionCookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

// identify finds who is calling: a personal API token in Authorization, or the session
// cookie. A bad token is refused outright; a dead cookie is cleared and the request goes on
// anonymously, so that public pages still work.
func (s *Server) identify(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		if auth := c.Request().Header.Get(echo.HeaderAuthorization); auth != "" {
			scheme, token, _ := strings.Cut(auth, " ")
			if !strings.EqualFold(scheme, "Bearer") || token == "" {
				return failure.Invalid("Authorization", "use the form \"Bearer <token>\"")
			}
			u, err := s.deps.Accounts.FromToken(ctx, strings.TrimSpace(token))
			if err != nil {
				return err
			}
			c.Set(ctxUser, &u)
			c.Set(ctxViaAuth, "token")
			return next(c)
		}
		cookie, err := c.Cookie(s.sessionCookieName())
		if err != nil || cookie.Value == "" {
			return next(c)
		}
		u, sess, err := s.deps.Accounts.FromSession(ctx, cookie.Value)
		switch {
		case err == nil:
			c.Set(ctxUser, &u)
			c.Set(ctxSession, &sess)
			c.Set(ctxViaAuth, "cookie")
		case errors.Is(err, failure.ErrUnauthenticated), errors.Is(err, failure.ErrForbidden):
			s.clearSessionCookie(c)
			c.Set(ctxEnded, true)
		default:
			return err
		}
		return next(c)
	}
}

func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// errCSRF is the answer to a state change without the right anti-forgery token.
var errCSRF = &echo.HTTPError{Code: http.StatusForbidden, Message: "the form has expired or did not come from this site; reload the page and try again"}

// checkCSRF guards every state change that a cookie authenticates: the session's token must
// come back in the X-CSRF-Token header or the csrf form field. Requests signed with an API
// token carry no ambient authority and need none. A request a browser marks as cross-site
// is refused whatever it carries.
func (s *Server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if isSafeMethod(req.Method) {
			return next(c)
		}
		if req.Header.Get("Sec-Fetch-Site") == "cross-site" {
			return errCSRF
		}
		if origin := req.Header.Get("Origin"); origin != "" && origin != "null" && !s.sameOrigin(origin, req) {
			return errCSRF
		}
		sess := currentSession(c)
		if sess == nil {
			// Anonymous: the sign-in form carries a double-submit token; the JSON sign-in is
			// protected by its content type (a cross-site form cannot send JSON).
			return next(c)
		}
		given := req.Header.Get("X-CSRF-Token")
		if given == "" && !streamsBody(req) { // an upload's body is the file, never a form
			given = c.FormValue("csrf")
		}
		if subtle.ConstantTimeCompare([]byte(given), []byte(sess.CSRF)) != 1 {
			return errCSRF
		}
		return next(c)
	}
}

// sameOrigin reports whether an Origin header names this site: the scheme, host and port
// of the public URL. A request sent to this server under another name (its address, say) is
// also from this site when the Origin names that host and port and the scheme that both the
// connection and the public URL use; so behind a proxy that ends TLS only the public URL
// passes, and an https page never writes to an http site, nor an http page to an https one.
func (s *Server) sameOrigin(origin string, req *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") {
		return false
	}
	got := originKey(u.Scheme, u.Host)
	if got == originKey(s.cfg.PublicURL.Scheme, s.cfg.PublicURL.Host) {
		return true
	}
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	return scheme == strings.ToLower(s.cfg.PublicURL.Scheme) && got == originKey(scheme, req.Host)
}

// originKey is scheme://host:port in lower case, with the scheme's default port filled in,
// so that http://Host and http://host:80 compare equal.
func originKey(scheme, hostport string) string {
	scheme, hostport = strings.ToLower(scheme), strings.ToLower(hostport)
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
		switch scheme {
		case "http", "ws":
			port = "80"
		case "https", "wss":
			port = "443"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// requireUser answers anonymous requests: 401 for the API, a redirect to sign-in for pages.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentUser(c) != nil {
			return next(c)
		}
		if isAPI(c) || !isSafeMethod(c.Request().Method) || c.IsWebSocket() {
			if ended, _ := c.Get(ctxEnded).(bool); ended {
				return accounts.ErrSessionExpired
			}
			return failure.ErrUnauthenticated
		}
		target := "/signin"
		if p := c.Request().URL.RequestURI(); p != "/" {
			target += "?next=" + url.QueryEscape(p)
		}
		if ended, _ := c.Get(ctxEnded).(bool); ended {
			sep := "?"
			if strings.Contains(target, "?") {
				sep = "&"
			}
			target += sep + "ended=1"
		}
		return c.Redirect(http.StatusSeeOther, target)
	}
}

// requireRole refuses anyone whose role is not among roles.
func (s *Server) requireRole(roles ...accounts.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u := currentUser(c)
			for _, r := range roles {
				if u != nil && u.Role == r {
					return next(c)
				}
			}
			return failure.ErrForbidden
		}
	}
}
