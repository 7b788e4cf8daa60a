package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"polyphony/assessment"
	"polyphony/content"
	"polyphony/internal/dbtest"
	"polyphony/internal/testclock"
	"polyphony/server"
)

// clockedMCQ is a second server over the fixture's accounts and cohorts whose assessment
// store, on a database of its own, reads the time from a clock the test moves.
type clockedMCQ struct {
	f     *fixture
	ts    *httptest.Server
	store *assessment.Store
	clock *testclock.Clock
}

func newClockedMCQ(t *testing.T, f *fixture) *clockedMCQ {
	t.Helper()
	clock := testclock.New(time.Now().UTC().Truncate(time.Second))
	store, err := assessment.NewStore(context.Background(), dbtest.New(t), assessment.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(nil)
	t.Cleanup(ts.Close)
	srv, err := server.New(server.Config{PublicURL: mustURL(ts.URL)}, server.Deps{Accounts: f.accounts, Courses: f.courses, Pages: f.pages,
		Renderer: content.NewRenderer(), Media: f.media, Assessments: store})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	return &clockedMCQ{f: f, ts: ts, store: store, clock: clock}
}

// as signs in to the clocked server as the demo account with the email.
func (m *clockedMCQ) as(t *testing.T, email string) *client {
	t.Helper()
	l := m.f.logins[email]
	c := m.f.client(t)
	c.base = m.ts.URL
	res, body := c.do("POST", "/api/v1/session", map[string]string{"email": l.Email, "password": l.Password})
	c.csrf = decode[struct {
		CSRF string `json:"csrfToken"`
	}](t, res, body, http.StatusOK).CSRF
	return c
}

// attemptState is what the tests read back of an attempt.
type attemptState struct {
	ID       string `json:"id"`
	State    string `json:"state"`
	ClosedBy string `json:"closedBy"`
	Score    *struct {
		Marks int `json:"marks"`
	} `json:"score"`
	Questions []struct {
		Chosen *int `json:"chosen"`
	} `json:"questions"`
}

func readAttempt(t *testing.T, c *client, id string) attemptState {
	t.Helper()
	res, body := c.do("GET", "/api/v1/attempts/"+id, nil)
	return decode[attemptState](t, res, body, http.StatusOK)
}

func chosenOptions(a attemptState) []int {
	out := make([]int, len(a.Questions))
	for i, q := range a.Questions {
		out[i] = -1
		if q.Chosen != nil {
			out[i] = *q.Chosen
		}
	}
	return out
}

func putAnswer(c *client, attempt string, q, option int) (*http.Response, []byte) {
	return c.do("PUT", "/api/v1/attempts/"+attempt+"/answers/"+strconv.Itoa(q), map[string]int{"option": option})
}

const (
	emailTara = "trainee@polyphony.example"
	emailPat  = "peer@polyphony.example"
	emailAsh  = "assessor@polyphony.example"
)

// timedMCQ sets up Moodle's two Aiken questions (D then A are right) with a 60-second limit
// and 10 seconds of grace, the answers shown after an attempt.
func timedMCQ(t *testing.T, m *clockedMCQ) mcqSetup {
	t.Helper()
	return newMCQ(t, m.f, m.as(t, emailAsh), map[string]any{"timeLimitSeconds": 60, "graceSeconds": 10, "reviewAfterAttempt": "answers", "reviewAfterClose": "answers"})
}

func startAttempt(t *testing.T, c *client, assessmentID string) string {
	t.Helper()
	res, body := c.do("POST", "/api/v1/assessments/"+assessmentID+"/attempts", nil)
	return decode[attemptState](t, res, body, http.StatusCreated).ID
}

func TestDeadlineRefusesLateAnswersAndSubmits(t *testing.T) {
	m := newClockedMCQ(t, newFixture(t))
	mcq := timedMCQ(t, m)

	t.Run("answer", func(t *testing.T) {
		trainee := m.as(t, emailTara)
		id := startAttempt(t, trainee, mcq.assessment)
		m.clock.Advance(30 * time.Second)
		if res, body := putAnswer(trainee, id, 0, 3); res.StatusCode != http.StatusOK {
			t.Fatalf("an answer in time: %d %s", res.StatusCode, body)
		}
		// After the time limit but within the grace period, an answer in flight is taken.
		m.clock.Advance(35 * time.Second)
		if res, body := putAnswer(trainee, id, 1, 1); res.StatusCode != http.StatusOK {
			t.Fatalf("an answer within the grace period: %d %s", res.StatusCode, body)
		}
		// One second past the grace period: refused, whatever the path.
		m.clock.Advance(6 * time.Second)
		res, body := putAnswer(trainee, id, 1, 0)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("a late answer: %d %s", res.StatusCode, body)
		}
		if msg, _ := errorBody(t, body); !strings.Contains(msg, "time for this attempt ran out") {
			t.Errorf("the late answer says %q", msg)
		}
		if res, body := trainee.do("POST", "/api/v1/attempts/"+id+"/submit", nil); res.StatusCode != http.StatusConflict {
			t.Errorf("a submit after the late answer: %d %s", res.StatusCode, body)
		}
		_, loc := postForm(t, trainee, "/attempts/"+id, url.Values{"answer-1": {"0"}, "go": {"save"}}, http.StatusSeeOther)
		if !strings.Contains(loc, "done=") {
			t.Errorf("a late answer through the page went to %q", loc)
		}
		got := readAttempt(t, trainee, id)
		if got.State != "closed" || got.ClosedBy != "timeout" || got.Score == nil || got.Score.Marks != 1 {
			t.Errorf("after the deadline: %+v", got)
		}
		if c := chosenOptions(got); c[0] != 3 || c[1] != 1 {
			t.Errorf("the answers marked are %v, want [3 1]: the late ones changed them", c)
		}
	})

	t.Run("submit", func(t *testing.T) {
		trainee := m.as(t, emailPat)
		id := startAttempt(t, trainee, mcq.assessment)
		putAnswer(trainee, id, 0, 3)
		putAnswer(trainee, id, 1, 0)
		m.clock.Advance(71 * time.Second)
		res, body := trainee.do("POST", "/api/v1/attempts/"+id+"/submit", nil)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("a late submit: %d %s", res.StatusCode, body)
		}
		if res, _ := putAnswer(trainee, id, 0, 0); res.StatusCode != http.StatusConflict {
			t.Errorf("an answer after the late submit: %d", res.StatusCode)
		}
		got := readAttempt(t, trainee, id)
		if got.State != "closed" || got.ClosedBy != "timeout" || got.Score == nil || got.Score.Marks != 2 {
			t.Errorf("after a late submit: %+v", got)
		}
		if c := chosenOptions(got); c[0] != 3 || c[1] != 0 {
			t.Errorf("the answers marked are %v, want [3 0]", c)
		}
	})
}

