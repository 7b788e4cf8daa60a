// Package notify queues the emails that tell people something happened on the platform: a
// comment on their journal entry, an entry shared with or submitted to them, an assessment
// that opened, a dialogue session tomorrow. The server calls it once the store has done what
// the email tells of; `polyphony serve` runs its job (Run) for the emails that are due at a
// time rather than after a request.
//
// Each email is sent once: before it is queued, a record named after the event and the
// recipient is inserted under a unique _id, and an email whose record is already there is
// not queued again, whichever request, retry, instance or restart asks. The emails hold only
// names, times and a link (see package mail); whether a kind is sent follows the
// recipient's choice on Your account (mail.Queue.Send).
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"polyphony/assessment"
	"polyphony/courses"
	"polyphony/courses/progress"
	"polyphony/internal/accounts"
	"polyphony/internal/database"
	"polyphony/internal/failure"
	"polyphony/internal/mail"
)

// sentColl holds one record per email queued (or turned off by its recipient), under the
// _id kind/event/recipient.
const sentColl = "notifySent"

// Config is what the notifier needs.
type Config struct {
	// PublicURL is the address people open: the emails link to its pages.
	PublicURL string
	Logger    *slog.Logger
	// Now is the clock: time.Now.
	Now func() time.Time
	// Audience lists the people an audience of the trainee's entries is made of: the
	// journals' own rule (courses.Journals.AudienceOf), so that nobody is told of an entry
	// they cannot open. Required.
	Audience func(ctx context.Context, traineeID string, a courses.Audience) ([]string, error)
	// Progress works out who is at risk for the weekly email to facilitators; nil sends
	// none.
	Progress *progress.Service
}

// Notifier queues the emails of events.
type Notifier struct {
	cfg         Config
	email       *mail.Queue
	users       *accounts.Users
	courses     *courses.Store
	assessments *assessment.Store
	sent        *database.Collection
	log         *slog.Logger
	// swept is when Run last removed old records; only its goroutine touches it.
	swept time.Time
}

