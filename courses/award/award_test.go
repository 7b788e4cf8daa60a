package award_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/courses/award"
	"polyphony/internal/dbtest"
	"polyphony/internal/failure"
	"polyphony/internal/pdftest"
	"polyphony/internal/testclock"
)

var t0 = time.Date(2026, 12, 3, 14, 30, 0, 0, time.UTC)

// The store answers erasure's question.
var _ courses.AwardRecords = (*award.Store)(nil)

func newStore(t *testing.T, o award.Options) *award.Store {
	t.Helper()
	s, err := award.NewStore(context.Background(), dbtest.New(t), o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func decision(user, board string) award.Decision {
	return award.Decision{UserID: user, CohortID: "cohort-1", BoardID: board, RulesVersion: 2, DecidedBy: "admin-1",
		AccountName: "Account Name", AwardedAt: t0}
}

func TestIssueIsOncePerPersonAndBoard(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, award.Options{})
	a, err := s.Issue(ctx, decision("u1", "board-1"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != award.DefaultTitle || a.ShownName != "Account Name" || a.Status != award.Valid || a.RulesVersion != 2 ||
		!a.AwardedAt.Equal(t0) || a.DecidedBy != "admin-1" || a.CohortID != "cohort-1" {
		t.Fatalf("issued %+v", a)
	}
	again, err := s.Issue(ctx, decision("u1", "board-1"))
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != a.ID || again.Code != a.Code {
		t.Fatalf("issued again: %s %s, want the first award %s %s", again.ID, again.Code, a.ID, a.Code)
	}
	other, err := s.Issue(ctx, decision("u1", "board-2"))
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == a.ID || other.Code == a.Code {
		t.Fatal("a later board's award is the same record")
	}
	mine, err := s.ForUser(ctx, "u1")
	if err != nil || len(mine) != 2 {
		t.Fatalf("ForUser: %v %v, want both awards", mine, err)
	}
	if none, err := s.ForUser(ctx, "nobody"); err != nil || len(none) != 0 {
		t.Fatalf("ForUser of nobody: %v %v", none, err)
	}
	for user, want := range map[string]bool{"u1": true, "nobody": false} {
		if has, err := s.HasAward(ctx, user); err != nil || has != want {
			t.Errorf("HasAward(%s) = %v %v, want %v", user, has, err, want)
		}
	}
	_, err = s.Issue(ctx, award.Decision{UserID: "u2"})
	if got := len(failure.Invalids(err)); got != 3 {
		t.Errorf("a decision without cohort, board and decider: %v (%d problems), want 3", err, got)
	}
}

func TestCodesAreRandomAndForgiving(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c, err := award.NewCode()
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != 24 || strings.Count(c, "-") != 4 {
			t.Fatalf("code %q is not 5 groups of 4", c)
		}
		if seen[c] {
			t.Fatalf("code %s came twice", c)
		}
		seen[c] = true
		if got, ok := award.ParseCode(strings.ToLower(strings.ReplaceAll(c, "-", ""))); !ok || got != c {
			t.Fatalf("ParseCode of %q lower-case without dashes: %q %v", c, got, ok)
		}
	}
	// 100 bits: over 200 codes, every character of the alphabet turns up in every place
	// would need more; but each of the 20 places must vary.
	for i := 0; i < 24; i++ {
		if i%5 == 4 {
			continue
		}
		chars := map[byte]bool{}
		for c := range seen {
			chars[c[i]] = true
		}
		if len(chars) < 10 {
			t.Errorf("place %d of the code takes only %d characters over 200 codes", i, len(chars))
		}
	}
	for typed, want := range map[string]string{
		"abcd efgh jkmn pqrs tvwx":  "ABCD-EFGH-JKMN-PQRS-TVWX",
		"oOiI-LL00-1111-2222-3333":  "0011-1100-1111-2222-3333",
		" ABCD-EFGH-JKMN-PQRS-TVWX": "ABCD-EFGH-JKMN-PQRS-TVWX",
	} {
		if got, ok := award.ParseCode(typed); !ok || got != want {
			t.Errorf("ParseCode(%q) = %q %v, want %q", typed, got, ok, want)
		}
	}
	for _, bad := range []string{"", "ABCD", "ABCD-EFGH-JKMN-PQRS-TVWU", "ABCD-EFGH-JKMN-PQRS-TVWXY", "ABCD-EFGH-JKMN-PQRS-TVW", "ABCD-EFGH-JKMN-PQRS-TVWÉ", "../../etc/passwd"} {
		if got, ok := award.ParseCode(bad); ok {
			t.Errorf("ParseCode(%q) = %q, want malformed", bad, got)
		}
	}
}

func TestRevokedAwardStaysAndSaysSo(t *testing.T) {
	ctx := context.Background()
	clock := testclock.New(t0)
	s := newStore(t, award.Options{Now: clock.Now})
	a, err := s.Issue(ctx, decision("u1", "board-1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Revoke(ctx, a.ID, "  ", "admin-1"); len(failure.Invalids(err)) != 1 {
		t.Fatalf("revoke without a reason: %v", err)
	}
	if _, err := s.Revoke(ctx, "no-such-award", "Reason", "admin-1"); !errors.Is(err, failure.ErrNotFound) {
		t.Fatalf("revoke a missing award: %v", err)
	}
	clock.Advance(48 * time.Hour)
	r, err := s.Revoke(ctx, a.ID, "Awarded in error", "admin-2")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != award.Revoked || r.Revoked == nil || r.Revoked.Reason != "Awarded in error" || r.Revoked.By != "admin-2" || !r.Revoked.At.Equal(t0.Add(48*time.Hour)) {
		t.Fatalf("revoked: %+v %+v", r, r.Revoked)
	}
	if _, err := s.Revoke(ctx, a.ID, "Again", "admin-1"); !errors.Is(err, failure.ErrConflict) {
		t.Fatalf("revoke twice: %v, want a conflict", err)
	}
	got, err := s.ByCode(ctx, a.Code)
	if err != nil || got.Revoked.Reason != "Awarded in error" {
		t.Fatalf("the revoked award by its code: %+v %v", got, err)
	}
	v, err := s.Verify(ctx, a.Code, "192.0.2.1")
	if err != nil || v.Status != award.Revoked || !v.RevokedAt.Equal(t0.Add(48*time.Hour)) || v.ShownName != "Account Name" {
		t.Fatalf("verify a revoked award: %+v %v", v, err)
	}
	if has, _ := s.HasAward(ctx, "u1"); !has {
		t.Error("a revoked award is not a record any more")
	}
}

func TestShownNameBeforeAndAfterTheAward(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, award.Options{})
	if err := s.SetShownName(ctx, "u1", "  Zoë   Łukasiewicz "); err != nil {
		t.Fatal(err)
	}
	a, err := s.Issue(ctx, decision("u1", "board-1"))
	if err != nil || a.ShownName != "Zoë Łukasiewicz" {
		t.Fatalf("issued with the chosen name: %q %v", a.ShownName, err)
	}
	if err := s.SetShownName(ctx, "u1", "Zoë Ł. Smith"); err != nil {
		t.Fatal(err)
	}
	after, err := s.ByCode(ctx, a.Code)
	if err != nil || after.ShownName != "Zoë Ł. Smith" || after.Code != a.Code {
		t.Fatalf("renamed after the award: %+v %v", after, err)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("a", 101), "Bell\aName", "Li 李", "Zoë 😀"} {
		if err := s.SetShownName(ctx, "u1", bad); len(failure.Invalids(err)) != 1 {
			t.Errorf("SetShownName(%q): %v, want a problem", bad, err)
		}
	}
	if n, _ := s.ShownName(ctx, "u1"); n != "Zoë Ł. Smith" {
		t.Errorf("ShownName = %q", n)
	}
}

func TestSettingsGoOnTheAwardsToCome(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, award.Options{})
	first, err := s.Issue(ctx, decision("u1", "board-1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Organisations) != 0 {
		t.Fatalf("organisations before any are set: %v", first.Organisations)
	}
	before, after, err := s.SetSettings(ctx, " Diploma ", []string{"NHS England", " ", "University of Kent"}, "admin-1")
	if err != nil {
		t.Fatal(err)
	}
	if before.Title != award.DefaultTitle || after.Title != "Diploma" || len(after.Organisations) != 2 {
		t.Fatalf("settings: %+v -> %+v", before, after)
	}
	second, err := s.Issue(ctx, decision("u2", "board-1"))
	if err != nil || second.Title != "Diploma" || strings.Join(second.Organisations, "|") != "NHS England|University of Kent" {
		t.Fatalf("an award after the settings: %+v %v", second, err)
	}
	if kept, _ := s.ByID(ctx, first.ID); kept.Title != award.DefaultTitle {
		t.Errorf("an earlier award took the new title: %q", kept.Title)
	}
	if _, _, err := s.SetSettings(ctx, "", []string{"A", "B", "C", "D", "E"}, "admin-1"); len(failure.Invalids(err)) != 2 {
		t.Errorf("no title and five organisations: %v, want two problems", err)
	}
}

func TestVerifyAnswersEveryUnknownCodeAlikeAndThrottles(t *testing.T) {
	ctx := context.Background()
	clock := testclock.New(t0)
	s := newStore(t, award.Options{VerifyLimit: 4, VerifyWindow: time.Minute, Now: clock.Now})
	a, err := s.Issue(ctx, decision("u1", "board-1"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Verify(ctx, strings.ToLower(a.Code), "192.0.2.1")
	if err != nil || v.Status != award.Valid || v.ShownName != "Account Name" || v.Title != award.DefaultTitle || !v.AwardedAt.Equal(t0) {
		t.Fatalf("verify: %+v %v", v, err)
	}
	unknown, _ := award.NewCode()
	for _, code := range []string{unknown, "not a code"} {
		if _, err := s.Verify(ctx, code, "192.0.2.1"); !errors.Is(err, failure.ErrNotFound) || err.Error() != failure.ErrNotFound.Error() {
			t.Errorf("verify %q: %v, want the plain not found", code, err)
		}
	}
	// The fourth look-up from the address is its last in the window, found or not.
	if _, err := s.Verify(ctx, a.Code, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	var throttled *failure.ThrottledError
	if _, err := s.Verify(ctx, a.Code, "192.0.2.1"); !errors.As(err, &throttled) || throttled.RetryAfter <= 0 || throttled.RetryAfter > time.Minute+time.Second {
		t.Fatalf("a fifth look-up: %v, want throttled within the minute", err)
	}
	if _, err := s.Verify(ctx, a.Code, "192.0.2.2"); err != nil {
		t.Fatalf("another address: %v", err)
	}
	clock.Advance(time.Minute + time.Second)
	if _, err := s.Verify(ctx, a.Code, "192.0.2.1"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestCertificateReadsBack(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, award.Options{})
	if _, _, err := s.SetSettings(ctx, award.DefaultTitle, []string{"NHS England", "Université de Genève"}, "admin-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetShownName(ctx, "u1", "Zoë Łukasiewicz-Δημητρίου Дмитрий"); err != nil {
		t.Fatal(err)
	}
	a, err := s.Issue(ctx, decision("u1", "board-1"))
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := award.Certificate(a, "https://polyphony.example/")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(pdftest.Text(t, pdf)), " ")
	for _, want := range []string{"NHS England", "Université de Genève", "Zoë Łukasiewicz-Δημητρίου Дмитрий",
		"Foundation Diploma in Peer-supported Open Dialogue", "on 3 December 2026", a.Code,
		"https://polyphony.example/verify/" + a.Code} {
		if !strings.Contains(text, want) {
			t.Errorf("the certificate's text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Revoked") {
		t.Errorf("a valid award's certificate says revoked:\n%s", text)
	}
	qrs := pdftest.QRCodes(t, pdf)
	if len(qrs) != 1 || qrs[0] != "https://polyphony.example/verify/"+a.Code {
		t.Fatalf("QR codes in the certificate: %q, want the verification address", qrs)
	}
	if _, err := s.Revoke(ctx, a.ID, "Awarded in error", "admin-1"); err != nil {
		t.Fatal(err)
	}
	r, _ := s.ByID(ctx, a.ID)
	pdf, err = award.Certificate(r, "https://polyphony.example")
	if err != nil {
		t.Fatal(err)
	}
	if text := pdftest.Text(t, pdf); !strings.Contains(text, "Revoked on "+award.Date(r.Revoked.At)) {
		t.Errorf("a revoked award's certificate does not say so:\n%s", text)
	}
}

// TestCertificateOfAnAccountNameItCannotPrint: a name taken from the account may hold
// characters the font lacks (the chosen name refuses them); the certificate is made all the
// same, without them, rather than failing.
func TestCertificateOfAnAccountNameItCannotPrint(t *testing.T) {
	a := award.Award{ShownName: "Li 李 Wei 😀", Title: award.DefaultTitle, AwardedAt: t0, Code: "ABCD-EFGH-JKMN-PQRS-TVWX", Status: award.Valid}
	pdf, err := award.Certificate(a, "https://polyphony.example")
	if err != nil {
		t.Fatal(err)
	}
	if text := strings.Join(strings.Fields(pdftest.Text(t, pdf)), " "); !strings.Contains(text, "Li Wei has been awarded") {
		t.Errorf("the certificate's text: %s", text)
	}
}

func TestUnprintableNamesTheCharactersWithoutAGlyph(t *testing.T) {
	if got := award.Unprintable("Zoë Łukasiewicz Δημήτρης Дмитрий O'Brien-Smith"); len(got) != 0 {
		t.Errorf("Latin, Greek and Cyrillic: %q have no glyph", string(got))
	}
	if got := string(award.Unprintable("Li 李李 Zoë")); got != "李" {
		t.Errorf("Unprintable = %q, want 李", got)
	}
}

func TestDateIsOnTheUKClock(t *testing.T) {
	// Half past midnight in London in summer is still the day before in UTC.
	at := time.Date(2026, 7, 3, 23, 30, 0, 0, time.UTC)
	if got := award.Date(at); got != "4 July 2026" {
		t.Errorf("Date = %q, want 4 July 2026", got)
	}
	if got := award.Date(t0); got != "3 December 2026" {
		t.Errorf("Date = %q", got)
	}
}

// TestIssueAtOnceStoresOneAward issues the same decision from several goroutines at once,
// as two instances of the server might: one award, one code that verifies, and the
// person's list names it once.
func TestIssueAtOnceStoresOneAward(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, award.Options{VerifyLimit: 100})
	const n = 6
	got := make(chan award.Award, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			a, err := s.Issue(ctx, decision("u1", "board-1"))
			got <- a
			errs <- err
		}()
	}
	codes := map[string]bool{}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		codes[(<-got).Code] = true
	}
	if len(codes) != 1 {
		t.Fatalf("issued at once: %d different codes", len(codes))
	}
	mine, err := s.ForUser(ctx, "u1")
	if err != nil || len(mine) != 1 {
		t.Fatalf("ForUser: %d awards %v", len(mine), err)
	}
	if _, err := s.Verify(ctx, mine[0].Code, "192.0.2.1"); err != nil {
		t.Fatalf("the stored award's code: %v", err)
	}
}
