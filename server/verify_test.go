package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"polyphony/courses/award"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/dbtest"
	"polyphony/internal/pdftest"
	"polyphony/server"
)

// TestCertificateVerifiesFromItsQRCode issues an award through the store, downloads the
// certificate as its holder, reads it back with pdftotext, decodes its QR code and opens
// that address without a session: valid; then revoked; then the holder's account erased,
// and the page still answers. An unknown code and a malformed one answer alike.
func TestCertificateVerifiesFromItsQRCode(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := f.signedIn(t, accounts.RoleAdmin)
	trainee := f.signedIn(t, accounts.RoleTrainee)
	login := f.byRole[accounts.RoleTrainee]
	holder, err := f.accounts.Users.ByEmail(ctx, login.Email)
	if err != nil {
		t.Fatal(err)
	}
	cohort := f.demoCohort(t)

	res, body := admin.do("PUT", "/api/v1/certificate-settings", map[string]any{"title": award.DefaultTitle,
		"organisations": []string{"NHS England", "Université de Genève"}})
	wantStatus(t, "set the organisations", res, body, http.StatusOK)
	res, body = trainee.do("PUT", "/api/v1/me/certificate-name", map[string]any{"shownName": " Zoë  Łukasiewicz-Дмитриева "})
	wantStatus(t, "choose the name", res, body, http.StatusOK)
	if got := decodeAs[map[string]string](t, body)["shownName"]; got != "Zoë Łukasiewicz-Дмитриева" {
		t.Fatalf("the name as stored: %q", got)
	}
	awardedAt := time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC)
	a, err := f.awards.Issue(ctx, award.Decision{UserID: holder.ID, CohortID: cohort.ID, BoardID: "board-1", RulesVersion: 1,
		DecidedBy: "admin", AccountName: holder.Name, AwardedAt: awardedAt})
	if err != nil {
		t.Fatal(err)
	}

	// The holder finds it in the API and on the account page, and downloads the certificate.
	res, body = trainee.do("GET", "/api/v1/me/awards", nil)
	wantStatus(t, "my awards", res, body, http.StatusOK)
	mine := decodeAs[[]struct {
		ID             string `json:"id"`
		Code           string `json:"code"`
		VerifyURL      string `json:"verifyUrl"`
		CertificateURL string `json:"certificateUrl"`
	}](t, body)
	if len(mine) != 1 || mine[0].ID != a.ID || mine[0].Code != a.Code || mine[0].VerifyURL != f.ts.URL+"/verify/"+a.Code {
		t.Fatalf("my awards: %s", body)
	}
	res, body = trainee.do("GET", "/account", nil)
	wantStatus(t, "account page", res, body, http.StatusOK)
	if !strings.Contains(string(body), `href="/account/certificate/`+a.ID+`"`) {
		t.Errorf("the account page has no link to the certificate")
	}
	for _, path := range []string{mine[0].CertificateURL, "/api/v1/me/awards/" + a.ID + "/certificate"} {
		res, body = trainee.do("GET", path, nil)
		wantStatus(t, "download "+path, res, body, http.StatusOK)
		if ct := res.Header.Get("Content-Type"); ct != "application/pdf" {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
	}
	pdf := body
	text := strings.Join(strings.Fields(pdftest.Text(t, pdf)), " ")
	for _, want := range []string{"NHS England", "Université de Genève", "Zoë Łukasiewicz-Дмитриева", award.DefaultTitle,
		"on 3 December 2026", a.Code} {
		if !strings.Contains(text, want) {
			t.Errorf("the certificate lacks %q:\n%s", want, text)
		}
	}
	qrs := pdftest.QRCodes(t, pdf)
	if len(qrs) != 1 || qrs[0] != f.ts.URL+"/verify/"+a.Code {
		t.Fatalf("the certificate's QR code reads %q, want %s/verify/%s", qrs, f.ts.URL, a.Code)
	}
	// Nobody else downloads it: it is not found, as if there were none.
	for _, role := range []accounts.Role{accounts.RoleAdmin, accounts.RoleFacilitator} {
		res, _ := f.signedIn(t, role).do("GET", "/account/certificate/"+a.ID, nil)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s downloads the trainee's certificate: %d", role, res.StatusCode)
		}
	}

	// Anyone opens the QR code's address, signed in or not.
	anyone := f.client(t)
	qr, _ := url.Parse(qrs[0])
	page := func(path string) string {
		t.Helper()
		res, body := anyone.do("GET", path, nil)
		wantStatus(t, "verify", res, body, http.StatusOK)
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("verification page Cache-Control %q, want no-store", cc)
		}
		return string(body)
	}
	got := page(qr.Path)
	for _, want := range []string{"Zoë Łukasiewicz-Дмитриева", award.DefaultTitle, "3 December 2026", ">Valid<"} {
		if !strings.Contains(got, want) {
			t.Errorf("the verification page lacks %q", want)
		}
	}
	for _, never := range []string{holder.Email, holder.ID, cohort.ID, cohort.Name, "Revoked"} {
		if strings.Contains(got, never) {
			t.Errorf("the verification page shows %q", never)
		}
	}
	// Typed from paper: small letters, no dashes, through the form.
	res, _ = anyone.do("GET", "/verify?code="+url.QueryEscape(strings.ToLower(strings.ReplaceAll(a.Code, "-", " "))), nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the form: %d", res.StatusCode)
	}
	if got := page(res.Header.Get("Location")); !strings.Contains(got, ">Valid<") {
		t.Errorf("the code as typed does not verify")
	}
	apiVerify := func(code string) (int, map[string]any) {
		t.Helper()
		res, body := anyone.do("GET", "/api/v1/verify/"+url.PathEscape(code), nil)
		var v map[string]any
		json.Unmarshal(body, &v)
		return res.StatusCode, v
	}
	if status, v := apiVerify(a.Code); status != http.StatusOK || v["status"] != "valid" || v["name"] != "Zoë Łukasiewicz-Дмитриева" ||
		v["awardedOn"] != "3 December 2026" || len(v) != 5 {
		t.Errorf("the API's verification: %d %v", status, v)
	}

	// Revoked, it says so, on the page, in the API and on the certificate downloaded again.
	revoked, err := f.awards.Revoke(ctx, a.ID, "Awarded in error", "admin")
	if err != nil {
		t.Fatal(err)
	}
	revokedOn := "Revoked on " + award.Date(revoked.Revoked.At)
	if got := page(qr.Path); !strings.Contains(got, revokedOn) || strings.Contains(got, ">Valid<") || strings.Contains(got, "Awarded in error") {
		t.Errorf("the revoked award's page does not say %q alone", revokedOn)
	}
	if status, v := apiVerify(a.Code); status != http.StatusOK || v["status"] != "revoked" || v["revokedOn"] != award.Date(revoked.Revoked.At) {
		t.Errorf("the API's verification of a revoked award: %d %v", status, v)
	}
	_, body = trainee.do("GET", "/account/certificate/"+a.ID, nil)
	if text := pdftest.Text(t, body); !strings.Contains(text, revokedOn) {
		t.Errorf("the revoked award's certificate does not say so:\n%s", text)
	}

	// Unknown and malformed codes: one answer, which does not repeat the code.
	unknown, _ := award.NewCode()
	var notFound []string
	for _, code := range []string{unknown, strings.ToLower(unknown), "not-a-code", strings.Repeat("Z", 200), "%3Cscript%3E"} {
		res, body := anyone.do("GET", "/verify/"+code, nil)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("verify %q: %d, want 404", code, res.StatusCode)
		}
		if strings.Contains(strings.ToLower(string(body)), strings.ToLower(code)) {
			t.Errorf("the answer for %q repeats it", code)
		}
		notFound = append(notFound, string(body))
		if status, v := apiVerify(code); status != http.StatusNotFound || v["error"] != "there is nothing at this address" || len(v) != 1 {
			t.Errorf("API verify %q: %d %v", code, status, v)
		}
	}
	for i, b := range notFound[1:] {
		if b != notFound[0] {
			t.Errorf("the answer for code %d differs from the first's:\n%s\n---\n%s", i+1, b, notFound[0])
		}
	}
	if !strings.Contains(notFound[0], "Certificate not found") {
		t.Errorf("the not-found page: %s", notFound[0])
	}

	// Erasing the holder's account keeps the award, and the page goes on answering.
	second, err := f.awards.Issue(ctx, award.Decision{UserID: holder.ID, CohortID: cohort.ID, BoardID: "board-2", DecidedBy: "admin", AccountName: holder.Name})
	if err != nil {
		t.Fatal(err)
	}
	res, body = admin.do("POST", "/api/v1/users/"+holder.ID+"/erase", map[string]any{"confirm": holder.Email})
	wantStatus(t, "erase", res, body, http.StatusOK)
	if !decodeAs[struct {
		AwardKept bool `json:"awardKept"`
	}](t, body).AwardKept {
		t.Errorf("the erasure report says no award was kept: %s", body)
	}
	if got := page("/verify/" + second.Code); !strings.Contains(got, ">Valid<") || !strings.Contains(got, "Zoë Łukasiewicz-Дмитриева") {
		t.Errorf("an erased person's award no longer verifies")
	}
	if got := page(qr.Path); !strings.Contains(got, revokedOn) {
		t.Errorf("an erased person's revoked award no longer says so")
	}
}

