package main

import (
	"context"
	"fmt"
	"log/slog"

	"polyphony/assessment"
	"polyphony/content"
	"polyphony/content/curriculum"
	"polyphony/content/media"
	"polyphony/courses"
	"polyphony/courses/award"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/database"
	"polyphony/internal/mail"
)

// app is everything a command works with, opened from the configuration.
type app struct {
	cfg      *Config
	db       *database.DB
	accounts *accounts.Service
	courses  *courses.Store
	pages    *content.Pages
	// assessments keeps the question banks, assessments and attempts.
	assessments *assessment.Store
	// journals keeps reflective journals and the supervision and practice logs.
	journals *courses.Journals
	// mail queues emails; `serve` runs the worker that delivers them.
	mail *mail.Queue
	// audit logs every administrative change, from the pages, the API and the command line.
	audit *audit.Log
	// awards keeps the diploma's awards and their certificates' verification.
	awards *award.Store
}

// openApp connects to the database (starting the embedded one, or sharing a running
// server's when share is set) and opens the stores.
func openApp(ctx context.Context, cfg *Config, log *slog.Logger, share bool) (*app, error) {
	db, err := database.Open(ctx, database.Config{
		URI: cfg.MongoURI, Name: cfg.MongoDatabase, Dir: cfg.DBDir(), Listen: cfg.MongoListen,
		Logger: log.With("component", "ferretdb"), Share: share,
	})
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, db: db}
	a.accounts, err = accounts.NewService(ctx, db, accounts.Config{
		Session:  accounts.SessionConfig{Idle: cfg.SessionIdle, Absolute: cfg.SessionAbsolute},
		Throttle: accounts.ThrottleConfig{PerAccount: cfg.LimitAccount, PerIP: cfg.LimitIP, Window: cfg.LoginWindow},
		Logger:   log,
	})
	if err == nil {
		a.courses, err = courses.NewStore(ctx, db, courses.WithLogger(log))
	}
	if err == nil {
		a.pages, err = content.NewPages(ctx, db, content.WithLogger(log))
	}
	if err == nil {
		a.assessments, err = assessment.NewStore(ctx, db)
	}
	if err == nil {
		// With embedded FerretDB this process is the database's only writer.
		a.journals, err = courses.NewJournals(ctx, db, a.courses, courses.JournalOptions{
			PageExists: a.pages.Exists, SoleWriter: db.Embedded(), Logger: log,
		})
	}
	if err == nil {
		a.mail, err = mail.New(ctx, db, cfg.mailConfig(log))
	}
	if err == nil {
		a.audit, err = audit.New(ctx, db)
	}
	if err == nil {
		a.awards, err = award.NewStore(ctx, db, award.Options{Logger: log})
	}
	if err == nil {
		// The stores above have named every collection they use.
		err = db.EnsureCollections(ctx)
	}
	if err != nil {
		db.Close(context.Background())
		return nil, err
	}
	return a, nil
}

func (a *app) close() { a.db.Close(context.Background()) }

// openMedia opens MinIO when it is configured, local files under <data>/media otherwise.
func (a *app) openMedia(ctx context.Context) (media.Store, string, error) {
	if a.cfg.MinIOEndpoint != "" {
		m, err := media.NewMinIO(ctx, media.MinIOConfig{
			Endpoint: a.cfg.MinIOEndpoint, AccessKey: a.cfg.MinIOAccessKey, SecretKey: a.cfg.MinIOSecretKey,
			Bucket: a.cfg.MinIOBucket, Secure: a.cfg.MinIOSecure,
		})
		if err != nil {
			return nil, "", fmt.Errorf("media store MinIO at %s: %w", a.cfg.MinIOEndpoint, err)
		}
		return m, fmt.Sprintf("MinIO at %s, bucket %s", a.cfg.MinIOEndpoint, a.cfg.MinIOBucket), nil
	}
	secret := []byte(a.cfg.MediaSecret)
	if len(secret) == 0 {
		var err error
		if secret, err = database.SharedSecret(ctx, a.db, "media-url-signing", 32); err != nil {
			return nil, "", err
		}
	}
	l, err := media.NewLocal(a.cfg.MediaDir(), secret, a.cfg.PublicURL.String())
	if err != nil {
		return nil, "", fmt.Errorf("media folder %s: %w", a.cfg.MediaDir(), err)
	}
	return l, "files in " + a.cfg.MediaDir(), nil
}

// loadBuiltInCurriculum imports the curriculum shipped in the binary when the database has
// no curriculum pages yet; pages already there are never touched.
func (a *app) loadBuiltInCurriculum(ctx context.Context) (int, error) {
	pages, err := a.pages.List(ctx)
	if err != nil || len(pages) > 0 {
		return 0, err
	}
	pack, err := content.LoadPack(curriculum.FS)
	if err != nil {
		return 0, fmt.Errorf("built-in curriculum: %w", err)
	}
	res, err := a.pages.Import(ctx, pack, "polyphony")
	return res.Created, err
}
