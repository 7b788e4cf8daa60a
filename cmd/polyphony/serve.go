package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"polyphony/assessment/consent"
	"polyphony/assessment/marking"
	"polyphony/content"
	"polyphony/content/media"
	"polyphony/courses"
	"polyphony/courses/award"
	"polyphony/courses/progress"
	"polyphony/internal/notify"
	"polyphony/internal/sso"
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
	transcripts, err := realtime.NewTranscripts(ctx, a.db, realtime.TranscriptsOptions{Logger: log})
	if err != nil {
		return err
	}
	// A disable by any process (the command line included) reaches open room connections.
	roomOpts := realtime.Options{Inactive: a.accounts.Users.Inactive}
	if cfg.NATSURL != "" {
		bus, err := realtime.ConnectNATS(ctx, cfg.NATSURL, realtime.NATSOptions{Name: "polyphony"})
		if err != nil {
			return fmt.Errorf("setting --nats-url (NATS_URL): %w", err)
		}
		defer bus.Close()
		roomOpts.Bus = bus
		// Sign-outs and disabled accounts reach the other instances' session caches.
		a.accounts.Peers = bus
		bus.OnForget(a.accounts.ForgetHere)
		log.Info("dialogue rooms are shared through NATS JetStream", "instance", bus.Instance())
	}
	// The server serves TLS itself, above its count of connections per client address.
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("setting --tls-cert (POLYPHONY_TLS_CERT): %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	rooms := realtime.NewHub(transcripts, roomOpts)
	// Disabling an account ends its sessions and closes its room connections at once.
	a.accounts.OnUserEnded = rooms.DisconnectUser
	// Export jobs are documents in the database with their zips in the media store, so any
	// instance reports on them and serves them; Run takes over those a stopped process left.
	exports, err := courses.NewExportJobs(ctx, a.journals, server.MediaArchives(store), server.MediaOpener(store), courses.ExportJobOptions{
		OnError: func(msg string, err error) { log.Error(msg, "err", err) },
	})
	if err != nil {
		return err
	}
	defer exports.Close()
	var provider *sso.Provider
	if cfg.SSOIssuer != "" {
		provider, err = sso.New(ctx, a.db, sso.Config{Issuer: cfg.SSOIssuer, ClientID: cfg.SSOClientID, ClientSecret: cfg.SSOClientSecret,
			RedirectURL: cfg.PublicURL.String() + server.SSOCallbackPath, Domains: cfg.SSODomains, PasswordsOff: cfg.SSOPasswordsOff})
		if err != nil {
			return err
		}
		log.Info("people may sign in with their organisation account", "issuer", cfg.SSOIssuer, "domains", strings.Join(cfg.SSODomains, ","), "passwords-off", cfg.SSOPasswordsOff)
	}
	// Progress towards the award; it reads the released results of assessed work once the
	// marking store is made below (the marking store asks speakers through the consent
	// store, which emails through the notifier, which reads progress).
	rules, err := progress.New(ctx, a.db, a.courses, a.journals, a.assessments, nil)
	if err != nil {
		return err
	}
	// The emails of what happens: after a request (a comment, a shared entry), or at a
	// time (a session tomorrow, an assessment opening), by the job started below.
	notifier, err := notify.New(ctx, a.db, a.mail, a.accounts.Users, a.courses, a.assessments,
		notify.Config{PublicURL: cfg.PublicURL.String(), Logger: log, Audience: a.journals.AudienceOf, Progress: rules})
	if err != nil {
		return err
	}
	// Consent before a room's words are used as evidence: each speaker asked is emailed.
	consents, err := consent.New(ctx, a.db, transcripts, consent.Config{Logger: log,
		Asked: func(ctx context.Context, r consent.Request) error {
			return notifier.ConsentAsked(ctx, r.ID, r.SpeakerID, r.OwnerID, r.AskedAt)
		}})
	if err != nil {
		return err
	}
	// The exam boards, which decide the awards from the trainees' progress.
	boards, err := award.NewBoards(ctx, a.db, a.awards, rules, award.BoardOptions{Names: server.AccountNames(a.accounts)})
	if err != nil {
		return err
	}
	// Assessed work: the two shipped rubrics are stored once, by whichever instance is first.
	markingStore, err := marking.NewStore(ctx, a.db, marking.Options{Supervises: server.MarkingSupervises(a.courses), Consent: consents})
	if err != nil {
		return err
	}
	if err := markingStore.EnsureExamples(ctx); err != nil {
		return err
	}
	rules.SetPieces(server.ProgressPieces(markingStore))
	srv, err := server.New(server.Config{
		PublicURL: cfg.PublicURL, ClientIP: cfg.ClientIP, TrustedProxies: cfg.TrustedProxies, Logger: log,
		UploadLimits: cfg.UploadLimits, Fonts: cfg.Fonts, BodyTimeout: cfg.BodyTimeout, UploadMinRate: cfg.UploadMinRate,
		MaxConnsPerClient: cfg.MaxConnsPerClient, TLS: tlsConfig,
	}, server.Deps{Accounts: a.accounts, Courses: a.courses, Pages: a.pages, Renderer: content.NewRenderer(), Media: store, DB: a.db,
		Rooms: rooms, Transcripts: transcripts, Assessments: a.assessments, Journals: a.journals, Exports: exports, SSO: provider,
		Marking: markingStore, Email: a.mail, Mail: a.mail.Accounts(), Audit: a.audit, Notify: notifier, Consent: consents,
		Awards: a.awards, Progress: rules, Boards: boards})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("setting --addr (POLYPHONY_ADDR): cannot listen on %s: %w", cfg.Addr, err)
	}
	sweepCtx, stopSweep := context.WithCancel(ctx)
	defer stopSweep()
	go a.accounts.SweepEvery(sweepCtx, 10*time.Minute, func(err error) { log.Warn("session sweep", "err", err) })
	if provider != nil {
		go provider.SweepEvery(sweepCtx, 10*time.Minute, func(err error) { log.Warn("sign-in state sweep", "err", err) })
	}
	// Attempts left open past their deadline are closed and marked.
	go a.assessments.RunSweeper(sweepCtx, 0, log.With("component", "assessment"))
	// Media objects that no journal revision refers to (an upload whose record was never
	// written) are removed. The records are in the database every instance shares, and an
	// object is recorded as soon as it is stored, so instances sharing a database may each
	// sweep: the worst they do is delete the same orphan twice, which is not an error.
	go sweepMediaEvery(sweepCtx, store, a.journals, time.Hour, log.With("component", "media-sweep"))
	go exports.Run(sweepCtx)
	// Every instance may run it: each email's record, inserted under a unique _id before it
	// is queued, keeps it to one.
	go notifier.Run(sweepCtx, 0)
	// The email worker finishes the message it is sending before serve returns and the
	// database closes; what is still queued waits in the database for the next start.
	mailDone := make(chan struct{})
	go func() {
		defer close(mailDone)
		a.mail.Run(sweepCtx)
	}()
	defer func() {
		stopSweep()
		<-mailDone
	}()

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
	// The banner is one write, so whoever reads the output sees all of it or none.
	var banner strings.Builder
	mailDesc := fmt.Sprintf("SMTP at %s:%d (%s)", cfg.SMTPHost, cfg.SMTPPort, cfg.SMTPTLS)
	if a.mail.Logging() {
		mailDesc = "written to the log in full (no --smtp-host set)"
	}
	fmt.Fprintf(&banner, "Polyphony is running. Open %s\n  database: %s\n  media:    %s\n  email:    %s\n", url, dbDesc, mediaDesc, mailDesc)
	if n == 0 {
		banner.WriteString("  There are no accounts yet: run `polyphony demo`, or `polyphony user add --role admin ...`.\n")
	}
	banner.WriteString("  Press Ctrl+C to stop.\n")
	io.WriteString(stdout, banner.String())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	err = srv.Serve(ctx, ln, cfg.ShutdownTimeout)
	log.Info("stopped serving; closing the database")
	return err
}

