package server_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
)

// An administrator staffs a new cohort from a CSV file: a file with a mistake is refused
// with its line, the corrected file is previewed and imported, and the invitation link shown
// lets one of the new people choose a password and sign in.
func TestBrowserStaffCohortFromCSV(t *testing.T) {
	f := newFixture(t)
	co := newImportCohort(t, f)
	browser := browsertest.New(t)
	a := browser.NewIsolatedTab()
	al := f.byRole[accounts.RoleAdmin]
	a.Navigate(f.ts.URL + "/signin?next=/cohorts/" + co.ID + "/import")
	signIn(a, al.Email, al.Password)
	wantPath(t, a, f.ts.URL, "/cohorts/"+co.ID+"/import")
	checkPage(t, a, "import-choose")

	dir := t.TempDir()
	choose := func(name, content string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(a.Context(), 10*time.Second)
		defer cancel()
		if _, err := chromedp.Run(ctx, chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{path})); err != nil {
			t.Fatalf("choose the file: %v", err)
		}
		a.Submit("#import-check")
	}
	choose("wrong.csv", "email,name,role,supervisor email\nivy@nhs.example,Ivy Import,trainee,sid@nhs.example\n")
	wantText(t, a, "#import-problems", "line 2: the supervisor sid@nhs.example is not in the file or the cohort")
	wantText(t, a, ".nhsuk-error-summary", "line 2: the supervisor sid@nhs.example is not in the file or the cohort")
	checkPage(t, a, "import-problems")

	choose("people.csv", importFile)
	wantText(t, a, "#import-summary", "3 new accounts, 3 added to the cohort, 2 given a supervisor, 0 unchanged.")
	wantText(t, a, "#import-preview", "Ivy Import (ivy@nhs.example)")
	checkPage(t, a, "import-preview")
	fitsPhone(t, a, f.ts.URL, phonePage{path: "/cohorts/" + co.ID + "/import"})
	a.Navigate(f.ts.URL + "/cohorts/" + co.ID + "/import")
	choose("people.csv", importFile)
	a.Submit("#import-confirm")
	wantText(t, a, ".nhsuk-inset-text", "Imported: 3 new accounts, 3 added to the cohort, 2 given a supervisor, 0 unchanged.")
	wantText(t, a, "#import-invitations", "Ivy Import (ivy@nhs.example)")
	checkPage(t, a, "import-done")
	var link string
	a.Eval(`[...document.querySelectorAll("#import-invitations tr")].find(r => r.textContent.includes("ivy@nhs.example")).querySelector(".invitation-url").textContent`, &link)
	if link == "" {
		t.Fatal("no invitation link shown for Ivy")
	}

	// Ivy accepts.
	ivy := browser.NewIsolatedTab()
	ivy.Navigate(link)
	wantText(t, ivy, "h1", "Set your password")
	wantText(t, ivy, "main", "Welcome to Polyphony, Ivy Import")
	ivy.Fill("#password", "ivy's chosen password")
	ivy.Fill("#confirm", "ivy's chosen password")
	ivy.Submit("#set-password")
	wantText(t, ivy, ".nhsuk-inset-text", "Your password is set. Sign in with it.")
	signIn(ivy, "ivy@nhs.example", "ivy's chosen password")
	wantPath(t, ivy, f.ts.URL, "/")
}
