package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/internal/accounts"
)

// TestJournalAccessMatrix sends every journal, media, comment, supervision and practice
// route, as each kind of person, a request that would succeed for someone allowed, over a
// trainee's private entry, an entry shared with supervisors and one submitted to the
// assessors. It counts the answers that handed over something the caller may not read
// (which must be none) and the allowed requests that failed (also none).
func TestJournalAccessMatrix(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jc := f.journalCast(t)

	// A second cohort, with its own trainee and supervisor: neither is anything to the
	// demo trainee, however the entries are shared.
	trust, err := f.courses.Trusts(ctx)
	if err != nil || len(trust) == 0 {
		t.Fatalf("trusts: %v", err)
	}
	other, err := f.courses.CreateCohort(ctx, courses.NewCohort{Name: "Second cohort", StartDate: time.Now(), TrustIDs: []string{trust[0].ID}})
	if err != nil {
		t.Fatal(err)
	}
	outsider := func(email string, role accounts.Role) *client {
		u, err := f.accounts.Users.Create(ctx, accounts.NewUser{Email: email, Name: "Someone Else", Role: role, Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.courses.Enrol(ctx, other.ID, u.ID, role); err != nil {
			t.Fatal(err)
		}
		return f.signInAs(t, email, "a long enough password")
	}
	// A supervisor of the demo cohort who supervises the other trainee only: what the owner
	// shares with "my supervisor" is not theirs.
	peersSupervisor := func() *client {
		const email = "peers.supervisor@nhs.example"
		u, err := f.accounts.Users.Create(ctx, accounts.NewUser{Email: email, Name: "Peer's Supervisor", Role: accounts.RoleSupervisor, Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		cohort := f.demoCohort(t)
		if _, err := f.courses.Enrol(ctx, cohort.ID, u.ID, accounts.RoleSupervisor); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.courses.ChangeMember(ctx, cohort.ID, u.ID, courses.MemberChange{Role: accounts.RoleSupervisor, Supervises: []string{jc.peerID}}); err != nil {
			t.Fatal(err)
		}
		return f.signInAs(t, email, "a long enough password")
	}
	callers := []struct {
		name string
		c    *client
	}{
		{"owner", jc.trainee},
		{"another trainee", jc.peer},
		{"trainee of another cohort", outsider("other.trainee@nhs.example", accounts.RoleTrainee)},
		{"supervisor", jc.supervisor},
		{"supervisor of another cohort", outsider("other.supervisor@nhs.example", accounts.RoleSupervisor)},
		{"the other trainee's supervisor", peersSupervisor()},
		{"assessor", jc.assessor},
		{"admin", jc.admin},
		{"anonymous", f.client(t)},
	}

	// The owner's records, each holding a marker that only those allowed may see.
	type entry struct {
		id, marker, key string
	}
	entries := map[string]*entry{}
	for _, name := range []string{"private", "supervisor", "assessors"} {
		marker := "SECRET-" + strings.ToUpper(name)
		e := createEntry(t, jc.trainee, "TITLE-"+name, marker+" is what I wrote.")
		res, body := upload(jc.trainee, e.ID, name+".png", pngWithExif(t))
		wantStatus(t, "upload", res, body, http.StatusCreated)
		entries[name] = &entry{id: e.ID, marker: marker, key: decodeAs[uploaded](t, body).Attachment.Key}
		if name != "private" {
			res, body = jc.trainee.send("PUT", "/api/v1/journal/entries/"+e.ID+"/sharing/"+name, map[string]any{"shared": true}, nil)
			wantStatus(t, "share", res, body, http.StatusOK)
			res, body = jc.trainee.send("POST", "/api/v1/journal/entries/"+e.ID+"/comments", map[string]any{"body": "COMMENT-" + name, "audience": name}, idem("c-"+name))
			wantStatus(t, "comment", res, body, http.StatusCreated)
		}
	}
	today := time.Now().Format(time.DateOnly)
	res, body := jc.trainee.send("POST", "/api/v1/supervision", map[string]any{"date": today, "minutes": 60, "supervisorId": jc.supervisorID,
		"kind": "individual", "reflection": "SECRET-SUPERVISION reflection"}, idem("sv-1"))
	wantStatus(t, "log supervision", res, body, http.StatusCreated)
	session := decodeAs[struct {
		ID string `json:"id"`
	}](t, body).ID
	res, body = jc.trainee.send("POST", "/api/v1/practice", map[string]any{"date": today, "minutes": 37, "kind": "walking"}, idem("pr-1"))
	wantStatus(t, "log practice", res, body, http.StatusCreated)
	res, body = jc.trainee.send("POST", "/api/v1/me/exports", nil, nil)
	wantStatus(t, "export", res, body, http.StatusAccepted)
	exportID := decodeAs[struct {
		ID string `json:"id"`
	}](t, body).ID

	type rcase struct {
		name, method, path string
		body               func() any
		headers            map[string]string
		allowed            []string // callers for whom it succeeds
		// marker, when set, is what a leak would show: an answer without it handed over
		// nothing (lists answer 200 with only what the caller may see).
		marker string
		skip   []string // callers not sent this request
	}
	owner := []string{"owner"}
	readers := map[string][]string{"private": owner, "supervisor": {"owner", "supervisor"}, "assessors": {"owner", "assessor"}}
	commenters := map[string][]string{"private": nil, "supervisor": {"owner", "supervisor"}, "assessors": {"owner", "assessor"}}
	version := func(id string) int {
		res, body := jc.trainee.send("GET", "/api/v1/journal/entries/"+id, nil, nil)
		wantStatus(t, "owner reads", res, body, http.StatusOK)
		return decodeAs[jEntry](t, body).Version
	}
	var cases []rcase
	n := 0
	fresh := func() string {
		n++
		return "matrix-" + time.Now().Format("150405.000000") + "-" + strings.Repeat("x", n%3) + string(rune('a'+n%26))
	}
	for _, name := range []string{"private", "supervisor", "assessors"} {
		e := entries[name]
		p := "/api/v1/journal/entries/" + e.id
		cases = append(cases,
			rcase{name: "read " + name, method: "GET", path: p, allowed: readers[name]},
			rcase{name: "list " + name, method: "GET", path: "/api/v1/journal/entries?owner=" + jc.traineeID, allowed: readers[name], marker: "TITLE-" + name},
			rcase{name: "history " + name, method: "GET", path: p + "/revisions", allowed: owner},
			rcase{name: "revision " + name, method: "GET", path: p + "/revisions/1", allowed: owner},
			rcase{name: "media URL " + name, method: "GET", path: p + "/media?key=" + url.QueryEscape(e.key), allowed: readers[name]},
			rcase{name: "comments " + name, method: "GET", path: p + "/comments", allowed: readers[name]},
			rcase{name: "save " + name, method: "PUT", path: p, allowed: owner,
				body: func() any {
					return map[string]any{"baseVersion": version(e.id), "title": "TITLE-" + name, "body": e.marker + " again."}
				}},
			rcase{name: "restore " + name, method: "POST", path: p + "/revisions/1/restore", allowed: owner,
				body: func() any { return map[string]any{"baseVersion": version(e.id)} }},
			rcase{name: "upload " + name, method: "POST", path: p + "/media?name=more.png", allowed: owner, body: func() any { return pngWithExif(t) }},
			rcase{name: "detach " + name, method: "DELETE", path: p + "/media?key=journal/2030/00000000000000000000000000000000.png", allowed: owner},
			rcase{name: "share " + name, method: "PUT", path: p + "/sharing/supervisor", allowed: owner,
				body: func() any { return map[string]any{"shared": name == "supervisor"} }},
			rcase{name: "submit " + name, method: "PUT", path: p + "/sharing/assessors", allowed: owner,
				body: func() any { return map[string]any{"shared": name == "assessors"} }},
			rcase{name: "comment " + name, method: "POST", path: p + "/comments", allowed: commenters[name],
				body: func() any {
					return map[string]any{"body": "A comment.", "audience": map[bool]string{true: name}[name != "private"]}
				}},
		)
	}
	cases = append(cases,
		rcase{name: "supervision log", method: "GET", path: "/api/v1/supervision?trainee=" + jc.traineeID, allowed: []string{"owner", "supervisor"}, marker: "SECRET-SUPERVISION"},
		rcase{name: "supervision to confirm", method: "GET", path: "/api/v1/supervision/to-confirm", allowed: []string{"supervisor"}, marker: "SECRET-SUPERVISION"},
		rcase{name: "confirm supervision", method: "POST", path: "/api/v1/supervision/" + session + "/confirm", allowed: []string{"supervisor"}},
		rcase{name: "practice", method: "GET", path: "/api/v1/practice?owner=" + jc.traineeID, allowed: owner},
		rcase{name: "practice this year", method: "GET", path: "/api/v1/practice?owner=" + jc.traineeID + "&from=" + time.Now().AddDate(0, -1, 0).Format(time.DateOnly), allowed: owner},
		rcase{name: "export progress", method: "GET", path: "/api/v1/me/exports/" + exportID, allowed: owner},
		rcase{name: "access log", method: "GET", path: "/api/v1/me/access-log", allowed: owner, marker: `"ownerId":"` + jc.traineeID},
		rcase{name: "notifications", method: "GET", path: "/api/v1/me/notifications", allowed: []string{"owner", "supervisor", "assessor"}, marker: `"ownerId":"` + jc.traineeID},
		// The administrator's erasure is TestJournalAPIErase's.
		rcase{name: "erase", method: "POST", path: "/api/v1/users/" + jc.traineeID + "/erase", allowed: []string{"admin"}, skip: []string{"admin"},
			body: func() any { return map[string]any{"confirm": f.byRole[accounts.RoleTrainee].Email} }},
	)

	unexpected, refused, answers := 0, 0, 0
	for _, tc := range cases {
		// The owner goes last, so that a change they make does not alter what the others
		// are refused.
		for _, cl := range append(slices.Clone(callers[1:]), callers[0]) {
			if slices.Contains(tc.skip, cl.name) {
				continue
			}
			var b any
			if tc.body != nil {
				b = tc.body()
			} else if tc.method != "GET" && tc.method != "DELETE" {
				b = map[string]any{}
			}
			res, body := cl.c.send(tc.method, tc.path, b, idem(fresh()))
			answers++
			ok := res.StatusCode >= 200 && res.StatusCode < 300
			allowed := slices.Contains(tc.allowed, cl.name)
			switch {
			case !allowed && ok && (tc.marker == "" || bytes.Contains(body, []byte(tc.marker))):
				unexpected++
				t.Errorf("%s as %s: %d %.300s", tc.name, cl.name, res.StatusCode, body)
			case allowed && (!ok || tc.marker != "" && !bytes.Contains(body, []byte(tc.marker))):
				refused++
				t.Errorf("%s as %s: %d %.300s, want success", tc.name, cl.name, res.StatusCode, body)
			}
			if !allowed && !ok && res.StatusCode >= 500 {
				t.Errorf("%s as %s: %d", tc.name, cl.name, res.StatusCode)
			}
		}
	}

	// Practice totals, once the trainee lets supervisors see them: the supervisor gets
	// totals and nothing else; nobody else gets anything.
	res, body = jc.trainee.send("PUT", "/api/v1/practice/visibility", map[string]any{"visibility": "totals"}, nil)
	wantStatus(t, "practice visibility", res, body, http.StatusOK)
	for _, cl := range callers {
		res, body := cl.c.send("GET", "/api/v1/practice?owner="+jc.traineeID, nil, nil)
		answers++
		ok := res.StatusCode == http.StatusOK
		switch cl.name {
		case "owner":
			if !ok || !strings.Contains(string(body), `"byKind":{"walking":37}`) {
				refused++
				t.Errorf("owner's practice: %d %s", res.StatusCode, body)
			}
		case "supervisor":
			if !ok || !strings.Contains(string(body), `"totalsOnly":true`) || !strings.Contains(string(body), `"sessions":[]`) || strings.Contains(string(body), "walking") {
				unexpected++
				t.Errorf("supervisor's view of practice totals: %d %s", res.StatusCode, body)
			}
		default:
			if ok {
				unexpected++
				t.Errorf("practice as %s: %d %s", cl.name, res.StatusCode, body)
			}
		}
	}

	// Exports hold only the caller's own records; the owner's can be downloaded by the
	// owner alone.
	for _, cl := range callers[1:] {
		res, _ := cl.c.send("GET", "/api/v1/me/exports/"+exportID+"/download", nil, nil)
		answers++
		if res.StatusCode/100 == 2 {
			unexpected++
			t.Errorf("download of the owner's export as %s: %d", cl.name, res.StatusCode)
		}
		if cl.name == "anonymous" {
			continue
		}
		zipped := runExport(t, cl.c)
		for _, e := range entries {
			if strings.Contains(zipped, e.marker) || strings.Contains(zipped, "SECRET-SUPERVISION") {
				unexpected++
				t.Errorf("the export of %s holds the owner's records", cl.name)
			}
		}
	}

	// Nothing the others tried changed the owner's records: sharing is as it was, and the
	// notifications the others marked are their own.
	for name, e := range entries {
		res, body := jc.trainee.send("GET", "/api/v1/journal/entries/"+e.id, nil, nil)
		v := decodeAs[jEntry](t, body)
		if res.StatusCode != 200 || v.Sharing.Supervisor != (name == "supervisor") || v.Sharing.Assessors != (name == "assessors") {
			t.Errorf("the sharing of %s changed: %s", name, body)
		}
	}
	// The access log names only the supervisor and the assessor as readers.
	res, body = jc.trainee.send("GET", "/api/v1/me/access-log", nil, nil)
	recs := decodeAs[struct {
		Records []struct {
			ViewerID string `json:"viewerId"`
			As       string `json:"as"`
		} `json:"records"`
	}](t, body).Records
	readersSeen := map[string]bool{}
	for _, r := range recs {
		readersSeen[r.As] = true
	}
	if len(recs) == 0 || len(readersSeen) != 2 || !readersSeen["supervisor"] || !readersSeen["assessor"] {
		t.Errorf("the access log shows reads as %v", readersSeen)
	}
	t.Logf("%d answers over %d cases × %d callers: %d unexpected reads or changes, %d allowed requests refused",
		answers, len(cases), len(callers), unexpected, refused)
}

// runExport asks for an export as c, waits for it and returns the text of every file in
// the zip, joined.
func runExport(t *testing.T, c *client) string {
	t.Helper()
	res, body := c.send("POST", "/api/v1/me/exports", nil, nil)
	wantStatus(t, "start export", res, body, http.StatusAccepted)
	id := decodeAs[struct {
		ID string `json:"id"`
	}](t, body).ID
	deadline := time.Now().Add(time.Minute)
	for {
		res, body = c.send("GET", "/api/v1/me/exports/"+id, nil, nil)
		wantStatus(t, "export progress", res, body, http.StatusOK)
		st := decodeAs[struct {
			State string `json:"state"`
		}](t, body).State
		if st == "ready" {
			break
		}
		if st != "running" || time.Now().After(deadline) {
			t.Fatalf("export: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	res, body = c.send("GET", "/api/v1/me/exports/"+id+"/download", nil, nil)
	wantStatus(t, "download export", res, body, http.StatusOK)
	return unzipAll(t, body)
}

// unzipAll returns the text of every file in a zip, each after its name, joined.
func unzipAll(t *testing.T, body []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("export is not a zip: %v", err)
	}
	var all strings.Builder
	for _, zf := range zr.File {
		all.WriteString("== " + zf.Name + "\n")
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		all.Write(b)
		all.WriteString("\n")
	}
	return all.String()
}
