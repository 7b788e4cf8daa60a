package courses_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"polyphony/courses"
	"polyphony/internal/failure"
)

func TestCommentsThreadsAndNotifications(t *testing.T) {
	ctx := context.Background()
	w := newJournalWorld(t)
	e := w.create(t, w.trainee, courses.Draft{Title: "Shared", Body: "text"})
	for _, a := range []courses.Audience{courses.AudienceSupervisor, courses.AudienceAssessors} {
		if _, err := w.j.SetSharing(ctx, w.trainee, e.ID, a, true); err != nil {
			t.Fatal(err)
		}
	}
	say := func(v courses.Viewer, a courses.Audience, body string) courses.Comment {
		t.Helper()
		c, err := w.j.AddComment(ctx, v, e.ID, courses.NewComment{Audience: a, Body: body, Key: newKey()})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := say(w.supervisor, "", "What did you *notice* <img src=x onerror=alert(1)>?")
	if first.Audience != courses.AudienceSupervisor || first.EntryVersion != 1 {
		t.Errorf("supervisor's comment: %+v", first)
	}
	if html := string(first.HTML()); strings.Contains(html, "<img") || !strings.Contains(html, "<em>notice</em>") {
		t.Errorf("comment rendered unsafely: %s", html)
	}
	say(w.trainee, courses.AudienceSupervisor, "The silences.")
	say(w.assessor, courses.AudienceAssessors, "Please say more about dialogism.")
	if _, err := w.j.AddComment(ctx, w.assessor, e.ID, courses.NewComment{Audience: courses.AudienceSupervisor, Body: "x", Key: newKey()}); err == nil {
		t.Error("an assessor wrote in the supervisors' thread")
	}

	threads := map[string]int{}
	for _, v := range []courses.Viewer{w.trainee, w.supervisor, w.supervisor2, w.assessor} {
		cs, err := w.j.Comments(ctx, v, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		threads[v.UserID] = len(cs)
	}
	if threads[w.trainee.UserID] != 3 || threads[w.supervisor.UserID] != 2 || threads[w.supervisor2.UserID] != 2 || threads[w.assessor.UserID] != 1 {
		t.Errorf("comments seen: %v; want the author all 3, each supervisor their thread's 2, the assessor 1", threads)
	}

	unread := func(v courses.Viewer) []courses.Notification {
		t.Helper()
		ns, err := w.j.Notifications(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		return ns
	}
	if ns := unread(w.trainee); len(ns) != 2 || ns[0].AuthorID != w.assessor.UserID || ns[1].AuthorID != w.supervisor.UserID {
		t.Errorf("trainee's notifications: %+v; want the assessor's then the supervisor's", ns)
	}
	if ns := unread(w.supervisor); len(ns) != 1 || ns[0].AuthorID != w.trainee.UserID {
		t.Errorf("supervisor's notifications: %+v; want the trainee's reply only", ns)
	}
	if ns := unread(w.supervisor2); len(ns) != 2 {
		t.Errorf("second supervisor's notifications: %d, want 2 (both comments in their thread)", len(ns))
	}
	if ns := unread(w.farSupervisor); len(ns) != 0 {
		t.Errorf("supervisor of another cohort was notified: %+v", ns)
	}
	ns := unread(w.trainee)
	if err := w.j.MarkNotificationsRead(ctx, w.supervisor, ns[0].ID); err != nil {
		t.Fatal(err)
	}
	if len(unread(w.trainee)) != 2 {
		t.Error("someone else marked the trainee's notification read")
	}
	if err := w.j.MarkNotificationsRead(ctx, w.trainee, ns[0].ID); err != nil {
		t.Fatal(err)
	}
	if left := unread(w.trainee); len(left) != 1 || left[0].ID != ns[1].ID {
		t.Errorf("after marking one read: %+v", left)
	}
	if err := w.j.MarkNotificationsRead(ctx, w.trainee); err != nil || len(unread(w.trainee)) != 0 {
		t.Errorf("after marking all read: %d left, %v", len(unread(w.trainee)), err)
	}
}

func TestCommentsRefusedWhenNotShared(t *testing.T) {
	ctx := context.Background()
	w := newJournalWorld(t)
	e := w.create(t, w.trainee, courses.Draft{Title: "Private", Body: "text"})
	if _, err := w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceSupervisor, true); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, w.db)
	_, err := w.j.AddComment(ctx, w.trainee, e.ID, courses.NewComment{Audience: courses.AudienceAssessors, Body: "to the assessors", Key: newKey()})
	wantInvalid(t, err, "audience", "not submitted to the assessors")
	_, err = w.j.AddComment(ctx, w.assessor, e.ID, courses.NewComment{Body: "hello", Key: newKey()})
	if !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("assessor commenting on an entry not submitted: %v, want ErrNotFound", err)
	}
	_, err = w.j.AddComment(ctx, w.supervisor, e.ID, courses.NewComment{Body: "   ", Key: newKey()})
	wantInvalid(t, err, "body", "required")
	_, err = w.j.AddComment(ctx, w.supervisor, e.ID, courses.NewComment{Body: strings.Repeat("x", courses.MaxCommentBody+1), Key: newKey()})
	wantInvalid(t, err, "body", "5000 characters or fewer")
	if after := snapshot(t, w.db); after != before {
		t.Error("a refused comment changed what is stored")
	}
}

func TestCommentsReplayed(t *testing.T) {
	ctx := context.Background()
	w := newJournalWorld(t)
	e := w.create(t, w.trainee, courses.Draft{Title: "Shared", Body: "text"})
	if _, err := w.j.SetSharing(ctx, w.trainee, e.ID, courses.AudienceSupervisor, true); err != nil {
		t.Fatal(err)
	}
	nc := courses.NewComment{Body: "Once only", Key: newKey()}
	ids := make([]string, 20)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			c, err := w.j.AddComment(ctx, w.supervisor, e.ID, nc)
			if err != nil {
				t.Error(err)
			}
			ids[i] = c.ID
		})
	}
	wg.Wait()
	cs, err := w.j.Comments(ctx, w.trainee, e.ID)
	if err != nil || len(cs) != 1 || cs[0].ID != ids[0] || ids[19] != ids[0] {
		t.Errorf("after 20 concurrent retries of one comment: %d comments, %v", len(cs), err)
	}
	if ns, _ := w.j.Notifications(ctx, w.trainee); len(ns) != 1 {
		t.Errorf("%d notifications, want 1", len(ns))
	}
	nc.Body = "Something else"
	_, err = w.j.AddComment(ctx, w.supervisor, e.ID, nc)
	wantInvalid(t, err, "key", "different comment")
}
