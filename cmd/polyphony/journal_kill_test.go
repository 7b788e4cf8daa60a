package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"polyphony/content/media"
	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/dbtest"
)

// journalSession is a trainee signed in to a running server through the JSON API.
type journalSession struct {
	t            *testing.T
	base         string
	cookie, csrf string
	http         *http.Client
}

func signInJournal(t *testing.T, base, email, password string) *journalSession {
	t.Helper()
	resp := signIn(t, base, email, password)
	cookie := sessionCookie(resp)
	var me struct {
		CSRFToken string `json:"csrfToken"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || cookie == nil || json.Unmarshal(b, &me) != nil {
		t.Fatalf("sign in as %s: %d %s", email, resp.StatusCode, b)
	}
	return &journalSession{t: t, base: base, cookie: cookie.Value, csrf: me.CSRFToken, http: &http.Client{Timeout: 10 * time.Second}}
}

// send makes one request; err is a transport error (the server has gone).
func (s *journalSession) send(method, path, key string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", "polyphony="+s.cookie)
	req.Header.Set("X-CSRF-Token", s.csrf)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := s.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	return res.StatusCode, out, err
}

// acked is a save the server acknowledged: the version it answered and the text saved.
type acked struct {
	entry   string
	version int
	key     string
	title   string
	body    string
}

// TestJournalSurvivesSIGKILL streams autosaves into a real server on embedded FerretDB,
// kills it with SIGKILL in the middle of the stream, starts it again on the same folder and
// checks that every save it acknowledged is there with the text it was acknowledged with.
func TestJournalSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	const email, password = "tara.kill@example.org", "tara-long-passphrase"
	if r := runBinary(t, password+"\n", "user", "add", "--data", data, "--email", email, "--name", "Tara Trainee", "--role", "trainee", "--password-stdin"); r.code != 0 {
		t.Fatalf("user add: %v", r)
	}
	srv, base := startServe(t, data)
	s := signInJournal(t, base, email, password)

	// Four editors save at once, each into its own entry, each save based on the version
	// its previous save was acknowledged with.
	const writers = 4
	var (
		mu      sync.Mutex
		acks    []acked
		wg      sync.WaitGroup
		started = make(chan struct{}, writers)
	)
	for w := range writers {
		status, b, err := s.send("POST", "/api/v1/journal/entries", fmt.Sprintf("kill-create-%d", w), map[string]any{"title": fmt.Sprintf("Stream %d", w), "body": "start"})
		if err != nil || status != http.StatusCreated {
			t.Fatalf("create: %d %s %v", status, b, err)
		}
		var e struct {
			ID      string `json:"id"`
			Version int    `json:"version"`
		}
		json.Unmarshal(b, &e)
		mu.Lock() // the writers started before this one append already
		acks = append(acks, acked{entry: e.ID, version: e.Version, key: fmt.Sprintf("kill-create-%d", w), title: fmt.Sprintf("Stream %d", w), body: "start"})
		mu.Unlock()
		wg.Add(1)
		go func(w int, id string) {
			defer wg.Done()
			version := 1
			for i := 0; ; i++ {
				if i == 5 {
					started <- struct{}{}
				}
				key := fmt.Sprintf("kill-%d-%d", w, i)
				text := fmt.Sprintf("Writer %d, save %d: %s", w, i, strings.Repeat("words ", i%50))
				status, b, err := s.send("PUT", "/api/v1/journal/entries/"+id, key, map[string]any{"baseVersion": version, "title": fmt.Sprintf("Stream %d", w), "body": text})
				if err != nil {
					return // the server is gone; this save was not acknowledged
				}
				if status != http.StatusOK {
					t.Errorf("writer %d save %d: %d %s", w, i, status, b)
					return
				}
				var e struct {
					Version int    `json:"version"`
					Body    string `json:"body"`
				}
				if err := json.Unmarshal(b, &e); err != nil || e.Body != text || e.Version != version+1 {
					t.Errorf("writer %d save %d acknowledged %s", w, i, b)
					return
				}
				version = e.Version
				mu.Lock()
				acks = append(acks, acked{entry: id, version: version, key: key, title: fmt.Sprintf("Stream %d", w), body: text})
				mu.Unlock()
			}
		}(w, e.ID)
	}
	for range writers {
		<-started
	}
	time.Sleep(300 * time.Millisecond)
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	srv.wait(20 * time.Second)
	wg.Wait()
	mu.Lock()
	got := append([]acked(nil), acks...)
	mu.Unlock()
	t.Logf("%d saves acknowledged before SIGKILL", len(got)-writers)

	_, base2 := startServe(t, data)
	s2 := signInJournal(t, base2, email, password)
	last := map[string]acked{}
	for _, a := range got {
		status, b, err := s2.send("GET", fmt.Sprintf("/api/v1/journal/entries/%s/revisions/%d", a.entry, a.version), "", nil)
		var e struct {
			Body string `json:"body"`
		}
		if err != nil || status != http.StatusOK || json.Unmarshal(b, &e) != nil || e.Body != a.body {
			t.Errorf("acknowledged revision %s/%d after SIGKILL: %d %.200s %v", a.entry, a.version, status, b, err)
		}
		if a.version > last[a.entry].version {
			last[a.entry] = a
		}
	}
	// The latest of each entry is at least what was acknowledged; retrying the last
	// acknowledged save answers the same and adds nothing.
	for id, a := range last {
		status, b, _ := s2.send("GET", "/api/v1/journal/entries/"+id, "", nil)
		var e struct {
			Version int `json:"version"`
		}
		if json.Unmarshal(b, &e); status != http.StatusOK || e.Version < a.version {
			t.Errorf("entry %s after SIGKILL: %d version %d, acknowledged %d", id, status, e.Version, a.version)
		}
		if a.version < 2 {
			continue
		}
		status, b, _ = s2.send("PUT", "/api/v1/journal/entries/"+id, a.key, map[string]any{"baseVersion": a.version - 1, "title": a.title, "body": a.body})
		if json.Unmarshal(b, &e); status != http.StatusOK || e.Version != a.version {
			t.Errorf("retry of the last acknowledged save of %s: %d %.200s, want version %d", id, status, b, a.version)
		}
		status, b, _ = s2.send("PUT", "/api/v1/journal/entries/"+id, a.key, map[string]any{"baseVersion": a.version - 1, "title": a.title, "body": "something else"})
		if status != http.StatusBadRequest {
			t.Errorf("the key of an acknowledged save reused for other text: %d %s, want 400", status, b)
		}
	}
}

// TestMediaSweepKeepsAttachedObjects runs one pass of the orphan sweep that serve runs
// hourly: an attached object stays, one whose record was never written goes.
func TestMediaSweepKeepsAttachedObjects(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	store, err := courses.NewStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	journals, err := courses.NewJournals(ctx, db, store, courses.JournalOptions{SoleWriter: true})
	if err != nil {
		t.Fatal(err)
	}
	local, err := media.NewLocal(t.TempDir(), []byte("0123456789abcdef0123456789abcdef"), "")
	if err != nil {
		t.Fatal(err)
	}
	v := courses.Viewer{UserID: "trainee-1", Role: accounts.RoleTrainee}
	e, err := journals.Create(ctx, v, courses.Draft{Title: "With a recording"}, "sweep-1")
	if err != nil {
		t.Fatal(err)
	}
	put := func(key string) {
		if _, err := local.Put(ctx, key, strings.NewReader("OggS recording"), -1, "audio/ogg"); err != nil {
			t.Fatal(err)
		}
	}
	put("journal/2027/attached.ogg")
	put("journal/2027/orphan.ogg")
	put("elsewhere/2027/not-journal.ogg")
	if _, err := journals.AddAttachment(ctx, v, e.ID, courses.Attachment{Key: "journal/2027/attached.ogg", Kind: courses.MediaAudio, ContentType: "audio/ogg", Size: 14, Name: "r.ogg"}); err != nil {
		t.Fatal(err)
	}
	if removed, err := sweepMedia(ctx, local, journals, mediaSweepGrace, time.Now()); err != nil || len(removed) != 0 {
		t.Fatalf("sweep of young objects removed %v, %v; want nothing", removed, err)
	}
	removed, err := sweepMedia(ctx, local, journals, mediaSweepGrace, time.Now().Add(mediaSweepGrace+time.Minute))
	if err != nil || len(removed) != 1 || removed[0] != "journal/2027/orphan.ogg" {
		t.Fatalf("sweep removed %v, %v; want the orphan only", removed, err)
	}
	for _, key := range []string{"journal/2027/attached.ogg", "elsewhere/2027/not-journal.ogg"} {
		if _, err := local.Stat(ctx, key); err != nil {
			t.Errorf("%s after the sweep: %v", key, err)
		}
	}
}

func TestUploadLimitSettings(t *testing.T) {
	c, err := configFrom(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.UploadLimits != media.DefaultLimits {
		t.Errorf("default upload limits %+v, want %+v", c.UploadLimits, media.DefaultLimits)
	}
	c, err = configFrom(t, []string{"--max-video-mb", "1000"}, map[string]string{"POLYPHONY_MAX_AUDIO_MB": "80", "POLYPHONY_MAX_IMAGE_MB": "5"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (media.Limits{Video: 1000 * media.MB, Audio: 80 * media.MB, Image: 5 * media.MB}); c.UploadLimits != want {
		t.Errorf("upload limits %+v, want %+v", c.UploadLimits, want)
	}
	for _, args := range [][]string{{"--max-video-mb", "0"}, {"--max-audio-mb", "lots"}, {"--max-image-mb", "-3"}} {
		_, err := configFrom(t, args, nil)
		if err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: %v, want an error naming %s", args, err, args[0])
		}
	}
}
