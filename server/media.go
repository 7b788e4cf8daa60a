package server

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/content/media"
	"polyphony/courses"
	"polyphony/internal/failure"
)

// grantURLs is a media store whose signed URLs this server answers itself (the local
// store), each carrying the grant it was issued under, so that the grant is checked again
// on every use. MinIO's presigned URLs go to MinIO directly and cannot be withdrawn.
type grantURLs interface {
	SignedURLWith(ctx context.Context, key, grant string, ttl time.Duration) (string, error)
	VerifyWith(key, exp, grant, sig string, now time.Time) error
}

// presignedURLTTL is how long a URL presigned by an object store (MinIO) works. Nothing
// can withdraw such a URL, so it is short: after a share is revoked, a link issued before
// still reads the object for at most this long.
const presignedURLTTL = 60 * time.Second

// attachmentURL signs a link to an attachment of a journal entry for the viewer, who has
// just passed the journal's access check. A local link works for ttl and only while the
// viewer may still read the attachment; a presigned one works for presignedURLTTL at most.
func (s *Server) attachmentURL(ctx context.Context, v courses.Viewer, entryID, key string, ttl time.Duration) (string, time.Time, error) {
	if g, ok := s.deps.Media.(grantURLs); ok {
		link, err := g.SignedURLWith(ctx, key, entryID+"."+v.UserID, ttl)
		return link, time.Now().Add(ttl), err
	}
	ttl = min(ttl, presignedURLTTL)
	link, err := s.deps.Media.SignedURL(ctx, key, ttl)
	return link, time.Now().Add(ttl), err
}

// mediaGrant checks, when a local media link is used, that the person it was issued to
// still may read the attachment: their account is enabled and the entry is still theirs or
// shared with them. Anything else finds nothing.
func (s *Server) mediaGrant(ctx context.Context, grant, key string) error {
	entryID, userID, ok := strings.Cut(grant, ".")
	if !ok || entryID == "" || userID == "" || s.deps.Journals == nil {
		return failure.ErrNotFound
	}
	u, err := s.deps.Accounts.Users.ByID(ctx, userID)
	if errors.Is(err, failure.ErrNotFound) || err == nil && u.Disabled {
		return failure.ErrNotFound
	}
	if err != nil {
		return err
	}
	return s.deps.Journals.StillReadable(ctx, courses.Viewer{UserID: u.ID, Role: u.Role}, entryID, key)
}

// displayable lists the types a browser may show inline; anything else is a download.
func displayable(ctype string) bool {
	ctype = strings.ToLower(ctype)
	if strings.HasPrefix(ctype, "image/svg") {
		return false // SVG can carry script
	}
	return strings.HasPrefix(ctype, "image/") || strings.HasPrefix(ctype, "audio/") || strings.HasPrefix(ctype, "video/")
}

// media serves a local media object to whoever holds a valid signed URL, while the access
// it was issued under still holds: the signature and expiry say whom it was issued to for
// which entry, and the journal is asked again on every use, so a revoked share ends it.
func (s *Server) media(c echo.Context) error {
	v, ok := s.deps.Media.(grantURLs)
	if !ok {
		return failure.ErrNotFound
	}
	key, grant := c.Param("*"), c.QueryParam("g")
	err := v.VerifyWith(key, c.QueryParam("exp"), grant, c.QueryParam("sig"), time.Now())
	switch {
	case errors.Is(err, media.ErrExpired):
		return &echo.HTTPError{Code: http.StatusForbidden, Message: "this media link has expired; reload the page to get a new one"}
	case err != nil, grant == "":
		return &echo.HTTPError{Code: http.StatusForbidden, Message: "this media link is not valid"}
	}
	if err := s.mediaGrant(c.Request().Context(), grant, key); err != nil {
		return err
	}
	rc, info, err := s.deps.Media.Get(c.Request().Context(), key)
	if errors.Is(err, media.ErrNotFound) {
		return failure.ErrNotFound
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	if exp, err := strconv.ParseInt(c.QueryParam("exp"), 10, 64); err == nil {
		if left := time.Until(time.Unix(exp, 0)); left > 0 {
			c.Response().Header().Set("Cache-Control", "private, max-age="+strconv.Itoa(int(left.Seconds())))
		}
	}
	return serveStored(c, rc, info, "")
}

// serveStored answers with a stored object: sandboxed, as the type it was stored with,
// shown in the page where a browser may show it and downloaded otherwise (under filename,
// when given), with byte ranges where the store can seek.
func serveStored(c echo.Context, rc io.Reader, info media.Info, filename string) error {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Type", info.ContentType)
	disposition := "attachment"
	if displayable(info.ContentType) {
		disposition = "inline"
	}
	if filename != "" {
		disposition = mime.FormatMediaType(disposition, map[string]string{"filename": filename})
	}
	h.Set("Content-Disposition", disposition)
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(c.Response(), c.Request(), "", info.Modified, rs)
		return nil
	}
	h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	c.Response().WriteHeader(http.StatusOK)
	_, err := io.Copy(c.Response(), rc)
	return err
}
