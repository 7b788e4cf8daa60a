package marking_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"polyphony/assessment/marking"
	"polyphony/internal/failure"
)

func TestAllocateRules(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.supervisors["m2"] = []string{"t1"}
	p := newPiece(t, f, marking.SchemeDoubleBlind)
	sub, err := f.s.Submit(ctx, trainee("t1"), p.ID, entry("e"))
	must(t, "submit", err)
	for _, c := range []struct {
		name    string
		markers []string
	}{
		{"one marker on a double-marked piece", []string{"m1"}},
		{"the same marker twice", []string{"m1", "m1"}},
		{"the trainee's supervisor", []string{"m1", "m2"}},
		{"the trainee", []string{"m1", "t1"}},
		{"an empty place", []string{"m1", ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.s.Allocate(ctx, assessor, sub.ID, c.markers)
			wantField(t, c.name, err, "markers")
		})
	}
	_, err = f.s.Allocate(ctx, trainee("t1"), sub.ID, []string{"m1", "m3"})
	wantErr(t, "a trainee allocates", err, failure.ErrNotFound)
	_, err = f.s.Allocate(ctx, assessor, sub.ID, []string{"m1", "m3"})
	must(t, "allocate", err)
	_, err = f.s.SaveDraft(ctx, marker1, sub.ID, 0, levels("pass", ""))
	must(t, "draft", err)
	_, err = f.s.Allocate(ctx, assessor, sub.ID, []string{"m3", "m4"})
	wantField(t, "take off a marker who has begun", err, "markers")
	_, err = f.s.Allocate(ctx, assessor, sub.ID, []string{"m1", "m4"})
	must(t, "replace the marker who has not begun", err)
	_, err = f.s.SaveDraft(ctx, marker3, sub.ID, 0, levels("pass", "pass"))
	wantErr(t, "the marker taken off saves a draft", err, failure.ErrForbidden)
	q, err := f.s.Queue(ctx, marker3, "m3")
	must(t, "queue of the marker taken off", err)
	if len(q) != 0 {
		t.Errorf("m3 was taken off but still has %v", q)
	}
}

// TestSpreadEvenly: counts stay within one of each other, no supervisor marks their trainee,
// and the same state gives the same allocation.
func TestSpreadEvenly(t *testing.T) {
	ctx := context.Background()
	spread := func() (map[string]int, map[string][]string) {
		f := newFixture(t)
		f.supervisors["m1"] = []string{"t03", "t04"}
		p := newPiece(t, f, marking.SchemeDoubleBlind)
		for i := range 9 {
			_, err := f.s.Submit(ctx, trainee(fmt.Sprintf("t%02d", i)), p.ID, entry("e"))
			must(t, "submit", err)
		}
		_, err := f.s.SpreadEvenly(ctx, assessor, p.ID, []string{"m1"})
		wantField(t, "one assessor for double marking", err, "assessors")
		rep, err := f.s.SpreadEvenly(ctx, assessor, p.ID, []string{"m3", "m1", "m2"})
		must(t, "spread", err)
		if len(rep.Allocated) != 9 || len(rep.Unallocated) != 0 {
			t.Fatalf("allocated %d, unallocated %v", len(rep.Allocated), rep.Unallocated)
		}
		count := map[string]int{}
		by := map[string][]string{}
		for _, al := range rep.Allocated {
			for _, m := range al.Markers {
				count[m]++
				if m == "m1" && (strings.HasSuffix(al.Ref, "/t03") || strings.HasSuffix(al.Ref, "/t04")) {
					t.Errorf("m1 marks %s, whom they supervise", al.Ref)
				}
			}
			by[al.Ref[strings.Index(al.Ref, "/"):]] = al.Markers
		}
		again, err := f.s.SpreadEvenly(ctx, assessor, p.ID, []string{"m1", "m2", "m3"})
		must(t, "spread again", err)
		if len(again.Allocated) != 0 {
			t.Errorf("spreading again allocated %v", again.Allocated)
		}
		q, err := f.s.Queue(ctx, marker2, "m2")
		must(t, "queue", err)
		if len(q) != count["m2"] || q[0].Due.IsZero() || q[0].PieceTitle == "" {
			t.Errorf("m2's queue has %d items, want %d: %+v", len(q), count["m2"], q)
		}
		_, err = f.s.Queue(ctx, marker1, "m2")
		wantErr(t, "another marker's queue", err, failure.ErrNotFound)
		return count, by
	}
	count, first := spread()
	for m, n := range count {
		if n < 6 || n > 6 {
			t.Errorf("%s has %d submissions, want 6 (18 places over 3)", m, n)
		}
	}
	_, second := spread()
	for ref, ms := range first {
		if fmt.Sprint(second[ref]) != fmt.Sprint(ms) {
			t.Errorf("%s: %v then %v", ref, ms, second[ref])
		}
	}
}

