package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"polyphony/internal/failure"
)

// apiError is the JSON body of every error answer under /api.
type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
	// Problems lists every problem with the input, the first being Error and Field, so a
	// client can show them all at once.
	Problems []apiProblem `json:"problems,omitempty"`
}

// apiProblem is one problem with the input: the field as JSON spells it, and the message.
type apiProblem struct {
	Field string `json:"field,omitempty"`
	Error string `json:"error"`
}

// invalidMessage is a problem as a person reads it: a whole message as it is written, and
// an older "field: reason" as a sentence.
func invalidMessage(invalid *failure.InvalidError) string {
	if invalid.Whole {
		return invalid.Reason
	}
	return sentence(invalid.Error())
}

// problems lists every problem with the input in err, for the API.
func problems(err error) []apiProblem {
	var out []apiProblem
	for _, invalid := range failure.Invalids(err) {
		out = append(out, apiProblem{Field: invalid.Field, Error: invalid.Error()})
	}
	return out
}

// classify maps an error to a status and a message a person can act on. It is the one place
// where domain errors meet HTTP.
func classify(err error) (status int, msg, field string) {
	var (
		he        *echo.HTTPError
		invalid   *failure.InvalidError
		throttled *failure.ThrottledError
		conflict  *failure.ConflictError
	)
	switch {
	case errors.As(err, &invalid):
		return http.StatusBadRequest, invalid.Error(), invalid.Field
	case errors.As(err, &throttled):
		return http.StatusTooManyRequests, throttled.Error(), ""
	case errors.As(err, &conflict):
		return http.StatusConflict, conflict.Message, ""
	case errors.Is(err, failure.ErrConflict):
		return http.StatusConflict, "that clashes with something already saved", ""
	case errors.Is(err, failure.ErrNotFound):
		return http.StatusNotFound, "there is nothing at this address", ""
	case errors.Is(err, failure.ErrUnauthenticated):
		msg := "sign in first"
		if m := err.Error(); m != failure.ErrUnauthenticated.Error() {
			msg = strings.TrimPrefix(m, failure.ErrUnauthenticated.Error()+": ")
		}
		return http.StatusUnauthorized, msg, ""
	case errors.Is(err, failure.ErrForbidden):
		msg := "you do not have access to this"
		if m := err.Error(); m != failure.ErrForbidden.Error() {
			msg = strings.TrimPrefix(m, failure.ErrForbidden.Error()+": ")
		}
		return http.StatusForbidden, msg, ""
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusNotFound:
			return he.Code, "there is nothing at this address", ""
		case http.StatusMethodNotAllowed:
			return he.Code, "this address does not take that method", ""
		case http.StatusRequestEntityTooLarge:
			return he.Code, "the request is too large", ""
		}
		return he.Code, fmt.Sprint(he.Message), ""
	}
	return http.StatusInternalServerError, "something went wrong on our side; it has been logged, please try again", ""
}

// handleError answers every error a handler returns: JSON under /api, an NHS-styled page
// elsewhere. Unexpected errors are logged with the request; their text never reaches the
// client.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg, field := classify(err)
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	var throttled *failure.ThrottledError
	if errors.As(err, &throttled) {
		c.Response().Header().Set("Retry-After", retryAfter(throttled))
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if isAPI(c) || wantsJSON(c) {
		_ = c.JSON(status, apiError{Error: msg, Field: field, Problems: problems(err)})
		return
	}
	_ = s.renderStatus(c, status, "error", pageData{Title: errorTitle(status), Message: sentence(msg), Status: status})
}

// errorTitle is an error page's heading, in the NHS's sentence case.
func errorTitle(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Page not found"
	case http.StatusUnauthorized:
		return "Sign in to see this page"
	case http.StatusForbidden:
		return "You cannot see this page"
	case http.StatusTooManyRequests:
		return "Too many attempts"
	}
	if status >= 500 {
		return "Sorry, there is a problem with the service"
	}
	return "There is a problem"
}

func wantsJSON(c echo.Context) bool {
	accept := c.Request().Header.Get(echo.HeaderAccept)
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

// sentence capitalises the first letter and ends with a full stop, for pages.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func asInvalid(err error, target **failure.InvalidError) bool   { return errors.As(err, target) }
func asConflict(err error, target **failure.ConflictError) bool { return errors.As(err, target) }

func retryAfter(t *failure.ThrottledError) string {
	return strconv.Itoa(int(t.RetryAfter.Seconds()))
}
