package accounts

import (
	"context"
	"errors"
	"testing"
)

func TestLoginVerified(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	nurse := mustUser(t, svc, "nurse@nhs.example", RoleTrainee)
	gone := mustUser(t, svc, "gone@nhs.example", RoleTrainee)
	if _, err := svc.SetDisabled(ctx, gone.ID, true); err != nil {
		t.Fatal(err)
	}

	u, secret, sess, err := svc.LoginVerified(ctx, " Nurse@NHS.example ", "10.0.0.1", "test")
	if err != nil || u.ID != nurse.ID || sess.UserID != nurse.ID {
		t.Fatalf("LoginVerified: %+v %+v %v, want the nurse's session", u, sess, err)
	}
	if got, _, err := svc.FromSession(ctx, secret); err != nil || got.ID != nurse.ID {
		t.Errorf("the session it started: %v %v", got.ID, err)
	}
	for email, want := range map[string]error{"stranger@nhs.example": ErrNotAdded, "not an address": ErrNotAdded, "gone@nhs.example": ErrDisabled} {
		if _, secret, _, err := svc.LoginVerified(ctx, email, "", ""); !errors.Is(err, want) || secret != "" {
			t.Errorf("LoginVerified(%q) = %v (secret %q), want %v and no session", email, err, secret, want)
		}
	}
}
