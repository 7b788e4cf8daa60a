package server_test

import (
	"html"
	"net/http"
	"strings"
	"testing"
)

// A quote line inside a fenced code block (``` or ~~~) is the code's text: the entry's page
// shows it as written, and only the quote line outside the fences is a quote, on the page
// and in the API's quotes of the entry.
func TestQuoteLineInACodeFenceStaysText(t *testing.T) {
	f := newFixture(t)
	r := newQuoteRoom(t, f)
	e := createEntry(t, r.tara, "Fenced", "How a quote is written.")
	res, body := r.tara.send("POST", "/api/v1/rooms/"+r.cohort+"/cohort/quotes", map[string]any{"turns": []uint64{1}, "entryId": e.ID}, nil)
	wantStatus(t, "quote into the entry", res, body, http.StatusCreated)
	q := decodeAs[struct {
		Line    string `json:"line"`
		Version int    `json:"version"`
	}](t, body)
	text := "How a quote is written:\n\n```\n" + q.Line + "\n```\n\nand in a tilde fence:\n\n~~~markdown\n" + q.Line + "\n~~~~\n\nThe quote itself:\n\n" + q.Line + "\n\n" +
		"An unclosed fence to the end:\n\n````\n" + q.Line + "\n```\n" + q.Line + "\n"
	res, body = r.tara.send("PUT", "/api/v1/journal/entries/"+e.ID, map[string]any{"baseVersion": q.Version, "title": "Fenced", "body": text, "tags": []string{}}, idem("fenced-save"))
	wantStatus(t, "save the fenced entry", res, body, http.StatusOK)

	page := r.page(t, r.tara, "/journal/"+e.ID)
	if n := strings.Count(page, `<blockquote class="journal-quote"`); n != 1 {
		t.Errorf("the page shows %d quotes, want the one outside the fences:\n%s", n, page)
	}
	if n := strings.Count(page, "data-quote="); n != 1 {
		t.Errorf("the page places %d quotes, want 1:\n%s", n, page)
	}
	if !strings.Contains(page, html.EscapeString(r.taraWords)) {
		t.Errorf("the quote outside the fences lacks Tara's words:\n%s", page)
	}
	if n := strings.Count(page, html.EscapeString(q.Line)); n != 4 {
		t.Errorf("the page shows the quote line as text %d times, want the 4 in fences:\n%s", n, page)
	}
	if !strings.Contains(page, "<code>"+html.EscapeString(q.Line)+"\n</code>") {
		t.Errorf("the line in the first fence is not shown as code:\n%s", page)
	}

	res, body = r.tara.send("GET", "/api/v1/journal/entries/"+e.ID+"/quotes", nil, nil)
	wantStatus(t, "the entry's quotes", res, body, http.StatusOK)
	if n := strings.Count(string(body), `"removed"`); n != 1 {
		t.Errorf("the API lists %d quotes, want 1: %s", n, body)
	}
}
