package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"polyphony/courses"
	"polyphony/internal/accounts"
	"polyphony/internal/mail"
	"polyphony/internal/notify"
)

// noJournalText fails the test if any email received holds one of the words a person wrote.
func (f *fixture) noJournalText(t *testing.T, written ...string) {
	t.Helper()
	for _, s := range f.mailpit.Messages(t) {
		m := f.mailpit.Message(t, s.ID)
		for _, w := range written {
			if strings.Contains(m.Subject, w) || strings.Contains(m.Text, w) || strings.Contains(m.HTML, w) {
				t.Errorf("the email %q to %s holds %q, which a person wrote", m.Subject, m.To[0].Address, w)
			}
		}
	}
}

// Sharing an entry emails the supervisors, submitting it the assessors, and a comment by
// someone else its author; a request that changes nothing, and a retried comment, send
// nothing more; no email holds the entry's or the comment's words.
func TestJournalEventsEmailed(t *testing.T) {
	f := newFixture(t, withMailServer())
	jc := f.journalCast(t)
	trainee, supervisor, assessor := f.byRole[accounts.RoleTrainee], f.byRole[accounts.RoleSupervisor], f.byRole[accounts.RoleAssessor]
	title, body, remark := "Tidewater evening", "A private worry about Ferncliff ward", "Marram grass and patience"
	e := createEntry(t, jc.trainee, title, body)
	share := func(audience string, shared bool) {
		t.Helper()
		res, b := jc.trainee.send("PUT", "/api/v1/journal/entries/"+e.ID+"/sharing/"+audience, map[string]bool{"shared": shared}, nil)
		wantStatus(t, "share with "+audience, res, b, http.StatusOK)
	}
	comment := func(c *client, audience, text, key string) {
		t.Helper()
		res, b := c.send("POST", "/api/v1/journal/entries/"+e.ID+"/comments", map[string]string{"body": text, "audience": audience}, idem(key))
		wantStatus(t, "comment", res, b, http.StatusCreated)
	}

	share("supervisor", true)
	m := f.mailTo(t, supervisor.Email, trainee.Name+" shared a journal entry with you")
	if !strings.Contains(m.Text, f.ts.URL+"/journal/"+e.ID) {
		t.Errorf("the shared-entry email does not link to the entry:\n%s", m.Text)
	}
	share("supervisor", true) // changes nothing

	comment(jc.supervisor, "", remark, "remark-1")
	comment(jc.supervisor, "", remark, "remark-1") // a retry
	m = f.mailTo(t, trainee.Email, supervisor.Name+" commented on your journal entry")
	if !strings.Contains(m.Text, f.ts.URL+"/journal/"+e.ID+"#comments") {
		t.Errorf("the comment email does not link to the comments:\n%s", m.Text)
	}
	comment(jc.trainee, "supervisor", "My own answer, Saltmarsh", "answer-1")

	share("assessors", true)
	f.mailTo(t, assessor.Email, trainee.Name+" submitted a journal entry to you")
	share("assessors", true) // changes nothing

	// The author turns comment emails off: the next comment is not emailed.
	if err := f.email.SetPreferences(context.Background(), jc.traineeID, []mail.Kind{mail.KindEntryComment}); err != nil {
		t.Fatal(err)
	}
	comment(jc.supervisor, "", "Another remark", "remark-2")

	f.settle()
	count := func(address, subject string) int {
		n := 0
		for _, s := range f.mailsTo(t, address) {
			if strings.Contains(s, subject) {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		to, subject string
		want        int
	}{
		{supervisor.Email, "shared a journal entry with you", 1},
		{supervisor.Email, "commented", 0},
		{trainee.Email, "commented on your journal entry", 1},
		{assessor.Email, "submitted a journal entry to you", 1},
		{assessor.Email, "shared", 0},
	} {
		if got := count(c.to, c.subject); got != c.want {
			t.Errorf("emails to %s about %q: %d, want %d", c.to, c.subject, got, c.want)
		}
	}
	for _, l := range f.logins {
		if l.Role == accounts.RoleTrainee && l.Email != trainee.Email {
			if got := f.mailsTo(t, l.Email); len(got) != 0 {
				t.Errorf("another trainee was emailed: %q", got)
			}
		}
	}
	f.noJournalText(t, title, body, remark, "Saltmarsh", "Another remark")

	// Through the pages too: a comment from the form is emailed once turned back on.
	if err := f.email.SetPreferences(context.Background(), jc.traineeID, nil); err != nil {
		t.Fatal(err)
	}
	sv := f.client(t)
	if code := signInPage(t, sv, supervisor.Email, supervisor.Password); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	tok := formToken(t, sv, "/journal/"+e.ID)
	res, _ := sv.do("POST", "/journal/"+e.ID+"/comments", url.Values{"csrf": {tok}, "body": {"From the page"}, "key": {"page-remark"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("comment from the page: %d", res.StatusCode)
	}
	// The author stops sharing on the page and shares again: a new sharing, told again.
	tr := f.client(t)
	if code := signInPage(t, tr, trainee.Email, trainee.Password); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	for _, shared := range []string{"false", "true"} {
		tok := formToken(t, tr, "/journal/"+e.ID)
		res, _ := tr.do("POST", "/journal/"+e.ID+"/sharing", url.Values{"csrf": {tok}, "audience": {"supervisor"}, "shared": {shared}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("share %s from the page: %d", shared, res.StatusCode)
		}
	}
	deadline := time.Now().Add(mailWait)
	for count(trainee.Email, "commented on your journal entry") < 2 || count(supervisor.Email, "shared a journal entry with you") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the comment and the sharing made on the pages were not emailed: %q, %q", f.mailsTo(t, trainee.Email), f.mailsTo(t, supervisor.Email))
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.settle()
	if got := count(supervisor.Email, "shared a journal entry with you"); got != 2 {
		t.Errorf("share emails to the supervisor: %d, want 2", got)
	}
}

// An assessment for a cohort emails its trainees once it is open: at once when it is saved
// open, and when its opening time comes (the notifier's job) otherwise; once each.
func TestAssessmentOpeningEmailed(t *testing.T) {
	f := newFixture(t, withMailServer())
	ctx := context.Background()
	assessor := f.signedIn(t, accounts.RoleAssessor)
	bank := newBank(t, assessor, "Principles")
	res, body := assessor.sendText("/api/v1/banks/"+bank+"/import?format=aiken", moodleAiken)
	decode[importAnswer](t, res, body, http.StatusOK)
	res, body = assessor.do("GET", "/api/v1/banks/"+bank+"/questions", nil)
	qs := decode[[]questionAnswer](t, res, body, http.StatusOK)
	cohort := f.demoCohort(t)
	create := func(title string, opens time.Time) string {
		t.Helper()
		in := map[string]any{"title": title, "bankId": bank, "cohortId": cohort.ID, "questions": []string{qs[0].ID}, "passMark": 50}
		if !opens.IsZero() {
			in["opens"] = opens.UTC().Format(time.RFC3339)
		}
		res, body := assessor.do("POST", "/api/v1/assessments", in)
		return decode[struct {
			ID string `json:"id"`
		}](t, res, body, http.StatusCreated).ID
	}
	var trainees []string
	for _, l := range f.logins {
		if l.Role == accounts.RoleTrainee {
			trainees = append(trainees, l.Email)
		}
	}
	openID := create("Open now", time.Time{})
	for _, to := range trainees {
		m := f.mailTo(t, to, "Assessment open: Open now")
		if !strings.Contains(m.Text, f.ts.URL+"/assessments/"+openID) {
			t.Errorf("the email does not link to the assessment:\n%s", m.Text)
		}
	}

	opens := time.Now().Add(time.Hour).Truncate(time.Second)
	create("Opens later", opens)
	if n, err := f.notify.AssessmentsOpening(ctx, time.Now()); err != nil || n != 0 {
		t.Errorf("before it opens: %d emails, %v; want none", n, err)
	}
	if n, err := f.notify.AssessmentsOpening(ctx, opens.Add(time.Minute)); err != nil || n != len(trainees) {
		t.Errorf("once it opens: %d emails, %v; want %d", n, err, len(trainees))
	}
	if n, err := f.notify.AssessmentsOpening(ctx, opens.Add(20*time.Minute)); err != nil || n != 0 {
		t.Errorf("the job again: %d emails, %v; want none", n, err)
	}
	for _, to := range trainees {
		f.mailTo(t, to, "Assessment open: Opens later")
	}
	f.settle()
	for _, role := range []accounts.Role{accounts.RoleFacilitator, accounts.RoleSupervisor, accounts.RoleAssessor, accounts.RoleAdmin} {
		if got := f.mailsTo(t, f.byRole[role].Email); len(got) != 0 {
			t.Errorf("a %s was emailed: %q", role, got)
		}
	}
	for _, to := range trainees {
		if got := f.mailsTo(t, to); len(got) != 2 {
			t.Errorf("emails to %s: %q, want the two openings once each", to, got)
		}
	}
}

// The day before a dialogue session, its cohort's trainees and facilitators are emailed
// its room's address, once, however often the job runs and on however many instances.
func TestSessionTomorrowEmailed(t *testing.T) {
	f := newFixture(t, withMailServer())
	ctx := context.Background()
	cohort := f.demoCohort(t)
	p, err := f.courses.Programme(ctx, cohort.ID)
	if err != nil {
		t.Fatal(err)
	}
	london, _ := time.LoadLocation("Europe/London")
	var session courses.Activity
	for _, per := range p.Periods {
		for _, a := range per.Activities {
			if a.Session != nil && session.Session == nil {
				session = a
			}
		}
	}
	if session.Session == nil {
		t.Fatal("the demo programme has no dialogue session")
	}
	day := session.Session.Start.In(london)
	before := time.Date(day.Year(), day.Month(), day.Day()-1, 9, 0, 0, 0, london)
	onDay := 0
	for _, per := range p.Periods {
		for _, a := range per.Activities {
			if a.Session != nil && a.Session.Start.In(london).Format(time.DateOnly) == day.Format(time.DateOnly) {
				onDay++
			}
		}
	}
	members, err := f.courses.Members(ctx, cohort.ID)
	if err != nil {
		t.Fatal(err)
	}
	var people []string
	for _, m := range members {
		if m.Role == accounts.RoleTrainee || m.Role == accounts.RoleFacilitator {
			people = append(people, m.UserID)
		}
	}

	if n, err := f.notify.SessionsTomorrow(ctx, before.Add(-24*time.Hour)); err != nil || n != 0 {
		t.Errorf("two days before: %d emails, %v; want none", n, err)
	}
	// Two instances run the job at the same moment: between them, each email is queued once.
	other, err := notify.New(ctx, f.db, f.email, f.accounts.Users, f.courses, f.assessments, notify.Config{PublicURL: f.ts.URL, Audience: f.journals.AudienceOf})
	if err != nil {
		t.Fatal(err)
	}
	counts := make(chan int, 2)
	for _, n := range []*notify.Notifier{f.notify, other} {
		go func() {
			k, err := n.SessionsTomorrow(ctx, before)
			if err != nil {
				t.Error(err)
			}
			counts <- k
		}()
	}
	if got := <-counts + <-counts; got != onDay*len(people) {
		t.Fatalf("the day before, on two instances: %d emails, want %d", got, onDay*len(people))
	}
	if n, err := f.notify.SessionsTomorrow(ctx, before.Add(10*time.Hour)); err != nil || n != 0 {
		t.Errorf("the job again that day: %d emails, %v; want none", n, err)
	}
	if n, err := other.SessionsTomorrow(ctx, before); err != nil || n != 0 {
		t.Errorf("the other instance again: %d emails, %v; want none", n, err)
	}

	room := session.Session.Room
	link := f.ts.URL + "/rooms/" + cohort.ID + "/" + url.PathEscape(session.ID)
	for _, role := range []accounts.Role{accounts.RoleTrainee, accounts.RoleFacilitator} {
		m := f.mailTo(t, f.byRole[role].Email, "Dialogue session tomorrow: "+room)
		if !strings.Contains(m.Text, link) || !strings.Contains(m.Text, "with the cohort "+cohort.Name) {
			t.Errorf("the %s's email does not give the room's address %s:\n%s", role, link, m.Text)
		}
	}
	f.settle()
	total := 0
	for _, s := range f.mailpit.Messages(t) {
		if strings.HasPrefix(s.Subject, "Dialogue session tomorrow") {
			total++
		}
	}
	if total != onDay*len(people) {
		t.Errorf("%d session emails received, want %d", total, onDay*len(people))
	}
	for _, role := range []accounts.Role{accounts.RoleSupervisor, accounts.RoleAssessor, accounts.RoleAdmin} {
		if got := f.mailsTo(t, f.byRole[role].Email); slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "Dialogue session") }) {
			t.Errorf("a %s was emailed about the session", role)
		}
	}
}
