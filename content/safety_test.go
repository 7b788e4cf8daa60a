package content

import (
	"io"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// allowedTags are the elements Markdown may produce.
var allowedTags = map[string]bool{
	"p": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"a": true, "img": true, "em": true, "strong": true, "code": true, "pre": true, "blockquote": true,
	"ul": true, "ol": true, "li": true, "hr": true, "br": true, "del": true, "sup": true, "div": true,
	"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true,
}

// urlAttributes are the attributes a browser follows or loads.
var urlAttributes = map[string]bool{
	"href": true, "src": true, "srcset": true, "action": true, "formaction": true, "poster": true,
	"background": true, "cite": true, "data": true, "xlink:href": true, "ping": true,
}

// unsafeHTML says what is unsafe in rendered HTML, read the way a browser reads it: a
// script element, an element Markdown does not make, an event handler attribute, or a URL
// attribute whose value (with character references resolved, and spaces and control
// characters dropped as browsers do) starts with javascript:, vbscript: or data:.
func unsafeHTML(out string) string {
	if strings.Contains(strings.ToLower(out), "<script") {
		return "a <script"
	}
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() == io.EOF {
				return ""
			}
			return "tokenizer: " + z.Err().Error()
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			tok := z.Token()
			if !allowedTags[tok.Data] {
				return "element <" + tok.Data + ">"
			}
			for _, a := range tok.Attr {
				key := strings.ToLower(a.Key)
				if strings.HasPrefix(key, "on") {
					return "event handler attribute " + a.Key
				}
				if key == "style" {
					return "style attribute"
				}
				if urlAttributes[key] {
					v := strings.ToLower(strings.Map(func(r rune) rune {
						if r <= ' ' || r == 0x7f {
							return -1
						}
						return r
					}, a.Val))
					for _, bad := range []string{"javascript:", "vbscript:", "data:"} {
						if strings.HasPrefix(v, bad) {
							return a.Key + "=" + a.Val
						}
					}
				}
			}
		}
	}
}

// nastyMarkdown are attempts to get script into a page.
var nastyMarkdown = []string{
	"<script>alert(1)</script>",
	"<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
	"foo <img src=x onerror=alert(1)> bar",
	"<a href=\"javascript:alert(1)\">x</a>",
	"<div onmouseover=\"alert(1)\">hover</div>",
	"<iframe src=\"https://evil.example\"></iframe>",
	"<style>body{background:url(javascript:alert(1))}</style>",
	"<!-- comment --><svg onload=alert(1)>",
	"[a](javascript:alert(1))",
	"[a](JAVASCRIPT:alert(1))",
	"[a](JaVaScRiPt:alert(1))",
	"[a]( javascript:alert(1))",
	"[a](< javascript:alert(1)>)",
	"[a](<\tjavascript:alert(1)>)",
	"[a](jav&#x09;ascript:alert(1))",
	"[a](jav&#9;ascript:alert(1))",
	"[a](jav&Tab;ascript:alert(1))",
	"[a](java&#x0A;script:alert(1))",
	"[a](&#106;avascript:alert(1))",
	"[a](&#x6A;&#x61;&#x76;&#x61;script:alert(1))",
	"[a](javascript&colon;alert(1))",
	"[a](javascript&#58;alert(1))",
	"[a](javascript\\:alert(1))",
	"[a](java\\script:alert(1))",
	"[a](<java\x00script:alert(1)>)",
	"[a](\x01javascript:alert(1))",
	"[a](vbscript:msgbox(1))",
	"[a](VBScript:msgbox(1))",
	"[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
	"[a](DATA:text/html,<script>alert(1)</script>)",
	"[a](file:///etc/passwd)",
	"[a](livescript:alert(1))",
	"[a](javascript:alert(1) \"title\")",
	"[a][r]\n\n[r]: javascript:alert(1)",
	"[a][r]\n\n[r]: <jav&#x09;ascript:alert(1)>",
	"![i](javascript:alert(1))",
	"![i](data:image/png;base64,iVBORw0KGgo=)",
	"![i](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)",
	"![i](vbscript:x)",
	"![i *with* emphasis](javascript:alert(1) \"t\")",
	"[![i](javascript:a)](javascript:b)",
	"<javascript:alert(1)>",
	"<JAVASCRIPT:alert(1)>",
	"<vbscript:msgbox(1)>",
	"<data:text/html,<b>x</b>>",
	"<ab:x>",
	"www.example.com/javascript:alert(1)",
	"javascript:alert(1)",
	"[a](\"onmouseover=alert(1))",
	"[a](x\" onmouseover=\"alert(1))",
	"[a](<x\" onmouseover=\"alert(1)>)",
	"[a](x 'onmouseover=alert(1)')",
	"[a](x \"\\\" onmouseover=alert(1)\")",
	"![a\" onerror=\"alert(1)](x.png)",
	"# heading onclick=alert(1)\n\n## <script>",
	"`<script>alert(1)</script>`",
	"```\n<script>alert(1)</script>\n```",
	"    <script>alert(1)</script>",
	"| a | b |\n|---|---|\n| <script> | [x](javascript:y) |",
	"x[^1]\n\n[^1]: [a](javascript:alert(1)) <img src=x onerror=alert(1)>",
	"[x](//evil.example) [y](\\\\evil.example)",
	"&lt;script&gt;alert(1)&lt;/script&gt;",
	"&#60;script&#62;alert(1)&#60;/script&#62;",
	"<a href='javascript:alert(1)'>x</a>",
	"<http://a.example/\" onmouseover=\"alert(1)>",
	"[a](https://example.com/\" onclick=\"alert(1))",
}

