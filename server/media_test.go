package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/internal/accounts"
)

// TestLocalMediaURLs serves local media through links that carry the grant they were issued
// under: headers, ranges, a key or grant changed, no signature, expiry, a missing object.
func TestLocalMediaURLs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	l := f.byRole[accounts.RoleTrainee]
	me := courses.Viewer{UserID: f.userID(t, l.Email), Role: accounts.RoleTrainee}
	e, err := f.journals.Create(ctx, me, courses.Draft{Title: "Voice notes"}, "media-urls")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []struct{ key, ctype, body, recorded string }{
		{"journal/a1/voice.ogg", "audio/ogg", "OggS-pretend-audio", "audio/ogg"},
		{"journal/a1/notes.bin", "application/octet-stream", "MZ-binary", "image/png"}, // a record that does not match its object
	} {
		if _, err := f.media.Put(ctx, o.key, strings.NewReader(o.body), int64(len(o.body)), o.ctype); err != nil {
			t.Fatal(err)
		}
		kind := courses.MediaKind(strings.Split(o.recorded, "/")[0])
		if _, err := f.journals.AddAttachment(ctx, me, e.ID, courses.Attachment{Key: o.key, Kind: kind, ContentType: o.recorded, Size: int64(len(o.body)), Name: "file"}); err != nil {
			t.Fatal(err)
		}
	}
	grant := e.ID + "." + me.UserID
	signed, err := f.media.SignedURLWith(ctx, "journal/a1/voice.ogg", grant, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(signed)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "audio/ogg" || res.Header.Get("Content-Disposition") != "inline" {
		t.Errorf("signed audio: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	if !strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("media CSP %q: want a sandbox", res.Header.Get("Content-Security-Policy"))
	}
	// Players seek: a range request gets 206 with just that part.
	req, _ := http.NewRequest("GET", signed, nil)
	req.Header.Set("Range", "bytes=0-3")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusPartialContent || res.ContentLength != 4 {
		t.Errorf("range: %v %v", res.StatusCode, err)
	}

	bin, _ := f.media.SignedURLWith(ctx, "journal/a1/notes.bin", grant, time.Minute)
	if res, _ := http.Get(bin); res.Header.Get("Content-Disposition") != "attachment" {
		t.Errorf("binary disposition %q, want attachment", res.Header.Get("Content-Disposition"))
	}
	tampered := strings.Replace(signed, "voice.ogg", "notes.bin", 1)
	if res, _ := http.Get(tampered); res.StatusCode != http.StatusForbidden {
		t.Errorf("URL with another key: %d, want 403", res.StatusCode)
	}
	if res, _ := http.Get(f.ts.URL + "/media/journal/a1/voice.ogg"); res.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned: %d, want 403", res.StatusCode)
	}
	// The grant is signed: it cannot be dropped or changed.
	ungranted, _ := f.media.SignedURL(ctx, "journal/a1/voice.ogg", time.Minute)
	if res, _ := http.Get(ungranted); res.StatusCode != http.StatusForbidden {
		t.Errorf("signed without a grant: %d, want 403", res.StatusCode)
	}
	if res, _ := http.Get(strings.Replace(signed, "&g="+grant, "", 1)); res.StatusCode != http.StatusForbidden {
		t.Errorf("grant removed: %d, want 403", res.StatusCode)
	}
	if res, _ := http.Get(strings.Replace(signed, "&g="+e.ID, "&g="+e.ID+"x", 1)); res.StatusCode != http.StatusForbidden {
		t.Errorf("grant changed: %d, want 403", res.StatusCode)
	}
	expired, _ := f.media.SignedURLWith(ctx, "journal/a1/voice.ogg", grant, time.Second)
	time.Sleep(3100 * time.Millisecond) // expiry is kept in whole seconds, rounded up
	if res, _ := http.Get(expired); res.StatusCode != http.StatusForbidden {
		t.Errorf("expired: %d, want 403", res.StatusCode)
	}
	missing, _ := f.media.SignedURLWith(ctx, "journal/none.ogg", grant, time.Minute)
	if res, _ := http.Get(missing); res.StatusCode != http.StatusNotFound {
		t.Errorf("a key not in the entry: %d, want 404", res.StatusCode)
	}
}

// TestMediaLinkEndsWithTheShare issues media links to a supervisor through the API and the
// entry's page, then revokes the share: the links already issued stop on their next use,
// while the author's own keep working. Disabling an account ends its links too.
func TestMediaLinkEndsWithTheShare(t *testing.T) {
	f := newFixture(t)
	jc := f.journalCast(t)
	e := createEntry(t, jc.trainee, "Shared picture", "From the residential.")
	res, body := upload(jc.trainee, e.ID, "garden.png", pngWithExif(t))
	wantStatus(t, "upload", res, body, http.StatusCreated)
	path := "/api/v1/journal/entries/" + e.ID
	res, body = jc.trainee.send("PUT", path+"/sharing/supervisor", map[string]any{"shared": true}, nil)
	wantStatus(t, "share", res, body, http.StatusOK)

	links := func(c *client) []string {
		t.Helper()
		res, body := c.send("GET", path, nil, nil)
		wantStatus(t, "read the entry", res, body, http.StatusOK)
		got := decodeAs[jEntry](t, body)
		if len(got.Media) != 1 {
			t.Fatalf("media: %s", body)
		}
		res, page := c.do("GET", "/journal/"+e.ID, nil)
		m := mediaSrc.FindSubmatch(page)
		if res.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("entry page: %d, media link found: %v", res.StatusCode, m != nil)
		}
		return []string{got.Media[0].URL, strings.ReplaceAll(string(m[1]), "&amp;", "&")}
	}
	fetch := func(link string) int {
		t.Helper()
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.Get(f.ts.URL + u.RequestURI()) // no cookie: the link alone
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	supervisors, owners := links(jc.supervisor), links(jc.trainee)
	for _, l := range append(supervisors, owners...) {
		if got := fetch(l); got != http.StatusOK {
			t.Fatalf("%s before revoking: %d", l, got)
		}
	}
	res, body = jc.trainee.send("PUT", path+"/sharing/supervisor", map[string]any{"shared": false}, nil)
	wantStatus(t, "revoke", res, body, http.StatusOK)
	for _, l := range supervisors {
		if got := fetch(l); got != http.StatusNotFound {
			t.Errorf("the supervisor's link %s after revoking: %d, want 404", l, got)
		}
	}
	for _, l := range owners {
		if got := fetch(l); got != http.StatusOK {
			t.Errorf("the author's link %s after revoking: %d, want 200", l, got)
		}
	}
	if _, err := f.accounts.SetDisabled(context.Background(), jc.traineeID, true); err != nil {
		t.Fatal(err)
	}
	for _, l := range owners {
		if got := fetch(l); got != http.StatusNotFound {
			t.Errorf("the author's link %s once the account is disabled: %d, want 404", l, got)
		}
	}
}

// mediaSrc finds a media link on a page.
var mediaSrc = regexp.MustCompile(`src="([^"]*/media/[^"]+)"`)
