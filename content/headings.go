package content

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/yuin/goldmark/ast"
)

// reservedIDs are element ids of the page around the rendered text; a heading never takes
// them, so a skip link or a script cannot land on the wrong element.
var reservedIDs = []string{"maincontent", "main-content", "content", "contents", "header", "footer", "navigation"}

// assignHeadingIDs gives every heading an anchor made from its text as read: lower case,
// letters and digits kept, spaces and hyphens made single hyphens, everything else left
// out ("Don’t panic: a guide" becomes dont-panic-a-guide). A repeated anchor gets -1, -2...
// It returns the anchors, in order.
func assignHeadingIDs(doc ast.Node, src []byte) []string {
	used := map[string]bool{}
	for _, id := range reservedIDs {
		used[id] = true
	}
	var ids []string
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		h, ok := n.(*ast.Heading)
		switch {
		case !entering:
			return ast.WalkContinue, nil
		case !ok && n.HasChildren() && n.FirstChild().Type() == ast.TypeInline:
			return ast.WalkSkipChildren, nil // a paragraph or the like: no headings inside
		case !ok:
			return ast.WalkContinue, nil
		}
		base := anchorOf(plainText(h, src))
		id := base
		for i := 1; used[id]; i++ {
			id = base + "-" + strconv.Itoa(i)
		}
		used[id] = true
		ids = append(ids, id)
		h.SetAttributeString("id", []byte(id))
		return ast.WalkSkipChildren, nil
	})
	return ids
}

// anchorOf turns a heading's text into an anchor; "section" when nothing is left.
func anchorOf(text string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		case unicode.IsSpace(r) || r == '-' || r == '_':
			hyphen = true
		}
	}
	if b.Len() == 0 {
		return "section"
	}
	return b.String()
}
