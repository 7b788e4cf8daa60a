package content

import (
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/util"
)

// urlKind sorts link destinations by what a reader's browser would do with them.
type urlKind int

const (
	relativeURL urlKind = iota // a path or a fragment on this site
	externalURL                // http, https, or protocol-relative: another site
	mailURL                    // mailto
	unsafeURL                  // any other scheme: javascript:, data:, vbscript:, file:, ...
)

// externalRel is set on every link that leaves the site.
const externalRel = "noopener noreferrer"

// classify says what kind of destination dest is. Browsers ignore tabs and newlines inside a
// scheme and spaces and control characters before it, so those are skipped before the
// scheme is read; anything before a colon that is not http, https or mailto is unsafe, even
// when a browser might have read it as a path.
func classify(dest string) urlKind {
	scheme, ok := schemeOf(dest)
	if !ok {
		if protocolRelative(dest) {
			return externalURL
		}
		return relativeURL
	}
	switch scheme {
	case "http", "https":
		return externalURL
	case "mailto":
		return mailURL
	default:
		return unsafeURL
	}
}

// schemeOf returns the lower-cased text before the first colon, when that colon comes before
// any '/', '?' or '#', with spaces and control characters left out.
func schemeOf(dest string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(dest); i++ {
		c := dest[i]
		switch {
		case c <= ' ' || c == 0x7f:
			continue
		case c == ':':
			return strings.ToLower(b.String()), true
		case c == '/' || c == '?' || c == '#':
			return "", false
		}
		b.WriteByte(c)
	}
	return "", false
}

// protocolRelative reports whether dest starts with two slashes (browsers read a backslash
// as a slash here), which leaves the site as surely as http: does.
func protocolRelative(dest string) bool {
	dest = strings.TrimLeft(dest, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\v\f\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	return len(dest) >= 2 && (dest[0] == '/' || dest[0] == '\\') && (dest[1] == '/' || dest[1] == '\\')
}

// resolvable reports whether dest is a relative link to offer to a LinkResolver: a path,
// not a fragment of this page nor a path from the site's root.
func resolvable(dest string) bool {
	return dest != "" && classify(dest) == relativeURL && dest[0] != '#' && dest[0] != '/' && dest[0] != '\\'
}

// linkKind classifies a link or image destination as it is in the tree. goldmark resolves
// backslash escapes and character references in it and percent-encodes the rest when it
// writes the page; the destination is unsafe if either that or the plainly decoded text is.
func linkKind(dest []byte) urlKind {
	kind := classify(string(util.URLEscape(dest, true)))
	if classify(unescapeText(dest)) == unsafeURL {
		return unsafeURL
	}
	return kind
}

// autoLinkKind classifies a bare link's address, which goldmark writes without resolving
// references.
func autoLinkKind(url []byte) urlKind {
	kind := classify(string(util.URLEscape(url, false)))
	if classify(string(url)) == unsafeURL {
		return unsafeURL
	}
	return kind
}

// escapeDestination protects an address from goldmark's reading of escapes and references,
// so that it is written as given.
func escapeDestination(href string) []byte {
	return []byte(destinationEscaper.Replace(href))
}

var destinationEscaper = strings.NewReplacer(`\`, `\\`, "&", "&amp;")

// makeSafe rewrites the tree before rendering: relative links go through resolve (when not
// nil), links with an unsafe destination point at "#", images with one are replaced by their
// description, bare links with one become plain text, and links off the site get
// rel="noopener noreferrer".
func makeSafe(doc ast.Node, src []byte, resolve func(string) (string, bool)) {
	var nodes []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			switch n.Kind() {
			case ast.KindLink, ast.KindImage, ast.KindAutoLink:
				nodes = append(nodes, n)
			}
		}
		return ast.WalkContinue, nil
	})
	for _, n := range nodes {
		switch n := n.(type) {
		case *ast.Link:
			dest := n.Destination
			if target := unescapeText(dest); resolve != nil && resolvable(target) {
				href, ok := resolve(target)
				if _, _, isPage := pageLink(target); !ok && isPage {
					// A page the reader cannot open (not released to them, or gone): its
					// words stay, the link does not.
					replaceWithText(n, plainText(n, src))
					continue
				}
				if ok {
					dest = escapeDestination(href)
				}
			}
			switch linkKind(dest) {
			case unsafeURL:
				dest = []byte("#")
			case externalURL:
				n.SetAttributeString("rel", []byte(externalRel))
			}
			n.Destination = dest
		case *ast.Image:
			if linkKind(n.Destination) == unsafeURL {
				replaceWithText(n, plainText(n, src))
			}
		case *ast.AutoLink:
			if n.AutoLinkType == ast.AutoLinkEmail {
				continue
			}
			switch autoLinkKind(n.URL(src)) {
			case unsafeURL:
				replaceWithText(n, string(n.Label(src)))
			case externalURL:
				n.SetAttributeString("rel", []byte(externalRel))
			}
		}
	}
}

// replaceWithText puts plain text where n was.
func replaceWithText(n ast.Node, s string) {
	t := ast.NewString([]byte(s))
	t.SetRaw(true) // escaped for HTML, and nothing else read into it
	n.Parent().ReplaceChild(n.Parent(), n, t)
}
