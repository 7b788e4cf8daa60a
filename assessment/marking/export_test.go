package marking_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"

	"polyphony/assessment/marking"
	"polyphony/internal/failure"
)

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	must(t, "read csv", err)
	return rows
}

func TestExportsAndRatings(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := newPiece(t, f, marking.SchemeDoubleBlind, func(in *marking.PieceInput) { in.Anonymous = true })
	s1 := submitted(t, f, p, "t1", "m1", "m2")
	mark(t, f, marker1, s1.ID, "pass", "pass")  // 4
	mark(t, f, marker2, s1.ID, "merit", "pass") // 5
	s2 := submitted(t, f, p, "t2", "m1", "m2")
	mark(t, f, marker1, s2.ID, "refer", "pass")  // 2
	mark(t, f, marker2, s2.ID, "merit", "merit") // 6
	s3 := submitted(t, f, p, "t3", "m1", "m2")
	mark(t, f, marker1, s3.ID, "pass", "pass")
	_, err := f.s.Release(ctx, admin, p.ID, "t1")
	must(t, "release", err)

	names := map[string]string{"t1": "=HYPERLINK(\"http://x\")", "t2": "Ann Other", "t3": "@Three"}
	var buf bytes.Buffer
	must(t, "results", f.s.ResultsCSV(ctx, admin, p.ID, func(id string) string { return names[id] }, &buf))
	rows := readCSV(t, buf.Bytes())
	want := [][]string{
		{"candidate", "name", "state", "late", "marker 1 total", "marker 2 total", "agreed total", "outcome", "moderated", "released"},
		{"C0001", "'=HYPERLINK(\"http://x\")", "Released", "no", "4", "5", "5", "pass", "no", "yes"},
		{"C0002", "Ann Other", "In moderation", "no", "2", "6", "", "", "no", "no"},
		{"C0003", "'@Three", "Marked", "no", "4", "", "", "", "no", "no"},
	}
	if len(rows) != len(want) {
		t.Fatalf("results:\n%v\nwant\n%v", rows, want)
	}
	for i := range want {
		for j := range want[i] {
			if rows[i][j] != want[i][j] {
				t.Errorf("results row %d column %s: %q, want %q", i, want[0][j], rows[i][j], want[i][j])
			}
		}
	}
	err = f.s.ResultsCSV(ctx, assessor, p.ID, func(string) string { return "" }, &buf)
	wantErr(t, "an assessor exports results", err, failure.ErrForbidden)

	buf.Reset()
	must(t, "agreement", f.s.AgreementCSV(ctx, admin, p.ID, &buf))
	rows = readCSV(t, buf.Bytes())
	wantAgreement := [][]string{
		{"candidate", "marker 1 total", "marker 2 total", "difference", "within tolerance", "a marker 1", "a marker 2", "b marker 1", "b marker 2"},
		{"C0001", "4", "5", "1", "yes", "pass", "merit", "pass", "pass"},
		{"C0002", "2", "6", "4", "no", "refer", "merit", "pass", "merit"},
	}
	if len(rows) != len(wantAgreement) {
		t.Fatalf("agreement:\n%v\nwant\n%v", rows, wantAgreement)
	}
	for i := range wantAgreement {
		for j := range wantAgreement[i] {
			if rows[i][j] != wantAgreement[i][j] {
				t.Errorf("agreement row %d column %d: %q, want %q", i, j, rows[i][j], wantAgreement[i][j])
			}
		}
	}
	if bytes.Contains(buf.Bytes(), []byte("t1")) {
		t.Error("the agreement export names a trainee")
	}

	ratings, err := f.s.Ratings(ctx, assessor, cohort)
	must(t, "ratings", err)
	got := map[string]int{}
	for _, r := range ratings {
		got[r.SubmissionID+" "+r.CriterionID+" "+r.RaterID] = r.Level
		if r.PieceID != p.ID {
			t.Errorf("rating of piece %q", r.PieceID)
		}
	}
	wantRatings := map[string]int{
		p.ID + "/C0001 a m1": 1, p.ID + "/C0001 a m2": 2, p.ID + "/C0001 b m1": 1, p.ID + "/C0001 b m2": 1,
		p.ID + "/C0002 a m1": 0, p.ID + "/C0002 a m2": 2, p.ID + "/C0002 b m1": 1, p.ID + "/C0002 b m2": 2,
	}
	if len(got) != len(wantRatings) || len(ratings) != len(wantRatings) {
		t.Fatalf("ratings %v, want %v", got, wantRatings)
	}
	for k, v := range wantRatings {
		if got[k] != v {
			t.Errorf("rating %s: %d, want %d", k, got[k], v)
		}
	}
	_, err = f.s.Ratings(ctx, trainee("t1"), cohort)
	wantErr(t, "a trainee reads ratings", err, failure.ErrNotFound)
}