// TestAnonymousMarking: markers of an anonymous piece see a candidate number, no trainee id
// and files renamed; they mark through the candidate reference.
func TestAnonymousMarking(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeSingle, func(in *marking.PieceInput) { in.Anonymous = true })
	_, err := f.s.Submit(ctx, trainee("t1"), p.ID, marking.Items{Files: []marking.FileItem{
		{EntryID: "e1", Version: 2, Key: "journal/2026/k1", Hash: "abc", Name: "Jane Smith reflective account.PDF", ContentType: "application/pdf", Size: 10},
		{EntryID: "e1", Version: 2, Key: "journal/2026/k2", Hash: "def", Name: "jane-notes", Size: 3},
	}, FilesAgreed: true})
	must(t, "submit", err)
	rep, err := f.s.SpreadEvenly(ctx, assessor, p.ID, []string{"m1"})
	must(t, "spread", err)
	ref := rep.Allocated[0].Ref
	if ref != p.ID+"/C0001" {
		t.Fatalf("the allocation names %q, want the candidate reference", ref)
	}
	q, err := f.s.Queue(ctx, marker1, "m1")
	must(t, "queue", err)
	if len(q) != 1 || q[0].TraineeID != "" || q[0].Ref != ref || q[0].CandidateNumber != "C0001" {
		t.Fatalf("queue %+v", q)
	}
	v, err := f.s.MarkerView(ctx, marker1, ref)
	must(t, "marker view", err)
	if v.TraineeID != "" || v.Ref != ref || v.Items.Files[0].Name != "C0001-1.pdf" || v.Items.Files[1].Name != "C0001-2" {
		t.Errorf("anonymous view: trainee %q ref %q files %+v", v.TraineeID, v.Ref, v.Items.Files)
	}
	if strings.Contains(fmt.Sprintf("%+v", v), "t1") || strings.Contains(strings.ToLower(fmt.Sprintf("%+v", v)), "jane") {
		t.Errorf("the anonymous view names the trainee: %+v", v)
	}
	if strings.Contains(fmt.Sprintf("%+v", v), "journal/2026") || strings.Contains(fmt.Sprintf("%+v", v), "e1") {
		t.Errorf("the marker's view says where the files are kept: %+v", v.Items.Files)
	}
	// The marker opens a file by its place, under the same name; the server alone learns
	// where it is kept.
	file, err := f.s.SubmittedFile(ctx, marker1, ref, 1)
	must(t, "the first file", err)
	if file.Name != "C0001-1.pdf" || file.File.Key != "journal/2026/k1" || file.File.EntryID != "e1" || file.File.Version != 2 || file.NamesMarker {
		t.Errorf("the first file: %+v", file)
	}
	for _, n := range []int{0, 3} {
		_, err = f.s.SubmittedFile(ctx, marker1, ref, n)
		wantErr(t, fmt.Sprintf("file %d of 2", n), err, failure.ErrNotFound)
	}
	for _, who := range []marking.Actor{trainee("t1"), trainee("t2")} {
		_, err = f.s.SubmittedFile(ctx, who, ref, 1)
		if err == nil {
			t.Errorf("%s opens a submitted file as a marker", who.UserID)
		}
	}
	_, err = f.s.Submission(ctx, marker1, p.ID, "t1")
	wantErr(t, "a marker reads the named submission", err, failure.ErrNotFound)
	mark(t, f, marker1, ref, "pass", "pass")
	v, err = f.s.MarkerView(ctx, marker1, ref)
	must(t, "marker view after marking", err)
	if len(v.Marks) != 1 || strings.Contains(fmt.Sprintf("%+v", v), "t1") {
		t.Errorf("the anonymous view names the trainee once marked: %+v", v)
	}
	trail, err := f.s.Trail(ctx, marker3, ref)
	must(t, "moderator reads the trail", err)
	if strings.Contains(fmt.Sprintf("%+v", trail), "t1") || trail[0].ActorID != "C0001" {
		t.Errorf("the anonymous trail names the trainee: %+v", trail)
	}
	if _, err := f.s.MarkerView(ctx, marker1, p.ID+"/C0002"); err == nil {
		t.Error("a candidate number not given reads a submission")
	}
}

func TestOverview(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeSingle, func(in *marking.PieceInput) { in.Anonymous = true })
	sub := submitted(t, f, p, "t1", "m1")
	mark(t, f, marker1, sub.ID, "pass", "pass")
	_, err := f.s.Submit(ctx, trainee("t2"), p.ID, entry("e"))
	must(t, "submit", err)
	rows, err := f.s.Overview(ctx, assessor, p.ID)
	must(t, "overview", err)
	if len(rows) != 2 || rows[0].State != marking.Agreed || rows[1].State != marking.Submitted || rows[0].TraineeID != "" || rows[0].Ref != p.ID+"/C0001" {
		t.Fatalf("assessor's overview %+v", rows)
	}
	rows, err = f.s.Overview(ctx, admin, p.ID)
	must(t, "admin's overview", err)
	if rows[0].TraineeID != "t1" {
		t.Errorf("the administrator's overview lacks the trainee: %+v", rows[0])
	}
	_, err = f.s.Overview(ctx, trainee("t1"), p.ID)
	wantErr(t, "a trainee's overview", err, failure.ErrNotFound)
}
