package content

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
)

// wordsPerMinute is the reading speed behind the default reading time.
const wordsPerMinute = 200

// readingMinutes is the time to read words at wordsPerMinute, rounded up, at least 1.
func readingMinutes(words int) int {
	return max(1, (words+wordsPerMinute-1)/wordsPerMinute)
}

// contents lists the page's sections: the h2 and h3 headings at the top level of the page.
func contents(doc ast.Node, src []byte) []Heading {
	var out []Heading
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		h, ok := n.(*ast.Heading)
		if !ok || (h.Level != 2 && h.Level != 3) {
			continue
		}
		id, _ := h.AttributeString("id")
		idBytes, _ := id.([]byte)
		out = append(out, Heading{Level: h.Level, ID: string(idBytes), Text: plainText(h, src)})
	}
	return out
}

// plainText is the text a reader sees in n, without markup, with typographic punctuation and
// character references turned into the characters they stand for.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.RawHTML:
			return ast.WalkSkipChildren, nil
		case *ast.CodeSpan:
			for t := c.FirstChild(); t != nil; t = t.NextSibling() {
				if t, ok := t.(*ast.Text); ok {
					b.Write(t.Segment.Value(src))
				}
			}
			return ast.WalkSkipChildren, nil
		case *ast.Text:
			b.WriteString(unescapeText(c.Segment.Value(src)))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			if c.IsCode() {
				b.WriteString(html.UnescapeString(string(c.Value)))
			} else {
				b.Write(c.Value)
			}
		case *ast.AutoLink:
			b.Write(c.Label(src))
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}

// asciiPunctuation are the characters a backslash escapes in CommonMark.
const asciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// unescapeText reads backslash escapes and character references as CommonMark does.
func unescapeText(v []byte) string {
	s := string(v)
	if strings.IndexByte(s, '\\') >= 0 {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(asciiPunctuation, s[i+1]) >= 0 {
				i++
			}
			b.WriteByte(s[i])
		}
		s = b.String()
	}
	if strings.IndexByte(s, '&') >= 0 {
		s = html.UnescapeString(s)
	}
	return s
}

// countWords counts the words a reader reads: runs of characters between spaces that hold a
// letter or a digit, in text, code and footnotes.
func countWords(doc ast.Node, src []byte) int {
	var wc wordCounter
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			if n.Type() == ast.TypeBlock {
				wc.space()
			}
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.RawHTML, *ast.HTMLBlock:
			return ast.WalkSkipChildren, nil
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			lines := n.Lines()
			for i := 0; i < lines.Len(); i++ {
				seg := lines.At(i)
				wc.write(seg.Value(src))
				wc.space()
			}
			return ast.WalkSkipChildren, nil
		case *ast.Text:
			wc.write(n.Segment.Value(src))
			if n.SoftLineBreak() || n.HardLineBreak() {
				wc.space()
			}
		case *ast.String:
			if n.IsCode() {
				wc.write([]byte(html.UnescapeString(string(n.Value))))
			} else {
				wc.write(n.Value)
			}
		case *ast.AutoLink:
			wc.write(n.Label(src))
		default:
			if n.Type() == ast.TypeBlock {
				wc.space()
			}
		}
		return ast.WalkContinue, nil
	})
	wc.space()
	return wc.words
}

// wordCounter counts words in text fed to it in pieces; a word may span pieces.
type wordCounter struct {
	words    int
	inWord   bool
	wordLike bool // the current run has a letter or a digit
}

func (wc *wordCounter) write(b []byte) {
	for len(b) > 0 {
		if c := b[0]; c < utf8.RuneSelf { // most text is ASCII: no decoding
			b = b[1:]
			switch {
			case c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
				wc.space()
			case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9':
				wc.inWord, wc.wordLike = true, true
			default:
				wc.inWord = true
			}
			continue
		}
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		if unicode.IsSpace(r) {
			wc.space()
			continue
		}
		wc.inWord = true
		if !wc.wordLike && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			wc.wordLike = true
		}
	}
}

func (wc *wordCounter) space() {
	if wc.inWord && wc.wordLike {
		wc.words++
	}
	wc.inWord, wc.wordLike = false, false
}
