package server_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"polyphony/courses"
	"polyphony/internal/accounts"
)

var (
	formRe  = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	attrRe  = regexp.MustCompile(`\b(action|method|name|value|type)="([^"]*)"`)
	inputRe = regexp.MustCompile(`<input\b[^>]*>`)
)

// submitForm sends the form of the page that contains marker as a browser without
// JavaScript does: by the form's own method, to its action, with its hidden fields.
func submitForm(t *testing.T, c *client, page, marker string) (*http.Response, string) {
	t.Helper()
	for _, m := range formRe.FindAllStringSubmatch(page, -1) {
		if !strings.Contains(m[0], marker) {
			continue
		}
		attrs := map[string]string{}
		for _, a := range attrRe.FindAllStringSubmatch(m[1], -1) {
			attrs[a[1]] = html.UnescapeString(a[2])
		}
		fields := url.Values{}
		for _, in := range inputRe.FindAllString(m[2], -1) {
			ia := map[string]string{}
			for _, a := range attrRe.FindAllStringSubmatch(in, -1) {
				ia[a[1]] = html.UnescapeString(a[2])
			}
			if ia["type"] == "hidden" {
				fields.Add(ia["name"], ia["value"])
			}
		}
		if strings.EqualFold(attrs["method"], "post") {
			res, body := c.do("POST", attrs["action"], fields)
			return res, string(body)
		}
		target := attrs["action"]
		if len(fields) > 0 {
			target += "?" + fields.Encode()
		}
		return pageGet(c, target)
	}
	t.Fatalf("no form on the page holds %q", marker)
	return nil, ""
}

// wantConfirmation checks that an answer is a confirmation page saying what will happen,
// and not the act done.
func wantConfirmation(t *testing.T, res *http.Response, body string, says ...string) {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the first click answered %d (Location %q), want a confirmation page", res.StatusCode, res.Header.Get("Location"))
	}
	text := pageText(body)
	for _, s := range says {
		if !strings.Contains(text, s) {
			t.Errorf("the confirmation page does not say %q: %s", s, text)
		}
	}
	if !strings.Contains(body, `id="confirm-form"`) || !strings.Contains(body, `id="confirm-back"`) {
		t.Errorf("the confirmation page has no confirm form or way back")
	}
}

