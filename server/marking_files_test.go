package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"polyphony/assessment/marking"
	"polyphony/internal/accounts"
	"polyphony/internal/browsertest"
)

// storedHash is the SHA-256 of a stored object, as a submitted file's hash is written.
func storedHash(t *testing.T, f *fixture, key string) (string, []byte) {
	t.Helper()
	rc, _, err := f.media.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), b
}

// pictureForAssessors writes an entry as c with a picture attached under the name given,
// and submits the entry to the assessors; it returns the entry's id and the picture's key.
func pictureForAssessors(t *testing.T, c *client, title, name string) (entryID, key string) {
	t.Helper()
	e := createEntry(t, c, title, "How the chairs were set out.")
	res, body := upload(c, e.ID, name, pngWithExif(t))
	wantStatus(t, "upload", res, body, http.StatusCreated)
	key = decodeAs[uploaded](t, body).Attachment.Key
	res, body = c.send("PUT", "/api/v1/journal/entries/"+e.ID+"/sharing/assessors", map[string]any{"shared": true}, nil)
	wantStatus(t, "submit the entry to the assessors", res, body, http.StatusOK)
	return e.ID, key
}

// A trainee submits a picture attached to an entry they submitted to the assessors, from the
// submit page; markers and moderators open it under the candidate number's name and no one
// else opens it at all; the trainee's access log says an assessor read it for marking, not
// which; and once the trainee stops sharing the entry, the file is gone for the markers too.
func TestSubmitFilesAndMarkersOpenThem(t *testing.T) {
	f := newFixture(t)
	mc := f.markingCast(t)
	in := pieceInput("Pictures of practice", marking.SevenPrinciplesRubricID, marking.SchemeSingle, true)
	in.Accepts = marking.Accepts{Files: true}
	p := mc.createPiece(t, mc.admin, in)
	piecePath := "/marking/pieces/" + p.ID

	e := createEntry(t, mc.trainee, "The room we met in", "How the chairs were set out.")
	const ownName = "Tara Trainee, the room.png"
	res, body := upload(mc.trainee, e.ID, ownName, pngWithExif(t))
	wantStatus(t, "upload", res, body, http.StatusCreated)
	key := decodeAs[uploaded](t, body).Attachment.Key
	choice := map[string]any{"files": []map[string]string{{"entryId": e.ID, "key": key}}, "filesAgreed": true}

	// Not yet submitted to the assessors: the page offers nothing and the API names why.
	res, body = mc.trainee.do("GET", piecePath, nil)
	wantStatus(t, "the submit page", res, body, http.StatusOK)
	if !strings.Contains(string(body), "None of the entries you submitted to the assessors has a file attached.") {
		t.Errorf("the submit page offers a file of an entry not submitted to the assessors")
	}
	res, body = mc.trainee.send("PUT", "/api/v1/pieces/"+p.ID+"/mine", choice, nil)
	wantStatus(t, "a file of an entry not submitted", res, body, http.StatusBadRequest)
	if !strings.Contains(string(body), `"files[0].entryId"`) || !strings.Contains(string(body), "Submit") {
		t.Errorf("the refusal does not name the field and what to do: %s", body)
	}

	res, body = mc.trainee.send("PUT", "/api/v1/journal/entries/"+e.ID+"/sharing/assessors", map[string]any{"shared": true}, nil)
	wantStatus(t, "submit the entry to the assessors", res, body, http.StatusOK)

	// Bad choices, each named.
	for _, bad := range []struct {
		what  string
		files []map[string]string
		field string
	}{
		{"a key the entry does not hold", []map[string]string{{"entryId": e.ID, "key": "journal/2026/not-there"}}, "files[0].key"},
		{"the same file twice", []map[string]string{{"entryId": e.ID, "key": key}, {"entryId": e.ID, "key": key}}, "files[1].key"},
		{"an entry that is not one's own", []map[string]string{{"entryId": "je-someone-else", "key": key}}, "files[0].entryId"},
	} {
		res, body := mc.trainee.send("PUT", "/api/v1/pieces/"+p.ID+"/mine", map[string]any{"files": bad.files, "filesAgreed": true}, nil)
		wantStatus(t, bad.what, res, body, http.StatusBadRequest)
		if !strings.Contains(string(body), `"`+bad.field+`"`) {
			t.Errorf("%s: the refusal does not name %s: %s", bad.what, bad.field, body)
		}
	}

	// The submit page offers the file; submitting it from the page freezes it with its hash.
	res, body = mc.trainee.do("GET", piecePath, nil)
	wantStatus(t, "the submit page", res, body, http.StatusOK)
	value := regexp.MustCompile(`name="files" type="checkbox" value="([^"]+)"`).FindSubmatch(body)
	if value == nil || !strings.Contains(string(body), ownName) {
		t.Fatalf("the submit page does not offer the picture: %s", body)
	}
	// Without the trainee's word that everyone in the files agrees, nothing is submitted.
	res, body = mc.trainee.do("POST", piecePath+"/submit", url.Values{"csrf": {mc.trainee.csrf}, "files": {string(value[1])}})
	wantStatus(t, "files without the word of who is in them", res, body, http.StatusBadRequest)
	if !strings.Contains(string(body), `href="#files-agreed"`) || !strings.Contains(string(body), "agrees to the assessors seeing or hearing them") {
		t.Errorf("the submit page does not name the missing agreement: %s", body)
	}
	postForm(t, mc.trainee, piecePath+"/submit", url.Values{"csrf": {mc.trainee.csrf}, "files": {string(value[1])}, "filesAgreed": {"yes"}}, http.StatusSeeOther)
	res, body = mc.trainee.do("GET", "/api/v1/pieces/"+p.ID+"/mine", nil)
	wantStatus(t, "the trainee's submission", res, body, http.StatusOK)
	mine := decodeAs[marking.TraineeView](t, body)
	wantHash, stored := storedHash(t, f, key)
	if !mine.Items.FilesAgreed || len(mine.Items.Files) != 1 || mine.Items.Files[0].Hash != wantHash || mine.Items.Files[0].Name != ownName || mine.Items.Files[0].Key != key {
		t.Fatalf("the submitted files: %+v, want the picture with hash %s", mine.Items.Files, wantHash)
	}

	// The marker's page shows the picture by its place, under the candidate number.
	res, body = mc.admin.send("PUT", "/api/v1/pieces/"+p.ID+"/submissions/"+mc.traineeID+"/markers", map[string]any{"markers": []string{mc.assessorIDs[0]}}, nil)
	wantStatus(t, "allocate", res, body, http.StatusOK)
	filePath := "/api/v1/pieces/" + p.ID + "/submissions/C0001/files/1"
	res, body = mc.assessors[0].do("GET", piecePath+"/submissions/C0001", nil)
	wantStatus(t, "the marking page", res, body, http.StatusOK)
	page := string(body)
	if !strings.Contains(page, `src="`+filePath+`"`) || !strings.Contains(page, "C0001-1.png") {
		t.Errorf("the marking page does not show the picture under the candidate number")
	}
	for _, leak := range []string{"Tara", key, e.ID} {
		if strings.Contains(page, leak) {
			t.Errorf("the anonymous marking page holds %q", leak)
		}
	}
	res, body = mc.assessors[0].do("GET", "/api/v1/pieces/"+p.ID+"/submissions/C0001", nil)
	wantStatus(t, "the marker's view", res, body, http.StatusOK)
	for _, leak := range []string{"Tara", key, e.ID} {
		if strings.Contains(string(body), leak) {
			t.Errorf("the marker's view holds %q: %s", leak, body)
		}
	}

	// The marker (and a moderator, another assessor of the cohort) opens it; nobody else.
	for i, c := range []*client{mc.assessors[0], mc.assessors[1]} {
		res, body := c.do("GET", filePath, nil)
		wantStatus(t, "open the file", res, body, http.StatusOK)
		if string(body) != string(stored) {
			t.Errorf("assessor %d: the file served is not the one stored", i+1)
		}
		if cd := res.Header.Get("Content-Disposition"); cd != `inline; filename=C0001-1.png` {
			t.Errorf("Content-Disposition %q, want the candidate number's name", cd)
		}
		if !strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") || res.Header.Get("Content-Type") != "image/png" {
			t.Errorf("headers %v", res.Header)
		}
	}
	res, body = mc.assessors[0].send("GET", filePath, nil, map[string]string{"Range": "bytes=0-7"})
	wantStatus(t, "a range of the file", res, body, http.StatusPartialContent)
	if string(body) != string(stored[:8]) {
		t.Errorf("the range served %q", body)
	}
	for name, c := range map[string]*client{"the trainee": mc.trainee, "the peer": mc.peer, "the supervisor": mc.supervisor, "the administrator": mc.admin} {
		res, body := c.do("GET", filePath, nil)
		if res.StatusCode < 400 || string(body) == string(stored) {
			t.Errorf("%s opens the submitted file: %d", name, res.StatusCode)
		}
	}
	for _, other := range []string{"/files/2", "/files/0", "/files/one"} {
		res, body := mc.assessors[0].do("GET", "/api/v1/pieces/"+p.ID+"/submissions/C0001"+other, nil)
		wantStatus(t, other, res, body, http.StatusNotFound)
	}

	// The trainee's access log says an assessor read it for marking, without naming them.
	res, body = mc.trainee.do("GET", "/api/v1/me/access-log", nil)
	wantStatus(t, "the access log", res, body, http.StatusOK)
	if !strings.Contains(string(body), "attachment "+ownName+", for marking") || strings.Contains(string(body), mc.assessorIDs[0]) || strings.Contains(string(body), mc.assessorIDs[1]) {
		t.Errorf("the access log: %s", body)
	}

	// The trainee stops sharing the entry: the markers can no longer open the file.
	res, body = mc.trainee.send("PUT", "/api/v1/journal/entries/"+e.ID+"/sharing/assessors", map[string]any{"shared": false}, nil)
	wantStatus(t, "stop sharing", res, body, http.StatusOK)
	res, body = mc.assessors[0].do("GET", filePath, nil)
	wantStatus(t, "the file after the share ended", res, body, http.StatusNotFound)
}

