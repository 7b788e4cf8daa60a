package server

import (
	"slices"
	"testing"
)

// quoteIDs keeps the quote lines that Markdown reads as lines of their own, and none inside
// a fenced code block, as CommonMark delimits those.
func TestQuoteIDsSkipFencedCode(t *testing.T) {
	for _, c := range []struct {
		name, body string
		want       []string
	}{
		{"no fence", "::quote[a1]\n\n::quote[b2]\n", []string{"a1", "b2"}},
		{"backticks", "```\n::quote[a1]\n```\n::quote[b2]\n", []string{"b2"}},
		{"tildes with an info string", "~~~ markdown\n::quote[a1]\n~~~\n::quote[b2]\n", []string{"b2"}},
		{"indented fence, up to three spaces", "   ```\n::quote[a1]\n   ```\n::quote[b2]\n", []string{"b2"}},
		{"four spaces are no fence", "    ```\n::quote[a1]\n", []string{"a1"}},
		{"a shorter fence does not close", "````\n```\n::quote[a1]\n````\n::quote[b2]\n", []string{"b2"}},
		{"the other character does not close", "```\n~~~\n::quote[a1]\n```\n::quote[b2]\n", []string{"b2"}},
		{"a closing fence has no info string", "```\n```js\n::quote[a1]\n```\n::quote[b2]\n", []string{"b2"}},
		{"a backtick in the info string is no fence", "``` a`b\n::quote[a1]\n", []string{"a1"}},
		{"unclosed runs to the end", "::quote[a1]\n```\n::quote[b2]\n", []string{"a1"}},
		{"two backticks are no fence", "``\n::quote[a1]\n``\n", []string{"a1"}},
		{"CRLF lines", "```\r\n::quote[a1]\r\n```\r\n\r\n::quote[b2]\n", []string{"b2"}},
	} {
		if got := quoteIDs(c.body); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