func TestNastyMarkdownIsNeutralised(t *testing.T) {
	r := NewRenderer()
	resolver := func(target string) (string, bool) { return target, true }
	for _, src := range nastyMarkdown {
		for name, out := range map[string]string{
			"page":     string(mustRender(t, r, src, nil).HTML),
			"resolved": string(mustRender(t, r, src, resolver).HTML),
			"user":     string(RenderUserMarkdown([]byte(src))),
		} {
			if bad := unsafeHTML(out); bad != "" {
				t.Errorf("%s rendering of %q has %s:\n%s", name, src, bad, out)
			}
		}
	}
}

func TestBadURLsPointNowhere(t *testing.T) {
	r := NewRenderer()
	for _, dest := range []string{
		"javascript:alert(1)", "JAVASCRIPT:alert(1)", "<  JAVASCRIPT:alert(1)>", "jav&#x09;ascript:alert(1)",
		"&#106;avascript:alert(1)", "javascript&colon;alert(1)", "vbscript:msgbox(1)", "data:text/html,hi",
		"data:image/png;base64,AAAA", "file:///etc/passwd", "ftp://example.com/x", "<java\tscript:x>",
	} {
		out := string(mustRender(t, r, "[click]("+dest+")", nil).HTML)
		if want := `<a href="#">click</a>`; !strings.Contains(out, want) {
			t.Errorf("[click](%s): got %s, want %s", dest, out, want)
		}
		img := string(mustRender(t, r, "![a picture]("+dest+")", nil).HTML)
		if strings.Contains(img, "<img") || !strings.Contains(img, "a picture") {
			t.Errorf("![a picture](%s): got %s, want the description alone", dest, img)
		}
	}
	out := string(mustRender(t, r, "see <javascript:alert(1)>", nil).HTML)
	if strings.Contains(out, "<a") || !strings.Contains(out, "javascript:alert(1)") {
		t.Errorf("autolink: got %s, want plain text", out)
	}
}

func TestSafeURLsAreKept(t *testing.T) {
	r := NewRenderer()
	for dest, want := range map[string]string{
		"https://www.england.nhs.uk/":         `<a href="https://www.england.nhs.uk/" rel="noopener noreferrer">`,
		"HTTP://example.com":                  `<a href="HTTP://example.com" rel="noopener noreferrer">`,
		"//example.com/x":                     `<a href="//example.com/x" rel="noopener noreferrer">`,
		"mailto:pod@example.nhs.uk":           `<a href="mailto:pod@example.nhs.uk">`,
		"#the-principle-in-brief":             `<a href="#the-principle-in-brief">`,
		"/curriculum/reading-list":            `<a href="/curriculum/reading-list">`,
		"images/network.png":                  `<a href="images/network.png">`,
		"https://example.com/a?b=1&c=2#frag":  `<a href="https://example.com/a?b=1&amp;c=2#frag" rel="noopener noreferrer">`,
		"https://example.com/path:with:colon": `<a href="https://example.com/path:with:colon" rel="noopener noreferrer">`,
	} {
		out := string(mustRender(t, r, "[x]("+dest+")", nil).HTML)
		if !strings.Contains(out, want) {
			t.Errorf("[x](%s): got %s, want %s", dest, out, want)
		}
	}
	out := string(mustRender(t, r, "<https://example.com> and www.nhs.uk and <pod@example.nhs.uk>", nil).HTML)
	for _, want := range []string{
		`<a href="https://example.com" rel="noopener noreferrer">https://example.com</a>`,
		`<a href="http://www.nhs.uk" rel="noopener noreferrer">www.nhs.uk</a>`,
		`<a href="mailto:pod@example.nhs.uk">pod@example.nhs.uk</a>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("got %s, want it to hold %s", out, want)
		}
	}
}

func TestUnsafeHTMLOracle(t *testing.T) {
	// The checker itself must catch what it is there to catch.
	for _, bad := range []string{
		`<script>x</script>`, `<p onclick="x">`, `<a href="jav&#x09;ascript:x">`, `<a href=" JAVASCRIPT:x">`,
		`<img src="data:image/png,x">`, `<iframe>`, `<a href="vbscript:x">`,
	} {
		if unsafeHTML(bad) == "" {
			t.Errorf("unsafeHTML(%q) found nothing", bad)
		}
	}
	if got := unsafeHTML(`<p>a onclick=b javascript:c</p><a href="/x">y</a>`); got != "" {
		t.Errorf("unsafeHTML of safe text: %s", got)
	}
}

func FuzzRender(f *testing.F) {
	for _, s := range nastyMarkdown {
		f.Add(s)
	}
	for _, s := range []string{
		"# Title\n\nSome *text* with a [link](other.md#part) and a footnote[^n].\n\n[^n]: The note.",
		"| a | b |\n|---|---|\n| 1 | 2 |",
		"\"Quotes\" -- and --- dashes... <<angles>>",
	} {
		f.Add(s)
	}
	r := NewRenderer()
	resolver := func(target string) (string, bool) { return target, true }
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 1<<16 {
			return
		}
		for _, links := range []LinkResolver{nil, resolver} {
			out, err := r.Render([]byte(src), links)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if bad := unsafeHTML(string(out.HTML)); bad != "" {
				t.Fatalf("rendering of %q has %s:\n%s", src, bad, out.HTML)
			}
		}
		if bad := unsafeHTML(string(RenderUserMarkdown([]byte(src)))); bad != "" {
			t.Fatalf("user rendering of %q has %s", src, bad)
		}
	})
}

func mustRender(t testing.TB, r *Renderer, src string, links LinkResolver) Rendered {
	t.Helper()
	out, err := r.Render([]byte(src), links)
	if err != nil {
		t.Fatalf("Render(%q): %v", src, err)
	}
	return out
}