// New opens the notifier's records in db. assessments may be nil (no assessment emails).
func New(ctx context.Context, db *database.DB, email *mail.Queue, users *accounts.Users, store *courses.Store,
	assessments *assessment.Store, cfg Config) (*Notifier, error) {
	if email == nil || users == nil || store == nil {
		return nil, errors.New("notify: the email queue, the accounts and the courses are needed")
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("notify: the public address %q is not an absolute http(s) address", cfg.PublicURL)
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	n := &Notifier{cfg: cfg, email: email, users: users, courses: store, assessments: assessments,
		sent: db.Collection(sentColl), log: cfg.Logger.With("component", "notify")}
	if n.cfg.Audience == nil {
		return nil, errors.New("notify: Config.Audience is needed (courses.Journals.AudienceOf)")
	}
	if err := db.EnsureCollections(ctx); err != nil {
		return nil, err
	}
	return n, nil
}

// sentRecord marks one email as queued.
type sentRecord struct {
	ID   string    `bson:"_id"`
	Kind mail.Kind `bson:"kind"`
	At   time.Time `bson:"at"`
}

// page is the absolute address of one of the platform's pages.
func (n *Notifier) page(path string) string { return n.cfg.PublicURL + path }

// once queues the email m to userID unless the email of event was queued to them before.
// The record goes in first, so that of two instances (or a request and its retry) only one
// queues it; if queueing then fails, the record is taken away so that a later try sends it.
// A disabled account gets nothing. It reports whether the email was queued.
func (n *Notifier) once(ctx context.Context, event, userID string, m mail.Message) (bool, error) {
	u, err := n.users.ByID(ctx, userID)
	if errors.Is(err, failure.ErrNotFound) {
		return false, nil // the account was removed since
	}
	if err != nil {
		return false, err
	}
	if u.Disabled {
		return false, nil
	}
	id := string(m.Kind) + "/" + event + "/" + userID
	if err := database.Insert(ctx, n.sent, sentRecord{ID: id, Kind: m.Kind, At: n.cfg.Now()}); errors.Is(err, database.ErrDuplicate) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	m.To, m.UserID, m.Name = u.Email, u.ID, u.Name
	queued, err := n.email.Send(ctx, m)
	if err != nil {
		return false, errors.Join(err, database.DeleteByID(context.WithoutCancel(ctx), n.sent, id))
	}
	return queued != "", nil
}

// name is the person's name for an email, "" when the account cannot be read.
func (n *Notifier) name(ctx context.Context, userID string) (string, error) {
	u, err := n.users.ByID(ctx, userID)
	if errors.Is(err, failure.ErrNotFound) {
		return "", nil
	}
	return u.Name, err
}

// Comment emails the author of the entry that c is on, when someone else wrote it. A
// retry of the same comment (the same id) sends nothing more.
func (n *Notifier) Comment(ctx context.Context, c courses.Comment) error {
	if c.AuthorID == c.OwnerID {
		return nil
	}
	who, err := n.name(ctx, c.AuthorID)
	if err != nil || who == "" {
		return err
	}
	_, err = n.once(ctx, c.ID, c.OwnerID, mail.Message{Kind: mail.KindEntryComment,
		Link: n.page("/journal/" + url.PathEscape(c.EntryID) + "#comments"), Values: mail.Values{Person: who}})
	return err
}

// Shared emails the people of the audience that the author ownerID has just shared the
// entry with (supervisors) or submitted it to (assessors); sh is the sharing the store
// answered. Call it only when the sharing changed to shared: each change is one event (its
// time: sh.SubmittedAt for a submission, sh.ChangedAt otherwise), so the same change told
// twice sends nothing more.
func (n *Notifier) Shared(ctx context.Context, ownerID, entryID string, audience courses.Audience, sh courses.Sharing) error {
	kind := mail.KindEntryShared
	switch {
	case audience == courses.AudienceSupervisor && sh.Supervisor:
	case audience == courses.AudienceAssessors && sh.Assessors:
		kind = mail.KindEntrySubmitted
	default:
		return nil
	}
	who, err := n.name(ctx, ownerID)
	if err != nil || who == "" {
		return err
	}
	people, err := n.cfg.Audience(ctx, ownerID, audience)
	if err != nil {
		return err
	}
	at := sh.ChangedAt
	if kind == mail.KindEntrySubmitted && !sh.SubmittedAt.IsZero() {
		at = sh.SubmittedAt
	}
	event := entryID + "/" + string(audience) + "/" + at.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
	var errs []error
	for _, p := range people {
		if p == ownerID {
			continue
		}
		_, err := n.once(ctx, event, p, mail.Message{Kind: kind, Link: n.page("/journal/" + url.PathEscape(entryID)),
			Values: mail.Values{Person: who}})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// cohortPeople lists the cohort's members in the roles given, once each.
func (n *Notifier) cohortPeople(ctx context.Context, cohortID string, roles ...accounts.Role) ([]string, error) {
	members, err := n.courses.Members(ctx, cohortID)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range members {
		for _, r := range roles {
			if m.Role == r && !seen[m.UserID] {
				seen[m.UserID] = true
				out = append(out, m.UserID)
			}
		}
	}
	return out, nil
}

// ConsentAsked emails speakerID that ownerID asks to use their words (request requestID,
// asked at askedAt), with a link to the page where they answer. The email names only who
// asks: never the words, nor what they are for. The same request asked again at the same
// time sends nothing more; asked again later (a submission made again) it is a new email.
func (n *Notifier) ConsentAsked(ctx context.Context, requestID, speakerID, ownerID string, askedAt time.Time) error {
	who, err := n.name(ctx, ownerID)
	if err != nil || who == "" {
		return err
	}
	event := requestID + "/" + askedAt.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
	_, err = n.once(ctx, event, speakerID, mail.Message{Kind: mail.KindConsentAsked,
		Link: n.page("/consent#request-" + url.PathEscape(requestID)), Values: mail.Values{Person: who}})
	return err
}
