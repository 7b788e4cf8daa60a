package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/content/media"
	"polyphony/courses"
	"polyphony/internal/failure"
)

// The export jobs themselves are courses.ExportJobs: a document in the database for each,
// its zip in the media store, so that any instance answers for any job.

// exportStatus is what the API says of an export.
type exportStatus struct {
	ID    string `json:"id"`
	State string `json:"state"`
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

func statusOf(j courses.ExportJob) exportStatus {
	return exportStatus{ID: j.ID, State: j.State, Done: j.Done, Total: j.Total}
}

func (s *Server) startExport(c echo.Context) error {
	j, err := s.deps.Exports.Start(c.Request().Context(), viewerFrom(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, statusOf(j))
}

func (s *Server) exportProgress(c echo.Context) error {
	j, err := s.deps.Exports.Status(c.Request().Context(), viewerFrom(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, statusOf(j))
}

func (s *Server) downloadExport(c echo.Context) error {
	rc, size, err := s.deps.Exports.Open(c.Request().Context(), viewerFrom(c), c.Param("id"))
	if err != nil {
		return err
	}
	defer rc.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="polyphony-export-%s.zip"`, time.Now().UTC().Format(time.DateOnly)))
	h.Set("Cache-Control", "no-store")
	h.Set(echo.HeaderContentType, "application/zip")
	h.Set(echo.HeaderContentLength, strconv.FormatInt(size, 10))
	c.Response().WriteHeader(http.StatusOK)
	// Once the zip has begun nothing else can be sent: a failure cuts it short, which the
	// Content-Length lets the browser see.
	if _, err := io.Copy(c.Response(), rc); err != nil {
		s.log.Error("export download", "user", currentUser(c).ID, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// MediaArchives keeps export zips in the media store, where every instance can reach them.
func MediaArchives(store media.Store) courses.ExportArchives {
	return courses.ExportArchives{
		Write: func(ctx context.Context, key string, r io.Reader) error {
			_, err := store.Put(ctx, key, r, -1, "application/zip")
			return err
		},
		Open: func(ctx context.Context, key string) (io.ReadCloser, int64, error) {
			rc, info, err := store.Get(ctx, key)
			if errors.Is(err, media.ErrNotFound) {
				return nil, 0, fmt.Errorf("%w: %w", failure.ErrNotFound, err)
			}
			return rc, info.Size, err
		},
		Delete: store.Delete,
		RemoveOld: func(ctx context.Context, prefix string, olderThan time.Duration, now time.Time) error {
			_, err := media.Sweep(ctx, store, prefix, func(string) bool { return false }, olderThan, now)
			return err
		},
	}
}

// MediaOpener opens journal attachments in the media store for an export; a missing one
// is failure.ErrNotFound, which the export lists rather than failing.
func MediaOpener(store media.Store) courses.OpenMedia {
	return func(ctx context.Context, key string) (io.ReadCloser, error) {
		rc, _, err := store.Get(ctx, key)
		if errors.Is(err, media.ErrNotFound) {
			return nil, fmt.Errorf("media %s: %w", key, failure.ErrNotFound)
		}
		return rc, err
	}
}

// eraseExports removes the exports of an account being erased, with their zips.
func (s *Server) eraseExports(c echo.Context, userID string) error {
	if s.deps.Exports == nil {
		return nil
	}
	return s.deps.Exports.Erase(c.Request().Context(), viewerFrom(c), userID)
}
