package media_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"polyphony/content/media"
	"polyphony/content/media/mediatest"
	"polyphony/internal/miniotest"
)

func TestMain(m *testing.M) { miniotest.Main(m) }

func TestLocalContract(t *testing.T) {
	mediatest.Run(t, func(t *testing.T) media.Store { return newLocal(t).store })
}

func TestMinIOContract(t *testing.T) {
	miniotest.Shared(t) // skip (or fail in CI) once if there is no server
	mediatest.Run(t, func(t *testing.T) media.Store { return newMinIO(t) })
}

// localFixture is a Local store plus an HTTP server answering its signed
// URLs the way the application's media handler does.
type localFixture struct {
	store  *media.Local
	server *httptest.Server
	skew   atomic.Int64 // added to the handler's clock, in nanoseconds
}

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func newLocal(t *testing.T) *localFixture {
	t.Helper()
	f := &localFixture{}
	f.server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.server.Close)
	store, err := media.NewLocal(t.TempDir(), testSecret, f.server.URL+"/")
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	f.store = store
	return f
}

func (f *localFixture) serve(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutPrefix(r.URL.Path, "/media/")
	if !ok || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	now := time.Now().Add(time.Duration(f.skew.Load()))
	if err := f.store.Verify(key, q.Get("exp"), q.Get("sig"), now); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	rc, info, err := f.store.Get(r.Context(), key)
	if errors.Is(err, media.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", info.ContentType)
	w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
	_, _ = io.Copy(w, rc)
}
