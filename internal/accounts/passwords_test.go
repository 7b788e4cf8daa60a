package accounts

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"polyphony/internal/database"
	"polyphony/internal/failure"
)

const firstPassword = "correct horse battery"

// signIn starts a session for the account, failing the test if the password is refused.
func signIn(t *testing.T, svc *Service, email, password string) string {
	t.Helper()
	_, secret, _, err := svc.Login(context.Background(), email, password, "192.0.2.1", "test")
	if err != nil {
		t.Fatalf("sign in as %s: %v", email, err)
	}
	return secret
}

func problemOn(err error, field string) bool {
	for _, p := range failure.Invalids(err) {
		if p.Field == field {
			return true
		}
	}
	return false
}

func TestChangePassword(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	u := mustUser(t, svc, "changer@example.org", RoleTrainee)
	here := signIn(t, svc, u.Email, firstPassword)
	elsewhere := signIn(t, svc, u.Email, firstPassword)

	for _, tc := range []struct {
		current, next, field string
	}{
		{"", "a new long password", "currentPassword"},
		{firstPassword, "", "newPassword"},
		{"not the password", "a new long password", "currentPassword"},
		{firstPassword, firstPassword, "newPassword"},
		{firstPassword, "short", "newPassword"},
	} {
		_, err := svc.ChangePassword(ctx, u.ID, tc.current, tc.next, here, "192.0.2.1")
		if !problemOn(err, tc.field) {
			t.Errorf("change from %q to %q: %v, want a problem with %s", tc.current, tc.next, err, tc.field)
		}
	}
	if _, _, err := svc.FromSession(ctx, elsewhere); err != nil {
		t.Fatalf("a refused change ended another session: %v", err)
	}

	if _, err := svc.ChangePassword(ctx, u.ID, firstPassword, "a new long password", here, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.FromSession(ctx, here); err != nil {
		t.Errorf("the session that changed the password was ended: %v", err)
	}
	if _, _, err := svc.FromSession(ctx, elsewhere); err == nil {
		t.Error("another session still works after the password changed")
	}
	if _, _, _, err := svc.Login(ctx, u.Email, firstPassword, "192.0.2.1", "test"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("the old password: %v, want refused", err)
	}
	signIn(t, svc, u.Email, "a new long password")
}

// Wrong current passwords are throttled like failed sign-ins.
func TestChangePasswordIsThrottled(t *testing.T) {
	svc := newService(t) // 5 failures per account a minute
	ctx := context.Background()
	u := mustUser(t, svc, "guessed@example.org", RoleTrainee)
	var throttled *failure.ThrottledError
	for i := range 6 {
		_, err := svc.ChangePassword(ctx, u.ID, "guess number one", "a new long password", "", "192.0.2.9")
		if i < 5 && !problemOn(err, "currentPassword") {
			t.Fatalf("guess %d: %v", i+1, err)
		}
		if i == 5 && !errors.As(err, &throttled) {
			t.Errorf("guess 6: %v, want throttled", err)
		}
	}
}

func TestResetLink(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	u := mustUser(t, svc, "forgetful@example.org", RoleTrainee)
	before := signIn(t, svc, u.Email, firstPassword)

	secret, got, err := svc.RequestReset(ctx, "  Forgetful@Example.org ", "192.0.2.2")
	if err != nil || secret == "" || got.ID != u.ID {
		t.Fatalf("request a reset: %q %v %v", secret, got.ID, err)
	}
	// At least 128 bits, and only its hash is stored.
	if n := len(strings.TrimPrefix(secret, linkPrefix)); n < 22 {
		t.Errorf("the link's secret has %d base64 characters, fewer than 128 bits", n)
	}
	rec, err := database.FindByID[Link](ctx, svc.Links.coll, secretID(secret))
	if err != nil || rec.Purpose != PurposeReset || !rec.ExpiresAt.Equal(rec.CreatedAt.Add(30*time.Minute)) {
		t.Fatalf("stored link %+v, %v: want a reset lasting 30 minutes under the secret's hash", rec, err)
	}
	if strings.Contains(rec.ID, strings.TrimPrefix(secret, linkPrefix)) {
		t.Error("the link's secret is stored in the clear")
	}

	// An address with no account: no link, and no error either.
	if s, _, err := svc.RequestReset(ctx, "nobody@example.org", "192.0.2.2"); s != "" || err != nil {
		t.Errorf("reset for an unknown address: %q, %v; want nothing and no error", s, err)
	}

	// A refused password leaves the link working.
	if _, _, err := svc.UseLink(ctx, secret, "short"); !problemOn(err, "password") {
		t.Errorf("a short password through the link: %v", err)
	}
	if _, _, err := svc.UseLink(ctx, secret, "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.FromSession(ctx, before); err == nil {
		t.Error("a session from before the reset still works")
	}
	signIn(t, svc, u.Email, "a brand new password")
	// Once only.
	if _, _, err := svc.UseLink(ctx, secret, "yet another password"); !errors.Is(err, ErrLinkUnusable) {
		t.Errorf("the link used again: %v, want ErrLinkUnusable", err)
	}
}

// Every link made before a password is set stops working when it is set, and a link ends
// after its time.
func TestLinksEndWithTheirPasswordAndTheirTime(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	u := mustUser(t, svc, "twice@example.org", RoleTrainee)
	first, _, err := svc.RequestReset(ctx, u.Email, "192.0.2.3")
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := svc.RequestReset(ctx, u.Email, "192.0.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.UseLink(ctx, second, "the second link's password"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Links.Check(ctx, first); !errors.Is(err, ErrLinkUnusable) {
		t.Errorf("an earlier link after the password was set: %v", err)
	}

	late, _, err := svc.RequestReset(ctx, u.Email, "192.0.2.3")
	if err != nil {
		t.Fatal(err)
	}
	svc.Links.now = func() time.Time { return time.Now().Add(ResetLinkLasts + time.Second) }
	if _, _, err := svc.UseLink(ctx, late, "too late a password"); !errors.Is(err, ErrLinkUnusable) {
		t.Errorf("a reset link after 30 minutes: %v", err)
	}
	for _, bad := range []string{"", "ppl_", "ppl_nothing-like-it", "pph_" + strings.TrimPrefix(late, linkPrefix)} {
		if _, _, err := svc.Links.Check(ctx, bad); !errors.Is(err, ErrLinkUnusable) {
			t.Errorf("link %q: %v", bad, err)
		}
	}
}

// Of several uses of one link at once, one sets the password.
func TestLinkUsedOnceUnderRace(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	u := mustUser(t, svc, "racer@example.org", RoleTrainee)
	secret, _, err := svc.RequestReset(ctx, u.Email, "192.0.2.4")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []string
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw := "racing password " + string(rune('a'+i))
			_, _, err := svc.UseLink(ctx, secret, pw)
			switch {
			case err == nil:
				mu.Lock()
				won = append(won, pw)
				mu.Unlock()
			case errors.Is(err, ErrLinkUnusable), errors.Is(err, failure.ErrConflict):
			default:
				t.Errorf("use %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if len(won) != 1 {
		t.Fatalf("%d uses of one link succeeded: %v", len(won), won)
	}
	signIn(t, svc, u.Email, won[0])
}

func TestResetRequestsAreThrottled(t *testing.T) {
	svc := newService(t) // the default: 5 per address and 50 per client an hour
	ctx := context.Background()
	u := mustUser(t, svc, "flooded@example.org", RoleTrainee)
	var throttled *failure.ThrottledError
	for i := range 5 {
		if _, _, err := svc.RequestReset(ctx, u.Email, "192.0.2.5"); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if _, _, err := svc.RequestReset(ctx, u.Email, "192.0.2.6"); !errors.As(err, &throttled) {
		t.Errorf("a sixth request for one address in the hour: %v, want throttled", err)
	}
	// Unknown addresses count too, per client.
	for i := range 50 {
		if _, _, err := svc.RequestReset(ctx, "someone"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@example.org", "192.0.2.7"); err != nil {
			t.Fatalf("request %d from one client: %v", i+1, err)
		}
	}
	if _, _, err := svc.RequestReset(ctx, "another@example.org", "192.0.2.7"); !errors.As(err, &throttled) {
		t.Errorf("request 51 from one client: %v, want throttled", err)
	}
	// Sign-in is counted apart: the flooded address can still sign in.
	signIn(t, svc, u.Email, firstPassword)
}

func TestInvitation(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	admin := mustUser(t, svc, "admin@example.org", RoleAdmin)
	u, err := svc.Users.Create(ctx, NewUser{Email: "invited@example.org", Name: "Invited Person", Role: RoleTrainee})
	if err != nil {
		t.Fatal(err)
	}
	// No password yet: none signs in, not even an empty hash's.
	if _, _, _, err := svc.Login(ctx, u.Email, "anything at all", "192.0.2.8", "test"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("sign-in before the invitation is accepted: %v", err)
	}
	secret, _, err := svc.Invite(ctx, u.ID, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := svc.Links.Check(ctx, secret)
	if err != nil || l.Purpose != PurposeInvitation || l.By != admin.ID || !l.ExpiresAt.Equal(l.CreatedAt.Add(7*24*time.Hour)) {
		t.Fatalf("invitation %+v, %v: want one lasting 7 days, made by the administrator", l, err)
	}
	again, _, err := svc.Invite(ctx, u.ID, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.UseLink(ctx, again, "my own first password"); err != nil {
		t.Fatal(err)
	}
	signIn(t, svc, u.Email, "my own first password")
	if _, _, err := svc.Links.Check(ctx, secret); !errors.Is(err, ErrLinkUnusable) {
		t.Errorf("the first invitation after the second was accepted: %v", err)
	}
	if _, err := svc.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Invite(ctx, u.ID, admin.ID); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("inviting a disabled account: %v", err)
	}
}

func TestEditAccount(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	u := mustUser(t, svc, "first@example.org", RoleTrainee)
	other := mustUser(t, svc, "taken@example.org", RoleTrainee)
	str := func(s string) *string { return &s }
	role := RoleSupervisor

	if _, _, err := svc.Users.Edit(ctx, u.ID, 0, Edit{Email: str("Taken@Example.org")}); !problemOn(err, "email") {
		t.Errorf("another account's address: %v", err)
	}
	if _, _, err := svc.Users.Edit(ctx, u.ID, 0, Edit{Name: str(" "), Email: str("not an address")}); !problemOn(err, "name") || !problemOn(err, "email") {
		t.Errorf("an empty name and a bad address: %v, want both named", err)
	}
	before, after, err := svc.Users.Edit(ctx, u.ID, u.Version, Edit{Name: str("Second Name"), Email: str("second@example.org"), Role: &role})
	if err != nil {
		t.Fatal(err)
	}
	if before.Email != "first@example.org" || after.Email != "second@example.org" || after.Name != "Second Name" || after.Role != RoleSupervisor || after.Version != u.Version+1 {
		t.Errorf("edit: before %+v after %+v", before, after)
	}
	if _, err := svc.Users.ByEmail(ctx, "first@example.org"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("the old address still finds the account: %v", err)
	}
	if got, err := svc.Users.ByEmail(ctx, "second@example.org"); err != nil || got.ID != u.ID {
		t.Errorf("the new address: %v %v", got.ID, err)
	}
	signIn(t, svc, "second@example.org", firstPassword)
	// The old address is free for someone else.
	if _, err := svc.Users.Create(ctx, NewUser{Email: "first@example.org", Name: "New Holder", Role: RoleTrainee}); err != nil {
		t.Errorf("a new account with the address let go of: %v", err)
	}
	names, err := svc.Users.Names(ctx, []string{u.ID, other.ID})
	if err != nil || names[u.ID] != "Second Name" {
		t.Errorf("names after the edit: %v %v", names, err)
	}
	// An edit made on a version someone else has changed since is refused.
	if _, _, err := svc.Users.Edit(ctx, u.ID, u.Version, Edit{Name: str("Stale")}); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("an edit of a stale version: %v", err)
	}

	// Disabling keeps the reason and ends the sessions; enabling clears it.
	sess := signIn(t, svc, "second@example.org", firstPassword)
	d, err := svc.SetDisabledBecause(ctx, u.ID, true, "Left the trust in March")
	if err != nil || !d.Disabled || d.DisabledReason != "Left the trust in March" {
		t.Fatalf("disable: %+v %v", d, err)
	}
	if _, _, err := svc.FromSession(ctx, sess); err == nil {
		t.Error("a session of the disabled account still works")
	}
	e, err := svc.SetDisabledBecause(ctx, u.ID, false, "")
	if err != nil || e.Disabled || e.DisabledReason != "" {
		t.Errorf("enable: %+v %v", e, err)
	}
}