// TestVerificationIsThrottledPerClient lets one address look up so many codes, found or
// not, and then answers 429 with Retry-After on the page and in the API alike.
func TestVerificationIsThrottledPerClient(t *testing.T) {
	f := newFixture(t, func(t testing.TB, f *fixture, deps *server.Deps) {
		s, err := award.NewStore(context.Background(), f.db, award.Options{VerifyLimit: 3, VerifyWindow: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		f.awards, deps.Awards = s, s
	})
	holder, _ := f.accounts.Users.ByEmail(context.Background(), f.byRole[accounts.RoleTrainee].Email)
	a, err := f.awards.Issue(context.Background(), award.Decision{UserID: holder.ID, CohortID: "c", BoardID: "b", DecidedBy: "admin", AccountName: "T"})
	if err != nil {
		t.Fatal(err)
	}
	anyone := f.client(t)
	for i, path := range []string{"/verify/" + a.Code, "/api/v1/verify/unknown", "/verify/" + a.Code} {
		if res, body := anyone.do("GET", path, nil); res.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("look-up %d throttled: %s", i+1, body)
		}
	}
	for _, path := range []string{"/verify/" + a.Code, "/api/v1/verify/" + a.Code} {
		res, body := anyone.do("GET", path, nil)
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Errorf("%s after the allowance: %d (Retry-After %q) %s", path, res.StatusCode, res.Header.Get("Retry-After"), body)
		}
		if strings.Contains(string(body), holder.Name) {
			t.Errorf("a throttled answer shows the award")
		}
	}
}

