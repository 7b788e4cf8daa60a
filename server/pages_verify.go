package server

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/courses/award"
	"polyphony/internal/failure"
)

// awardRoutes are the certificates' routes: the public verification of a code (a page, a
// form to type one in, and the API), and the holder's own downloads. No route lists or
// searches awards; a code is found only by whoever has it.
func (s *Server) awardRoutes() {
	if s.deps.Awards == nil {
		return
	}
	s.add(http.MethodGet, "/verify", Public, s.verifyForm)
	s.add(http.MethodGet, "/verify/:code", Public, s.verifyPage)
	s.add(http.MethodGet, "/api/v1/verify/:code", Public, s.apiVerify)
	s.add(http.MethodGet, "/account/certificate/:id", SignedIn, s.downloadCertificate)
	s.add(http.MethodPost, "/account/certificate-name", SignedIn, s.accountShownName)
	s.add(http.MethodGet, "/api/v1/me/awards", SignedIn, s.apiMyAwards)
	s.add(http.MethodGet, "/api/v1/me/awards/:id/certificate", SignedIn, s.downloadCertificate)
	s.add(http.MethodPut, "/api/v1/me/certificate-name", SignedIn, s.apiPutShownName)
	s.add(http.MethodGet, "/admin/certificate", AdminOnly, s.certificateSettingsPage)
	s.add(http.MethodPost, "/admin/certificate", AdminOnly, s.certificateSettingsSave)
	s.add(http.MethodGet, "/api/v1/certificate-settings", AdminOnly, s.apiCertificateSettings)
	s.add(http.MethodPut, "/api/v1/certificate-settings", AdminOnly, s.apiPutCertificateSettings)
}

// awardRecords is the award store for erasure, nil while there is none (a nil *award.Store
// in the interface would not be nil).
func (s *Server) awardRecords() courses.AwardRecords {
	if s.deps.Awards == nil {
		return nil
	}
	return s.deps.Awards
}

// verifyView is what the verification page shows of an award.
type verifyView struct {
	Name, Title, AwardedOn string
	Revoked                bool
	RevokedOn              string
}

// verifyHeaders keep a verification out of caches (a revocation shows at once) and out of
// search engines.
func verifyHeaders(c echo.Context) {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set("Referrer-Policy", "no-referrer")
}

// verifyForm is where someone types the code printed on a certificate; the form sends it
// back here as ?code=, which goes on to the code's page.
func (s *Server) verifyForm(c echo.Context) error {
	verifyHeaders(c)
	if typed := strings.TrimSpace(c.QueryParam("code")); typed != "" {
		return c.Redirect(http.StatusSeeOther, "/verify/"+url.PathEscape(typed))
	}
	return s.render(c, "verify_form", pageData{Title: "Check a certificate", Nav: "verify"})
}

// verifyPage shows whether a certificate's code is an award's. Every code that is not,
// unknown or malformed, gets the same answer, which does not repeat the code.
func (s *Server) verifyPage(c echo.Context) error {
	verifyHeaders(c)
	v, err := s.deps.Awards.Verify(c.Request().Context(), c.Param("code"), c.RealIP())
	if errors.Is(err, failure.ErrNotFound) {
		return s.renderStatus(c, http.StatusNotFound, "verify_not_found", pageData{Title: "Certificate not found", Nav: "verify"})
	}
	if err != nil {
		return err
	}
	view := verifyView{Name: v.ShownName, Title: v.Title, AwardedOn: award.Date(v.AwardedAt), Revoked: v.Status == award.Revoked}
	if view.Revoked {
		view.RevokedOn = award.Date(v.RevokedAt)
	}
	return s.render(c, "verify", pageData{Title: "Certificate checked", Nav: "verify", Data: view})
}

