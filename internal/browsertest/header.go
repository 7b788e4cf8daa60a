package browsertest

import "fmt"

// The parts of the NHS.UK header that ClickHeaderLink works with.
const (
	headerLinkSelector   = ".nhsuk-header__navigation-link"
	headerMenuToggle     = ".nhsuk-header__menu-toggle"
	headerMenuListOpened = ".nhsuk-header__menu-list:not([hidden])"
)

// headerLinkJS says where the header's link to an address is: "visible", "menu" when the
// header has moved it into its closed "More" menu, or "missing".
const headerLinkJS = `(href) => {
	const link = [...document.querySelectorAll(%s)].find(a => a.getAttribute('href') === href);
	if (!link) return 'missing';
	const box = link.getBoundingClientRect();
	if (box.width > 0 && box.height > 0) return 'visible';
	return link.closest('.nhsuk-header__menu') ? 'menu' : 'hidden';
}`

// ClickHeaderLink follows the header's navigation link to href (such as "/account") as a
// person would, and waits for its page. The NHS.UK header moves the links that do not fit
// on its line into a "More" menu; how many fit depends on the width of the window and on
// the fonts the machine has. When the link is in that menu, ClickHeaderLink opens the menu
// first.
func (b *Browser) ClickHeaderLink(href string) {
	b.t.Helper()
	what := fmt.Sprintf("ClickHeaderLink(%q)", href)
	b.settle()
	var where string
	b.Eval(fmt.Sprintf("(%s)(%s)", fmt.Sprintf(headerLinkJS, jsString(headerLinkSelector)), jsString(href)), &where)
	switch where {
	case "missing":
		b.t.Fatalf("browsertest: %s on page %s: the header has no link to %s", what, b.location(), href)
	case "hidden":
		b.t.Fatalf("browsertest: %s on page %s: the link to %s is hidden and not in the More menu", what, b.location(), href)
	case "menu":
		b.Click(headerMenuToggle)
		b.WaitVisible(headerMenuListOpened)
	}
	b.ClickAndWait(fmt.Sprintf(`%s[href=%s]`, headerLinkSelector, jsString(href)))
}
