package courses_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	"polyphony/courses"
)

func readZip(t testing.TB, b []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		if strings.Contains(f.Name, "..") || strings.HasPrefix(f.Name, "/") {
			t.Errorf("zip entry %q could escape the folder it is unpacked in", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = string(data)
	}
	return files
}

func TestExportHoldsEveryItem(t *testing.T) {
	ctx := context.Background()
	w := newJournalWorld(t)
	media := map[string]string{"journal/tara/voice.m4a": "pretend audio bytes"}
	open := func(_ context.Context, key string) (io.ReadCloser, error) {
		data, ok := media[key]
		if !ok {
			return nil, fmt.Errorf("media %s: %w", key, fs.ErrNotExist)
		}
		return io.NopCloser(strings.NewReader(data)), nil
	}

	e1 := w.create(t, w.trainee, courses.Draft{Title: "Week one", Body: "body of version 1", Tags: []string{"responsibility"}})
	e1 = w.save(t, w.trainee, e1, "body of version 2")
	w.save(t, w.trainee, e1, "body of version 3")
	if _, err := w.j.AddAttachment(ctx, w.trainee, e1.ID, courses.Attachment{Key: "journal/tara/voice.m4a", Kind: courses.MediaAudio, ContentType: "audio/mp4", Size: 19, Name: "voice: Tuesday?.m4a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.j.AddAttachment(ctx, w.trainee, e1.ID, courses.Attachment{Key: "journal/tara/lost.jpg", Kind: courses.MediaImage, ContentType: "image/jpeg", Size: 9, Name: "lost.jpg"}); err != nil {
		t.Fatal(err)
	}
	e2 := w.create(t, w.trainee, courses.Draft{Title: "Shared", Body: "body of the shared entry"})
	if _, err := w.j.SetSharing(ctx, w.trainee, e2.ID, courses.AudienceSupervisor, true); err != nil {
		t.Fatal(err)
	}
	if _, err := w.j.ReadEntry(ctx, w.supervisor, e2.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		v    courses.Viewer
		body string
	}{{w.supervisor, "supervisor's question"}, {w.trainee, "trainee's answer"}} {
		if _, err := w.j.AddComment(ctx, c.v, e2.ID, courses.NewComment{Audience: courses.AudienceSupervisor, Body: c.body, Key: newKey()}); err != nil {
			t.Fatal(err)
		}
	}
	session, err := w.j.LogSupervision(ctx, w.trainee, courses.NewSupervision{Date: time.Now(), Minutes: 75, SupervisorID: w.supervisor.UserID, Kind: courses.SupervisionGroup, Reflection: "reflection on supervision", Key: newKey()})
	if err != nil {
		t.Fatal(err)
	}
	practice, err := w.j.LogPractice(ctx, w.trainee, courses.NewPractice{Date: time.Now(), Minutes: 17, Kind: courses.PracticeWalking, Key: newKey()})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.j.SetPracticeVisibility(ctx, w.trainee, courses.PracticeTotalsOnly); err != nil {
		t.Fatal(err)
	}
	// Someone else's entry, which must stay out.
	w.create(t, w.otherTrainee, courses.Draft{Title: "Not Tara's", Body: "another trainee's text"})

	var buf bytes.Buffer
	var calls [][2]int
	err = w.j.Export(ctx, w.trainee, &buf, open, func(done, total int) { calls = append(calls, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	files := readZip(t, buf.Bytes())
	dir1 := fmt.Sprintf("journal/%s-%s/", e1.CreatedAt.Format(time.DateOnly), e1.ID)
	dir2 := fmt.Sprintf("journal/%s-%s/", e2.CreatedAt.Format(time.DateOnly), e2.ID)
	want := map[string][]string{
		dir1 + "revisions/000001.md":          {"body of version 1", `title: "Week one"`, `tags: ["responsibility"]`},
		dir1 + "revisions/000002.md":          {"body of version 2", "version: 2"},
		dir1 + "revisions/000003.md":          {"body of version 3"},
		dir1 + "revisions/000004.md":          {"body of version 3", "kind: attach", "journal/tara/voice.m4a"},
		dir1 + "revisions/000005.md":          {"journal/tara/lost.jpg"},
		dir1 + "entry.json":                   {`"version": 5`},
		dir1 + "sharing.json":                 {"[]"},
		dir1 + "comments.json":                {"[]"},
		dir1 + "media/01-voice_ Tuesday_.m4a": {"pretend audio bytes"},
		dir2 + "revisions/000001.md":          {"body of the shared entry"},
		dir2 + "sharing.json":                 {`"supervisor": true`, `"seq": 1`},
		dir2 + "comments.json":                {"supervisor's question", "trainee's answer"},
		dir2 + "entry.json":                   {"body of the shared entry"},
		"supervision.json":                    {session.ID, "reflection on supervision", `"confirmedMinutes": 0`},
		"practice.json":                       {practice.ID, `"minutes": 17`},
		"practice-visibility.json":            {`"visibility": "totals"`},
		"access-log.json":                     {w.supervisor.UserID, e2.ID},
		"comments-on-others-entries.json":     {"[]"},
		"README.txt":                          {"media/02-lost.jpg", "could not be found"},
	}
	for name, mentions := range want {
		got, ok := files[name]
		if !ok {
			t.Errorf("the export lacks %s", name)
			continue
		}
		for _, m := range mentions {
			if !strings.Contains(got, m) {
				t.Errorf("%s does not mention %q:\n%s", name, m, got)
			}
		}
	}
	if len(files) != len(want) {
		var names []string
		for n := range files {
			names = append(names, n)
		}
		t.Errorf("the export has %d files, want %d: %v", len(files), len(want), names)
	}
	if zipMentions(t, buf.Bytes(), "another trainee's text") {
		t.Error("the export holds another trainee's entry")
	}
	for i, c := range calls {
		if c[0] != i+1 || c[1] < c[0] {
			t.Errorf("progress call %d: %d of %d", i, c[0], c[1])
		}
	}
	if last := calls[len(calls)-1]; last[0] != len(files) || last[1] != len(files) {
		t.Errorf("last progress %d of %d, want %d of %d", last[0], last[1], len(files), len(files))
	}
	var entry courses.Entry
	if err := json.Unmarshal([]byte(files[dir1+"entry.json"]), &entry); err != nil || len(entry.Attachments) != 2 {
		t.Errorf("entry.json: %+v, %v", entry, err)
	}
}