// In a real browser: the trainee ticks the picture on the submit page and submits it; the
// marker's page shows it (the browser loads and decodes it, so the page's policy lets it in),
// under the candidate number, and both pages pass axe, the marker's on a phone too; the
// administrator then finds it in the demo assessor's queue, from every assessor's marking.
func TestBrowserSubmitAndOpenFiles(t *testing.T) {
	f := newFixture(t)
	mc := f.markingCast(t)
	in := pieceInput("Pictures of practice", marking.SevenPrinciplesRubricID, marking.SchemeSingle, true)
	in.Accepts = marking.Accepts{Entries: true, Files: true}
	p := mc.createPiece(t, mc.admin, in)
	pictureForAssessors(t, mc.trainee, "The room we met in", "Tara's room.png")

	browser := browsertest.New(t)
	tara := browser.For(t)
	login := f.byRole[accounts.RoleTrainee]
	tara.Navigate(f.ts.URL + "/marking/pieces/" + p.ID)
	signIn(tara, login.Email, login.Password)
	wantPath(t, tara, f.ts.URL, "/marking/pieces/"+p.ID)
	wantText(t, tara, `label[for="submit-files"]`, "Tara's room.png")
	tara.AssertNoAxeViolations(t)
	screenshot(tara, "submit-files")
	tara.Click(`label[for="submit-files"]`)
	tara.Click(`label[for="files-agreed"]`)
	tara.ClickAndWait("#submit-work")
	wantText(t, tara, "#submitted", "Tara's room.png")

	res, body := mc.admin.send("PUT", "/api/v1/pieces/"+p.ID+"/submissions/"+mc.traineeID+"/markers", map[string]any{"markers": []string{mc.assessorIDs[0]}}, nil)
	wantStatus(t, "allocate", res, body, http.StatusOK)
	ash := browser.NewIsolatedTab().For(t)
	alogin := f.byRole[accounts.RoleAssessor]
	ash.Navigate(f.ts.URL + "/marking/pieces/" + p.ID + "/submissions/C0001")
	signIn(ash, alogin.Email, alogin.Password)
	wantPath(t, ash, f.ts.URL, "/marking/pieces/"+p.ID+"/submissions/C0001")
	wantText(t, ash, "#submitted-files", "C0001-1.png")
	waitJS(t, ash, "the submitted picture is shown", `(() => { const i = document.querySelector('#submitted-files img'); return i && i.complete && i.naturalWidth === 40; })()`)
	if strings.Contains(ash.Text("main"), "Tara") {
		t.Errorf("the marking page names the trainee under anonymous marking")
	}
	ash.AssertNoAxeViolations(t)
	screenshot(ash, "marking-files")
	ash.SetMobileViewport(375, 740)
	ash.Reload()
	wantText(t, ash, "#submitted-files", "C0001-1.png")
	var overflow bool
	ash.Eval(`document.querySelector('#submitted-files img').getBoundingClientRect().right > document.documentElement.clientWidth`, &overflow)
	if overflow {
		t.Errorf("the picture is wider than the phone's screen")
	}
	ash.AssertNoAxeViolations(t)

	// The administrator sees what waits for each assessor, and opens the demo assessor's queue.
	ada := browser.NewIsolatedTab().For(t)
	admin := f.byRole[accounts.RoleAdmin]
	ada.Navigate(f.ts.URL + "/marking")
	signIn(ada, admin.Email, admin.Password)
	wantPath(t, ada, f.ts.URL, "/marking")
	wantText(t, ada, "#assessors", alogin.Name)
	ada.AssertNoAxeViolations(t)
	ada.ClickAndWait(`#assessors a[href^="/marking?marker=` + mc.assessorIDs[0] + `"]`)
	wantText(t, ada, "#queue-heading", "Waiting for "+alogin.Name+" to mark")
	wantText(t, ada, "#queue", "C0001")
	ada.SetMobileViewport(375, 740)
	ada.Reload()
	ada.AssertNoAxeViolations(t)
}
