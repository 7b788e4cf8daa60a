package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// headerPage is a header like the NHS.UK one after its script has moved a link that did not
// fit into the closed "More" menu.
const headerPage = `<header class="nhsuk-header"><nav class="nhsuk-header__navigation" aria-label="Menu"><ul class="nhsuk-header__navigation-list">
<li class="nhsuk-header__navigation-item"><a class="nhsuk-header__navigation-link" href="/one">One</a></li>
<li class="nhsuk-header__menu"><button class="nhsuk-header__menu-toggle" aria-expanded="false">More</button>
<ul class="nhsuk-header__menu-list" hidden><li class="nhsuk-header__navigation-item"><a class="nhsuk-header__navigation-link" href="/two">Two</a></li></ul></li>
</ul></nav></header><main><h1>%s</h1></main><script src="/menu.js"></script>`

func TestClickHeaderLink(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /favicon.ico", pixel)
	for _, p := range []string{"one", "two"} {
		mux.HandleFunc("GET /"+p, func(w http.ResponseWriter, r *http.Request) {
			page(w, http.StatusOK, p, fmt.Sprintf(headerPage, "Page "+p))
		})
	}
	mux.HandleFunc("GET /menu.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `document.querySelector('.nhsuk-header__menu-toggle').addEventListener('click', (e) => {
	const list = document.querySelector('.nhsuk-header__menu-list');
	list.hidden = !list.hidden;
	e.target.setAttribute('aria-expanded', String(!list.hidden));
});`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	b := New(t)

	b.Navigate(srv.URL + "/one")
	b.ClickHeaderLink("/two") // in the closed menu
	if got := b.Text("h1"); got != "Page two" {
		t.Errorf("after ClickHeaderLink(/two), h1 = %q", got)
	}
	b.ClickHeaderLink("/one") // on the header's line
	if got := b.Text("h1"); got != "Page one" {
		t.Errorf("after ClickHeaderLink(/one), h1 = %q", got)
	}

	rec := record(t, func(tb testing.TB) { b.For(tb).ClickHeaderLink("/three") })
	if !rec.failed {
		t.Errorf("ClickHeaderLink to a missing link did not fail")
	}
}