// apiVerification is the API's answer for a code.
type apiVerification struct {
	Name      string     `json:"name"`
	Award     string     `json:"award"`
	AwardedAt time.Time  `json:"awardedAt"`
	AwardedOn string     `json:"awardedOn"`
	Status    string     `json:"status"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
	RevokedOn string     `json:"revokedOn,omitempty"`
}

func (s *Server) apiVerify(c echo.Context) error {
	verifyHeaders(c)
	v, err := s.deps.Awards.Verify(c.Request().Context(), c.Param("code"), c.RealIP())
	if err != nil {
		return err // every code that is no award's is the same 404
	}
	out := apiVerification{Name: v.ShownName, Award: v.Title, AwardedAt: v.AwardedAt, AwardedOn: award.Date(v.AwardedAt), Status: v.Status}
	if v.Status == award.Revoked {
		out.RevokedAt, out.RevokedOn = &v.RevokedAt, award.Date(v.RevokedAt)
	}
	return c.JSON(http.StatusOK, out)
}

// myAward is the holder's own award, as the API and the account page show it.
type myAward struct {
	award.Award
	VerifyURL      string `json:"verifyUrl"`
	CertificateURL string `json:"certificateUrl"`
	AwardedOn      string `json:"awardedOn"`
	RevokedOn      string `json:"revokedOn,omitempty"`
}

// myAwards lists the awards of the person signed in.
func (s *Server) myAwards(c echo.Context) ([]myAward, error) {
	as, err := s.deps.Awards.ForUser(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return nil, err
	}
	out := make([]myAward, 0, len(as))
	for _, a := range as {
		m := myAward{Award: a, VerifyURL: award.VerifyURL(s.cfg.PublicURL.String(), a.Code),
			CertificateURL: "/account/certificate/" + a.ID, AwardedOn: award.Date(a.AwardedAt)}
		if a.Revoked != nil {
			m.RevokedOn = award.Date(a.Revoked.At)
		}
		out = append(out, m)
	}
	return out, nil
}

func (s *Server) apiMyAwards(c echo.Context) error {
	as, err := s.myAwards(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, as)
}

// downloadCertificate is the certificate of one of the signed-in person's awards as a PDF;
// anyone else's award is not found, as if there were none.
func (s *Server) downloadCertificate(c echo.Context) error {
	a, err := s.deps.Awards.ByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if a.UserID != currentUser(c).ID {
		return failure.ErrNotFound
	}
	pdf, err := award.Certificate(a, s.cfg.PublicURL.String())
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, `attachment; filename="diploma-certificate.pdf"`)
	h.Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "application/pdf", pdf)
}

// accountShownName sets the name the person wants on their certificate, from the account page.
func (s *Server) accountShownName(c echo.Context) error {
	name := c.FormValue("shownName")
	if err := s.deps.Awards.SetShownName(c.Request().Context(), currentUser(c).ID, name); err != nil {
		errs, err := formErrors(err, map[string]string{"shownName": "shown-name"})
		if err != nil {
			return err
		}
		return s.accountRender(c, http.StatusBadRequest, pageData{Errors: errs, Values: map[string]string{"shown-name": name}}, "")
	}
	return c.Redirect(http.StatusSeeOther, "/account?done="+url.QueryEscape("Your certificate will show your name as "+strings.Join(strings.Fields(name), " ")+"."))
}

type shownNameBody struct {
	ShownName string `json:"shownName"`
}

func (s *Server) apiPutShownName(c echo.Context) error {
	var body shownNameBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.deps.Awards.SetShownName(ctx, currentUser(c).ID, body.ShownName); err != nil {
		return err
	}
	name, err := s.deps.Awards.ShownName(ctx, currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, shownNameBody{ShownName: name})
}

// certificateAccount is what the account page shows about certificates.
type certificateAccount struct {
	Awards      []myAward
	ShownName   string // chosen, or "" for the account's name
	Unprintable string // the characters of the shown name the certificate cannot print
}

func (s *Server) certificateAccount(c echo.Context) (*certificateAccount, error) {
	if s.deps.Awards == nil {
		return nil, nil
	}
	as, err := s.myAwards(c)
	if err != nil {
		return nil, err
	}
	name, err := s.deps.Awards.ShownName(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return nil, err
	}
	shown := name
	if shown == "" {
		shown = currentUser(c).Name
	}
	return &certificateAccount{Awards: as, ShownName: name, Unprintable: string(award.Unprintable(shown))}, nil
}
