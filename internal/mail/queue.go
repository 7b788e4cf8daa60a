package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/mail"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

// TLSMode says how the connection to the SMTP server is protected.
type TLSMode string

// The TLS modes.
const (
	// STARTTLS connects in plain text and upgrades before anything is sent (port 587); a
	// server that does not offer it is not used.
	STARTTLS TLSMode = "starttls"
	// ImplicitTLS speaks TLS from the start (port 465).
	ImplicitTLS TLSMode = "tls"
	// NoTLS sends in plain text, allowed only to a server on this machine's loopback
	// (a local relay, or a test server).
	NoTLS TLSMode = "none"
)

// DefaultPort is the usual port of a TLS mode.
func (m TLSMode) DefaultPort() int {
	switch m {
	case ImplicitTLS:
		return 465
	case NoTLS:
		return 25
	}
	return 587
}

// Config says where emails go. With Host empty, each email is written to Logger in full
// instead of being sent.
type Config struct {
	Host string
	// Port is 0 for the TLS mode's usual port.
	Port int
	TLS  TLSMode
	// User and Password sign in to the server; empty for none.
	User, Password string
	// From is the sender, an address or "Name <address>"; ReplyTo, if set, where replies go.
	From, ReplyTo string
	// PublicURL is the address people open (http(s)://host[:port]): the emails a person can
	// turn off link to its Your account page, a changed-password notice to its page for a
	// forgotten password.
	PublicURL string
	Logger    *slog.Logger
	// TLSConfig, when set, is used to reach the server (tests give their own roots).
	TLSConfig *tls.Config

	// Poll is how often the worker looks for messages another instance queued: 5s. A
	// message queued by this process is looked at at once.
	Poll time.Duration
	// Lease is how long an attempt belongs to the instance that claimed it: 2m. It must be
	// well over Timeout, so that an attempt is never taken over while it is still running.
	Lease time.Duration
	// Timeout bounds one conversation with the server: 30s.
	Timeout time.Duration
	// RetryBase is the wait after a first temporary failure, doubled after each one up to
	// RetryCap, each wait between half of that and all of it: 30s and 30m.
	RetryBase, RetryCap time.Duration
	// GiveUpAfter is how long a message keeps being retried before it is recorded as
	// failed: 72h, about as long as mail servers keep trying.
	GiveUpAfter time.Duration
	// Keep is how long the record of a sent or failed message is kept: 30 days.
	Keep time.Duration
	// Now is the clock: time.Now.
	Now func() time.Time
}

// Queue stores emails and delivers them. Several instances may share one database: each
// attempt at a message is claimed by a unique insert, so one instance makes it.
type Queue struct {
	cfg      Config
	from     *mail.Address
	st       *store
	log      *slog.Logger
	send     transport
	instance string
	wake     chan struct{}

	// pauseUntil holds the worker back after the server could not be reached; fails
	// counts those in a row. Only the worker's goroutine touches them.
	pauseUntil time.Time
	fails      int
}

// New opens the queue in db. It does not deliver anything until Run is called.
func New(ctx context.Context, db *database.DB, cfg Config) (*Queue, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Poll, 5*time.Second)
	def(&cfg.Lease, 2*time.Minute)
	def(&cfg.Timeout, 30*time.Second)
	def(&cfg.RetryBase, 30*time.Second)
	def(&cfg.RetryCap, 30*time.Minute)
	def(&cfg.GiveUpAfter, 72*time.Hour)
	def(&cfg.Keep, 30*24*time.Hour)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TLS == "" {
		cfg.TLS = STARTTLS
	}
	if cfg.Port == 0 {
		cfg.Port = cfg.TLS.DefaultPort()
	}
	if cfg.Lease < 2*cfg.Timeout {
		return nil, fmt.Errorf("mail: the lease (%s) must be at least twice the timeout (%s)", cfg.Lease, cfg.Timeout)
	}
	if cfg.From == "" && cfg.Host == "" {
		cfg.From = "Polyphony <polyphony@localhost>"
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: the from address %q: %w", cfg.From, err)
	}
	if cfg.ReplyTo != "" {
		if _, err := mail.ParseAddress(cfg.ReplyTo); err != nil {
			return nil, fmt.Errorf("mail: the reply-to address %q: %w", cfg.ReplyTo, err)
		}
	}
	st, err := newStore(ctx, db)
	if err != nil {
		return nil, err
	}
	q := &Queue{cfg: cfg, from: from, st: st, log: cfg.Logger.With("component", "mail"), wake: make(chan struct{}, 1)}
	q.instance = randomHex(8)
	if cfg.Host == "" {
		q.send = &logTransport{log: q.log}
	} else {
		if cfg.TLS == NoTLS && !Loopback(cfg.Host) {
			return nil, fmt.Errorf("mail: plain-text SMTP only to a loopback host, not %s", cfg.Host)
		}
		t, err := newSMTPTransport(cfg)
		if err != nil {
			return nil, err
		}
		q.send = t
	}
	return q, nil
}

