package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"time"

	"polyphony/content"
	"polyphony/realtime"
	"polyphony/server"
)

// serve runs the platform until ctx ends (SIGINT or SIGTERM), then drains requests in flight
// and closes the database. ready, when not nil, receives the address once it answers.
func serve(ctx context.Context, cfg *Config, stdout, stderr io.Writer, ready chan<- string) error {
	log := cfg.logger(stderr)
	a, err := openApp(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer a.close()
	if n, err := a.loadBuiltInCurriculum(ctx); err != nil {
		return err
	} else if n > 0 {
		log.Info("loaded the built-in curriculum", "pages", n)
	}
	store, mediaDesc, err := a.openMedia(ctx)
	if err != nil {
		return err
	}
	transcripts, err := realtime.NewTranscripts(ctx, a.db)
	if err != nil {
		return err
	}
	roomOpts := realtime.Options{}
	if cfg.NATSURL != "" {
		bus, err := realtime.ConnectNATS(ctx, cfg.NATSURL, realtime.NATSOptions{Name: "polyphony"})
		if err != nil {
			return fmt.Errorf("setting --nats-url (NATS_URL): %w", err)
		}
		defer bus.Close()
		roomOpts.Bus = bus
		log.Info("dialogue rooms are shared through NATS JetStream", "instance", bus.Instance())
	}
	rooms := realtime.NewHub(transcripts, roomOpts)
	// Disabling an account ends its sessions and closes its room connections at once.
	a.accounts.OnUserEnded = rooms.DisconnectUser
	srv, err := server.New(server.Config{
		PublicURL: cfg.PublicURL, ClientIP: cfg.ClientIP, TrustedProxies: cfg.TrustedProxies, Logger: log,
	}, server.Deps{Accounts: a.accounts, Courses: a.courses, Pages: a.pages, Renderer: content.NewRenderer(), Media: store, DB: a.db,
		Rooms: rooms, Transcripts: transcripts, Assessments: a.assessments, Journals: a.journals})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("setting --addr (POLYPHONY_ADDR): cannot listen on %s: %w", cfg.Addr, err)
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("setting --tls-cert (POLYPHONY_TLS_CERT): %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	sweepCtx, stopSweep := context.WithCancel(ctx)
	defer stopSweep()
	go a.accounts.SweepEvery(sweepCtx, 10*time.Minute, func(err error) { log.Warn("session sweep", "err", err) })
	// Attempts left open past their deadline are closed and marked.
	go a.assessments.RunSweeper(sweepCtx, 0, log.With("component", "assessment"))

	url := cfg.PublicURL.String() + "/"
	if cfg.raw["public-url"] == "" {
		scheme := "http"
		if cfg.TLSCert != "" {
			scheme = "https"
		}
		url = scheme + "://" + ln.Addr().String() + "/"
	}
	dbDesc := "MongoDB at " + a.db.URI()
	if a.db.Embedded() {
		dbDesc = fmt.Sprintf("embedded FerretDB in %s, listening on %s", cfg.DBDir(), a.db.URI())
	}
	n, err := a.accounts.Users.Count(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Polyphony is running. Open %s\n  database: %s\n  media:    %s\n", url, dbDesc, mediaDesc)
	if n == 0 {
		fmt.Fprintln(stdout, "  There are no accounts yet: run `polyphony demo`, or `polyphony user add --role admin ...`.")
	}
	fmt.Fprintln(stdout, "  Press Ctrl+C to stop.")
	if ready != nil {
		ready <- ln.Addr().String()
	}
	err = srv.Serve(ctx, ln, cfg.ShutdownTimeout)
	log.Info("stopped serving; closing the database")
	return err
}
