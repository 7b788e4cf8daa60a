package main

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"polyphony/internal/mail"
	"polyphony/internal/mailtest"
)

// queueFromBeside queues an email in the database of the serve running on data, as a
// command beside it would, and returns its id.
func queueFromBeside(t *testing.T, data string, m mail.Message) string {
	t.Helper()
	cfg, err := configFrom(t, []string{"--data", data}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := openApp(ctx, cfg, slog.New(slog.DiscardHandler), true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	id, err := a.mail.Send(ctx, m)
	if err != nil || id == "" {
		t.Fatalf("queue an email: %q, %v", id, err)
	}
	return id
}

func resetEmail(to string) mail.Message {
	return mail.Message{Kind: mail.KindPasswordReset, To: to, Name: "Ann Smith", Link: "https://polyphony.example/reset?token=tok-" + to,
		Values: mail.Values{Expires: time.Now().Add(30 * time.Minute)}}
}

// `polyphony serve` runs the email worker: an email queued in its database reaches the SMTP
// server it was given, and SIGTERM still stops it cleanly.
func TestServeDeliversQueuedEmail(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	data := t.TempDir()
	p, _ := startServe(t, data, "--smtp-host", srv.Host(), "--smtp-port", strconv.Itoa(srv.SMTPPort()), "--smtp-tls", "none",
		"--mail-from", "Polyphony <polyphony@trust.example>", "--mail-reply-to", "programme@trust.example")
	if want := "  email:    SMTP at 127.0.0.1:" + strconv.Itoa(srv.SMTPPort()) + " (none)\n"; !strings.Contains(p.stdout.String(), want) {
		t.Errorf("the banner does not say where email goes (%q):\n%s", want, p.stdout)
	}
	queueFromBeside(t, data, resetEmail("ann@trust.example"))
	got := srv.WaitForCount(t, 1, 30*time.Second)
	full := srv.Message(t, got[0].ID)
	if full.Subject != "Reset your Polyphony password" || !strings.Contains(full.Text, "https://polyphony.example/reset?token=tok-ann@trust.example") ||
		full.From.Address != "polyphony@trust.example" || len(full.ReplyTo) != 1 {
		t.Errorf("received %+v", full)
	}

	// An invitation from the command line beside it is queued, and the server emails it.
	smtp := []string{"--smtp-host", srv.Host(), "--smtp-port", strconv.Itoa(srv.SMTPPort()), "--smtp-tls", "none", "--mail-from", "polyphony@trust.example"}
	r := runBinary(t, "", append([]string{"user", "add", "--data", data, "--email", "cai@trust.example", "--name", "Cai Invited", "--role", "trainee"}, smtp...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "Invitation emailed to cai@trust.example") || strings.Contains(r.stdout, "ppl_") {
		t.Errorf("user add with email set up: %v", r)
	}
	got = srv.WaitForCount(t, 2, 30*time.Second)
	var invited bool
	for _, m := range got {
		full := srv.Message(t, m.ID)
		invited = invited || len(full.To) == 1 && full.To[0].Address == "cai@trust.example" && strings.Contains(full.Text, "/password?link=ppl_")
	}
	if !invited {
		t.Errorf("no invitation with its link reached cai@trust.example: %+v", got)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(30 * time.Second); code != 0 {
		t.Errorf("serve: exit %d after SIGTERM\n%s", code, p.stderr)
	}
}

// With no SMTP host (what `make run` does) serve writes each email to its log in full, so a
// reset link can be followed from there.
func TestServeWithoutSMTPHostLogsEachEmail(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	p, _ := startServe(t, data)
	if !strings.Contains(p.stdout.String(), "  email:    written to the log in full (no --smtp-host set)\n") {
		t.Errorf("the banner does not say email goes to the log:\n%s", p.stdout)
	}
	queueFromBeside(t, data, resetEmail("bea@trust.example"))
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.stderr.String(), `link="https://polyphony.example/reset?token=tok-bea@trust.example"`) {
		if time.Now().After(deadline) {
			t.Fatalf("the email is not in the log:\n%s", p.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{"to=bea@trust.example", `subject="Reset your Polyphony password"`, `text="Dear Ann Smith,`, `html="<!DOCTYPE html>`} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("the log lacks %s", want)
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(30 * time.Second); code != 0 {
		t.Errorf("serve: exit %d after SIGTERM", code)
	}
}
