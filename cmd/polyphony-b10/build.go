package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"polyphony/assessment"
	"polyphony/content"
	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/demo"
	"polyphony/realtime"
)

// A year of one trust's data at scale 1 (the figures).
const (
	yearRevisions = 100000
	yearEvents    = 300000
	yearAnswers   = 50000
	yearSessions  = 20000
)

// The trust's shape, the same at every scale.
const (
	cohortCount          = 3
	traineesPerCohort    = 30
	revisionsPerEntry    = 10
	questionsPerAttempt  = 50
	benchEntries         = 25 // the measured trainee's entries: one cold read each
	manifestName         = "b10.json"
	syntheticPasswordLen = 16
)

// manifest is what the benchmark needs to know about a built folder: who signs in, and the
// ids its requests name. It is kept beside the database, in the data folder.
type manifest struct {
	Scale      float64  `json:"scale"`
	Bulk       bool     `json:"bulk"`
	Password   string   `json:"password"`
	Trainee    string   `json:"trainee"`
	Assessor   string   `json:"assessor"`
	Entries    []string `json:"entries"`
	Cohort     string   `json:"cohort"`
	Room       string   `json:"room"`
	Slug       string   `json:"slug"`
	Assessment string   `json:"assessment"`
	Attempt    string   `json:"attempt"`
	Questions  int      `json:"questions"`
	Counts     counts   `json:"counts"`
	BuildTime  string   `json:"buildTime"`
}

// counts is what a build wrote, for its log and the report.
type counts struct {
	Revisions, Events, Answers, Sessions, AccessReads, Comments int64
}

// stores are the domain stores a build writes through.
type stores struct {
	db          *database.DB
	accounts    *accounts.Service
	courses     *courses.Store
	pages       *content.Pages
	journals    *courses.Journals
	assessments *assessment.Store
	transcripts *realtime.Transcripts
}

func openStores(ctx context.Context, dataDir string, log *slog.Logger) (*stores, error) {
	db, err := database.Open(ctx, database.Config{Name: "polyphony", Dir: filepath.Join(dataDir, "db"),
		Listen: "127.0.0.1:0", Logger: log})
	if err != nil {
		return nil, err
	}
	s := &stores{db: db}
	s.accounts, err = accounts.NewService(ctx, db, accounts.Config{})
	if err == nil {
		s.courses, err = courses.NewStore(ctx, db)
	}
	if err == nil {
		s.pages, err = content.NewPages(ctx, db)
	}
	if err == nil {
		s.assessments, err = assessment.NewStore(ctx, db)
	}
	if err == nil {
		s.journals, err = courses.NewJournals(ctx, db, s.courses, courses.JournalOptions{
			PageExists: s.pages.Exists, SoleWriter: true,
		})
	}
	if err == nil {
		s.transcripts, err = realtime.NewTranscripts(ctx, db)
	}
	if err != nil {
		db.Close(context.Background())
		return nil, err
	}
	return s, nil
}

// people is the trust's accounts, by cohort.
type people struct {
	trainees     [][]accounts.User // by cohort
	facilitators [][]accounts.User
	supervisors  []accounts.User // one per cohort
	assessor     accounts.User
	admin        accounts.User
	cohorts      []courses.Cohort
}

// build writes a trust into dataDir: always the accounts, the cohorts, the curriculum and the
// fixture the requests name (the measured trainee's entries, one room's history, one
// assessment with its attempts); with bulk, a year of everything else at scale.
func build(ctx context.Context, dataDir string, scale float64, bulk bool, log io.Writer) (manifest, error) {
	started := time.Now()
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return manifest{}, err
	}
	s, err := openStores(ctx, dataDir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return manifest{}, err
	}
	defer s.db.Close(context.Background())
	m := manifest{Scale: scale, Bulk: bulk, Password: demo.NewPassword()}
	b := &builder{s: s, m: &m, log: log}
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"accounts and cohorts", b.people},
		{"curriculum", b.curriculum},
		{"the measured trainee's entries", b.benchJournal},
		{"the measured room", b.benchRoom},
		{"the measured assessment", b.benchAssessment},
	}
	if bulk {
		steps = append(steps, []struct {
			name string
			run  func(context.Context) error
		}{
			{"journal revisions, shares, reads and comments", b.bulkJournals},
			{"room events", b.bulkRooms},
			{"attempt answers", b.bulkAnswers},
			{"sessions", b.bulkSessions},
		}...)
	}
	for _, st := range steps {
		t0 := time.Now()
		if err := st.run(ctx); err != nil {
			return m, fmt.Errorf("%s: %w", st.name, err)
		}
		fmt.Fprintf(log, "  built %s in %s\n", st.name, time.Since(t0).Round(time.Millisecond))
	}
	m.Counts = b.n.snapshot()
	m.BuildTime = time.Since(started).Round(time.Second).String()
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	return m, os.WriteFile(filepath.Join(dataDir, manifestName), raw, 0o644)
}

// readManifest reads a built folder's manifest.
func readManifest(dataDir string) (manifest, error) {
	var m manifest
	raw, err := os.ReadFile(filepath.Join(dataDir, manifestName))
	if err == nil {
		err = json.Unmarshal(raw, &m)
	}
	return m, err
}

// builder writes one folder's data.
type builder struct {
	s   *stores
	m   *manifest
	log io.Writer
	p   people
	n   atomicCounts
	// bank and questions are the measured assessment's, which the year's others share.
	bank      string
	questions []string
}

type atomicCounts struct {
	revisions, events, answers, sessions, reads, comments atomic.Int64
}

func (a *atomicCounts) snapshot() counts {
	return counts{Revisions: a.revisions.Load(), Events: a.events.Load(), Answers: a.answers.Load(),
		Sessions: a.sessions.Load(), AccessReads: a.reads.Load(), Comments: a.comments.Load()}
}

// scaled is n at the build's scale, at least min.
func (b *builder) scaled(n int, min int) int {
	v := int(float64(n) * b.m.Scale)
	if v < min {
		return min
	}
	return v
}

// parallel runs work(i) for i in [0, n) on a few workers, stopping at the first error.
func parallel(ctx context.Context, n, workers int, work func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := work(ctx, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}