func TestCloseRoomAsksFirst(t *testing.T) {
	f := newFixture(t)
	cohort := f.demoCohort(t)
	path := "/rooms/" + cohort.ID + "/cohort"
	facil := f.signedIn(t, accounts.RoleFacilitator)
	if res, body := pagePost(facil, path+"/open", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("open: %d %s", res.StatusCode, body)
	}
	trainee := f.signedIn(t, accounts.RoleTrainee)
	conn, _, err := trainee.dialRoom(path+"/ws", "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	next(t, conn, "welcome")

	_, room := pageGet(facil, path)
	res, body := submitForm(t, facil, room, `id="close-room"`)
	wantConfirmation(t, res, body, "Closing the room ends the session for everyone", "Close the room")
	// Nothing is closed yet: the trainee still speaks.
	if err := conn.WriteJSON(map[string]string{"type": "say", "text": "Still here", "id": "m1"}); err != nil {
		t.Fatal(err)
	}
	if ack := next(t, conn, "ack"); ack["for"] != nil && ack["for"] != "m1" {
		t.Errorf("ack %v", ack)
	}
	res, done := submitForm(t, facil, body, `id="confirm"`)
	if got := redirectedTo(t, res, done); got != path {
		t.Errorf("after confirming: to %s, want the room", got)
	}
	if loc, _ := url.QueryUnescape(res.Header.Get("Location")); !strings.Contains(loc, "The room is closed.") {
		t.Errorf("after confirming: %q, want the room closed", loc)
	}
	if res, _ := pageGet(trainee, path+"/close"); res.StatusCode == http.StatusOK {
		t.Errorf("a trainee is offered to close the room")
	}
}

func TestWithdrawTurnAsksFirst(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cohort := f.demoCohort(t)
	path := "/rooms/" + cohort.ID + "/cohort"
	facil := f.signedIn(t, accounts.RoleFacilitator)
	pagePost(facil, path+"/open", nil)
	trainee := f.signedIn(t, accounts.RoleTrainee)
	conn, _, err := trainee.dialRoom(path+"/ws", "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	next(t, conn, "welcome")
	const words = "Words I may take back"
	if err := conn.WriteJSON(map[string]string{"type": "say", "text": words, "id": "w1"}); err != nil {
		t.Fatal(err)
	}
	seq := uint64(next(t, conn, "ack")["ackSeq"].(float64))
	n := strconv.FormatUint(seq, 10)

	_, transcript := pageGet(trainee, path+"/transcript")
	res, body := submitForm(t, trainee, transcript, `data-withdraw="`+n+`"`)
	wantConfirmation(t, res, body, "Withdrawing takes your words out of the transcript", words)
	gone, err := f.transcripts.Withdrawn(ctx, cohort.ID+"/cohort")
	if err != nil {
		t.Fatal(err)
	}
	if gone[seq] {
		t.Fatal("the turn was withdrawn on the first click")
	}
	res, done := submitForm(t, trainee, body, `id="confirm"`)
	redirectedTo(t, res, done)
	if gone, _ = f.transcripts.Withdrawn(ctx, cohort.ID+"/cohort"); !gone[seq] {
		t.Error("the turn is not withdrawn after confirming")
	}
	// Nobody else is offered to withdraw it.
	if res, _ := pageGet(facil, path+"/transcript/"+n+"/withdraw"); res.StatusCode == http.StatusOK {
		t.Errorf("the facilitator is offered to withdraw the trainee's turn")
	}
}

func TestSubmitToAssessorsAsksFirst(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.pagePeople(t)
	res, body := pagePost(p.tara, "/journal", url.Values{"title": {"For the assessors"}, "body": {"First version"}, "key": {"submit-confirm-1"}})
	id := strings.TrimPrefix(redirectedTo(t, res, body), "/journal/")
	tara := courses.Viewer{UserID: p.taraID, Role: accounts.RoleTrainee}
	submitted := func() *courses.Sharing {
		t.Helper()
		v, err := f.journals.ReadEntry(ctx, tara, id)
		if err != nil {
			t.Fatal(err)
		}
		return v.Sharing
	}

	_, entry := pageGet(p.tara, "/journal/"+id)
	res, confirm := submitForm(t, p.tara, entry, `id="share-assessors"`)
	wantConfirmation(t, res, confirm, "Submitting freezes this revision, version 1", "For the assessors")
	if submitted().Assessors {
		t.Fatal("the entry was submitted on the first click")
	}

	// Saved again in another window before confirming: nothing is submitted unseen.
	res, body = pagePost(p.tara, "/journal/"+id, url.Values{"title": {"For the assessors"}, "body": {"Second version"}, "baseVersion": {"1"}, "key": {"submit-confirm-2"}})
	redirectedTo(t, res, body)
	res, body = submitForm(t, p.tara, confirm, `id="confirm"`)
	if got := redirectedTo(t, res, body); got != "/journal/"+id+"/submit" {
		t.Errorf("confirming a version no longer current went to %s, want the confirmation again", got)
	}
	if submitted().Assessors {
		t.Fatal("version 1 was submitted after version 2 was saved")
	}

	res, confirm = pageGet(p.tara, "/journal/"+id+"/submit")
	wantConfirmation(t, res, confirm, "Submitting freezes this revision, version 2")
	res, body = submitForm(t, p.tara, confirm, `id="confirm"`)
	if got := redirectedTo(t, res, body); got != "/journal/"+id {
		t.Errorf("after confirming: to %s, want the entry", got)
	}
	if sh := submitted(); !sh.Assessors || sh.SubmittedVersion != 2 {
		t.Errorf("after confirming: %+v, want version 2 submitted", sh)
	}
	// Only the author is asked.
	if res, _ := pageGet(p.pat, "/journal/"+id+"/submit"); res.StatusCode == http.StatusOK {
		t.Errorf("another trainee is offered to submit the entry")
	}
}
