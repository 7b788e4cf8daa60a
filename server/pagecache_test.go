package server_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"polyphony/internal/accounts"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// A curriculum page is kept whole for its reader. Kept pages must never reach another
// reader (their name and sign-out token are in it), and an edit shows on the next request.
func TestCurriculumPageCachePerReaderAndRevision(t *testing.T) {
	f := newFixture(t)
	const path = "/curriculum/dialogism-and-polyphony"
	tara := f.signedIn(t, accounts.RoleTrainee)
	patLogin := f.logins[emailPat]
	pat := f.signInAs(t, patLogin.Email, patLogin.Password)
	taraAgain := f.signedIn(t, accounts.RoleTrainee) // a second session of the same person

	get := func(c *client) string {
		t.Helper()
		res, body := c.do("GET", path, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		return string(body)
	}
	token := func(page string) string {
		t.Helper()
		m := csrfField.FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no sign-out form on the page")
		}
		return m[1]
	}
	first := get(tara)
	if again := get(tara); again != first {
		t.Error("the same reader got a different page the second time, with nothing changed")
	}
	for name, c := range map[string]*client{"the other trainee": pat, "a second session": taraAgain} {
		page := get(c)
		if token(page) != c.csrf {
			t.Errorf("%s got a page with a sign-out token not their own", name)
		}
	}
	if token(first) != tara.csrf {
		t.Error("the first reader's page carries another session's token")
	}
	if page := get(pat); !strings.Contains(page, patLogin.Name) || strings.Contains(page, f.byRole[accounts.RoleTrainee].Name) {
		t.Error("the other trainee's page does not name them, or names the first reader")
	}

	ctx := context.Background()
	pg, err := f.pages.Get(ctx, "dialogism-and-polyphony")
	if err != nil {
		t.Fatal(err)
	}
	pg.Body += "\n\nA paragraph added after the page was first read.\n"
	pg.Title = "Dialogism, polyphony and many voices"
	if _, err := f.pages.Save(ctx, pg, pg.Revision, f.byRole[accounts.RoleAdmin].Email); err != nil {
		t.Fatal(err)
	}
	after := get(tara)
	if !strings.Contains(after, "A paragraph added after the page was first read.") || !strings.Contains(after, "Dialogism, polyphony and many voices") {
		t.Error("after an edit the reader was shown the page as it was")
	}
}