// TestCertificateRequestsReadByIDOnly makes the certificates' requests through HTTP on a
// database whose every command is watched: the account page with its awards, the
// downloads, the name chosen, and the public verification of a valid, an unknown and a
// malformed code, each counted by the throttle. Each read, update and delete must be by
// _id alone, so that a verification does not slow down with every award ever made.
func TestCertificateRequestsReadByIDOnly(t *testing.T) {
	log := dbtest.NewFilterLog()
	f := newFixtureOn(t, dbtest.NewLogged(t, log))
	ctx := context.Background()
	trainee := f.signedIn(t, accounts.RoleTrainee)
	holder, _ := f.accounts.Users.ByEmail(ctx, f.byRole[accounts.RoleTrainee].Email)
	a, err := f.awards.Issue(ctx, award.Decision{UserID: holder.ID, CohortID: f.demoCohort(t).ID, BoardID: "b", DecidedBy: "admin", AccountName: holder.Name})
	if err != nil {
		t.Fatal(err)
	}
	log.Record(true)
	for _, p := range []string{"/account", "/account/certificate/" + a.ID, "/api/v1/me/awards", "/api/v1/me/awards/" + a.ID + "/certificate"} {
		res, body := trainee.do("GET", p, nil)
		wantStatus(t, p, res, body, http.StatusOK)
	}
	res, body := trainee.do("PUT", "/api/v1/me/certificate-name", map[string]any{"shownName": "Zoë"})
	wantStatus(t, "choose the name", res, body, http.StatusOK)
	anyone := f.client(t)
	unknown, _ := award.NewCode()
	for p, want := range map[string]int{"/verify/" + a.Code: 200, "/api/v1/verify/" + a.Code: 200, "/verify/" + unknown: 404, "/verify/malformed": 404} {
		res, body := anyone.do("GET", p, nil)
		wantStatus(t, p, res, body, want)
	}
	log.Check(t, "a certificate request")
}

