package server_test

import (
	"strings"
	"testing"

	"polyphony/assessment/consent"
	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
)

// Quoting in a real browser: Tara ticks her turn and Pat's on the transcript page and quotes
// them into a new journal entry, which shows her words and waits for Pat's; Pat agrees on
// /consent and his words appear in her entry; he withdraws, and a note takes the quote's
// place. Tara then quotes Fran's turn into the same entry, choosing it in the list; Fran
// refuses, and that quote goes too. Every page is checked with axe.
func TestBrowserQuoteConsent(t *testing.T) {
	f := newFixture(t)
	r := newQuoteRoom(t, f)
	browser := browsertest.New(t)

	tara := browser.NewIsolatedTab().For(t)
	signInAs(t, f, tara, accounts.RoleTrainee)
	tara.Navigate(f.ts.URL + r.path + "/transcript")
	wantText(t, tara, "#quote-form", "Quote turns in your journal")
	checkPage(t, tara, "transcript-quote")
	tara.Click(`label[for="quote-1"]`)
	tara.Click(`label[for="quote-2"]`)
	tara.ClickAndWait("#quote-button")
	if !strings.Contains(tara.URL(), "/journal/je") {
		t.Fatalf("quoting went to %s, want the new entry", tara.URL())
	}
	entryURL := strings.SplitN(tara.URL(), "?", 2)[0]
	wantText(t, tara, "#entry-body", r.taraWords)
	wantText(t, tara, "#entry-body", consent.WaitingText)
	if strings.Contains(tara.Text("#entry-body"), r.patWords) {
		t.Fatal("Pat's words show before he agreed")
	}
	checkPage(t, tara, "entry-quote-waiting")

	pat := browser.NewIsolatedTab().For(t)
	pat.Navigate(f.ts.URL + "/signin")
	signIn(pat, "peer@polyphony.example", f.logins["peer@polyphony.example"].Password)
	pat.Navigate(f.ts.URL + "/consent")
	wantText(t, pat, "#asked", "Tara Trainee asks to use one of your turns")
	wantText(t, pat, "#asked", r.patWords)
	checkPage(t, pat, "consent-asked")
	pat.ClickAndWait(`#asked button[value="agree"]`)
	wantText(t, pat, ".consent-state", "Agreed")

	tara.Navigate(entryURL)
	wantText(t, tara, "#entry-body", r.patWords)
	if strings.Contains(tara.Text("#entry-body"), consent.WaitingText) {
		t.Error("the entry still waits once Pat agreed")
	}
	checkPage(t, tara, "entry-quote-agreed")

	pat.Navigate(f.ts.URL + "/consent")
	pat.ClickAndWait(`#asked button[value="withdraw"]`)
	wantText(t, pat, ".consent-state", "Agreement withdrawn")
	checkPage(t, pat, "consent-withdrawn")
	tara.Navigate(entryURL)
	wantText(t, tara, "#entry-body", consent.RemovedNote)
	if body := tara.Text("#entry-body"); strings.Contains(body, r.patWords) || strings.Contains(body, r.taraWords) {
		t.Errorf("the withdrawn quote's words still show: %q", body)
	}

	// A second quote, into the same entry, of Fran's turn: she refuses it.
	entryID := strings.TrimPrefix(entryURL, f.ts.URL+"/journal/")
	tara.Navigate(f.ts.URL + r.path + "/transcript")
	tara.Click(`label[for="quote-3"]`)
	tara.Fill("#quote-entry", entryID)
	tara.ClickAndWait("#quote-button")
	if got := strings.SplitN(tara.URL(), "?", 2)[0]; got != entryURL {
		t.Fatalf("the second quote went to %s, want %s", got, entryURL)
	}
	wantText(t, tara, "#entry-body", consent.WaitingText)

	fran := browser.NewIsolatedTab().For(t)
	signInAs(t, f, fran, accounts.RoleFacilitator)
	fran.Navigate(f.ts.URL + "/consent")
	wantText(t, fran, "#asked", "Shall we reflect together?")
	fran.ClickAndWait(`#asked button[value="refuse"]`)
	wantText(t, fran, ".consent-state", "Refused")

	tara.Navigate(entryURL)
	if n := tara.Count(".journal-quote--removed"); n != 2 {
		t.Errorf("%d quotes removed from the entry, want both:\n%s", n, tara.Text("#entry-body"))
	}
	if strings.Contains(tara.Text("#entry-body"), "Shall we reflect together?") {
		t.Error("Fran's refused words show")
	}
	tara.Navigate(f.ts.URL + "/consent")
	wantText(t, tara, "#mine", "Pat Peer: Agreement withdrawn")
	wantText(t, tara, "#mine", "Fran Facilitator: Refused")
	checkPage(t, tara, "consent-mine")
}
