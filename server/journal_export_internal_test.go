package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"polyphony/content/media"
	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/dbtest"
)

// TestExportJobsExpire checks that a finished export is forgotten, and its file removed,
// once its time is up.
func TestExportJobsExpire(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	cohorts, err := courses.NewStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	journals, err := courses.NewJournals(ctx, db, cohorts, courses.JournalOptions{SoleWriter: true})
	if err != nil {
		t.Fatal(err)
	}
	local, err := media.NewLocal(t.TempDir(), []byte("0123456789abcdef0123456789abcdef"), "")
	if err != nil {
		t.Fatal(err)
	}
	me := &accounts.User{ID: "trainee-1", Role: accounts.RoleTrainee}
	if _, err := journals.Create(ctx, courses.Viewer{UserID: me.ID, Role: me.Role}, courses.Draft{Title: "Kept for an hour"}, "k1"); err != nil {
		t.Fatal(err)
	}
	s := &Server{deps: Deps{Journals: journals, Media: local}, log: slog.New(slog.DiscardHandler)}
	const ttl = 500 * time.Millisecond
	x := newExportJobs(s, ttl)
	e := echo.New()
	call := func(h echo.HandlerFunc, id string) (int, exportStatus) {
		rec := httptest.NewRecorder()
		c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
		c.Set(ctxUser, me)
		c.SetParamNames("id")
		c.SetParamValues(id)
		if err := h(c); err != nil {
			status, _, _ := classify(err)
			return status, exportStatus{}
		}
		var st exportStatus
		json.Unmarshal(rec.Body.Bytes(), &st)
		return rec.Code, st
	}
	code, st := call(x.start, "")
	if code != http.StatusAccepted || st.ID == "" {
		t.Fatalf("start: %d %+v", code, st)
	}
	for deadline := time.Now().Add(ttl / 2); st.State == exportRunning && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		_, st = call(x.progress, st.ID)
	}
	if st.State != exportReady {
		t.Fatalf("export state %q, want ready", st.State)
	}
	x.mu.Lock()
	path := x.jobs[st.ID].path
	x.mu.Unlock()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the ready export's file: %v", err)
	}
	time.Sleep(ttl + 200*time.Millisecond)
	if code, _ := call(x.progress, st.ID); code != http.StatusNotFound {
		t.Errorf("an expired export answers %d, want 404", code)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the expired export's file is still there: %v", err)
	}
}
