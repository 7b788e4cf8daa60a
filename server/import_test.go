package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/audit"
	"polyphony/internal/demo"
	"polyphony/internal/roster"
)

// importFile is a cohort's people: two new trainees with a new supervisor.
const importFile = "email,name,role,trust,peer worker,supervisor email\n" +
	"ivy@nhs.example,Ivy Import,trainee," + demo.TrustName + ",yes,sid@nhs.example\n" +
	"jo@nhs.example,Jo Import,trainee,,no,sid@nhs.example\n" +
	"sid@nhs.example,Sid Supervisor,supervisor,,,\n"

func newImportCohort(t *testing.T, f *fixture) courses.Cohort {
	t.Helper()
	co, err := f.courses.CreateCohort(context.Background(), courses.NewCohort{Name: "Import cohort " + randomWord(), StartDate: time.Date(2027, 9, 6, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return co
}

func TestImportCohortPeopleThroughTheAPI(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	co := newImportCohort(t, f)
	api := f.signedIn(t, accounts.RoleAdmin)
	path := "/api/v1/cohorts/" + co.ID + "/people"
	send := func(query, body string) (int, []byte) {
		res, b := api.doWith("POST", path+query, body, map[string]string{"Content-Type": "text/csv"})
		return res.StatusCode, b
	}

	// Every problem, each with its line, and nothing stored.
	facilitator := f.byRole[accounts.RoleFacilitator].Email
	code, body := send("", "email,name,role,trust,supervisor email\n"+
		"new@nhs.example,New Person,trainee,No Such Trust,nobody@nhs.example\n"+
		facilitator+",Facilitator,supervisor,,\n")
	var bad struct{ Problems []string }
	if code != http.StatusBadRequest || json.Unmarshal(body, &bad) != nil || len(bad.Problems) != 3 {
		t.Fatalf("a file with problems: %d %s", code, body)
	}
	for i, want := range []string{`line 2: no trust is called "No Such Trust"`, "line 2: the supervisor nobody@nhs.example is not in the file or the cohort", "line 3: " + facilitator + " has a facilitator's account"} {
		if !strings.HasPrefix(bad.Problems[i], want) {
			t.Errorf("problem %d: %q, want it to start %q", i, bad.Problems[i], want)
		}
	}
	if _, err := f.accounts.Users.ByEmail(ctx, "new@nhs.example"); err == nil {
		t.Error("a refused file made an account")
	}

	// The preview stores nothing.
	code, body = send("?preview=true", importFile)
	if code != http.StatusOK || !strings.Contains(string(body), `"summary":"3 new accounts, 3 added to the cohort, 2 given a supervisor, 0 unchanged."`) {
		t.Fatalf("preview: %d %s", code, body)
	}
	if ms, _ := f.courses.Members(ctx, co.ID); len(ms) != 0 {
		t.Errorf("the preview stored %d members", len(ms))
	}

	code, body = send("", importFile)
	var res roster.Result
	if code != http.StatusOK || json.Unmarshal(body, &res) != nil || res.Created != 3 || res.Joined != 3 || res.Supervised != 2 || len(res.Invitations) != 3 {
		t.Fatalf("import: %d %s", code, body)
	}
	for _, inv := range res.Invitations {
		if inv.Emailed || !strings.Contains(inv.Link, "/password?link=ppl_") {
			t.Errorf("invitation %+v: with no email set up, want its link", inv)
		}
	}
	ivy, err := f.accounts.Users.ByEmail(ctx, "ivy@nhs.example")
	if err != nil || !ivy.PeerWorker || ivy.TrustID == "" || ivy.HasPassword() {
		t.Errorf("Ivy's account: %+v %v", ivy, err)
	}
	sid, _ := f.accounts.Users.ByEmail(ctx, "sid@nhs.example")
	m, err := f.courses.Member(ctx, co.ID, sid.ID)
	if err != nil || m.Role != accounts.RoleSupervisor || len(m.Supervises) != 2 {
		t.Errorf("Sid's membership: %+v %v", m, err)
	}

	// Again: nothing changes, and nobody is invited twice.
	code, body = send("", importFile)
	if code != http.StatusOK || json.Unmarshal(body, &res) != nil || res.Created+res.Joined+res.Supervised != 0 || res.Unchanged != 3 || len(res.Invitations) != 0 {
		t.Errorf("import again: %d %s", code, body)
	}

	// The export is the file an import reads, with what was stored.
	resp, csv := api.do("GET", path, nil)
	rows, err := roster.Parse(bytes.NewReader(csv))
	if resp.StatusCode != http.StatusOK || err != nil || len(rows) != 3 {
		t.Fatalf("export: %d %v\n%s", resp.StatusCode, err, csv)
	}
	byEmail := map[string]roster.Row{}
	for _, r := range rows {
		byEmail[r.Email] = r
	}
	if r := byEmail["ivy@nhs.example"]; r.Supervisor != "sid@nhs.example" || r.Trust != demo.TrustName || !r.PeerWorker || r.Role != accounts.RoleTrainee {
		t.Errorf("Ivy exported as %+v", r)
	}

	page, err := f.audit.List(ctx, audit.Filter{SubjectID: co.ID, Action: audit.PeopleImported})
	if err != nil || len(page.Entries) != 1 {
		t.Errorf("the import is logged %d times, want once (the second changed nothing): %v", len(page.Entries), err)
	}
}

// The page previews an uploaded file, imports it when asked, and lists a bad file's problems.
func TestImportCohortPeopleOnThePage(t *testing.T) {
	f := newFixture(t)
	co := newImportCohort(t, f)
	admin := f.client(t)
	al := f.byRole[accounts.RoleAdmin]
	if code := signInPage(t, admin, al.Email, al.Password); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	page := "/cohorts/" + co.ID + "/import"
	tok := formToken(t, admin, page)
	upload := func(file string) (*http.Response, string) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		w.WriteField("csrf", tok)
		fw, _ := w.CreateFormFile("file", "people.csv")
		fw.Write([]byte(file))
		w.Close()
		res, body := admin.doWith("POST", page, b.Bytes(), map[string]string{"Content-Type": w.FormDataContentType()})
		return res, string(body)
	}
	res, body := upload("email,name,role\nbad address,X,trainee\nok@nhs.example,,chief\n")
	for _, want := range []string{`line 2: &#34;bad address&#34; is not an email address`, "line 3: the name is missing", `line 3: &#34;chief&#34; is not a role in a cohort`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page does not list %q", want)
		}
	}
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad file: %d", res.StatusCode)
	}
	res, body = upload(importFile)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Import these people") || !strings.Contains(body, "new account, sent an invitation") {
		t.Fatalf("preview: %d\n%s", res.StatusCode, body)
	}
	confirm := csrfInput.FindStringSubmatch(body)
	res, raw := admin.do("POST", page, url.Values{"csrf": {confirm[1]}, "confirm": {"yes"}, "csv": {importFile}})
	if res.StatusCode != http.StatusOK || !strings.Contains(string(raw), "Imported: 3 new accounts") || strings.Count(string(raw), `class="invitation-url"`) != 3 {
		t.Errorf("import: %d\n%s", res.StatusCode, raw)
	}
	res, body = upload(importFile)
	if !strings.Contains(body, "importing it changes nothing") || strings.Contains(body, "Import these people") {
		t.Errorf("the same file again: %d, want it to say nothing changes", res.StatusCode)
	}
}
