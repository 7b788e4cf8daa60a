package server

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"polyphony/content/media"
	"polyphony/courses"
	"polyphony/internal/failure"
)

// uploadPath is the one route whose body is streamed: a journal entry's media upload.
var uploadPath = regexp.MustCompile(`^/api/v1/journal/entries/[^/]+/media$`)

// streamsBody reports whether a request's body is a media upload, streamed to the media
// store under its own size limit instead of the 1 MiB limit of every other request.
func streamsBody(r *http.Request) bool {
	return r.Method == http.MethodPost && uploadPath.MatchString(r.URL.Path)
}

// apiUploadMedia stores the request body, the raw file, as an attachment of the entry.
// Only the entry's author may upload, and that is checked before a byte of the body is
// read. The body streams through media.Upload (type from the first bytes, the limit of
// its kind, image metadata removed) into the store; then the attachment is recorded. If
// recording fails the object is deleted, so a refused upload leaves nothing behind.
func (s *Server) apiUploadMedia(c echo.Context) error {
	req := c.Request()
	ctx, v, entryID := req.Context(), viewerFrom(c), c.Param("id")
	if _, err := s.deps.Journals.ReadRevision(ctx, v, entryID, 1); err != nil {
		return refuseUpload(c, err)
	}
	name, err := media.CleanFileName(c.QueryParam("name"))
	if err != nil {
		return refuseUpload(c, err)
	}
	if req.ContentLength < 0 {
		return refuseUpload(c, &echo.HTTPError{Code: http.StatusLengthRequired,
			Message: "send the file with a Content-Length header (a chunked upload cannot be checked against the size limit)"})
	}
	up, err := media.Upload(ctx, s.deps.Media, req.Body, req.ContentLength, media.UploadOptions{Limits: s.cfg.UploadLimits})
	if err != nil {
		return refuseUpload(c, err)
	}
	entry, err := s.deps.Journals.AddAttachment(ctx, v, entryID, courses.Attachment{
		Key: up.Key, Kind: courses.MediaKind(up.Kind), ContentType: up.ContentType, Size: up.Size, Name: name,
	})
	if err != nil {
		// The client may have gone; the object must go whatever happens to the request.
		if derr := s.deps.Media.Delete(context.WithoutCancel(ctx), up.Key); derr != nil {
			s.log.Warn("upload: object left for the sweep", "key", up.Key, "err", derr)
		}
		return refuseUpload(c, err)
	}
	var added courses.Attachment
	for _, a := range entry.Attachments {
		if a.Key == up.Key {
			added = a
		}
	}
	return c.JSON(http.StatusCreated, map[string]any{"attachment": added, "entry": entry})
}

// refuseUpload answers a refused upload with a message naming the problem, and closes the
// connection: the rest of the body is not read, and the client should stop sending it.
func refuseUpload(c echo.Context, err error) error {
	c.Response().Header().Set(echo.HeaderConnection, "close")
	status, field := 0, "file"
	var tooLarge *media.TooLargeError
	switch {
	case errors.As(err, &tooLarge):
		status = http.StatusRequestEntityTooLarge
	case errors.Is(err, media.ErrTypeNotAllowed):
		status = http.StatusUnsupportedMediaType
	case errors.Is(err, media.ErrMalformed):
		status = http.StatusUnprocessableEntity
	case errors.Is(err, media.ErrFileName):
		status, field = http.StatusBadRequest, "name"
	case errors.Is(err, media.ErrTruncated), errors.Is(err, media.ErrSizeMismatch):
		status = http.StatusBadRequest
	default:
		var invalid *failure.InvalidError
		if errors.As(err, &invalid) && invalid.Field == "name" {
			return c.JSON(http.StatusBadRequest, apiError{Error: invalid.Error(), Field: "name"})
		}
		return err
	}
	return c.JSON(status, apiError{Error: uploadMessage(err), Field: field})
}

// uploadMessage is the media pipeline's explanation without its package prefix.
func uploadMessage(err error) string {
	return strings.ReplaceAll(err.Error(), "media: ", "")
}
