package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"polyphony/courses/award"
	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
	"polyphony/internal/pdftest"
)

// TestBrowserCertificateFromAccountToVerification: the trainee finds the award on their
// account page and chooses the name on it; the certificate's QR code, read from the PDF,
// opens the verification page in a browser with no session, and so does the code typed
// into the form in small letters. An administrator sets the awarding organisations on
// their page. Every page is checked with axe-core, and at the width of a phone.
func TestBrowserCertificateFromAccountToVerification(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	browser := browsertest.New(t)
	holder, err := f.accounts.Users.ByEmail(ctx, f.byRole[accounts.RoleTrainee].Email)
	if err != nil {
		t.Fatal(err)
	}

	admin := browser.NewIsolatedTab().For(t)
	signInAs(t, f, admin, accounts.RoleAdmin)
	admin.Navigate(f.ts.URL + "/admin")
	admin.ClickAndWait("#certificate-settings-link")
	wantPath(t, admin, f.ts.URL, "/admin/certificate")
	checkPage(t, admin, "certificate-settings")
	admin.Fill("#organisations", "NHS England\nUniversity of Kent")
	admin.Submit("#save-certificate")
	wantPath(t, admin, f.ts.URL, "/admin/certificate")
	if got := admin.Value("#organisations"); got != "NHS England\nUniversity of Kent" {
		t.Errorf("the organisations as saved: %q", got)
	}

	a, err := f.awards.Issue(ctx, award.Decision{UserID: holder.ID, CohortID: f.demoCohort(t).ID, BoardID: "board-1", DecidedBy: "admin", AccountName: holder.Name})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(a.Organisations, "|") != "NHS England|University of Kent" {
		t.Fatalf("the award's organisations: %q", a.Organisations)
	}

	trainee := browser.NewIsolatedTab().For(t)
	signInAs(t, f, trainee, accounts.RoleTrainee)
	trainee.Navigate(f.ts.URL + "/account")
	wantText(t, trainee, "#award-"+a.ID, a.Code)
	checkPage(t, trainee, "account-certificate")
	trainee.Fill("#shown-name", "Zoë Łukasiewicz")
	trainee.Submit("#save-shown-name")
	wantPath(t, trainee, f.ts.URL, "/account")
	wantText(t, trainee, "#award-"+a.ID, "Zoë Łukasiewicz")
	if href, _ := trainee.Attr("#award-"+a.ID+" .certificate-download", "href"); href != "/account/certificate/"+a.ID {
		t.Fatalf("the download link is %q", href)
	}
	fitsPhone(t, trainee, f.ts.URL, phonePage{path: "/account"})

	// The certificate as downloaded, and the address its QR code holds.
	res, pdf := f.signedIn(t, accounts.RoleTrainee).do("GET", "/account/certificate/"+a.ID, nil)
	wantStatus(t, "download", res, pdf, http.StatusOK)
	qrs := pdftest.QRCodes(t, pdf)
	if len(qrs) != 1 {
		t.Fatalf("QR codes in the certificate: %q", qrs)
	}

	anyone := browser.NewIsolatedTab().For(t)
	anyone.Navigate(qrs[0])
	if anyone.Status() != http.StatusOK {
		t.Fatalf("the QR code's address answered %d", anyone.Status())
	}
	wantText(t, anyone, "#verify-name", "Zoë Łukasiewicz")
	wantText(t, anyone, "#verify-award", award.DefaultTitle)
	wantText(t, anyone, "#verify-status", "Valid")
	checkPage(t, anyone, "verify-valid")
	anyone.Navigate(f.ts.URL + "/")
	wantPath(t, anyone, f.ts.URL, "/signin") // no session came along
	anyone.ClickAndWait("#footer-verify")
	wantPath(t, anyone, f.ts.URL, "/verify")
	checkPage(t, anyone, "verify-form")
	anyone.Fill("#code", strings.ToLower(a.Code))
	anyone.Submit("#verify-submit")
	wantPath(t, anyone, f.ts.URL, "/verify/"+strings.ToLower(a.Code))
	wantText(t, anyone, "#verify-status", "Valid")
	fitsPhone(t, anyone, f.ts.URL, phonePage{path: "/verify"}, phonePage{path: "/verify/" + a.Code})

	if _, err := f.awards.Revoke(ctx, a.ID, "Awarded in error", "admin"); err != nil {
		t.Fatal(err)
	}
	anyone.Reload()
	wantText(t, anyone, "#verify-status", "Revoked on ")
	checkPage(t, anyone, "verify-revoked")
}
