package server_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"polyphony/content"
	"polyphony/content/media"
	"polyphony/internal/accounts"
	"polyphony/internal/miniotest"
	"polyphony/server"
)

// journalAccess is who may use each journal route. The journal domain decides what each
// signed-in person may read; TestJournalAccessMatrix checks that in detail.
var journalAccess = map[string]string{
	"GET /api/v1/journal/tags":                              "signed-in",
	"GET /api/v1/journal/entries":                           "signed-in",
	"POST /api/v1/journal/entries":                          "signed-in",
	"GET /api/v1/journal/entries/:id":                       "signed-in",
	"PUT /api/v1/journal/entries/:id":                       "signed-in",
	"GET /api/v1/journal/entries/:id/revisions":             "signed-in",
	"GET /api/v1/journal/entries/:id/revisions/:n":          "signed-in",
	"POST /api/v1/journal/entries/:id/revisions/:n/restore": "signed-in",
	"POST /api/v1/journal/entries/:id/media":                "signed-in",
	"GET /api/v1/journal/entries/:id/media":                 "signed-in",
	"DELETE /api/v1/journal/entries/:id/media":              "signed-in",
	"PUT /api/v1/journal/entries/:id/sharing/:audience":     "signed-in",
	"GET /api/v1/journal/entries/:id/comments":              "signed-in",
	"POST /api/v1/journal/entries/:id/comments":             "signed-in",
	"GET /api/v1/me/access-log":                             "signed-in",
	"GET /api/v1/me/notifications":                          "signed-in",
	"POST /api/v1/me/notifications/read":                    "signed-in",
	"POST /api/v1/me/exports":                               "signed-in",
	"GET /api/v1/me/exports/:id":                            "signed-in",
	"GET /api/v1/me/exports/:id/download":                   "signed-in",
	"GET /api/v1/supervision":                               "signed-in",
	"POST /api/v1/supervision":                              "signed-in",
	"GET /api/v1/supervision/to-confirm":                    "signed-in",
	"POST /api/v1/supervision/:id/confirm":                  "signed-in",
	"GET /api/v1/practice":                                  "signed-in",
	"POST /api/v1/practice":                                 "signed-in",
	"GET /api/v1/practice/visibility":                       "signed-in",
	"PUT /api/v1/practice/visibility":                       "signed-in",
	"POST /api/v1/users/:id/erase":                          "admin",
}

func init() {
	for k, v := range journalAccess {
		expectedAccess[k] = v
	}
}

// journalCast is the demo people the journal tests use, each signed in through the API.
type journalCast struct {
	trainee, peer, supervisor, assessor, admin *client
	traineeID, peerID, supervisorID            string
}

func (f *fixture) journalCast(t *testing.T) journalCast {
	t.Helper()
	var jc journalCast
	jc.trainee = f.signedIn(t, accounts.RoleTrainee)
	jc.supervisor = f.signedIn(t, accounts.RoleSupervisor)
	jc.assessor = f.signedIn(t, accounts.RoleAssessor)
	jc.admin = f.signedIn(t, accounts.RoleAdmin)
	jc.traineeID = f.userID(t, f.byRole[accounts.RoleTrainee].Email)
	jc.supervisorID = f.userID(t, f.byRole[accounts.RoleSupervisor].Email)
	for _, l := range f.logins {
		if l.Role == accounts.RoleTrainee && l.Email != f.byRole[accounts.RoleTrainee].Email {
			jc.peer = f.signInAs(t, l.Email, l.Password)
			jc.peerID = f.userID(t, l.Email)
		}
	}
	if jc.peer == nil {
		t.Fatal("the demo has one trainee; the tests need two")
	}
	return jc
}

func (f *fixture) userID(t *testing.T, email string) string {
	t.Helper()
	u, err := f.accounts.Users.ByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// signInAs signs a new client in with the email and password.
func (f *fixture) signInAs(t testing.TB, email, password string) *client {
	t.Helper()
	c := f.client(t)
	res, body := c.do("POST", "/api/v1/session", map[string]string{"email": email, "password": password})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("sign in as %s: %d %s", email, res.StatusCode, body)
	}
	var me struct {
		CSRFToken string `json:"csrfToken"`
	}
	json.Unmarshal(body, &me)
	c.csrf = me.CSRFToken
	return c
}

// send is do with headers: an Idempotency-Key, or the Content-Type of an upload. A []byte
// body is sent as it is (application/octet-stream unless a Content-Type is given).
func (c *client) send(method, path string, body any, headers map[string]string) (*http.Response, []byte) {
	c.t.Helper()
	if _, raw := body.([]byte); raw && headers["Content-Type"] == "" {
		headers = maps.Clone(headers)
		if headers == nil {
			headers = map[string]string{}
		}
		headers["Content-Type"] = "application/octet-stream"
	}
	return c.doWith(method, path, body, headers)
}

func idem(key string) map[string]string { return map[string]string{"Idempotency-Key": key} }

// jEntry is an entry as the API answers it.
type jEntry struct {
	ID          string        `json:"id"`
	OwnerID     string        `json:"ownerId"`
	Version     int           `json:"version"`
	Title       string        `json:"title"`
	Body        string        `json:"body"`
	Tags        []string      `json:"tags"`
	Attachments []jAttachment `json:"attachments"`
	As          string        `json:"as"`
	Sharing     *struct {
		Supervisor       bool `json:"supervisor"`
		Assessors        bool `json:"assessors"`
		SubmittedVersion int  `json:"submittedVersion"`
	} `json:"sharing"`
	Media []struct {
		jAttachment
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expiresAt"`
	} `json:"media"`
}

