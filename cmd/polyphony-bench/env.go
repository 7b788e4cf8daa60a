package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"polyphony/internal/database"
	"polyphony/realtime"
)

// env is what the systems share: the embedded FerretDB server in a temporary folder. Each
// Polyphony hub gets a database of its own on it, so that no figure depends on how many
// events an earlier one stored.
type env struct {
	dir string
	srv *database.Embedded
}

func openEnv(ctx context.Context) (*env, error) {
	dir, err := os.MkdirTemp("", "polyphony-bench-")
	if err != nil {
		return nil, err
	}
	srv, err := database.StartEmbedded(dir, "127.0.0.1:0", nil)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start the transcript store: %w", err)
	}
	return &env{dir: dir, srv: srv}, nil
}

// polyphony starts a hub whose transcripts go to a fresh database named name.
func (e *env) polyphony(ctx context.Context, cfg config, name string) (system, error) {
	db, err := e.open(ctx, name)
	if err != nil {
		return nil, err
	}
	release := func(ctx context.Context) error {
		return errors.Join(db.Drop(ctx), db.Close(ctx))
	}
	store, err := realtime.NewTranscripts(ctx, db)
	if err != nil {
		return nil, errors.Join(err, release(ctx))
	}
	sys, err := newPolyphonySystem(store, polyphonyOptions(cfg.SendBuffer))
	if err != nil {
		return nil, errors.Join(err, release(ctx))
	}
	sys.release = release
	return sys, nil
}

func (e *env) close() {
	e.srv.Stop()
	os.RemoveAll(e.dir)
}

// open connects to a fresh database on the shared server. Through the server itself, not
// its address, so that its collections get the _id index a data folder's get (see
// internal/database/idindex.go), as in production.
func (e *env) open(ctx context.Context, name string) (*database.DB, error) {
	return database.Open(ctx, database.Config{Server: e.srv, Name: name})
}

func (c config) wants(fig string) bool {
	for _, f := range strings.Split(c.Run, ",") {
		if strings.TrimSpace(strings.ToLower(f)) == fig {
			return true
		}
	}
	return false
}

// starter starts a system; section names its database, if it has one.
type starter struct {
	name  string
	start func(section string) (system, error)
}

func (e *env) starters(ctx context.Context, cfg config) []starter {
	return []starter{
		{"peer", func(string) (system, error) { return newPeerSystem() }},
		{"polyphony", func(section string) (system, error) { return e.polyphony(ctx, cfg, "bench_"+section) }},
	}
}

// each starts each system in turn, hands it to f and closes it.
func (e *env) each(ctx context.Context, cfg config, section string, f func(sys system) error) error {
	for _, s := range e.starters(ctx, cfg) {
		if err := e.with(ctx, func() (system, error) { return s.start(section) }, f); err != nil {
			return err
		}
	}
	return nil
}

func (e *env) with(ctx context.Context, start func() (system, error), f func(sys system) error) error {
	sys, err := start()
	if err != nil {
		return err
	}
	err = f(sys)
	cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if cerr := sys.Close(cctx); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", sys.Name(), cerr)
	}
	return err
}

// fanOut is B1: the knee of each system.
func (e *env) fanOut(ctx context.Context, cfg config, rep *report, log io.Writer) error {
	start := cfg.StartRate / float64(cfg.Rooms*cfg.Members*cfg.Members)
	for _, s := range e.starters(ctx, cfg) {
		fmt.Fprintf(log, "B1 %s: searching the knee\n", s.name)
		var err error
		if rep.knee[s.name], err = e.knee(ctx, cfg, start, "b1", s.start, log); err != nil {
			return err
		}
	}
	return nil
}

// knee searches the B1 knee of the systems start makes from rate first on. Every level gets
// a fresh system (and Polyphony a fresh database), so that no level pays for what an earlier
// one stored.
func (e *env) knee(ctx context.Context, cfg config, first float64, prefix string, start func(section string) (system, error), log io.Writer) (kneeResult, error) {
	level := func(step int, rate float64) (stepResult, error) {
		var res stepResult
		err := e.with(ctx, func() (system, error) { return start(fmt.Sprintf("%s_%d", prefix, step)) },
			func(sys system) error {
				var err error
				res, err = fanOutStep(ctx, sys, prefix, cfg.Rooms, cfg.Members, rate, cfg.StepTime)
				return err
			})
		fmt.Fprintf(log, "  %s\n", res)
		return res, err
	}
	best, steps, err := searchKnee(first, cfg.MaxSteps, level)
	return kneeResult{Best: best, Steps: steps}, err
}

// turns is B3, on Polyphony, with its rooms at half the B1 knee rate in the background.
func (e *env) turns(ctx context.Context, cfg config, rep *report, log io.Writer) error {
	rate := rep.knee["polyphony"].Best.Rate / 2
	if rate == 0 {
		rate = cfg.StartRate / float64(cfg.Rooms*cfg.Members*cfg.Members) / 4
	}
	return e.with(ctx, func() (system, error) {
		return e.polyphony(ctx, cfg, "bench_b3")
	}, func(sys system) error {
		fmt.Fprintf(log, "B3 polyphony: %d rounds in a room of %d, %d rooms × %d at %.2f says/s each\n",
			cfg.Rounds, cfg.TurnMembers, cfg.Rooms, cfg.Members, rate)
		bg, err := startLoad(ctx, sys, "b3-bg", cfg.Rooms, cfg.Members)
		if err != nil {
			return err
		}
		bctx, stopBg := context.WithCancel(ctx)
		sending := make(chan struct{})
		go func() {
			defer close(sending)
			bg.run(bctx, rate, 10*time.Minute)
		}()
		time.Sleep(time.Second) // the background load settles before the first hand
		res, terr := turnTaking(ctx, sys, cfg.TurnMembers, cfg.Rounds)
		stopBg()
		<-sending
		res.Background, err = bg.finish(ctx, rate)
		rep.turns = &res
		fmt.Fprintf(log, "  p50 %v p99 %v, background %s\n", res.P50, res.P99, res.Background)
		if terr != nil {
			return terr
		}
		return err
	})
}

// idle is B2 for each system.
func (e *env) idle(ctx context.Context, cfg config, rep *report, log io.Writer, spawn spawner) error {
	n := cfg.Idle
	if limit, err := raiseFileLimit(); err == nil && uint64(n)+1000 > limit {
		n = int(limit) - 1000
		rep.notes = append(rep.notes, fmt.Sprintf("B2: the open-file limit is %d per process, so %d idle connections instead of %d", limit, n, cfg.Idle))
		fmt.Fprintln(log, rep.notes[len(rep.notes)-1])
	}
	if n <= 0 {
		return nil
	}
	return e.each(ctx, cfg, "b2", func(sys system) error {
		fmt.Fprintf(log, "B2 %s: %d idle connections\n", sys.Name(), n)
		res, err := idleMemory(ctx, sys, sys.Base(), "b2-"+sys.Name(), n, cfg.Members, spawn)
		rep.idle[sys.Name()] = res
		fmt.Fprintf(log, "  %.1f KiB per connection\n", res.KiBPerConn)
		return err
	})
}
