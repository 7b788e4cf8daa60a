package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// section is the part of a page from the element with id to the end of its list.
func section(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	rest := body[i:]
	if j := strings.Index(rest, "</ul>"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// listed reports the entry's place in a list section (-1 when it is not there).
func listed(list, entryID string) int { return strings.Index(list, `data-entry="`+entryID+`"`) }

// TestJournalForSupervisorsAndAssessors checks that the journal page of a supervisor or an
// assessor is theirs: no trainee's text or New entry button, what is shared with them newest
// first, and what waits for them (not read yet, changed since, new comments).
func TestJournalForSupervisorsAndAssessors(t *testing.T) {
	f := newFixture(t)
	p := f.pagePeople(t)
	create := func(title, key string) string {
		t.Helper()
		res, body := pagePost(p.tara, "/journal", url.Values{"title": {title}, "body": {"Thoughts on " + title}, "key": {key}})
		return strings.TrimPrefix(redirectedTo(t, res, body), "/journal/")
	}
	share := func(id, audience string) {
		t.Helper()
		res, body := pagePost(p.tara, "/journal/"+id+"/sharing", url.Values{"audience": {audience}, "shared": {"true"}})
		redirectedTo(t, res, body)
	}
	older := create("The first week", "shared-list-1")
	newer := create("After the network meeting", "shared-list-2")
	create("Kept to myself", "shared-list-3")
	share(older, "supervisor")
	share(newer, "supervisor")
	share(newer, "assessors")

	journal := func(c *client) (string, string, string) {
		t.Helper()
		res, body := pageGet(c, "/journal")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("/journal: %d", res.StatusCode)
		}
		return body, section(t, body, "waiting"), section(t, body, "shared-list")
	}

	t.Run("supervisor", func(t *testing.T) {
		body, waiting, shared := journal(p.sam)
		text := pageText(body)
		for _, trainee := range []string{`id="new-entry"`, "Your reflective journal is private", "Your entries"} {
			if strings.Contains(body, trainee) || strings.Contains(text, trainee) {
				t.Errorf("the supervisor's journal page has the trainee's %q", trainee)
			}
		}
		if strings.Contains(text, "Kept to myself") {
			t.Fatal("an entry not shared is listed")
		}
		if a, b := listed(shared, newer), listed(shared, older); a < 0 || b < 0 || a > b {
			t.Errorf("shared list: the newer entry at %d, the older at %d; want both, newest first", a, b)
		}
		if listed(waiting, older) < 0 || listed(waiting, newer) < 0 || !strings.Contains(pageText(waiting), "You have not read it yet") {
			t.Errorf("entries never opened do not wait for the supervisor: %s", pageText(waiting))
		}

		pageGet(p.sam, "/journal/"+older)
		_, waiting, _ = journal(p.sam)
		if listed(waiting, older) >= 0 {
			t.Errorf("an entry the supervisor has read still waits for them")
		}

		res, b := pagePost(p.tara, "/journal/"+older, url.Values{"title": {"The first week"}, "body": {"Thought again"}, "baseVersion": {"1"}, "key": {"shared-list-4"}})
		redirectedTo(t, res, b)
		res, b = pagePost(p.tara, "/journal/"+newer+"/comments", url.Values{"body": {"Could we talk about this?"}, "audience": {"supervisor"}, "key": {"shared-list-5"}})
		redirectedTo(t, res, b)
		_, waiting, _ = journal(p.sam)
		w := pageText(waiting)
		if listed(waiting, older) < 0 || !strings.Contains(w, "Changed since you read it") {
			t.Errorf("an entry changed since it was read does not wait: %s", w)
		}
		if !strings.Contains(w, "A new comment") {
			t.Errorf("an entry with a new comment does not say so: %s", w)
		}

		pageGet(p.sam, "/journal/"+older)
		pageGet(p.sam, "/journal/"+newer)
		body, waiting, _ = journal(p.sam)
		if waiting != "" || !strings.Contains(body, `id="nothing-waiting"`) {
			t.Errorf("after reading everything something still waits: %s", pageText(waiting))
		}
	})

	t.Run("assessor", func(t *testing.T) {
		body, waiting, shared := journal(p.ash)
		if strings.Contains(body, `id="new-entry"`) || strings.Contains(pageText(body), "Your reflective journal is private") {
			t.Errorf("the assessor's journal page is the trainee's")
		}
		if listed(shared, newer) < 0 || listed(shared, older) >= 0 {
			t.Errorf("the assessor's list should hold only the submitted entry: %s", pageText(shared))
		}
		if listed(waiting, newer) < 0 || !strings.Contains(pageText(waiting), "Submitted, and you have not read it yet") {
			t.Errorf("a submitted entry does not wait for the assessor: %s", pageText(waiting))
		}
		pageGet(p.ash, "/journal/"+newer)
		if _, waiting, _ = journal(p.ash); waiting != "" {
			t.Errorf("a submitted entry the assessor has read still waits: %s", pageText(waiting))
		}
	})

	t.Run("trainee keeps her own journal", func(t *testing.T) {
		_, body := pageGet(p.tara, "/journal")
		if !strings.Contains(body, `id="new-entry"`) || strings.Contains(body, `id="waiting"`) {
			t.Errorf("the trainee's journal page changed")
		}
	})
}