type jAttachment struct {
	Key         string `json:"key"`
	Kind        string `json:"kind"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	Name        string `json:"name"`
}

func decodeAs[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %T: %v in %s", v, err, body)
	}
	return v
}

// wantStatus fails the test unless the answer has the status.
func wantStatus(t testing.TB, what string, res *http.Response, body []byte, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s: got %d %s, want %d", what, res.StatusCode, body, want)
	}
}

// createEntry writes a new entry as c and returns it.
func createEntry(t testing.TB, c *client, title, body string, tags ...string) jEntry {
	t.Helper()
	if tags == nil {
		tags = []string{}
	}
	res, b := c.send("POST", "/api/v1/journal/entries", map[string]any{"title": title, "body": body, "tags": tags}, idem("create-"+strings.Map(func(r rune) rune {
		if r == ' ' {
			return '-'
		}
		return r
	}, title)))
	wantStatus(t, "create "+title, res, b, http.StatusCreated)
	return decodeAs[jEntry](t, b)
}

func TestJournalAPIAutosave(t *testing.T) {
	f := newFixture(t)
	jc := f.journalCast(t)
	tr := jc.trainee

	res, body := tr.send("POST", "/api/v1/journal/entries", map[string]any{"title": "First day", "body": "We met.", "tags": []string{"dialogism", "module-1-day-2"}}, idem("k-create"))
	wantStatus(t, "create", res, body, http.StatusCreated)
	e := decodeAs[jEntry](t, body)
	if e.Version != 1 || e.OwnerID != jc.traineeID || e.Body != "We met." {
		t.Fatalf("created: %+v", e)
	}
	res, body = tr.send("POST", "/api/v1/journal/entries", map[string]any{"title": "First day", "body": "We met.", "tags": []string{"dialogism", "module-1-day-2"}}, idem("k-create"))
	wantStatus(t, "replayed create", res, body, http.StatusCreated)
	if again := decodeAs[jEntry](t, body); again.ID != e.ID || again.Version != 1 {
		t.Fatalf("replayed create made %+v, want entry %s version 1", again, e.ID)
	}

	t.Run("bad input names the field", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, path string
			body               any
			headers            map[string]string
			field              string
		}{
			{"no idempotency key", "POST", "/api/v1/journal/entries", map[string]any{"title": "x"}, nil, "Idempotency-Key"},
			{"unknown tag", "POST", "/api/v1/journal/entries", map[string]any{"title": "x", "tags": []string{"dialogism", "telepathy"}}, idem("k-bad-tag"), "tags[1]"},
			{"malformed key", "POST", "/api/v1/journal/entries", map[string]any{"title": "x"}, idem("has spaces in it"), "idempotencyKey"},
			{"owner in the body", "POST", "/api/v1/journal/entries", map[string]any{"title": "x", "ownerId": jc.peerID}, idem("k-owner"), "ownerId"},
			{"save without key", "PUT", "/api/v1/journal/entries/" + e.ID, map[string]any{"baseVersion": 1, "title": "x"}, nil, "Idempotency-Key"},
			{"save without base", "PUT", "/api/v1/journal/entries/" + e.ID, map[string]any{"title": "x"}, idem("k-nobase"), "baseVersion"},
			{"save to a version that does not exist", "PUT", "/api/v1/journal/entries/" + e.ID, map[string]any{"baseVersion": 7, "title": "x"}, idem("k-base7"), "baseVersion"},
			{"unknown tag filter", "GET", "/api/v1/journal/entries?tag=telepathy", nil, nil, "tag"},
			{"module out of range", "GET", "/api/v1/journal/entries?module=9", nil, nil, "module"},
			{"shared state", "GET", "/api/v1/journal/entries?shared=everyone", nil, nil, "shared"},
			{"revision number", "GET", "/api/v1/journal/entries/" + e.ID + "/revisions?limit=lots", nil, nil, "limit"},
		} {
			res, body := tr.send(tc.method, tc.path, tc.body, tc.headers)
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: got %d %s, want 400", tc.name, res.StatusCode, body)
				continue
			}
			if _, field := errorBody(t, body); field != tc.field {
				t.Errorf("%s: field %q, want %q (%s)", tc.name, field, tc.field, body)
			}
		}
	})

	save := func(base int, text, key string) (*http.Response, []byte) {
		return tr.send("PUT", "/api/v1/journal/entries/"+e.ID, map[string]any{"baseVersion": base, "title": "First day", "body": text, "tags": []string{"dialogism"}}, idem(key))
	}
	res, body = save(1, "We met, and listened.", "k-save-2")
	wantStatus(t, "save", res, body, http.StatusOK)
	if v2 := decodeAs[jEntry](t, body); v2.Version != 2 || v2.Body != "We met, and listened." {
		t.Fatalf("saved: %+v", v2)
	}
	res, again := save(1, "We met, and listened.", "k-save-2")
	wantStatus(t, "replayed save", res, again, http.StatusOK)
	if r := decodeAs[jEntry](t, again); r.Version != 2 {
		t.Fatalf("replayed save answered version %d, want 2", r.Version)
	}

	// A second tab still at version 1 saves: refused, with the server's copy.
	res, body = save(1, "Text from the other tab.", "k-other-tab")
	wantStatus(t, "stale save", res, body, http.StatusConflict)
	var clash struct {
		Error  string `json:"error"`
		Server jEntry `json:"server"`
	}
	clash = decodeAs[struct {
		Error  string `json:"error"`
		Server jEntry `json:"server"`
	}](t, body)
	if clash.Error == "" || clash.Server.Version != 2 || clash.Server.Body != "We met, and listened." {
		t.Fatalf("409 body: %s", body)
	}

	res, body = tr.send("GET", "/api/v1/journal/entries/"+e.ID+"/revisions", nil, nil)
	wantStatus(t, "revisions", res, body, http.StatusOK)
	revs := decodeAs[struct {
		Revisions []struct {
			Version int    `json:"version"`
			Kind    string `json:"kind"`
		} `json:"revisions"`
	}](t, body).Revisions
	if len(revs) != 2 || revs[0].Version != 2 || revs[1].Version != 1 {
		t.Fatalf("revisions after a replayed and a stale save: %+v, want 2 and 1", revs)
	}

	res, body = tr.send("POST", "/api/v1/journal/entries/"+e.ID+"/revisions/1/restore", map[string]any{"baseVersion": 2}, idem("k-restore"))
	wantStatus(t, "restore", res, body, http.StatusOK)
	if r := decodeAs[jEntry](t, body); r.Version != 3 || r.Body != "We met." {
		t.Fatalf("restored: %+v", r)
	}
	res, body = tr.send("POST", "/api/v1/journal/entries/"+e.ID+"/revisions/1/restore", map[string]any{"baseVersion": 2}, idem("k-restore-stale"))
	wantStatus(t, "stale restore", res, body, http.StatusConflict)

	res, body = tr.send("GET", "/api/v1/journal/entries/"+e.ID+"/revisions/2", nil, nil)
	wantStatus(t, "revision 2", res, body, http.StatusOK)
	if r := decodeAs[jEntry](t, body); r.Version != 2 || r.Body != "We met, and listened." {
		t.Fatalf("revision 2: %+v", r)
	}
	res, body = tr.send("GET", "/api/v1/journal/entries/"+e.ID, nil, nil)
	wantStatus(t, "read", res, body, http.StatusOK)
	if r := decodeAs[jEntry](t, body); r.Version != 3 || r.As != "owner" || r.Sharing == nil || r.Media == nil {
		t.Fatalf("read: %s", body)
	}

	other := createEntry(t, tr, "Module two", "Reflections.", "module-2-day-1")
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{other.ID, e.ID}},
		{"?tag=dialogism", []string{e.ID}},
		{"?module=2", []string{other.ID}},
		{"?module=3", nil},
		{"?shared=private", []string{other.ID, e.ID}},
		{"?shared=supervisor", nil},
	} {
		res, body := tr.send("GET", "/api/v1/journal/entries"+tc.query, nil, nil)
		wantStatus(t, "list"+tc.query, res, body, http.StatusOK)
		var got []string
		for _, s := range decodeAs[struct {
			Entries []jEntry `json:"entries"`
		}](t, body).Entries {
			got = append(got, s.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("list%s: got %v, want %v", tc.query, got, tc.want)
		}
	}

	res, body = tr.send("GET", "/api/v1/journal/tags", nil, nil)
	wantStatus(t, "tags", res, body, http.StatusOK)
	if !strings.Contains(string(body), `"id":"module-2-day-3"`) {
		t.Errorf("tags: %.300s", body)
	}
}

func TestJournalAPISharingAndComments(t *testing.T) {
	f := newFixture(t)
	jc := f.journalCast(t)
	e := createEntry(t, jc.trainee, "Network meeting", "What I noticed about silence.", "tolerance-of-uncertainty")
	path := "/api/v1/journal/entries/" + e.ID

	res, body := jc.supervisor.send("GET", path, nil, nil)
	wantStatus(t, "supervisor reads a private entry", res, body, http.StatusNotFound)
	res, body = jc.trainee.send("POST", path+"/comments", map[string]any{"body": "Any thoughts?", "audience": "supervisor"}, idem("c-unshared"))
	wantStatus(t, "comment on an unshared entry", res, body, http.StatusBadRequest)
	if _, field := errorBody(t, body); field != "audience" {
		t.Errorf("comment on unshared entry names %q, want audience", field)
	}
	res, body = jc.supervisor.send("POST", path+"/comments", map[string]any{"body": "Hello"}, idem("c-sup-unshared"))
	wantStatus(t, "supervisor comments on a private entry", res, body, http.StatusNotFound)

	res, body = jc.trainee.send("PUT", path+"/sharing/supervisor", map[string]any{"shared": true}, nil)
	wantStatus(t, "share", res, body, http.StatusOK)
	if !strings.Contains(string(body), `"supervisor":true`) {
		t.Fatalf("share answered %s", body)
	}
	res, body = jc.trainee.send("PUT", path+"/sharing/everyone", map[string]any{"shared": true}, nil)
	wantStatus(t, "unknown audience", res, body, http.StatusBadRequest)
	res, body = jc.trainee.send("PUT", path+"/sharing/supervisor", map[string]any{}, nil)
	wantStatus(t, "sharing without shared", res, body, http.StatusBadRequest)

	res, body = jc.supervisor.send("GET", path, nil, nil)
	wantStatus(t, "supervisor reads a shared entry", res, body, http.StatusOK)
	if r := decodeAs[jEntry](t, body); r.As != "supervisor" || r.Sharing != nil || r.Body != e.Body {
		t.Fatalf("supervisor's view: %s", body)
	}
	res, body = jc.assessor.send("GET", path, nil, nil)
	wantStatus(t, "assessor reads an entry shared with the supervisor only", res, body, http.StatusNotFound)
	res, body = jc.peer.send("GET", path, nil, nil)
	wantStatus(t, "another trainee reads a shared entry", res, body, http.StatusNotFound)

	res, body = jc.supervisor.send("POST", path+"/comments", map[string]any{"body": "Silence can be *dialogue* too."}, idem("c-sup-1"))
	wantStatus(t, "supervisor comments", res, body, http.StatusCreated)
	res, body = jc.supervisor.send("POST", path+"/comments", map[string]any{"body": "Silence can be *dialogue* too."}, idem("c-sup-1"))
	wantStatus(t, "replayed comment", res, body, http.StatusCreated)
	res, body = jc.trainee.send("POST", path+"/comments", map[string]any{"body": "Thank you.", "audience": "supervisor"}, idem("c-tr-1"))
	wantStatus(t, "trainee replies", res, body, http.StatusCreated)
	res, body = jc.trainee.send("GET", path+"/comments", nil, nil)
	wantStatus(t, "comments", res, body, http.StatusOK)
	if n := strings.Count(string(body), `"audience":"supervisor"`); n != 2 {
		t.Fatalf("thread holds %d comments, want 2: %s", n, body)
	}

	res, body = jc.trainee.send("GET", "/api/v1/me/notifications", nil, nil)
	wantStatus(t, "notifications", res, body, http.StatusOK)
	notes := decodeAs[struct {
		Notifications []struct {
			ID      string `json:"id"`
			EntryID string `json:"entryId"`
		} `json:"notifications"`
	}](t, body).Notifications
	if len(notes) != 1 || notes[0].EntryID != e.ID {
		t.Fatalf("trainee's notifications: %s", body)
	}
	res, body = jc.trainee.send("POST", "/api/v1/me/notifications/read", map[string]any{"ids": []string{notes[0].ID}}, nil)
	wantStatus(t, "mark read", res, body, http.StatusNoContent)
	res, body = jc.trainee.send("GET", "/api/v1/me/notifications", nil, nil)
	if !strings.Contains(string(body), `"notifications":[]`) {
		t.Errorf("after marking read: %s", body)
	}

	res, body = jc.trainee.send("GET", "/api/v1/me/access-log", nil, nil)
	wantStatus(t, "access log", res, body, http.StatusOK)
	if !strings.Contains(string(body), jc.supervisorID) || !strings.Contains(string(body), `"what":"entry"`) {
		t.Errorf("the access log does not show the supervisor's read: %s", body)
	}
	res, body = jc.supervisor.send("GET", path, nil, nil) // a second read, for a second page
	wantStatus(t, "supervisor reads again", res, body, http.StatusOK)
	res, body = jc.trainee.send("GET", "/api/v1/me/access-log?limit=1", nil, nil)
	wantStatus(t, "access log page", res, body, http.StatusOK)
	var page struct {
		Records []struct {
			ID string `json:"id"`
		} `json:"records"`
		Next int `json:"next"`
	}
	if err := json.Unmarshal(body, &page); err != nil || len(page.Records) != 1 || page.Next == 0 {
		t.Errorf("a page of one read: %s (%v); want one record and a cursor to older reads", body, err)
	}
	res, body = jc.trainee.send("GET", fmt.Sprintf("/api/v1/me/access-log?before=%d&limit=1", page.Next), nil, nil)
	wantStatus(t, "older access log page", res, body, http.StatusOK)
	if strings.Contains(string(body), page.Records[0].ID) || !strings.Contains(string(body), `"records":[{`) {
		t.Errorf("the page before: %s; want older reads, without %s", body, page.Records[0].ID)
	}

	// Revoked: the supervisor's next request finds nothing.
	res, body = jc.trainee.send("PUT", path+"/sharing/supervisor", map[string]any{"shared": false}, nil)
	wantStatus(t, "revoke", res, body, http.StatusOK)
	for _, p := range []string{path, path + "/comments"} {
		res, body = jc.supervisor.send("GET", p, nil, nil)
		wantStatus(t, "supervisor after revoke "+p, res, body, http.StatusNotFound)
	}
	res, body = jc.supervisor.send("GET", "/api/v1/journal/entries?owner="+jc.traineeID, nil, nil)
	wantStatus(t, "supervisor lists after revoke", res, body, http.StatusOK)
	if strings.Contains(string(body), e.ID) {
		t.Errorf("a revoked entry is still listed for the supervisor: %s", body)
	}

	// Sharing with assessors submits the revision shared; later saves do not change it.
	res, body = jc.trainee.send("PUT", path+"/sharing/assessors", map[string]any{"shared": true}, nil)
	wantStatus(t, "submit", res, body, http.StatusOK)
	res, body = jc.trainee.send("PUT", path, map[string]any{"baseVersion": 1, "title": e.Title, "body": "Rewritten after submitting."}, idem("k-after-submit"))
	wantStatus(t, "save after submitting", res, body, http.StatusOK)
	res, body = jc.assessor.send("GET", path, nil, nil)
	wantStatus(t, "assessor reads the submission", res, body, http.StatusOK)
	if r := decodeAs[jEntry](t, body); r.Version != 1 || r.Body != e.Body || r.As != "assessor" {
		t.Fatalf("assessor read %+v, want the submitted version 1", r)
	}
}

// Pictures with metadata that must not survive an upload.
const secretCamera = "SecretCam 3000"

// exifTIFF is an Exif TIFF block naming a camera and holding a GPS latitude.
func exifTIFF() []byte {
	var b bytes.Buffer
	be := binary.BigEndian
	w16 := func(v uint16) { binary.Write(&b, be, v) }
	w32 := func(v uint32) { binary.Write(&b, be, v) }
	b.WriteString("MM\x00\x2a")
	w32(8)
	makeOff := uint32(8 + 2 + 2*12 + 4)
	gpsOff := makeOff + uint32(len(secretCamera)+1)
	w16(2)
	w16(0x010f) // Make, ASCII
	w16(2)
	w32(uint32(len(secretCamera) + 1))
	w32(makeOff)
	w16(0x8825) // GPS IFD
	w16(4)
	w32(1)
	w32(gpsOff)
	w32(0)
	b.WriteString(secretCamera + "\x00")
	w16(1)
	w16(0x0001) // GPSLatitudeRef "N"
	w16(2)
	w32(2)
	b.WriteString("N\x00\x00\x00")
	w32(0)
	return b.Bytes()
}

func testPicture() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for y := range 30 {
		for x := range 40 {
			img.Set(x, y, color.RGBA{uint8(x * 6), uint8(y * 8), uint8(x ^ y), 255})
		}
	}
	return img
}

func pngChunk(kind string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(kind)
	b.Write(data)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(kind), data...)))
	return b.Bytes()
}

// pngWithExif is a PNG whose eXIf chunk (after the 33 bytes of signature and IHDR) holds
// a camera and GPS position.
func pngWithExif(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testPicture()); err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	out := append([]byte{}, raw[:33]...)
	out = append(out, pngChunk("eXIf", exifTIFF())...)
	return append(out, raw[33:]...)
}

// jpegWithExif is a JPEG with an APP1 Exif segment after its SOI.
func jpegWithExif(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testPicture(), nil); err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	payload := append([]byte("Exif\x00\x00"), exifTIFF()...)
	seg := []byte{0xff, 0xe1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	out := append([]byte{}, raw[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, raw[2:]...)
}

// polyglot is a real PNG with a ZIP archive after it.
func polyglot(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testPicture()); err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("run.sh")
	io.WriteString(w, "#!/bin/sh\necho hidden\n")
	zw.Close()
	return b.Bytes()
}

// elfExecutable is the start of a Linux program, to be named as a picture.
func elfExecutable() []byte {
	b := make([]byte, 4096)
	copy(b, "\x7fELF\x02\x01\x01\x00")
	b[16], b[18] = 2, 0x3e // executable, x86-64
	return b
}

// storedKeys lists every object in a media store.
func storedKeys(t *testing.T, store media.Lister) []string {
	t.Helper()
	var keys []string
	for info, err := range store.List(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, info.Key)
	}
	slices.Sort(keys)
	return keys
}

// upload sends a file to an entry's media route.
func upload(c *client, entryID, name string, file []byte) (*http.Response, []byte) {
	c.t.Helper()
	return c.send("POST", "/api/v1/journal/entries/"+entryID+"/media?name="+url.QueryEscape(name), file, nil)
}

// uploaded is the answer to a successful upload.
type uploaded struct {
	Attachment jAttachment `json:"attachment"`
	Entry      jEntry      `json:"entry"`
}

// rawUpload sends an upload over a bare connection, announcing declared bytes and sending
// body (then closing the sending side), or sending it chunked when declared is -1.
func rawUpload(t *testing.T, c *client, entryID string, declared int, body []byte) (int, string) {
	t.Helper()
	u, _ := url.Parse(c.base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var cookies []string
	for _, ck := range c.http.Jar.Cookies(u) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	var req bytes.Buffer
	fmt.Fprintf(&req, "POST /api/v1/journal/entries/%s/media?name=photo.png HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nX-CSRF-Token: %s\r\nContent-Type: image/png\r\n",
		entryID, u.Host, strings.Join(cookies, "; "), c.csrf)
	if declared < 0 {
		fmt.Fprintf(&req, "Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(body), body)
	} else {
		fmt.Fprintf(&req, "Content-Length: %d\r\n\r\n%s", declared, body)
	}
	if _, err := conn.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	if declared >= 0 {
		conn.(*net.TCPConn).CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("raw upload: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// secondServer serves the fixture's application again with another configuration and
// media store, on its own loopback port.
func (f *fixture) secondServer(t testing.TB, cfg server.Config, store media.Store) *fixture {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL)
	cfg.PublicURL = u
	srv, err := server.New(cfg, server.Deps{Accounts: f.accounts, Courses: f.courses, Pages: f.pages, Renderer: content.NewRenderer(),
		Media: store, Rooms: f.rooms, Transcripts: f.transcripts, Assessments: f.assessments, Journals: f.journals, Exports: f.exports})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	g := *f
	g.srv, g.ts = srv, ts
	return &g
}

func TestJournalAPIUploads(t *testing.T) {
	f := newFixture(t)
	jc := f.journalCast(t)
	e := createEntry(t, jc.trainee, "Pictures", "From the residential.")

	var keys []string
	for _, tc := range []struct {
		name, ctype string
		file        []byte
	}{
		{"garden.png", "image/png", pngWithExif(t)},
		{"IMG 0042.jpg", "image/jpeg", jpegWithExif(t)},
	} {
		if !bytes.Contains(tc.file, []byte(secretCamera)) {
			t.Fatalf("%s: the test file carries no metadata", tc.name)
		}
		res, body := upload(jc.trainee, e.ID, tc.name, tc.file)
		wantStatus(t, "upload "+tc.name, res, body, http.StatusCreated)
		up := decodeAs[uploaded](t, body)
		if up.Attachment.Name != tc.name || up.Attachment.ContentType != tc.ctype || up.Attachment.Kind != "image" || up.Attachment.Key == "" {
			t.Fatalf("attachment: %+v", up.Attachment)
		}
		if strings.Contains(up.Attachment.Key, "garden") || strings.Contains(up.Attachment.Key, "IMG") {
			t.Errorf("the key %q comes from the file name", up.Attachment.Key)
		}
		rc, info, err := f.media.Get(context.Background(), up.Attachment.Key)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := io.ReadAll(rc)
		rc.Close()
		for _, marker := range []string{secretCamera, "Exif\x00\x00", "eXIf", "MM\x00\x2a"} {
			if bytes.Contains(stored, []byte(marker)) {
				t.Errorf("%s: the stored object still holds %q", tc.name, marker)
			}
		}
		img, _, err := image.Decode(bytes.NewReader(stored))
		if err != nil || img.Bounds().Dx() != 40 {
			t.Errorf("%s: the stored object is not the picture: %v", tc.name, err)
		}
		if info.Size != int64(len(stored)) || up.Attachment.Size != info.Size {
			t.Errorf("%s: sizes %d / %d / %d", tc.name, info.Size, len(stored), up.Attachment.Size)
		}
		keys = append(keys, up.Attachment.Key)
	}

	// The entry lists both, with signed URLs that work.
	res, body := jc.trainee.send("GET", "/api/v1/journal/entries/"+e.ID, nil, nil)
	wantStatus(t, "read", res, body, http.StatusOK)
	got := decodeAs[jEntry](t, body)
	if len(got.Media) != 2 || len(got.Attachments) != 2 || got.Version != 3 {
		t.Fatalf("entry after two uploads: %s", body)
	}
	anon := f.client(t)
	for _, m := range got.Media {
		if m.ExpiresAt.Before(time.Now()) || m.ExpiresAt.After(time.Now().Add(time.Hour)) {
			t.Errorf("media URL expires at %v", m.ExpiresAt)
		}
		res, err := anon.http.Get(m.URL)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != m.ContentType {
			t.Errorf("signed URL %s: %d %s", m.Key, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	// A signature is for one key: another key with it, or a changed one, is refused.
	u0, _ := url.Parse(got.Media[0].URL)
	u1, _ := url.Parse(got.Media[1].URL)
	swapped := *u0
	swapped.Path = u1.Path
	tampered := *u0
	q := tampered.Query()
	q.Set("exp", fmt.Sprint(time.Now().Add(24*time.Hour).Unix()))
	tampered.RawQuery = q.Encode()
	for name, u := range map[string]string{"other key": swapped.String(), "later expiry": tampered.String(), "no signature": u0.Scheme + "://" + u0.Host + u0.Path} {
		res, err := anon.http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("media URL with %s: %d, want 403", name, res.StatusCode)
		}
	}
	short, err := f.media.SignedURL(context.Background(), keys[0], time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	if res, err := anon.http.Get(short); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("expired media URL: %v %v, want 403", res.StatusCode, err)
	}
	res, body = jc.trainee.send("GET", "/api/v1/journal/entries/"+e.ID+"/media?key="+url.QueryEscape(keys[0]), nil, nil)
	wantStatus(t, "media URL", res, body, http.StatusOK)
	if !strings.Contains(string(body), `"url":"`+f.ts.URL+"/media/"+keys[0]) {
		t.Errorf("media URL answer: %s", body)
	}

	before := storedKeys(t, f.media)
	small := f.secondServer(t, server.Config{UploadLimits: media.Limits{Image: 64}}, f.media)
	smallTrainee := small.signInAs(t, f.byRole[accounts.RoleTrainee].Email, f.byRole[accounts.RoleTrainee].Password)
	wantAttachments := func(what string) {
		t.Helper()
		res, body := jc.trainee.send("GET", "/api/v1/journal/entries/"+e.ID, nil, nil)
		if r := decodeAs[jEntry](t, body); res.StatusCode != 200 || r.Version != 3 || len(r.Attachments) != 2 {
			t.Errorf("after %s the entry is at version %d with %d attachments, want 3 and 2", what, r.Version, len(r.Attachments))
		}
		if after := storedKeys(t, f.media); !slices.Equal(after, before) {
			t.Errorf("after %s the store holds %v, want %v", what, after, before)
		}
	}
	for _, tc := range []struct {
		what   string
		c      *client
		name   string
		file   []byte
		status []int
		field  string
	}{
		{"a renamed executable", jc.trainee, "holiday.jpg", elfExecutable(), []int{415}, "file"},
		{"a polyglot", jc.trainee, "garden.png", polyglot(t), []int{415, 422}, "file"},
		{"an oversized picture", smallTrainee, "garden.png", pngWithExif(t), []int{413}, "file"},
		{"a path in the file name", jc.trainee, "../../etc/garden.png", pngWithExif(t), []int{400}, "name"},
		{"a Windows path in the file name", jc.trainee, `C:\photos\garden.png`, pngWithExif(t), []int{400}, "name"},
		{"no file name", jc.trainee, "", pngWithExif(t), []int{400}, "name"},
		{"an empty file", jc.trainee, "garden.png", []byte{}, []int{400, 411, 415}, ""},
		{"another trainee's upload", jc.peer, "garden.png", pngWithExif(t), []int{404}, ""},
		{"the supervisor's upload", jc.supervisor, "garden.png", pngWithExif(t), []int{404}, ""},
	} {
		res, body := upload(tc.c, e.ID, tc.name, tc.file)
		if !slices.Contains(tc.status, res.StatusCode) {
			t.Errorf("%s: got %d %s, want %v", tc.what, res.StatusCode, body, tc.status)
		} else if msg, field := errorBody(t, body); tc.field != "" && field != tc.field || msg == "" {
			t.Errorf("%s: field %q, want %q (%s)", tc.what, field, tc.field, body)
		} else {
			t.Logf("%s: %d %s", tc.what, res.StatusCode, msg)
		}
		wantAttachments(tc.what)
	}
	file := pngWithExif(t)
	status, msg := rawUpload(t, jc.trainee, e.ID, len(file)+500, file)
	if status != http.StatusBadRequest || !strings.Contains(msg, "truncated") {
		t.Errorf("truncated upload: %d %s, want 400", status, msg)
	}
	wantAttachments("a truncated upload")
	status, msg = rawUpload(t, jc.trainee, e.ID, -1, file)
	if status != http.StatusLengthRequired {
		t.Errorf("upload without Content-Length: %d %s, want 411", status, msg)
	}
	wantAttachments("an upload without Content-Length")
	res, body = jc.trainee.send("POST", "/api/v1/journal/entries/"+e.ID+"/media?name=a.png", file, map[string]string{"X-CSRF-Token": "forged"})
	wantStatus(t, "upload with a forged CSRF token", res, body, http.StatusForbidden)
	wantAttachments("an upload with a forged CSRF token")

	// Taking an attachment off keeps the object: an earlier revision still lists it.
	res, body = jc.trainee.send("DELETE", "/api/v1/journal/entries/"+e.ID+"/media?key="+url.QueryEscape(keys[0]), nil, nil)
	wantStatus(t, "detach", res, body, http.StatusOK)
	if r := decodeAs[jEntry](t, body); len(r.Attachments) != 1 || r.Attachments[0].Key != keys[1] {
		t.Fatalf("after detaching: %s", body)
	}
	if _, err := f.media.Stat(context.Background(), keys[0]); err != nil {
		t.Errorf("detaching removed the object: %v", err)
	}
}

// TestJournalAPIUploadMinIO sends uploads through the application into a real MinIO.
func TestJournalAPIUploadMinIO(t *testing.T) {
	srv := miniotest.Start(t)
	f := newFixture(t)
	ctx := context.Background()
	store, err := media.NewMinIO(ctx, media.MinIOConfig{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Bucket: miniotest.BucketName(t)})
	if err != nil {
		t.Fatal(err)
	}
	g := f.secondServer(t, server.Config{}, store)
	l := f.byRole[accounts.RoleTrainee]
	tr := g.signInAs(t, l.Email, l.Password)
	e := createEntry(t, tr, "Recorded", "A picture.")

	res, body := upload(tr, e.ID, "garden.jpg", jpegWithExif(t))
	wantStatus(t, "upload into MinIO", res, body, http.StatusCreated)
	up := decodeAs[uploaded](t, body)
	res, body = tr.send("GET", "/api/v1/journal/entries/"+e.ID, nil, nil)
	wantStatus(t, "read", res, body, http.StatusOK)
	got := decodeAs[jEntry](t, body)
	if len(got.Media) != 1 || !strings.HasPrefix(got.Media[0].URL, srv.URL()) {
		t.Fatalf("media: %s", body)
	}
	// A presigned URL cannot be withdrawn, so it lives only a minute.
	if q := mustURL(got.Media[0].URL).Query(); q.Get("X-Amz-Expires") != "60" || got.Media[0].ExpiresAt.After(time.Now().Add(time.Minute+time.Second)) {
		t.Errorf("presigned URL lives %ss, expires at %v; want 60 s", q.Get("X-Amz-Expires"), got.Media[0].ExpiresAt)
	}
	// Pages may load media from MinIO's address, and only from there besides this server.
	csp := res.Header.Get("Content-Security-Policy")
	origin := strings.TrimSuffix(srv.URL(), "/")
	if !strings.Contains(csp, "img-src 'self' data: blob: "+origin+";") || !strings.Contains(csp, "media-src 'self' blob: "+origin+";") {
		t.Errorf("the pages' policy does not allow media from %s: %s", origin, csp)
	}
	mres, err := http.Get(got.Media[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(mres.Body)
	mres.Body.Close()
	if mres.StatusCode != 200 || int64(len(stored)) != up.Attachment.Size || bytes.Contains(stored, []byte(secretCamera)) {
		t.Fatalf("presigned GET: %d, %d bytes (want %d), metadata stripped: %v", mres.StatusCode, len(stored), up.Attachment.Size, !bytes.Contains(stored, []byte(secretCamera)))
	}

	before := storedKeys(t, store)
	for _, tc := range []struct {
		what string
		file []byte
		want []int
	}{
		{"a renamed executable", elfExecutable(), []int{415}},
		{"a polyglot", polyglot(t), []int{415, 422}},
	} {
		res, body := upload(tr, e.ID, "x.png", tc.file)
		if !slices.Contains(tc.want, res.StatusCode) {
			t.Errorf("%s: %d %s", tc.what, res.StatusCode, body)
		}
	}
	file := pngWithExif(t)
	if status, msg := rawUpload(t, tr, e.ID, len(file)+100, file); status != http.StatusBadRequest {
		t.Errorf("truncated upload into MinIO: %d %s", status, msg)
	}
	if after := storedKeys(t, store); !slices.Equal(after, before) {
		t.Errorf("refused uploads left objects in MinIO: %v, want %v", after, before)
	}
}

func TestJournalAPISupervisionAndPractice(t *testing.T) {
	f := newFixture(t)
	jc := f.journalCast(t)
	today := time.Now().Format(time.DateOnly)
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"bad date", map[string]any{"date": "4/3/2027", "minutes": 60, "supervisorId": jc.supervisorID, "kind": "individual"}, "date"},
		{"future date", map[string]any{"date": time.Now().AddDate(0, 0, 3).Format(time.DateOnly), "minutes": 60, "supervisorId": jc.supervisorID, "kind": "individual"}, "date"},
		{"not a supervisor", map[string]any{"date": today, "minutes": 60, "supervisorId": jc.peerID, "kind": "individual"}, "supervisorId"},
		{"unknown kind", map[string]any{"date": today, "minutes": 60, "supervisorId": jc.supervisorID, "kind": "telepathic"}, "kind"},
		{"too long", map[string]any{"date": today, "minutes": 6000, "supervisorId": jc.supervisorID, "kind": "group"}, "minutes"},
	} {
		res, body := jc.trainee.send("POST", "/api/v1/supervision", tc.body, idem("sv-"+strings.ReplaceAll(tc.name, " ", "-")))
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("supervision with %s: %d %s", tc.name, res.StatusCode, body)
		} else if _, field := errorBody(t, body); field != tc.field {
			t.Errorf("supervision with %s names %q, want %q", tc.name, field, tc.field)
		}
	}
	res, body := jc.trainee.send("POST", "/api/v1/supervision", map[string]any{"date": today, "minutes": 60, "supervisorId": jc.supervisorID, "kind": "individual", "reflection": "Useful."}, nil)
	wantStatus(t, "supervision without a key", res, body, http.StatusBadRequest)
	sv := map[string]any{"date": today, "minutes": 60, "supervisorId": jc.supervisorID, "peerWorker": "Pat", "kind": "individual", "reflection": "Useful."}
	res, body = jc.trainee.send("POST", "/api/v1/supervision", sv, idem("sv-ok"))
	wantStatus(t, "log supervision", res, body, http.StatusCreated)
	res, again := jc.trainee.send("POST", "/api/v1/supervision", sv, idem("sv-ok"))
	wantStatus(t, "replayed supervision", res, again, http.StatusCreated)
	id := decodeAs[struct {
		ID string `json:"id"`
	}](t, body).ID
	if decodeAs[struct {
		ID string `json:"id"`
	}](t, again).ID != id {
		t.Errorf("a replayed supervision session made another")
	}
	res, body = jc.supervisor.send("GET", "/api/v1/supervision/to-confirm", nil, nil)
	wantStatus(t, "to confirm", res, body, http.StatusOK)
	if !strings.Contains(string(body), id) {
		t.Fatalf("to confirm: %s", body)
	}
	res, body = jc.trainee.send("POST", "/api/v1/supervision/"+id+"/confirm", nil, nil)
	wantStatus(t, "trainee confirms their own", res, body, http.StatusForbidden)
	res, body = jc.supervisor.send("POST", "/api/v1/supervision/"+id+"/confirm", nil, nil)
	wantStatus(t, "confirm", res, body, http.StatusOK)
	res, body = jc.trainee.send("GET", "/api/v1/supervision", nil, nil)
	wantStatus(t, "supervision log", res, body, http.StatusOK)
	log := decodeAs[struct {
		Sessions []struct {
			Confirmed bool `json:"confirmed"`
		} `json:"sessions"`
		Totals struct {
			Months  []struct{ Month string } `json:"months"`
			Overall struct {
				Sessions         int `json:"sessions"`
				ConfirmedMinutes int `json:"confirmedMinutes"`
			} `json:"overall"`
		} `json:"totals"`
	}](t, body)
	if len(log.Sessions) != 1 || !log.Sessions[0].Confirmed || log.Totals.Overall.ConfirmedMinutes != 60 || len(log.Totals.Months) != 1 {
		t.Errorf("supervision log: %s", body)
	}

	res, body = jc.trainee.send("POST", "/api/v1/practice", map[string]any{"date": today, "minutes": 20, "kind": "floating"}, idem("p-bad"))
	wantStatus(t, "practice of an unknown kind", res, body, http.StatusBadRequest)
	if _, field := errorBody(t, body); field != "kind" {
		t.Errorf("practice of an unknown kind names %q", field)
	}
	res, body = jc.trainee.send("POST", "/api/v1/practice", map[string]any{"date": "yesterday", "minutes": 20, "kind": "sitting"}, idem("p-bad-date"))
	wantStatus(t, "practice with a bad date", res, body, http.StatusBadRequest)
	for i, kind := range []string{"sitting", "walking"} {
		res, body = jc.trainee.send("POST", "/api/v1/practice", map[string]any{"date": today, "minutes": 20 + i, "kind": kind}, idem("p-"+kind))
		wantStatus(t, "log practice", res, body, http.StatusCreated)
	}
	res, body = jc.trainee.send("GET", "/api/v1/practice?from="+time.Now().AddDate(0, 0, -6).Format(time.DateOnly)+"&to="+today, nil, nil)
	wantStatus(t, "practice", res, body, http.StatusOK)
	pr := decodeAs[struct {
		Summary struct {
			Minutes       int `json:"minutes"`
			CurrentStreak int `json:"currentStreak"`
			Days          []struct {
				Minutes int `json:"minutes"`
			} `json:"days"`
		} `json:"summary"`
		Sessions []struct {
			Kind string `json:"kind"`
		} `json:"sessions"`
	}](t, body)
	if pr.Summary.Minutes != 41 || pr.Summary.CurrentStreak != 1 || len(pr.Summary.Days) != 7 || len(pr.Sessions) != 2 {
		t.Errorf("practice: %s", body)
	}
	res, body = jc.trainee.send("GET", "/api/v1/practice?from=2027-13-01", nil, nil)
	wantStatus(t, "practice from a bad date", res, body, http.StatusBadRequest)
	res, body = jc.trainee.send("GET", "/api/v1/practice/visibility", nil, nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"visibility":"nothing"`) {
		t.Errorf("practice visibility: %d %s", res.StatusCode, body)
	}
	res, body = jc.trainee.send("PUT", "/api/v1/practice/visibility", map[string]any{"visibility": "everything"}, nil)
	wantStatus(t, "unknown visibility", res, body, http.StatusBadRequest)
	res, body = jc.trainee.send("PUT", "/api/v1/practice/visibility", map[string]any{"visibility": "totals"}, nil)
	wantStatus(t, "totals visibility", res, body, http.StatusOK)
	res, body = jc.supervisor.send("GET", "/api/v1/practice?owner="+jc.traineeID, nil, nil)
	wantStatus(t, "supervisor's practice totals", res, body, http.StatusOK)
	if !strings.Contains(string(body), `"minutes":41`) || !strings.Contains(string(body), `"totalsOnly":true`) {
		t.Errorf("supervisor's practice totals: %s", body)
	}
}

func TestJournalAPIExport(t *testing.T) {
	f := newFixture(t)
	jc := f.journalCast(t)
	e := createEntry(t, jc.trainee, "Exported", "First words.", "dialogism")
	res, body := jc.trainee.send("PUT", "/api/v1/journal/entries/"+e.ID, map[string]any{"baseVersion": 1, "title": "Exported", "body": "Second words."}, idem("exp-2"))
	wantStatus(t, "save", res, body, http.StatusOK)
	picture := pngWithExif(t)
	res, body = upload(jc.trainee, e.ID, "garden.png", picture)
	wantStatus(t, "upload", res, body, http.StatusCreated)
	key := decodeAs[uploaded](t, body).Attachment.Key
	res, body = jc.trainee.send("PUT", "/api/v1/journal/entries/"+e.ID+"/sharing/supervisor", map[string]any{"shared": true}, nil)
	wantStatus(t, "share", res, body, http.StatusOK)
	res, body = jc.supervisor.send("GET", "/api/v1/journal/entries/"+e.ID, nil, nil)
	wantStatus(t, "supervisor reads", res, body, http.StatusOK)
	res, body = jc.supervisor.send("POST", "/api/v1/journal/entries/"+e.ID+"/comments", map[string]any{"body": "A supervisor's comment."}, idem("exp-c"))
	wantStatus(t, "comment", res, body, http.StatusCreated)
	today := time.Now().Format(time.DateOnly)
	res, body = jc.trainee.send("POST", "/api/v1/supervision", map[string]any{"date": today, "minutes": 45, "supervisorId": jc.supervisorID, "kind": "group", "reflection": "A group reflection."}, idem("exp-sv"))
	wantStatus(t, "supervision", res, body, http.StatusCreated)
	res, body = jc.trainee.send("POST", "/api/v1/practice", map[string]any{"date": today, "minutes": 33, "kind": "sitting"}, idem("exp-pr"))
	wantStatus(t, "practice", res, body, http.StatusCreated)

	res, body = jc.trainee.send("POST", "/api/v1/me/exports", nil, nil)
	wantStatus(t, "start export", res, body, http.StatusAccepted)
	id := decodeAs[struct {
		ID string `json:"id"`
	}](t, body).ID
	var st struct {
		State       string `json:"state"`
		Done, Total int
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		res, body = jc.trainee.send("GET", "/api/v1/me/exports/"+id, nil, nil)
		wantStatus(t, "progress", res, body, http.StatusOK)
		st = decodeAs[struct {
			State       string `json:"state"`
			Done, Total int
		}](t, body)
		if st.State != "running" || time.Now().After(deadline) {
			break
		}
	}
	if st.State != "ready" || st.Done != st.Total || st.Total < 10 {
		t.Fatalf("export ended as %+v", st)
	}
	res, body = jc.trainee.send("GET", "/api/v1/me/exports/"+id+"/download", nil, nil)
	wantStatus(t, "download", res, body, http.StatusOK)
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || res.Header.Get("Content-Type") != "application/zip" {
		t.Errorf("download headers: %q %q", cd, res.Header.Get("Content-Type"))
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[zf.Name] = string(b)
	}
	dir := fmt.Sprintf("journal/%s-%s/", today, e.ID)
	stored, _, err := f.media.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	storedBytes, _ := io.ReadAll(stored)
	stored.Close()
	for name, want := range map[string]string{
		dir + "revisions/000001.md":       "First words.",
		dir + "revisions/000002.md":       "Second words.",
		dir + "revisions/000003.md":       "garden.png",
		dir + "entry.json":                `"version": 3`,
		dir + "sharing.json":              `"supervisor": true`,
		dir + "comments.json":             "A supervisor's comment.",
		dir + "media/01-garden.png":       string(storedBytes),
		"supervision.json":                "A group reflection.",
		"practice.json":                   `"minutes": 33`,
		"access-log.json":                 jc.supervisorID,
		"README.txt":                      "1 entries",
		"practice-visibility.json":        "",
		"comments-on-others-entries.json": "",
	} {
		got, ok := files[name]
		if !ok {
			t.Errorf("the export has no %s; it has %v", name, keysOf(files))
		} else if !strings.Contains(got, want) {
			t.Errorf("%s does not hold %q: %.300s", name, want, got)
		}
	}
	// Asking again starts afresh; the first export is gone with its file.
	res, body = jc.trainee.send("POST", "/api/v1/me/exports", nil, nil)
	wantStatus(t, "second export", res, body, http.StatusAccepted)
	res, body = jc.trainee.send("GET", "/api/v1/me/exports/"+id, nil, nil)
	wantStatus(t, "the first export after a second", res, body, http.StatusNotFound)
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestJournalAPIErase(t *testing.T) {
	f := newFixture(t)
	jc := f.journalCast(t)
	e := createEntry(t, jc.trainee, "To be erased", "Personal words.")
	res, body := upload(jc.trainee, e.ID, "garden.png", pngWithExif(t))
	wantStatus(t, "upload", res, body, http.StatusCreated)
	key := decodeAs[uploaded](t, body).Attachment.Key
	res, body = jc.trainee.send("PUT", "/api/v1/journal/entries/"+e.ID+"/sharing/supervisor", map[string]any{"shared": true}, nil)
	wantStatus(t, "share", res, body, http.StatusOK)
	res, body = jc.supervisor.send("POST", "/api/v1/journal/entries/"+e.ID+"/comments", map[string]any{"body": "Noted."}, idem("er-c"))
	wantStatus(t, "comment", res, body, http.StatusCreated)
	peerEntry := createEntry(t, jc.peer, "Not erased", "The peer's words.")
	consentErased := consentBeforeErasure(t, f, jc.traineeID, f.byRole[accounts.RoleTrainee].Name, e.ID, jc.peerID)

	path := "/api/v1/users/" + jc.traineeID + "/erase"
	email := f.byRole[accounts.RoleTrainee].Email
	res, body = jc.supervisor.send("POST", path, map[string]any{"confirm": email}, nil)
	wantStatus(t, "erase by a supervisor", res, body, http.StatusForbidden)
	res, body = jc.admin.send("POST", path, map[string]any{"confirm": "someone@else.example"}, nil)
	wantStatus(t, "erase with the wrong email", res, body, http.StatusBadRequest)
	if _, field := errorBody(t, body); field != "confirm" {
		t.Errorf("wrong confirmation names %q", field)
	}
	res, body = jc.admin.send("POST", "/api/v1/users/"+f.userID(t, f.byRole[accounts.RoleAdmin].Email)+"/erase", map[string]any{"confirm": f.byRole[accounts.RoleAdmin].Email}, nil)
	wantStatus(t, "erase one's own account", res, body, http.StatusBadRequest)
	res, body = jc.admin.send("GET", "/api/v1/journal/entries/"+e.ID, nil, nil)
	wantStatus(t, "admin reads the entry", res, body, http.StatusNotFound)

	res, body = jc.admin.send("POST", path, map[string]any{"confirm": strings.ToUpper(email)}, nil)
	wantStatus(t, "erase", res, body, http.StatusOK)
	report := decodeAs[struct {
		UserID    string           `json:"userId"`
		Deleted   map[string]int64 `json:"deleted"`
		MediaKeys []string         `json:"mediaKeys"`
	}](t, body)
	if report.UserID != jc.traineeID || report.Deleted["journal_revisions"] != 2 || report.Deleted["journal_comments"] != 1 || !slices.Equal(report.MediaKeys, []string{key}) {
		t.Errorf("erasure report: %s", body)
	}
	if _, err := f.media.Stat(context.Background(), key); err == nil {
		t.Errorf("the erased trainee's picture is still stored")
	}
	res, body = jc.trainee.send("GET", "/api/v1/journal/entries", nil, nil)
	wantStatus(t, "the erased trainee's session", res, body, http.StatusUnauthorized)
	res, body = jc.supervisor.send("GET", "/api/v1/journal/entries/"+e.ID, nil, nil)
	wantStatus(t, "supervisor reads the erased entry", res, body, http.StatusNotFound)
	res, body = jc.peer.send("GET", "/api/v1/journal/entries/"+peerEntry.ID, nil, nil)
	wantStatus(t, "the peer's entry", res, body, http.StatusOK)
	if u, err := f.accounts.Users.ByID(context.Background(), jc.traineeID); err != nil || !u.Disabled || u.Name != accounts.ErasedName || strings.EqualFold(u.Email, email) {
		t.Errorf("the erased account should be disabled, named %q and without the person's address: %+v %v", accounts.ErasedName, u, err)
	}
	if _, err := f.accounts.Users.ByEmail(context.Background(), email); err == nil {
		t.Errorf("the erased person's address still finds the account")
	}
	res, body = jc.admin.do("GET", "/admin/people/"+jc.traineeID, nil)
	wantStatus(t, "the erased person's page", res, body, http.StatusOK)
	if strings.Contains(string(body), f.byRole[accounts.RoleTrainee].Name) || strings.Contains(string(body), email) {
		t.Errorf("the erased person's page still names them")
	}
	consentErased()
}
