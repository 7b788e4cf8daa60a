package assessment_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"polyphony/assessment"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

func TestBanksAreForStaffOnly(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	b, qs := fillBank(t, s, 1)
	others := []assessment.Actor{
		trainee(1),
		{ID: "f", Role: accounts.RoleFacilitator},
		{ID: "s", Role: accounts.RoleSupervisor},
		{Role: accounts.RoleAdmin}, // no id: not signed in
	}
	for _, who := range others {
		calls := map[string]error{}
		_, calls["CreateBank"] = s.CreateBank(ctx, who, "Mine")
		_, calls["Bank"] = s.Bank(ctx, who, b.ID)
		_, calls["Banks"] = s.Banks(ctx, who)
		_, calls["Questions"] = s.Questions(ctx, who, b.ID)
		_, calls["Question"] = s.Question(ctx, who, qs[0].ID)
		_, calls["QuestionHistory"] = s.QuestionHistory(ctx, who, qs[0].ID)
		_, calls["AddQuestion"] = s.AddQuestion(ctx, who, b.ID, question("x", 0))
		_, calls["ReviseQuestion"] = s.ReviseQuestion(ctx, who, qs[0].ID, 1, question("x", 0))
		_, calls["Import"] = s.Import(ctx, who, b.ID, assessment.FormatAiken, []byte(moodleAikenExample), assessment.ImportOptions{})
		calls["Export"] = s.Export(ctx, who, b.ID, assessment.FormatMarkdown, &bytes.Buffer{})
		for name, err := range calls {
			if !errors.Is(err, failure.ErrNotFound) {
				t.Errorf("%s as %s %q: %v, want ErrNotFound (to them banks do not exist)", name, who.Role, who.ID, err)
			}
		}
	}
	for _, who := range []assessment.Actor{admin, assessor} {
		if _, err := s.Questions(ctx, who, b.ID); err != nil {
			t.Errorf("Questions as %s: %v", who.Role, err)
		}
	}
}

func TestQuestionRevisions(t *testing.T) {
	ctx := context.Background()
	s, clock := openStore(t)
	b, err := s.CreateBank(ctx, assessor, "  Module   1 ")
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "Module 1" || b.Owner != assessor.ID {
		t.Errorf("bank %+v", b)
	}
	if _, err := s.CreateBank(ctx, admin, "Module 1"); !errors.Is(err, failure.ErrConflict) {
		t.Errorf("second bank of the same name: %v, want conflict", err)
	}
	var inv *failure.InvalidError
	if _, err := s.AddQuestion(ctx, assessor, b.ID, assessment.QuestionInput{Stem: "x", Options: []assessment.Option{{Text: "a", Right: true}, {Text: "b", Right: true}}}); !errors.As(err, &inv) || inv.Field != "options[1].right" {
		t.Errorf("two right options: %v, want invalid options[1].right", err)
	}
	if _, err := s.AddQuestion(ctx, assessor, "no-such-bank", question("x", 0)); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("question into a missing bank: %v", err)
	}

	q1, err := s.AddQuestion(ctx, assessor, b.ID, question("First", 1, "Module:1"))
	if err != nil {
		t.Fatal(err)
	}
	if q1.Revision != 1 || q1.Author != assessor.ID || !q1.SavedAt.Equal(t0) || q1.Tags[0] != "module:1" {
		t.Errorf("first revision %+v", q1)
	}
	clock.Advance(3600e9)
	change := question("First, corrected", 2)
	q2, err := s.ReviseQuestion(ctx, admin, q1.ID, 1, change)
	if err != nil {
		t.Fatal(err)
	}
	if q2.Revision != 2 || q2.Author != assessor.ID || q2.SavedBy != admin.ID || q2.Name != "First, corrected" {
		t.Errorf("second revision %+v", q2)
	}
	if _, err := s.ReviseQuestion(ctx, assessor, q1.ID, 1, question("Stale", 0)); !errors.Is(err, failure.ErrConflict) || !strings.Contains(err.Error(), "revision 2") {
		t.Errorf("revision made from a stale base: %v, want a conflict naming revision 2", err)
	}
	if _, err := s.ReviseQuestion(ctx, assessor, q1.ID, 7, change); !errors.As(err, &inv) || inv.Field != "baseRevision" {
		t.Errorf("base revision that does not exist: %v", err)
	}
	got, err := s.Question(ctx, assessor, q1.ID)
	if err != nil || got.Revision != 2 || got.Right() != 2 {
		t.Errorf("latest: %+v %v", got, err)
	}
	history, err := s.QuestionHistory(ctx, assessor, q1.ID)
	if err != nil || len(history) != 2 || history[0].Right() != 1 || history[1].Right() != 2 {
		t.Errorf("history: %+v %v", history, err)
	}
	old, err := s.QuestionRevision(ctx, assessor, q1.ID, 1)
	if err != nil || old.Name != "First" {
		t.Errorf("revision 1: %+v %v", old, err)
	}
	list, err := s.Questions(ctx, assessor, b.ID)
	if err != nil || len(list) != 1 || list[0].Revision != 2 {
		t.Errorf("bank lists %+v %v, want the one question at revision 2", list, err)
	}
}

