package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"polyphony/realtime"
)

// clusterSystem is B4's system: two Polyphony hubs, each behind its own server, sharing the
// rooms through an embedded NATS JetStream server and the transcripts through one store.
// Member i of a room connects to instance i mod 2.
type clusterSystem struct {
	nodes   []*polyphonySystem
	buses   []*realtime.NATSBus
	nats    *natsserver.Server
	natsDir string
	release func(ctx context.Context) error
}

// startNATS runs a NATS server with JetStream on a free loopback port.
func startNATS() (*natsserver.Server, string, error) {
	dir, err := os.MkdirTemp("", "polyphony-bench-nats-")
	if err != nil {
		return nil, "", err
	}
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		os.RemoveAll(dir)
		return nil, "", errors.New("nats-server did not start")
	}
	return s, dir, nil
}

// cluster starts n instances on a fresh NATS server, their transcripts in database name.
func (e *env) cluster(ctx context.Context, cfg config, name string, n int) (system, error) {
	db, err := e.open(ctx, name)
	if err != nil {
		return nil, err
	}
	c := &clusterSystem{release: func(ctx context.Context) error {
		return errors.Join(db.Drop(ctx), db.Close(ctx))
	}}
	fail := func(err error) (system, error) {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return nil, errors.Join(err, c.Close(cctx))
	}
	c.nats, c.natsDir, err = startNATS()
	if err != nil {
		return fail(err)
	}
	store, err := realtime.NewTranscripts(ctx, db)
	if err != nil {
		return fail(err)
	}
	for i := range n {
		bus, err := realtime.ConnectNATS(ctx, c.nats.ClientURL(), realtime.NATSOptions{Name: fmt.Sprintf("bench-%d", i)})
		if err != nil {
			return fail(err)
		}
		c.buses = append(c.buses, bus)
		opts := polyphonyOptions(cfg.SendBuffer)
		opts.Bus = bus
		node, err := newPolyphonySystem(store, opts)
		if err != nil {
			return fail(err)
		}
		c.nodes = append(c.nodes, node)
	}
	return c, nil
}

func (c *clusterSystem) Name() string                          { return fmt.Sprintf("polyphony×%d", len(c.nodes)) }
func (c *clusterSystem) Welcomes() bool                        { return true }
func (c *clusterSystem) Base() string                          { return c.nodes[0].Base() }
func (c *clusterSystem) BaseFor(member int) string             { return c.nodes[member%len(c.nodes)].Base() }
func (c *clusterSystem) WaitJoined(context.Context, int) error { return nil }

func (c *clusterSystem) Prepare(ctx context.Context, rooms []string) error {
	return c.nodes[0].Prepare(ctx, rooms)
}

func (c *clusterSystem) Settle(ctx context.Context, rooms []string) error {
	for _, n := range c.nodes {
		if err := n.Settle(ctx, rooms); err != nil {
			return err
		}
	}
	return nil
}

func (c *clusterSystem) Close(ctx context.Context) error {
	var err error
	for _, n := range c.nodes {
		err = errors.Join(err, n.Close(ctx))
	}
	for _, b := range c.buses {
		b.Close()
	}
	if c.nats != nil {
		c.nats.Shutdown()
		c.nats.WaitForShutdown()
		os.RemoveAll(c.natsDir)
	}
	if c.release != nil {
		err = errors.Join(err, c.release(ctx))
	}
	return err
}

// multiBase is a system whose members connect to different instances.
type multiBase interface{ BaseFor(member int) string }

// baseFor is the address member i of a room connects to.
func baseFor(sys system, member int) string {
	if m, ok := sys.(multiBase); ok {
		return m.BaseFor(member)
	}
	return sys.Base()
}

// instances is B4: the B1 knee of two instances sharing rooms through NATS, members split
// between them, against one instance (B1's Polyphony figure, measured in this run).
func (e *env) instances(ctx context.Context, cfg config, rep *report, log io.Writer) error {
	start := cfg.StartRate / float64(cfg.Rooms*cfg.Members*cfg.Members)
	if one, ok := rep.knee["polyphony"]; ok && one.Best.Rate > 0 {
		start = one.Best.Rate // begin near one instance's knee
	}
	fmt.Fprintf(log, "B4 two instances through NATS: searching the knee\n")
	var err error
	rep.knee["polyphony×2"], err = e.knee(ctx, cfg, start, "b4", func(section string) (system, error) {
		return e.cluster(ctx, cfg, "bench_"+section, 2)
	}, log)
	return err
}
