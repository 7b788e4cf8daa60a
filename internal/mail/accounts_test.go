package mail

import (
	"context"
	"strings"
	"testing"
	"time"

	"polyphony/internal/accounts"
	"polyphony/internal/dbtest"
	"polyphony/internal/mailtest"
)

// The account emails the password and administration pages send reach the person, with
// the link each is about, whatever they turned off.
func TestAccountEmails(t *testing.T) {
	ctx := context.Background()
	srv := mailtest.Start(t)
	q, err := New(ctx, dbtest.New(t), testConfig(srv))
	if err != nil {
		t.Fatal(err)
	}
	run(t, q)
	a := q.Accounts()
	if !a.Delivers() {
		t.Error("Delivers is false with an SMTP host")
	}
	ann := accounts.User{ID: "u-ann", Email: "ann@trust.example", Name: "Ann Smith"}
	if err := q.SetPreferences(ctx, ann.ID, []Kind{KindEntryComment, KindEntryShared, KindEntrySubmitted, KindSessionTomorrow, KindAssessmentOpen, KindMarksReleased}); err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(7 * 24 * time.Hour)
	if err := a.Invitation(ctx, ann, "https://polyphony.example/password?link=inv", expires, "Ada Admin"); err != nil {
		t.Fatal(err)
	}
	if err := a.ResetLink(ctx, ann, "https://polyphony.example/password?link=reset", time.Now().Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := a.PasswordChanged(ctx, ann); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitForCount(t, 3, 15*time.Second)
	want := map[string]string{
		"You are invited to Polyphony":        "https://polyphony.example/password?link=inv",
		"Reset your Polyphony password":       "https://polyphony.example/password?link=reset",
		"Your Polyphony password was changed": "https://polyphony.example/signin/forgot",
	}
	for _, m := range got {
		full := srv.Message(t, m.ID)
		link, ok := want[full.Subject]
		if !ok || !strings.Contains(full.Text, link) || full.To[0].Address != ann.Email {
			t.Errorf("received %q to %v:\n%s", full.Subject, full.To, full.Text)
		}
		if full.Subject == "You are invited to Polyphony" && !strings.Contains(full.Text, "Ada Admin added you") {
			t.Errorf("the invitation does not say who added them:\n%s", full.Text)
		}
		delete(want, full.Subject)
	}
	if len(want) != 0 {
		t.Errorf("not received: %v", want)
	}
}

// With no SMTP host, the pages are told email does not reach people.
func TestAccountEmailsDoNotDeliverWithoutHost(t *testing.T) {
	q, err := New(context.Background(), dbtest.New(t), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if q.Accounts().Delivers() {
		t.Error("Delivers is true with no SMTP host")
	}
	if err := q.Accounts().PasswordChanged(context.Background(), accounts.User{ID: "u", Email: "a@b.example", Name: "A"}); err == nil {
		t.Error("a changed-password notice with no public address for its link was queued")
	}
}

// accountMail is the server's AccountMail interface as the password pages declare it;
// AccountEmails must keep fitting it.
type accountMail interface {
	Delivers() bool
	Invitation(ctx context.Context, to accounts.User, link string, expires time.Time, invitedBy string) error
	ResetLink(ctx context.Context, to accounts.User, link string, expires time.Time) error
	PasswordChanged(ctx context.Context, to accounts.User) error
}

var _ accountMail = (*AccountEmails)(nil)
