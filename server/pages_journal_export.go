package server

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/internal/accounts"
	"polyphony/internal/audit"
)

// Export of everything a person holds, and erasure of an account's personal data.

func (s *Server) exportPage(c echo.Context) error {
	return s.render(c, "export", pageData{Title: "Download your records", Nav: "journal"})
}

// exportDownload streams the zip straight to the browser: the form's answer when the page
// runs without JavaScript, which otherwise follows the export's progress through the API.
func (s *Server) exportDownload(c echo.Context) error {
	name := "polyphony-records-" + ukToday().Format(time.DateOnly) + ".zip"
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/zip")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	// Once the zip has begun nothing else can be sent: an error cuts it short, and the zip
	// is then unreadable, which a download manager reports.
	if err := s.deps.Journals.Export(c.Request().Context(), viewerFrom(c), c.Response(), MediaOpener(s.deps.Media), nil); err != nil {
		s.log.Error("export", "user", currentUser(c).ID, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

type eraseData struct {
	Person accounts.User
}

func (s *Server) erasePage(c echo.Context) error {
	u, err := s.deps.Accounts.Users.ByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.render(c, "erase", pageData{Title: "Erase " + u.Name + "'s personal data", Nav: "admin", Data: eraseData{Person: u}})
}

// eraseForm erases an account's personal data once the administrator has typed its email:
// it disables the account first (ending its sessions, so that nothing is saved meanwhile),
// then erases the journal domain's records, then the media objects they referred to.
func (s *Server) eraseForm(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.deps.Accounts.Users.ByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	confirm := strings.TrimSpace(c.FormValue("confirm"))
	if !strings.EqualFold(confirm, u.Email) {
		errs := []fieldError{{Field: "erase-confirm", Message: "Type the email address of the account, " + u.Email + ", to confirm"}}
		return s.renderStatus(c, http.StatusBadRequest, "erase", pageData{Title: "Erase " + u.Name + "'s personal data", Nav: "admin",
			Errors: errs, Values: map[string]string{"erase-confirm": confirm}, Data: eraseData{Person: u}})
	}
	if !u.Disabled {
		if _, err := s.setDisabled(c, u.ID, true, "Personal data erased"); err != nil {
			errs, err := formErrors(err, map[string]string{"disabled": "erase-confirm", "": "erase-confirm"})
			if err != nil {
				return err
			}
			return s.renderStatus(c, http.StatusBadRequest, "erase", pageData{Title: "Erase " + u.Name + "'s personal data", Nav: "admin",
				Errors: errs, Data: eraseData{Person: u}})
		}
	}
	report, err := s.deps.Journals.Erase(ctx, viewerFrom(c), u.ID, s.awardRecords())
	if err != nil {
		return err
	}
	if err := s.eraseBeyondJournal(c, u.ID); err != nil {
		return err
	}
	if s.deps.Audit != nil {
		if err := s.deps.Audit.Redact(ctx, u.ID); err != nil {
			return err
		}
	}
	s.record(c, audit.Entry{Action: audit.PersonErased, SubjectID: u.ID, SubjectName: audit.Erased})
	// Records first, then objects: an object left behind by a failed delete is an orphan,
	// which the sweep removes; a record without its object would be a broken page.
	kept := 0
	for _, key := range report.MediaKeys {
		if err := s.deps.Media.Delete(ctx, key); err != nil {
			kept++
			s.log.Error("erase media", "key", key, "err", err)
		}
	}
	var removed int64
	for _, n := range report.Deleted {
		removed += n
	}
	s.log.Info("erased personal data", "user", u.ID, "by", currentUser(c).ID, "records", removed, "media", len(report.MediaKeys))
	notice := fmt.Sprintf("Erased %s's personal data: %d records and %d media files. The account is disabled.", u.Name, removed, len(report.MediaKeys)-kept)
	if kept > 0 {
		notice += fmt.Sprintf(" %d media files could not be deleted now; the regular clean-up removes them.", kept)
	}
	return adminDone(c, notice)
}
