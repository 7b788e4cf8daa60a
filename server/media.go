package server

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/content/media"
	"polyphony/internal/failure"
)

// urlVerifier is a media store whose signed URLs this server answers itself (the local
// store); MinIO's presigned URLs go to MinIO directly.
type urlVerifier interface {
	Verify(key, exp, sig string, now time.Time) error
}

// displayable lists the types a browser may show inline; anything else is a download.
func displayable(ctype string) bool {
	ctype = strings.ToLower(ctype)
	if strings.HasPrefix(ctype, "image/svg") {
		return false // SVG can carry script
	}
	return strings.HasPrefix(ctype, "image/") || strings.HasPrefix(ctype, "audio/") || strings.HasPrefix(ctype, "video/")
}

// media serves a local media object to whoever holds a valid signed URL. The access check
// happened when the URL was issued; the signature and expiry carry it here.
func (s *Server) media(c echo.Context) error {
	v, ok := s.deps.Media.(urlVerifier)
	if !ok {
		return failure.ErrNotFound
	}
	key := c.Param("*")
	err := v.Verify(key, c.QueryParam("exp"), c.QueryParam("sig"), time.Now())
	switch {
	case errors.Is(err, media.ErrExpired):
		return &echo.HTTPError{Code: http.StatusForbidden, Message: "this media link has expired; reload the page to get a new one"}
	case err != nil:
		return &echo.HTTPError{Code: http.StatusForbidden, Message: "this media link is not valid"}
	}
	rc, info, err := s.deps.Media.Get(c.Request().Context(), key)
	if errors.Is(err, media.ErrNotFound) {
		return failure.ErrNotFound
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Type", info.ContentType)
	disposition := "attachment"
	if displayable(info.ContentType) {
		disposition = "inline"
	}
	h.Set("Content-Disposition", disposition)
	if exp, err := strconv.ParseInt(c.QueryParam("exp"), 10, 64); err == nil {
		if left := time.Until(time.Unix(exp, 0)); left > 0 {
			h.Set("Cache-Control", "private, max-age="+strconv.Itoa(int(left.Seconds())))
		}
	}
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(c.Response(), c.Request(), "", info.Modified, rs)
		return nil
	}
	h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	c.Response().WriteHeader(http.StatusOK)
	_, err = io.Copy(c.Response(), rc)
	return err
}
