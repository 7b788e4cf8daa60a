// Package failure holds the error kinds that every domain package returns and that the
// HTTP layer maps, in one place, to status codes and messages.
package failure

import (
	"errors"
	"fmt"
	"time"
)

// ErrNotFound means the thing asked for does not exist (or is not visible to the caller).
var ErrNotFound = errors.New("not found")

// ErrConflict means the change clashes with what is stored: a duplicate or a stale version.
var ErrConflict = errors.New("conflict")

// ErrUnauthenticated means the caller has not signed in, or the credentials are wrong.
var ErrUnauthenticated = errors.New("not signed in")

// ErrForbidden means the caller is signed in but may not do this.
var ErrForbidden = errors.New("not allowed")

// InvalidError reports bad input: which field, and why.
type InvalidError struct {
	Field  string
	Reason string
	// Whole says the reason is a whole message in the words of the form, saying what to do
	// ("Enter an email address"), to be shown as it is; otherwise it follows the field's
	// name ("email: is required").
	Whole bool
}

func (e *InvalidError) Error() string {
	if e.Field == "" || e.Whole {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// Problem returns an InvalidError for field whose message is shown to the person as it
// is: written in the words of the form and saying what to do, as "Enter an email address"
// or "Module 2 must end within 7 days of its start".
func Problem(field, message string) error {
	return &InvalidError{Field: field, Reason: message, Whole: true}
}

// Problemf is Problem with a formatted message.
func Problemf(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...), Whole: true}
}

// Problems joins every problem found with a piece of input, so that a form can list them all
// at once; nil errors are dropped and none at all is nil. errors.As finds the first.
func Problems(errs ...error) error {
	return errors.Join(errs...)
}

// Invalids lists every InvalidError in err, in order: one for a single problem, each of
// them for errors joined by Problems (or errors.Join).
func Invalids(err error) []*InvalidError {
	var out []*InvalidError
	var walk func(error)
	walk = func(err error) {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range joined.Unwrap() {
				walk(e)
			}
			return
		}
		var invalid *InvalidError
		if errors.As(err, &invalid) {
			out = append(out, invalid)
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// Invalid returns an InvalidError for field with a reason written for the person who typed it.
func Invalid(field, reason string) error {
	return &InvalidError{Field: field, Reason: reason}
}

// Invalidf is Invalid with a formatted reason.
func Invalidf(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ThrottledError means too many attempts; try again after RetryAfter.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many attempts: try again in %s", e.RetryAfter.Round(time.Second))
}

// ConflictError is ErrConflict with a message saying what clashed.
type ConflictError struct {
	Message string
}

func (e *ConflictError) Error() string { return e.Message }

// Is makes errors.Is(err, ErrConflict) true for a ConflictError.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Conflict returns a ConflictError with the message.
func Conflict(message string) error { return &ConflictError{Message: message} }