func TestSweepClosesAbandonedAttempt(t *testing.T) {
	m := newClockedMCQ(t, newFixture(t))
	mcq := timedMCQ(t, m)
	trainee := m.as(t, emailTara)
	id := startAttempt(t, trainee, mcq.assessment)
	putAnswer(trainee, id, 0, 3)
	putAnswer(trainee, id, 1, 2)
	// The trainee closes the page. Before the deadline the sweeper leaves the attempt open.
	ctx := context.Background()
	m.clock.Advance(65 * time.Second)
	if n, err := m.store.Sweep(ctx, m.clock.Now()); err != nil || n != 0 {
		t.Fatalf("a sweep within the grace period closed %d (%v)", n, err)
	}
	m.clock.Advance(10 * time.Second)
	n, err := m.store.Sweep(ctx, m.clock.Now())
	if err != nil || n != 1 {
		t.Fatalf("the sweep closed %d attempts (%v), want 1", n, err)
	}
	if n, err := m.store.Sweep(ctx, m.clock.Now()); err != nil || n != 0 {
		t.Errorf("a second sweep closed %d (%v)", n, err)
	}
	// The trainee comes back and sees the result, marked from the answers saved.
	got := readAttempt(t, trainee, id)
	if got.State != "closed" || got.ClosedBy != "timeout" || got.Score == nil || got.Score.Marks != 1 {
		t.Errorf("the swept attempt: %+v", got)
	}
	if c := chosenOptions(got); c[0] != 3 || c[1] != 2 {
		t.Errorf("the swept attempt marked %v, want [3 2]", c)
	}
	review := getPage(t, trainee, "/attempts/"+id, http.StatusOK)
	if !strings.Contains(review, "the time ran out") || !strings.Contains(review, "1 of 2") {
		t.Errorf("the review page after the sweep: %.2000s", review)
	}
	res, body := m.as(t, emailAsh).do("GET", "/api/v1/assessments/"+mcq.assessment+"/results", nil)
	results := decode[[]struct {
		Marks    int    `json:"marks"`
		ClosedBy string `json:"closedBy"`
	}](t, res, body, http.StatusOK)
	if len(results) != 1 || results[0].Marks != 1 || results[0].ClosedBy != "timeout" {
		t.Errorf("results after the sweep: %s", body)
	}
}

func TestAnswerOutsideTheAttempt(t *testing.T) {
	m := newClockedMCQ(t, newFixture(t))
	mcq := timedMCQ(t, m)
	trainee := m.as(t, emailTara)
	id := startAttempt(t, trainee, mcq.assessment)
	putAnswer(trainee, id, 0, 3)
	for _, try := range []struct {
		path  string
		field string
	}{{"/answers/2", "question"}, {"/answers/-1", "question"}, {"/answers/first", "question"}} {
		res, body := trainee.do("PUT", "/api/v1/attempts/"+id+try.path, map[string]int{"option": 0})
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("PUT %s: %d %s", try.path, res.StatusCode, body)
			continue
		}
		if _, field := errorBody(t, body); field != try.field {
			t.Errorf("PUT %s names field %q, want %q", try.path, field, try.field)
		}
	}
	if res, _ := putAnswer(trainee, "no-such-attempt", 0, 0); res.StatusCode != http.StatusNotFound {
		t.Errorf("an answer to no attempt: %d", res.StatusCode)
	}
	if c := chosenOptions(readAttempt(t, trainee, id)); c[0] != 3 || c[1] != -1 {
		t.Errorf("after the refused answers: %v, want [3 -1]", c)
	}
	// The assessor cannot answer it either: only its trainee's attempts exist for anyone.
	if res, _ := putAnswer(m.as(t, emailAsh), id, 1, 0); res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
		t.Errorf("an assessor's answer: %d", res.StatusCode)
	}
}