// Of many revisions made at once from the same base, exactly one is stored.
func TestConcurrentRevisionsOneWins(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	_, qs := fillBank(t, s, 1)
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.ReviseQuestion(ctx, assessor, qs[0].ID, 1, question("Edit", i%5))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, failure.ErrConflict):
				conflicts.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != 11 {
		t.Errorf("%d stored, %d conflicts; want 1 and 11", wins.Load(), conflicts.Load())
	}
	history, _ := s.QuestionHistory(ctx, assessor, qs[0].ID)
	if len(history) != 2 {
		t.Errorf("%d revisions, want 2", len(history))
	}
}

func TestImportIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	b, err := s.CreateBank(ctx, assessor, "Imported")
	if err != nil {
		t.Fatal(err)
	}
	bad := moodleAikenExample + "\nA question with one option\nA) only\nANSWER: A\n\nAnother with a bad key\nA) one\nB) two\nANSWER: C\n"
	res, err := s.Import(ctx, assessor, b.ID, assessment.FormatAiken, []byte(bad), assessment.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 0 || len(res.Errors) != 2 || res.Errors[0].Line != 17 || res.Errors[1].Line != 24 {
		t.Errorf("refused import: %+v, want nothing imported and errors on lines 17 and 24", res)
	}
	if list, _ := s.Questions(ctx, assessor, b.ID); len(list) != 0 {
		t.Errorf("the bank has %d questions after a refused import, want 0", len(list))
	}
	res, err = s.Import(ctx, assessor, b.ID, assessment.FormatAiken, []byte(bad), assessment.ImportOptions{SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 2 || len(res.Errors) != 2 {
		t.Errorf("import skipping the invalid: %+v, want 2 imported and the 2 errors listed", res)
	}
	list, _ := s.Questions(ctx, assessor, b.ID)
	if len(list) != 2 || list[0].Author != assessor.ID {
		t.Errorf("the bank has %+v", list)
	}
	res, _ = s.Import(ctx, assessor, b.ID, assessment.FormatGIFT, []byte("\n// nothing but a comment\n"), assessment.ImportOptions{})
	if res.Imported != 0 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Reason, "no questions") {
		t.Errorf("empty file: %+v", res)
	}
}

// A bank exported in Markdown and imported into another bank holds the same questions.
func TestExportImportThroughTheStore(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	from, err := s.CreateBank(ctx, assessor, "From")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range trickyQuestions(t) {
		if _, err := s.AddQuestion(ctx, assessor, from.ID, q.Input()); err != nil {
			t.Fatal(err)
		}
	}
	to, _ := s.CreateBank(ctx, assessor, "To")
	for _, f := range []assessment.Format{assessment.FormatMarkdown, assessment.FormatGIFT} {
		var buf bytes.Buffer
		if err := s.Export(ctx, admin, from.ID, f, &buf); err != nil {
			t.Fatal(err)
		}
		res, err := s.Import(ctx, admin, to.ID, f, buf.Bytes(), assessment.ImportOptions{})
		if err != nil || res.Imported != 3 || len(res.Errors) != 0 {
			t.Fatalf("%s: import %+v %v", f, res, err)
		}
	}
	a, _ := s.Questions(ctx, assessor, from.ID)
	b, _ := s.Questions(ctx, assessor, to.ID)
	if len(b) != 2*len(a) {
		t.Fatalf("%d questions imported, want %d", len(b), 2*len(a))
	}
	for i := range b {
		if got, want := b[i].Input(), a[i%len(a)].Input(); !reflect.DeepEqual(got, want) {
			t.Errorf("question %d differs:\n got %+v\nwant %+v", i, got, want)
		}
	}
}
