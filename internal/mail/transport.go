package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// envelope is a rendered message with its headers, ready for a transport.
type envelope struct {
	ID        string
	Kind      Kind
	MessageID string
	From      string
	To        string
	ToName    string
	ReplyTo   string
	Date      time.Time
	Link      string
	rendered
}

func (q *Queue) envelope(r record, out rendered) envelope {
	domain := "polyphony.invalid"
	if _, d, ok := strings.Cut(q.from.Address, "@"); ok {
		domain = d
	}
	// The Message-ID is the queue's id: a message sent twice (an instance that died after
	// the server took it and before recording so) carries the same one both times, which
	// lets mail clients show it once.
	return envelope{ID: r.ID, Kind: r.Kind, MessageID: r.ID + "@" + domain, From: q.from.String(), To: r.To, ToName: r.Name,
		ReplyTo: q.cfg.ReplyTo, Date: q.cfg.Now(), Link: r.Link, rendered: out}
}

// transport delivers envelopes; open begins one pass of the worker, which may send several
// over one connection.
type transport interface {
	open() session
}

type session interface {
	send(ctx context.Context, e envelope) error
	close()
}

// permanentError is a refusal that sending again will not change (a 5xx answer).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// unreachableError is a server that could not be reached or spoken to at all: every
// message waits, not only this one.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

// logTransport writes each email to the log, for a platform with no SMTP server set.
type logTransport struct{ log *slog.Logger }

func (t *logTransport) open() session { return t }
func (t *logTransport) close()        {}

func (t *logTransport) send(_ context.Context, e envelope) error {
	t.log.Info("email written here in full, not sent: no SMTP host is set (--smtp-host)",
		"message_id", "<"+e.MessageID+">", "kind", e.Kind, "date", e.Date.Format(time.RFC1123Z),
		"from", e.From, "to", e.To, "reply_to", e.ReplyTo, "subject", e.Subject, "link", e.Link,
		"text", e.Text, "html", e.HTML)
	return nil
}

// smtpTransport sends through the configured SMTP server.
type smtpTransport struct {
	client *gomail.Client
	cfg    Config
}

func newSMTPTransport(cfg Config) (*smtpTransport, error) {
	opts := []gomail.Option{gomail.WithPort(cfg.Port), gomail.WithTimeout(cfg.Timeout)}
	tc := cfg.TLSConfig
	if tc == nil {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tc = tc.Clone()
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	switch cfg.TLS {
	case STARTTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(tc))
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSConfig(tc))
	case NoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return nil, fmt.Errorf("mail: %q is not a TLS mode (starttls, tls or none)", cfg.TLS)
	}
	if cfg.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(cfg.User), gomail.WithPassword(cfg.Password))
	}
	c, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: SMTP client for %s: %w", cfg.Host, err)
	}
	return &smtpTransport{client: c, cfg: cfg}, nil
}

func (t *smtpTransport) open() session { return &smtpSession{t: t} }

// smtpSession connects on its first message and keeps the connection for the next ones of
// the pass; after a failed message it connects afresh.
type smtpSession struct {
	t    *smtpTransport
	conn *smtp.Client
}

func (s *smtpSession) close() {
	if s.conn != nil {
		s.t.client.CloseWithSMTPClient(s.conn)
		s.conn = nil
	}
}

func (s *smtpSession) send(ctx context.Context, e envelope) error {
	m, err := s.t.message(e)
	if err != nil {
		return &permanentError{err}
	}
	if s.conn == nil {
		ctx, cancel := context.WithTimeout(ctx, s.t.cfg.Timeout)
		defer cancel()
		conn, err := s.t.client.DialToSMTPClientWithContext(ctx)
		if err != nil {
			return &unreachableError{fmt.Errorf("reach SMTP server %s:%d: %w", s.t.cfg.Host, s.t.cfg.Port, err)}
		}
		s.conn = conn
	}
	err = s.t.client.SendWithSMTPClient(s.conn, m)
	if err == nil {
		return nil
	}
	s.close()
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
		return &permanentError{fmt.Errorf("refused by %s: %w", s.t.cfg.Host, err)}
	}
	return fmt.Errorf("send through %s: %w", s.t.cfg.Host, err)
}

// message builds the email: multipart/alternative with the plain text first and the HTML
// after it, as mail clients expect.
func (t *smtpTransport) message(e envelope) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(e.From); err != nil {
		return nil, err
	}
	if err := m.AddToFormat(e.ToName, e.To); err != nil {
		return nil, err
	}
	if e.ReplyTo != "" {
		if err := m.ReplyTo(e.ReplyTo); err != nil {
			return nil, err
		}
	}
	m.Subject(e.Subject)
	m.SetDateWithValue(e.Date)
	m.SetMessageIDWithValue(e.MessageID)
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetGenHeader("X-Auto-Response-Suppress", "All")
	m.SetGenHeader("X-Polyphony-Kind", string(e.Kind))
	m.SetBodyString(gomail.TypeTextPlain, e.Text)
	m.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	return m, nil
}
