package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/content/media"
	"polyphony/courses"
	"polyphony/internal/failure"
)

// exportTTL is how long a finished export waits to be downloaded before its file goes.
const exportTTL = time.Hour

// exportTimeout bounds the writing of one export.
const exportTimeout = 30 * time.Minute

// The states of an export.
const (
	exportRunning = "running"
	exportReady   = "ready"
	exportFailed  = "failed"
)

// exportJobs runs each person's export of everything they hold in the background, writing
// the zip to a temporary file that only they can download. A person has at most one export
// at a time: asking again while one runs answers with it, and asking after it finished
// starts afresh and drops the old one. Each export, and its file, is forgotten exportTTL
// after it was asked for.
type exportJobs struct {
	s   *Server
	ttl time.Duration

	mu   sync.Mutex
	jobs map[string]*exportJob // by id
}

// exportJob is one export. Its fields after mu are guarded by it.
type exportJob struct {
	id, owner string
	cancel    context.CancelFunc
	expiry    *time.Timer

	mu          sync.Mutex
	state       string
	done, total int
	path        string
}

// exportStatus is what the API says of an export.
type exportStatus struct {
	ID    string `json:"id"`
	State string `json:"state"`
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

func newExportJobs(s *Server, ttl time.Duration) *exportJobs {
	return &exportJobs{s: s, ttl: ttl, jobs: map[string]*exportJob{}}
}

func (j *exportJob) status() exportStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	return exportStatus{ID: j.id, State: j.state, Done: j.done, Total: j.total}
}

func (x *exportJobs) start(c echo.Context) error {
	owner := currentUser(c).ID
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, j := range x.jobs {
		if j.owner != owner {
			continue
		}
		if j.status().State == exportRunning {
			return c.JSON(http.StatusAccepted, j.status())
		}
		x.forget(j)
	}
	f, err := os.CreateTemp("", "polyphony-export-*.zip")
	if err != nil {
		return fmt.Errorf("start export: %w", err)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("start export: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
	j := &exportJob{id: hex.EncodeToString(b[:]), owner: owner, cancel: cancel, state: exportRunning, path: f.Name()}
	x.jobs[j.id] = j
	j.expiry = time.AfterFunc(x.ttl, func() {
		x.mu.Lock()
		defer x.mu.Unlock()
		x.forget(j)
	})
	go x.run(ctx, j, f, viewerFrom(c))
	return c.JSON(http.StatusAccepted, j.status())
}

// forget drops a job: it stops it if it runs and removes its file. x.mu is held.
func (x *exportJobs) forget(j *exportJob) {
	if x.jobs[j.id] != j {
		return
	}
	delete(x.jobs, j.id)
	j.expiry.Stop()
	j.cancel()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state != exportRunning {
		os.Remove(j.path)
	}
	j.state = exportFailed // a running export sees this and removes its file itself
}

// run writes the export to f and records how it ended.
func (x *exportJobs) run(ctx context.Context, j *exportJob, f *os.File, v courses.Viewer) {
	defer j.cancel()
	open := func(ctx context.Context, key string) (io.ReadCloser, error) {
		rc, _, err := x.s.deps.Media.Get(ctx, key)
		if errors.Is(err, media.ErrNotFound) {
			return nil, fmt.Errorf("%w: %w", failure.ErrNotFound, err)
		}
		return rc, err
	}
	progress := func(done, total int) {
		j.mu.Lock()
		j.done, j.total = done, total
		j.mu.Unlock()
	}
	err := x.s.deps.Journals.Export(ctx, v, f, open, progress)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	switch {
	case j.state != exportRunning: // forgotten meanwhile
		os.Remove(j.path)
	case err != nil:
		x.s.log.Error("export failed", "user", j.owner, "err", err)
		os.Remove(j.path)
		j.state = exportFailed
	default:
		j.state = exportReady
	}
}

// owned finds the caller's export by id; anyone else's does not exist for them.
func (x *exportJobs) owned(c echo.Context) (*exportJob, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	j, ok := x.jobs[c.Param("id")]
	if !ok || j.owner != currentUser(c).ID {
		return nil, fmt.Errorf("export %s: %w", c.Param("id"), failure.ErrNotFound)
	}
	return j, nil
}

func (x *exportJobs) progress(c echo.Context) error {
	j, err := x.owned(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j.status())
}

func (x *exportJobs) download(c echo.Context) error {
	j, err := x.owned(c)
	if err != nil {
		return err
	}
	j.mu.Lock()
	state, path := j.state, j.path
	// Opened under the lock, so that expiry cannot remove the file between the check and
	// the open; once open, the file stays readable to the end even if it is removed.
	var f *os.File
	if state == exportReady {
		f, err = os.Open(path)
	}
	j.mu.Unlock()
	switch {
	case state == exportRunning:
		return failure.Conflict("the export is still being written; wait until its state is ready")
	case state == exportFailed:
		return failure.Conflict("the export failed; start a new one")
	case err != nil:
		return fmt.Errorf("open export: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open export: %w", err)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="polyphony-export-%s.zip"`, time.Now().UTC().Format(time.DateOnly)))
	h.Set("Cache-Control", "no-store")
	h.Set(echo.HeaderContentType, "application/zip")
	http.ServeContent(c.Response(), c.Request(), "", info.ModTime(), f)
	return nil
}
