package server

import (
	"github.com/labstack/echo/v4"
)

// eraseBeyondJournal erases what the journal's erasure does not reach, for both the page
// and the API that erase an account: the person's exports with their zips, their assessed
// work (submissions, the marks and results on them, their trail), and their consent records
// (their quotes and submissions with the requests made for them, and the requests made of
// them, which stay for their owners under no name and count as refused); and last their
// name, address, trust and password from the account itself.
func (s *Server) eraseBeyondJournal(c echo.Context, userID string) error {
	if err := s.eraseExports(c, userID); err != nil {
		return err
	}
	if s.deps.Marking != nil {
		deleted, err := s.deps.Marking.Erase(c.Request().Context(), userID)
		if err != nil {
			return err
		}
		s.log.Info("assessed work erased", "user", userID, "deleted", deleted)
	}
	if s.deps.Consent != nil {
		if err := s.deps.Consent.Erase(c.Request().Context(), userID); err != nil {
			return err
		}
	}
	// Last, the person's name and address leave the account, which stays, disabled, for the
	// records of others that name its id.
	_, err := s.deps.Accounts.Users.EraseIdentity(c.Request().Context(), userID)
	return err
}