// mediaSweepGrace is how old an object must be before the sweep may remove it: longer than
// any upload takes between storing its object and recording it.
const mediaSweepGrace = 6 * time.Hour

// sweepMediaEvery removes orphaned journal media a few minutes after start and then every
// interval, until ctx ends.
func sweepMediaEvery(ctx context.Context, store media.Store, journals *courses.Journals, interval time.Duration, log *slog.Logger) {
	wait := 5 * time.Minute
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = interval
		removed, err := sweepMedia(ctx, store, journals, mediaSweepGrace, time.Now())
		if err != nil && ctx.Err() == nil {
			log.Warn("media sweep", "err", err, "removed", len(removed))
		} else if len(removed) > 0 {
			log.Info("media sweep removed orphaned objects", "removed", len(removed))
		}
	}
}

// sweepMedia removes the journal media objects older than grace at now that no revision
// of any entry refers to. now must be taken before the references are read, so that a
// record written meanwhile belongs to an object younger than the cut-off.
func sweepMedia(ctx context.Context, store media.Store, journals *courses.Journals, grace time.Duration, now time.Time) ([]string, error) {
	keys, err := journals.MediaKeys(ctx)
	if err != nil {
		return nil, err
	}
	used := make(map[string]bool, len(keys))
	for _, k := range keys {
		used[k] = true
	}
	return media.Sweep(ctx, store, media.DefaultUploadPrefix, func(key string) bool { return used[key] }, grace, now)
}
