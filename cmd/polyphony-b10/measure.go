package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The requests B10 times, in the order of the table.
var requestNames = []string{
	"sign in", "home page", "programme", "curriculum page", "journal list",
	"open an entry, first read", "open an entry, warm", "autosave", "missing entry id",
	"join a room with history", "transcript page", "answer an attempt", "results", "item analysis",
}

// Each kind of request is timed n times, or for kindBudget once it has minSamples.
const (
	kindBudget = 30 * time.Second
	minSamples = 10
)

// measured is what one folder gave.
type measured struct {
	startup  time.Duration
	samples  map[string][]time.Duration
	first    []time.Duration // the concurrent first reads of one entry
	answered int             // of those, answered 200
	failures []string
}

func (m *measured) fail(name string, err error) {
	if len(m.failures) < 20 {
		m.failures = append(m.failures, fmt.Sprintf("%s: %v", name, err))
	} else if len(m.failures) == 20 {
		m.failures = append(m.failures, "(more failures left out)")
	}
}

// client is one signed-in person talking to the server.
type client struct {
	base string
	http *http.Client
	csrf string
}

func newClient(base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{base: base, http: &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends one request and checks its status, returning the body.
func (c *client) do(ctx context.Context, method, path string, body any, want int, header map[string]string) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet {
		req.Header.Set("Origin", c.base)
		if c.csrf != "" {
			req.Header.Set("X-CSRF-Token", c.csrf)
		}
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %d, want %d: %.200s", method, path, resp.StatusCode, want, out)
	}
	return out, nil
}

// signIn signs in through the API and keeps the session's cookie and CSRF token.
func (c *client) signIn(ctx context.Context, email, password string) error {
	c.http.Jar, _ = cookiejar.New(nil)
	out, err := c.do(ctx, http.MethodPost, "/api/v1/session", map[string]string{"email": email, "password": password}, http.StatusOK, nil)
	if err != nil {
		return err
	}
	var me struct {
		CSRFToken string `json:"csrfToken"`
	}
	if err := json.Unmarshal(out, &me); err != nil {
		return err
	}
	c.csrf = me.CSRFToken
	return nil
}

// joinRoom opens the room's websocket and waits for its welcome, which carries the history.
func (c *client) joinRoom(ctx context.Context, path string) error {
	d := websocket.Dialer{Jar: c.http.Jar, HandshakeTimeout: time.Minute}
	conn, _, err := d.DialContext(ctx, "ws"+strings.TrimPrefix(c.base, "http")+path, http.Header{"Origin": {c.base}})
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	for {
		var msg struct {
			Type string `json:"type"`
		}
		if err := conn.ReadJSON(&msg); err != nil {
			return err
		}
		if msg.Type == "welcome" {
			break
		}
	}
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	return nil
}

// measure starts the server on dataDir, times every request and stops it.
func measure(ctx context.Context, bin, dataDir string, o options, log io.Writer) (*measured, error) {
	man, err := readManifest(dataDir)
	if err != nil {
		return nil, err
	}
	srv, err := startServer(ctx, bin, dataDir)
	if err != nil {
		return nil, err
	}
	m := &measured{startup: srv.startup, samples: map[string][]time.Duration{}}
	fmt.Fprintf(log, "  started in %s\n", srv.startup.Round(time.Millisecond))
	err = timeRequests(ctx, srv.base, man, o, m, log)
	if stopErr := srv.stop(); err == nil {
		err = stopErr
	}
	return m, err
}

// timeRequests runs the concurrent first reads, then each request kind in turn.
func timeRequests(ctx context.Context, base string, man manifest, o options, m *measured, log io.Writer) error {
	trainee, assessor := newClient(base), newClient(base)
	if err := trainee.signIn(ctx, man.Trainee, man.Password); err != nil {
		return fmt.Errorf("sign in as the trainee: %w", err)
	}
	if err := assessor.signIn(ctx, man.Assessor, man.Password); err != nil {
		return fmt.Errorf("sign in as the assessor: %w", err)
	}
	entryPath := func(id string) string { return "/api/v1/journal/entries/" + id }
	m.first, m.answered = concurrentReads(ctx, trainee, entryPath(man.Entries[0]), o.Readers, m)

	signIns := newClient(base)
	get := func(c *client, path string, want int) func(context.Context, int) error {
		return func(ctx context.Context, _ int) error {
			_, err := c.do(ctx, http.MethodGet, path, nil, want, nil)
			return err
		}
	}
	cold := man.Entries[1:]
	warm := man.Entries[1]
	version := revisionsPerEntry
	room := "/rooms/" + man.Cohort + "/" + man.Room
	kinds := []struct {
		name string
		n    int
		run  func(context.Context, int) error
	}{
		// A sign-in hashes a password on purpose (argon2id, tens of milliseconds): fewer samples.
		{"sign in", min(o.Samples, 20), func(ctx context.Context, _ int) error {
			return signIns.signIn(ctx, man.Trainee, man.Password)
		}},
		{"home page", o.Samples, get(trainee, "/", http.StatusOK)},
		{"programme", o.Samples, get(trainee, "/programme", http.StatusOK)},
		{"curriculum page", o.Samples, get(trainee, "/curriculum/"+man.Slug, http.StatusOK)},
		{"journal list", o.Samples, get(trainee, "/journal", http.StatusOK)},
		{"open an entry, first read", len(cold), func(ctx context.Context, i int) error {
			_, err := trainee.do(ctx, http.MethodGet, entryPath(cold[i]), nil, http.StatusOK, nil)
			return err
		}},
		{"open an entry, warm", o.Samples, get(trainee, entryPath(warm), http.StatusOK)},
		{"autosave", o.Samples, func(ctx context.Context, i int) error {
			body := map[string]any{"baseVersion": version, "title": "Reflection 1",
				"body": reflection(1, i) + fmt.Sprintf("\nSaved again (%d).\n", i), "tags": []string{}}
			out, err := trainee.do(ctx, http.MethodPut, entryPath(warm), body, http.StatusOK,
				map[string]string{"Idempotency-Key": fmt.Sprintf("b10-run-%d-%d", time.Now().UnixNano(), i)})
			if err != nil {
				return err
			}
			var e struct {
				Version int `json:"version"`
			}
			if err := json.Unmarshal(out, &e); err != nil {
				return err
			}
			version = e.Version
			return nil
		}},
		{"missing entry id", o.Samples, get(trainee, entryPath("jedoesnotexist0000"), http.StatusNotFound)},
		{"join a room with history", o.Samples, func(ctx context.Context, _ int) error {
			return trainee.joinRoom(ctx, room+"/ws")
		}},
		{"transcript page", o.Samples, get(trainee, room+"/transcript", http.StatusOK)},
		{"answer an attempt", o.Samples, func(ctx context.Context, i int) error {
			path := fmt.Sprintf("/api/v1/attempts/%s/answers/%d", man.Attempt, i%man.Questions)
			_, err := trainee.do(ctx, http.MethodPut, path, map[string]int{"option": i % 3}, http.StatusOK, nil)
			return err
		}},
		{"results", o.Samples, get(assessor, "/api/v1/assessments/"+man.Assessment+"/results", http.StatusOK)},
		{"item analysis", o.Samples, get(assessor, "/api/v1/assessments/"+man.Assessment+"/analysis", http.StatusOK)},
	}
	for _, k := range kinds {
		began := time.Now()
		for i := range k.n {
			if err := ctx.Err(); err != nil {
				return err
			}
			// A request that takes seconds would hold the run for an hour: it stops at
			// its budget with what it has, and the table's n says how many.
			if i >= minSamples && time.Since(began) > kindBudget {
				break
			}
			t0 := time.Now()
			err := k.run(ctx, i)
			if err != nil {
				m.fail(k.name, err)
				continue
			}
			m.samples[k.name] = append(m.samples[k.name], time.Since(t0))
		}
		fmt.Fprintf(log, "  %s: %d in %s\n", k.name, len(m.samples[k.name]), time.Since(began).Round(time.Millisecond))
	}
	return nil
}

// concurrentReads has n readers ask for one entry nobody has read since the start, at once.
func concurrentReads(ctx context.Context, c *client, path string, n int, m *measured) ([]time.Duration, int) {
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		times    []time.Duration
		answered int
	)
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			_, err := c.do(ctx, http.MethodGet, path, nil, http.StatusOK, nil)
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			times = append(times, d)
			if err != nil {
				m.fail("concurrent first reads", err)
				return
			}
			answered++
		}()
	}
	close(start)
	wg.Wait()
	return times, answered
}
