package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"polyphony/courses/award"
	"polyphony/internal/audit"
)

// certificateSettingsBody is the certificate's settings as the API reads and writes them.
type certificateSettingsBody struct {
	Title         string   `json:"title"`
	Organisations []string `json:"organisations"`
}

func (s *Server) apiCertificateSettings(c echo.Context) error {
	set, err := s.deps.Awards.Settings(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, set)
}

func (s *Server) apiPutCertificateSettings(c echo.Context) error {
	var body certificateSettingsBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	after, err := s.saveCertificateSettings(c, body)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, after)
}

// saveCertificateSettings stores the settings and logs the change.
func (s *Server) saveCertificateSettings(c echo.Context, body certificateSettingsBody) (award.Settings, error) {
	before, after, err := s.deps.Awards.SetSettings(c.Request().Context(), body.Title, body.Organisations, currentUser(c).ID)
	if err != nil {
		return award.Settings{}, err
	}
	fields := []string{"title", "organisations"}
	flat := func(set award.Settings) map[string]string {
		return map[string]string{"title": set.Title, "organisations": strings.Join(set.Organisations, "; ")}
	}
	if changes := audit.Diff(fields, flat(before), flat(after)); len(changes) > 0 {
		s.record(c, audit.Entry{Action: audit.CertificateSettings, SubjectID: "certificate", SubjectName: "Diploma certificate", Changes: changes})
	}
	return after, nil
}

func (s *Server) certificateSettingsPage(c echo.Context) error {
	set, err := s.deps.Awards.Settings(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, "certificate_settings", pageData{Title: "Diploma certificate", Nav: "admin", Notice: c.QueryParam("done"),
		Values: map[string]string{"title": set.Title, "organisations": strings.Join(set.Organisations, "\n")}})
}

func (s *Server) certificateSettingsSave(c echo.Context) error {
	body := certificateSettingsBody{Title: c.FormValue("title"), Organisations: strings.Split(c.FormValue("organisations"), "\n")}
	if _, err := s.saveCertificateSettings(c, body); err != nil {
		errs, err := formErrors(err, map[string]string{"title": "title", "organisations": "organisations"})
		if err != nil {
			return err
		}
		return s.renderStatus(c, http.StatusBadRequest, "certificate_settings", pageData{Title: "Diploma certificate", Nav: "admin", Errors: errs,
			Values: map[string]string{"title": c.FormValue("title"), "organisations": c.FormValue("organisations")}})
	}
	return c.Redirect(http.StatusSeeOther, "/admin/certificate?done=The+certificate+settings+were+saved.+Awards+from+now+on+carry+them.")
}
