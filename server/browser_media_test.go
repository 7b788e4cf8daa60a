package server_test

import (
	"net/http"
	"os"
	"testing"

	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
)

// TestBrowserRecordingHasALength uploads a recording as Chromium's MediaRecorder writes it
// (no Duration) straight through the API, and plays it on the entry's page: the browser
// reads a length from what was stored, not Infinity.
func TestBrowserRecordingHasALength(t *testing.T) {
	f := newFixture(t)
	recording, err := os.ReadFile("../content/media/testdata/recording-chrome.webm")
	if err != nil {
		t.Fatal(err)
	}
	l := f.byRole[accounts.RoleTrainee]
	api := f.signInAs(t, l.Email, l.Password)
	e := createEntry(t, api, "Spoken", "Recorded on the way home.")
	res, body := upload(api, e.ID, "reflection.webm", recording)
	wantStatus(t, "upload", res, body, http.StatusCreated)

	tab := browsertest.New(t).NewIsolatedTab().For(t)
	tab.Navigate(f.ts.URL + "/journal/" + e.ID)
	signIn(tab, l.Email, l.Password)
	wantPath(t, tab, f.ts.URL, "/journal/"+e.ID)
	waitJS(t, tab, "the recording has its length", `(() => { const a = document.querySelector('#entry-media audio');
		return a && a.readyState >= 1 && isFinite(a.duration) && a.duration > 1 && a.duration < 1.5; })()`)
}
