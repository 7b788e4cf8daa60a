package courses_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/internal/failure"
)

// errNothing marks a listing that gave the viewer nothing of the trainee's.
var errNothing = errors.New("nothing of the trainee's")

// TestJournalAccessMatrix runs every read and write of the journal domain as every kind of
// person and compares who succeeded with who should have: the author; another trainee of
// the cohort and one of another cohort; the trainee's supervisor (named in the supervision
// log), another of the trainee's supervisors, a supervisor of the cohort who supervises
// only the other trainee, and one of another cohort; the cohort's assessor
// and another cohort's; a facilitator; an administrator; and someone not signed in. The
// trainee has a private entry (P), one shared with supervisors (S) and one submitted to
// assessors and edited since (A).
func TestJournalAccessMatrix(t *testing.T) { inBothModes(t, testJournalAccessMatrix) }

func testJournalAccessMatrix(t *testing.T, w *journalWorld) {
	ctx := context.Background()
	entries := map[string]courses.Entry{}
	for _, name := range []string{"P", "S", "A"} {
		e := w.create(t, w.trainee, courses.Draft{Title: "Entry " + name, Body: "secret text of " + name})
		e, err := w.j.AddAttachment(ctx, w.trainee, e.ID, courses.Attachment{Key: "journal/" + strings.ToLower(name) + ".png", Kind: courses.MediaImage, ContentType: "image/png", Size: 5, Name: name + ".png"})
		if err != nil {
			t.Fatal(err)
		}
		entries[name] = e
	}
	mustShare := func(name string, a courses.Audience) {
		if _, err := w.j.SetSharing(ctx, w.trainee, entries[name].ID, a, true); err != nil {
			t.Fatal(err)
		}
	}
	mustShare("S", courses.AudienceSupervisor)
	mustShare("A", courses.AudienceAssessors)
	w.save(t, w.trainee, entries["A"], "edited after submission")
	session, err := w.j.LogSupervision(ctx, w.trainee, courses.NewSupervision{Date: time.Now(), Minutes: 45, SupervisorID: w.supervisor.UserID, Kind: courses.SupervisionIndividual, Key: newKey()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.j.LogPractice(ctx, w.trainee, courses.NewPractice{Date: time.Now(), Minutes: 15, Kind: courses.PracticeWalking, Key: newKey()}); err != nil {
		t.Fatal(err)
	}
	if err := w.j.SetPracticeVisibility(ctx, w.trainee, courses.PracticeTotalsOnly); err != nil {
		t.Fatal(err)
	}

	viewers := []struct {
		name string
		v    courses.Viewer
	}{
		{"owner", w.trainee}, {"other trainee", w.otherTrainee}, {"far trainee", w.farTrainee},
		{"supervisor", w.supervisor}, {"supervisor 2", w.supervisor2}, {"far supervisor", w.farSupervisor},
		{"cohort supervisor", w.cohortSupervisor},
		{"assessor", w.assessor}, {"far assessor", w.farAssessor}, {"facilitator", w.facilitator},
		{"admin", w.admin}, {"anonymous", w.anonymous},
	}
	latest := func(name string) courses.Entry {
		e, err := w.j.ReadEntry(ctx, w.trainee, entries[name].ID)
		if err != nil {
			t.Fatal(err)
		}
		return e.Entry
	}
	type op struct {
		name    string
		allowed []string
		do      func(v courses.Viewer) error
	}
	var ops []op
	for _, name := range []string{"P", "S", "A"} {
		id := entries[name].ID
		readers := map[string][]string{"P": {"owner"}, "S": {"owner", "supervisor", "supervisor 2"}, "A": {"owner", "assessor"}}[name]
		audience := map[string]courses.Audience{"P": courses.AudienceSupervisor, "S": courses.AudienceSupervisor, "A": courses.AudienceAssessors}[name]
		commenters := readers
		if name == "P" {
			commenters = nil // not even the author: the entry is shared with nobody
		}
		ops = append(ops,
			op{"ReadEntry " + name, readers, func(v courses.Viewer) error { _, err := w.j.ReadEntry(ctx, v, id); return err }},
			op{"Comments " + name, readers, func(v courses.Viewer) error { _, err := w.j.Comments(ctx, v, id); return err }},
			op{"Attachment " + name, readers, func(v courses.Viewer) error {
				_, err := w.j.Attachment(ctx, v, id, "journal/"+strings.ToLower(name)+".png")
				return err
			}},
			op{"Revisions " + name, []string{"owner"}, func(v courses.Viewer) error { _, err := w.j.Revisions(ctx, v, id, 0, 0); return err }},
			op{"ReadRevision " + name, []string{"owner"}, func(v courses.Viewer) error { _, err := w.j.ReadRevision(ctx, v, id, 1); return err }},
			op{"Save " + name, []string{"owner"}, func(v courses.Viewer) error {
				cur := latest(name)
				_, err := w.j.Save(ctx, v, id, cur.Draft(), cur.Version, newKey())
				return err
			}},
			op{"Restore " + name, []string{"owner"}, func(v courses.Viewer) error {
				_, err := w.j.Restore(ctx, v, id, 1, latest(name).Version, newKey())
				return err
			}},
			op{"AddAttachment " + name, []string{"owner"}, func(v courses.Viewer) error {
				_, err := w.j.AddAttachment(ctx, v, id, courses.Attachment{Key: "journal/extra-" + v.UserID, Kind: courses.MediaAudio, ContentType: "audio/ogg", Size: 3, Name: "x.ogg"})
				return err
			}},
			op{"RemoveAttachment " + name, []string{"owner"}, func(v courses.Viewer) error {
				_, err := w.j.RemoveAttachment(ctx, v, id, "journal/not-attached")
				return err
			}},
			op{"SetSharing " + name, []string{"owner"}, func(v courses.Viewer) error {
				_, err := w.j.SetSharing(ctx, v, id, courses.AudienceSupervisor, name == "S")
				return err
			}},
			op{"AddComment " + name, commenters, func(v courses.Viewer) error {
				_, err := w.j.AddComment(ctx, v, id, courses.NewComment{Audience: audience, Body: "a comment", Key: newKey()})
				return err
			}},
		)
	}
	ops = append(ops,
		op{"Entries", []string{"owner", "supervisor", "supervisor 2", "assessor"}, func(v courses.Viewer) error {
			list, err := w.j.Entries(ctx, v, w.trainee.UserID)
			if err == nil && len(list) == 0 {
				return errNothing
			}
			return err
		}},
		op{"SupervisionLog", []string{"owner", "supervisor"}, func(v courses.Viewer) error {
			log, err := w.j.SupervisionLog(ctx, v, w.trainee.UserID)
			if err == nil && len(log) == 0 {
				return errNothing
			}
			return err
		}},
		op{"SupervisionTotals", []string{"owner", "supervisor"}, func(v courses.Viewer) error {
			tot, err := w.j.SupervisionTotals(ctx, v, w.trainee.UserID)
			if err == nil && tot.Overall.Sessions == 0 {
				return errNothing
			}
			return err
		}},
		op{"SupervisionToConfirm", []string{"supervisor"}, func(v courses.Viewer) error {
			list, err := w.j.SupervisionToConfirm(ctx, v)
			if err == nil && len(list) == 0 {
				return errNothing
			}
			return err
		}},
		op{"ConfirmSupervision", []string{"supervisor"}, func(v courses.Viewer) error {
			_, err := w.j.ConfirmSupervision(ctx, v, session.ID)
			return err
		}},
		op{"PracticeSummary", []string{"owner", "supervisor", "supervisor 2"}, func(v courses.Viewer) error {
			_, err := w.j.PracticeSummary(ctx, v, w.trainee.UserID, time.Now().AddDate(0, 0, -7), time.Now())
			return err
		}},
		op{"Export", []string{"owner"}, func(v courses.Viewer) error {
			var buf bytes.Buffer
			if err := w.j.Export(ctx, v, &buf, nil, nil); err != nil {
				return err
			}
			if !zipMentions(t, buf.Bytes(), "secret text of") {
				return errNothing
			}
			return nil
		}},
		op{"AccessLog", []string{"owner"}, func(v courses.Viewer) error {
			log, err := w.j.AccessLog(ctx, v)
			for _, r := range log {
				if r.OwnerID == w.trainee.UserID {
					return err
				}
			}
			return errors.Join(err, errNothing)
		}},
		op{"Erase", []string{"admin"}, func(v courses.Viewer) error {
			_, err := w.j.Erase(ctx, v, "someone-else-entirely", nil)
			return err
		}},
	)

	unexpected := 0
	for _, o := range ops {
		allowed := map[string]bool{}
		for _, a := range o.allowed {
			allowed[a] = true
		}
		for _, vw := range viewers {
			err := o.do(vw.v)
			var inv *failure.InvalidError
			refused := errors.Is(err, failure.ErrNotFound) || errors.Is(err, failure.ErrForbidden) || errors.As(err, &inv) || errors.Is(err, errNothing)
			switch {
			case err == nil && !allowed[vw.name]:
				unexpected++
				t.Errorf("%s as %s: allowed, want refused", o.name, vw.name)
			case err != nil && allowed[vw.name]:
				t.Errorf("%s as %s: %v, want allowed", o.name, vw.name, err)
			case err != nil && !refused:
				t.Errorf("%s as %s: %v, want a refusal (not found, forbidden or bad input)", o.name, vw.name, err)
			}
		}
	}
	if unexpected > 0 {
		t.Errorf("%d unexpected successes", unexpected)
	}

	// Every read by someone else is in the author's log, and only reads that were allowed.
	log, err := w.j.AccessLog(ctx, w.trainee)
	if err != nil {
		t.Fatal(err)
	}
	may := map[string]map[string]bool{
		w.supervisor.UserID:  {"": true, entries["S"].ID: true},
		w.supervisor2.UserID: {"": true, entries["S"].ID: true},
		w.assessor.UserID:    {entries["A"].ID: true},
	}
	seen := map[string]bool{}
	for _, r := range log {
		if !may[r.ViewerID][r.EntryID] {
			t.Errorf("access log: %s read %q (%s), which they may not", r.ViewerID, r.EntryID, r.What)
		}
		if r.As == courses.AccessAssessor && r.Version != 2 {
			t.Errorf("assessor read version %d of the submitted entry, want the submitted version 2", r.Version)
		}
		seen[r.ViewerID+" "+r.What] = true
	}
	for _, want := range []string{
		w.supervisor.UserID + " entry", w.supervisor.UserID + " comments", w.supervisor.UserID + " attachment S.png",
		w.supervisor.UserID + " title in a list", w.supervisor.UserID + " supervision log", w.supervisor.UserID + " practice totals",
		w.supervisor.UserID + " supervision sessions to confirm", w.supervisor2.UserID + " entry", w.assessor.UserID + " entry",
		w.assessor.UserID + " comments", w.assessor.UserID + " attachment A.png", w.assessor.UserID + " title in a list",
	} {
		if !seen[want] {
			t.Errorf("access log lacks %q", want)
		}
	}
}

// zipMentions reports whether any file in the zip contains s.
func zipMentions(t testing.TB, b []byte, s string) bool {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(s)) {
			return true
		}
	}
	return false
}