// The pages the emails themselves link to.
const (
	accountPath = "/account"
	forgotPath  = "/signin/forgot"
)

// pageURL is the address of one of the platform's pages, "" with no PublicURL.
func (q *Queue) pageURL(path string) string {
	if q.cfg.PublicURL == "" {
		return ""
	}
	return strings.TrimSuffix(q.cfg.PublicURL, "/") + path
}

// Loopback reports whether host names this machine: localhost or a loopback address.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Logging reports whether emails are written to the log instead of being sent (no SMTP
// host is set). A page that would send a link by email can then show the link instead.
func (q *Queue) Logging() bool { return q.cfg.Host == "" }

// Send stores m to be delivered and returns its id. A kind the recipient turned off is not
// stored: the id is then "". Invitations, reset links and changed-password notices are
// sent whatever the preferences (see KindInfo.Always).
func (q *Queue) Send(ctx context.Context, m Message) (string, error) {
	if err := m.check(); err != nil {
		return "", err
	}
	if !m.Kind.Always() {
		p, err := q.Preferences(ctx, m.UserID)
		if err != nil {
			return "", err
		}
		if !p.On(m.Kind) {
			q.log.Debug("email not sent: the recipient turned this kind off", "kind", m.Kind, "user", m.UserID)
			return "", nil
		}
	}
	now := q.cfg.Now()
	r := record{ID: newID(now), Kind: m.Kind, To: m.To, UserID: m.UserID, Name: m.Name, Link: m.Link, Values: m.Values,
		State: StatePending, NextAt: now, CreatedAt: now}
	if err := q.st.queue(ctx, r); err != nil {
		return "", err
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return r.ID, nil
}

// newID makes a message id that sorts by the time it was queued.
func newID(now time.Time) string {
	return now.UTC().Format("20060102T150405.000000000Z") + "-" + randomHex(6)
}

func idTime(id string) (time.Time, bool) {
	stamp, _, ok := strings.Cut(id, "-")
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102T150405.000000000Z", stamp)
	return t, err == nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Status is how a stored message's delivery stands.
type Status struct {
	ID   string
	Kind Kind
	To   string
	// UserID and Name are the person the message was for, when it was for an account.
	UserID    string
	Name      string
	State     string
	Tries     int
	LastError string
	CreatedAt time.Time
	DoneAt    time.Time
}

func (r record) status() Status {
	return Status{ID: r.ID, Kind: r.Kind, To: r.To, UserID: r.UserID, Name: r.Name, State: r.State, Tries: r.Tries, LastError: r.LastError, CreatedAt: r.CreatedAt, DoneAt: r.DoneAt}
}

// Status reads message id's delivery.
func (q *Queue) Status(ctx context.Context, id string) (Status, error) {
	r, err := q.st.record(ctx, id)
	if err != nil {
		return Status{}, err
	}
	return r.status(), nil
}

// Failed lists the messages refused for good, or given up on, oldest first, with why.
func (q *Queue) Failed(ctx context.Context) ([]Status, error) {
	ids, err := q.st.listed(ctx, failedList)
	if err != nil {
		return nil, err
	}
	recs, err := database.FindEachByID[record](ctx, q.st.messages, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Status, len(recs))
	for i, r := range recs {
		out[i] = r.status()
	}
	return out, nil
}

// Dismiss takes a failed message off the list of failures, once an administrator has dealt
// with it (put the address right, sent a new invitation); its record stays until Sweep
// removes it with the others of its day. A message not listed as failed is
// failure.ErrNotFound.
func (q *Queue) Dismiss(ctx context.Context, id string) error {
	ids, err := q.st.listed(ctx, failedList)
	if err != nil {
		return err
	}
	if !slices.Contains(ids, id) {
		return fmt.Errorf("failed email %s: %w", id, failure.ErrNotFound)
	}
	return q.st.unlist(ctx, failedList, id)
}

// sweepEvery is how often Run removes the records older than Keep.
const sweepEvery = time.Hour

// Run delivers messages until ctx ends; it then finishes the message it is sending, so
// that stopping never cuts a conversation with the server short, and returns. Every hour
// it also removes the records of messages finished longer ago than Keep.
func (q *Queue) Run(ctx context.Context) {
	t := time.NewTicker(q.cfg.Poll)
	defer t.Stop()
	var swept time.Time
	for {
		if now := q.cfg.Now(); now.Sub(swept) >= sweepEvery {
			swept = now
			if err := q.Sweep(ctx); err != nil && ctx.Err() == nil {
				q.log.Warn("email queue: removing old records", "err", err)
			}
		}
		if err := q.Tend(ctx); err != nil && ctx.Err() == nil {
			q.log.Warn("email queue", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-q.wake:
		}
	}
}

// pendingGrace is how old a listed id with no message must be before it is dropped: its
// message was never stored (the process stopped between listing and storing it).
const pendingGrace = 10 * time.Minute

// Tend makes one pass over the pending messages: each one due is claimed and delivered.
// Run calls it; ctx ending stops it between messages. Call it directly only on a queue
// whose Run is not running (a test, a one-off command): it keeps the worker's pause.
func (q *Queue) Tend(ctx context.Context) error {
	now := q.cfg.Now()
	if now.Before(q.pauseUntil) {
		return nil
	}
	ids, err := q.st.listed(ctx, pendingList)
	if err != nil {
		return err
	}
	// What is under way finishes even when ctx ends.
	work := context.WithoutCancel(ctx)
	sess := q.send.open()
	defer sess.close()
	var errs []error
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		if err := q.tendOne(ctx, work, sess, id); err != nil {
			errs = append(errs, err)
		}
		if q.cfg.Now().Before(q.pauseUntil) {
			break // the server is unreachable: the rest wait
		}
	}
	return errors.Join(errs...)
}

func (q *Queue) tendOne(ctx, work context.Context, sess session, id string) error {
	now := q.cfg.Now()
	r, err := q.st.record(ctx, id)
	switch {
	case errors.Is(err, failure.ErrNotFound):
		if t, ok := idTime(id); !ok || now.Sub(t) > pendingGrace {
			return q.st.unlist(ctx, pendingList, id)
		}
		return nil
	case err != nil:
		return err
	case r.State != StatePending:
		return q.st.unlist(ctx, pendingList, id) // finished; its unlisting was cut short
	case r.NextAt.After(now):
		return nil
	}
	attempt, ok, err := q.claim(ctx, r, now)
	if err != nil || !ok {
		return err
	}
	// Read again: the message may have been delivered, or tried, since it was read above
	// (its claim is then dropped, so this one could be inserted).
	if r, err = q.st.record(work, id); err != nil || r.State != StatePending || r.Tries >= attempt || r.NextAt.After(now) {
		return errors.Join(err, q.st.dropClaim(work, claimID(id, attempt)))
	}
	return q.deliver(work, sess, r, attempt)
}

// claim takes the next attempt at r for this instance: attempt r.Tries+1, or a later one
// when earlier claims were abandoned (their lease ran out). It says false when another
// instance holds a live claim.
func (q *Queue) claim(ctx context.Context, r record, now time.Time) (int, bool, error) {
	var abandoned []string
	for attempt := r.Tries + 1; attempt <= r.Tries+100; attempt++ {
		c := claim{ID: claimID(r.ID, attempt), Instance: q.instance, Until: now.Add(q.cfg.Lease)}
		err := q.st.claim(ctx, c)
		if err == nil {
			for _, id := range abandoned {
				q.st.dropClaim(ctx, id)
			}
			return attempt, true, nil
		}
		if !errors.Is(err, database.ErrDuplicate) {
			return 0, false, err
		}
		held, err := q.st.claimAt(ctx, c.ID)
		if errors.Is(err, failure.ErrNotFound) {
			continue // dropped meanwhile: the message was tried; the next read says how
		}
		if err != nil {
			return 0, false, err
		}
		if held.Until.After(now) {
			return 0, false, nil
		}
		abandoned = append(abandoned, c.ID)
	}
	return 0, false, fmt.Errorf("email %s: a hundred abandoned attempts", r.ID)
}

// deliver makes attempt at r and records how it went.
func (q *Queue) deliver(ctx context.Context, sess session, r record, attempt int) error {
	log := q.log.With("id", r.ID, "kind", r.Kind, "to", r.To, "attempt", attempt)
	out, err := render(r.message(), q.pageURL(accountPath))
	if err == nil {
		err = sess.send(ctx, q.envelope(r, out))
	}
	now := q.cfg.Now()
	var set bson.M
	var perm *permanentError
	switch {
	case err == nil:
		set = bson.M{"state": StateSent, "doneAt": now, "link": "", "lastError": ""}
		q.fails, q.pauseUntil = 0, time.Time{}
		log.Info("email sent")
	case errors.As(err, &perm) || now.Sub(r.CreatedAt) >= q.cfg.GiveUpAfter:
		reason := err.Error()
		if perm == nil {
			reason = fmt.Sprintf("gave up after %d attempts over %s: %s", attempt, now.Sub(r.CreatedAt).Round(time.Minute), reason)
		}
		set = bson.M{"state": StateFailed, "doneAt": now, "link": "", "lastError": reason}
		log.Error("email not delivered: recorded as failed", "err", reason)
	default:
		var unreachable *unreachableError
		if errors.As(err, &unreachable) {
			q.fails++
			q.pauseUntil = now.Add(q.backoff(q.fails))
		}
		set = bson.M{"nextAt": now.Add(q.backoff(attempt)), "lastError": err.Error()}
		log.Warn("email not delivered yet: will try again", "err", err, "next", set["nextAt"])
	}
	set["tries"] = attempt
	if _, done := set["state"]; done {
		// Listed under its day first, for Sweep to remove once it is older than Keep.
		if err := q.st.listDone(ctx, now, r.ID); err != nil {
			return err
		}
	}
	if err := q.st.update(ctx, r.ID, set); err != nil {
		return err
	}
	var errs []error
	if set["state"] == StateFailed {
		errs = append(errs, q.st.list(ctx, failedList, r.ID))
	}
	if _, done := set["state"]; done {
		errs = append(errs, q.st.unlist(ctx, pendingList, r.ID))
	}
	errs = append(errs, q.st.dropClaim(ctx, claimID(r.ID, attempt)))
	return errors.Join(errs...)
}

// Sweep removes the records of the messages that finished (sent or failed) on a day that
// ended longer ago than Keep: a record names a person and an address, so it is not kept
// for ever. The records are reached through one list document per day, not a scan. Several
// instances sweeping at once remove the same records, which is no error.
func (q *Queue) Sweep(ctx context.Context) error {
	now := q.cfg.Now()
	days, err := q.st.listed(ctx, daysList)
	if err != nil {
		return err
	}
	var errs []error
	for _, day := range days {
		t, err := time.Parse(time.DateOnly, day)
		if err != nil || now.Sub(t.Add(24*time.Hour)) <= q.cfg.Keep {
			continue
		}
		ids, err := q.st.listed(ctx, dayList(day))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		dayErrs := 0
		for _, id := range ids {
			if err := q.st.removeDone(ctx, id); err != nil {
				errs = append(errs, err)
				dayErrs++
			}
		}
		if dayErrs == 0 {
			errs = append(errs, q.st.dropDay(ctx, day))
		}
	}
	return errors.Join(errs...)
}

// backoff is the wait after the n-th failure in a row: RetryBase doubled n-1 times, at
// most RetryCap, and then a random part of it (half to all), so that instances and
// messages do not all try again at the same moment.
func (q *Queue) backoff(n int) time.Duration {
	d := q.cfg.RetryBase
	for i := 1; i < n && d < q.cfg.RetryCap; i++ {
		d *= 2
	}
	d = min(d, q.cfg.RetryCap)
	return d/2 + time.Duration(mrand.Int64N(int64(d/2)+1))
}
