package mailtest

import (
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

func send(t *testing.T, s *Server, to, subject string) error {
	t.Helper()
	body := "From: sender@polyphony.test\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n\r\nHello.\r\n"
	return smtp.SendMail(s.SMTPAddr(), nil, "sender@polyphony.test", []string{to}, []byte(body))
}

// The harness reads what the server received, keeps it across a restart on the same ports,
// and the server refuses a recipient outside AllowedRecipients for good (5xx).
func TestMailpitReceivesKeepsAcrossRestartAndRefuses(t *testing.T) {
	s := Start(t, Options{AllowedRecipients: `@allowed\.test$`})
	if err := send(t, s, "ann@allowed.test", "first"); err != nil {
		t.Fatal(err)
	}
	msgs := s.WaitForCount(t, 1, 10*time.Second)
	m := s.Message(t, msgs[0].ID)
	if m.Subject != "first" || !strings.Contains(m.Text, "Hello.") || len(m.To) != 1 || m.To[0].Address != "ann@allowed.test" {
		t.Errorf("received %+v", m)
	}
	if got := m.Headers["Subject"]; len(got) != 1 || got[0] != "first" {
		t.Errorf("Subject header %v", got)
	}

	err := send(t, s, "bob@refused.test", "refused")
	var tp *textproto.Error
	if !errors.As(err, &tp) || tp.Code/100 != 5 {
		t.Errorf("sending to a recipient not allowed: %v, want a 5xx refusal", err)
	}

	port := s.SMTPPort()
	s.Stop()
	if err := send(t, s, "ann@allowed.test", "while stopped"); err == nil {
		t.Fatal("a stopped server took a message")
	}
	s.Restart(t)
	if s.SMTPPort() != port {
		t.Fatalf("restarted on port %d, want %d", s.SMTPPort(), port)
	}
	if err := send(t, s, "ann@allowed.test", "second"); err != nil {
		t.Fatal(err)
	}
	msgs = s.WaitForCount(t, 2, 10*time.Second)
	if len(msgs) != 2 || msgs[0].Subject != "second" || msgs[1].Subject != "first" {
		t.Errorf("after the restart the server holds %+v, want second and first", msgs)
	}
}