// TestCertificateSettingsAreAnAdministrativeChange: the title and organisations an
// administrator sets, on the page or through the API, go into the audit log with their
// values before and after; a form with problems lists them all and keeps what was typed.
func TestCertificateSettingsAreAnAdministrativeChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := f.signedIn(t, accounts.RoleAdmin)
	res, body := admin.do("POST", "/admin/certificate", url.Values{"title": {"Diploma"}, "organisations": {"NHS England\r\n\r\nUniversity of Kent\r\n"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save the settings: %d %s", res.StatusCode, body)
	}
	res, body = admin.do("GET", "/api/v1/certificate-settings", nil)
	wantStatus(t, "read the settings", res, body, http.StatusOK)
	set := decodeAs[award.Settings](t, body)
	if set.Title != "Diploma" || strings.Join(set.Organisations, "|") != "NHS England|University of Kent" {
		t.Fatalf("settings saved from the page: %+v", set)
	}
	res, body = admin.do("PUT", "/api/v1/certificate-settings", map[string]any{"title": "Diploma", "organisations": []string{"NHS England"}})
	wantStatus(t, "change through the API", res, body, http.StatusOK)
	// The same again changes nothing and logs nothing.
	res, body = admin.do("PUT", "/api/v1/certificate-settings", map[string]any{"title": "Diploma", "organisations": []string{"NHS England"}})
	wantStatus(t, "the same again", res, body, http.StatusOK)
	page, err := f.audit.List(ctx, audit.Filter{Action: audit.CertificateSettings})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 2 {
		t.Fatalf("audit entries: %+v, want two", page.Entries)
	}
	latest := page.Entries[0]
	if len(latest.Changes) != 1 || latest.Changes[0].Field != "organisations" || latest.Changes[0].Before != "NHS England; University of Kent" ||
		latest.Changes[0].After != "NHS England" || latest.ActorID == "" {
		t.Errorf("the latest entry: %+v", latest)
	}
	if first := page.Entries[1]; len(first.Changes) != 2 || first.Changes[0].Before != award.DefaultTitle || first.Changes[0].After != "Diploma" {
		t.Errorf("the first entry: %+v", first)
	}

	res, body = admin.do("POST", "/admin/certificate", url.Values{"title": {" "}, "organisations": {"A\nB\nC\nD\nE"}})
	wantStatus(t, "a form with problems", res, body, http.StatusBadRequest)
	for _, want := range []string{`href="#title"`, "Enter the award&#39;s title", `href="#organisations"`, "Name at most 4 awarding organisations", "A\nB\nC\nD\nE</textarea>"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the form with problems lacks %q", want)
		}
	}
	res, body = admin.do("PUT", "/api/v1/certificate-settings", map[string]any{"title": "", "organisations": []string{}})
	wantStatus(t, "API with no title", res, body, http.StatusBadRequest)
	if _, field := errorBody(t, body); field != "title" {
		t.Errorf("the API's problem names %q, want title", field)
	}
}
