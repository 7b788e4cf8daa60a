package mail

import (
	"context"
	"testing"

	"polyphony/internal/dbtest"
)

// A kind that is off until chosen is not queued for someone who never chose it, nor for
// someone who saved their choices leaving it off; it is once they turn it on.
func TestOptInKindIsOffUntilChosen(t *testing.T) {
	ctx := context.Background()
	q, err := New(ctx, dbtest.New(t), Config{PublicURL: "https://polyphony.example"})
	if err != nil {
		t.Fatal(err)
	}
	if !KindAtRisk.OptIn() || KindEntryComment.OptIn() {
		t.Fatal("the at-risk email should be the kind off until chosen, and only it")
	}
	send := func(who string) string {
		t.Helper()
		id, err := q.Send(ctx, sample(KindAtRisk, who+"@trust.example", who))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	if id := send("never-chose"); id != "" {
		t.Errorf("queued for someone who never chose it: %s", id)
	}
	if err := q.SetPreferences(ctx, "left-off", []Kind{KindEntryComment, KindAtRisk}); err != nil {
		t.Fatal(err)
	}
	if id := send("left-off"); id != "" {
		t.Errorf("queued for someone who left it off: %s", id)
	}
	if err := q.SetPreferences(ctx, "turned-on", []Kind{KindEntryComment}); err != nil {
		t.Fatal(err)
	}
	if id := send("turned-on"); id == "" {
		t.Error("not queued for someone who turned it on")
	}
	p, err := q.Preferences(ctx, "turned-on")
	if err != nil || !p.On(KindAtRisk) || p.On(KindEntryComment) || !p.On(KindEntryShared) {
		t.Errorf("preferences %+v, %v", p, err)
	}
}
