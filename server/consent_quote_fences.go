package server

import "strings"

// quoteLocs finds the quote lines of body (quoteMarker's submatch indexes) that are quote
// lines to Markdown too: a "::quote[...]" line inside a fenced code block is the code's
// text, shown as it is written, never a quote. A quote line starts at the first column, so
// it closes any list or block quote a fence could sit in: only fences at the top level
// (indented by at most three spaces) can hold one.
func quoteLocs(body string) [][]int {
	locs := quoteMarker.FindAllStringSubmatchIndex(body, -1)
	if len(locs) == 0 {
		return nil
	}
	fenced := fencedRanges(body)
	out := locs[:0]
	for _, loc := range locs {
		inside := false
		for _, r := range fenced {
			if loc[0] >= r[0] && loc[0] < r[1] {
				inside = true
				break
			}
		}
		if !inside {
			out = append(out, loc)
		}
	}
	return out
}

// fencedRanges is the byte ranges of body's top-level fenced code blocks, each from its
// opening fence to the end of its closing one (or of body, for a fence never closed), as
// CommonMark reads them: an opening fence is three or more backticks or tildes (a backtick
// fence's info string has no backtick), the closing fence the same character at least as
// many times with nothing after but spaces.
func fencedRanges(body string) [][2]int {
	var out [][2]int
	var fenceChar byte
	fenceLen, start := 0, 0
	for off := 0; off < len(body); {
		end := strings.IndexByte(body[off:], '\n')
		next := len(body)
		if end >= 0 {
			next = off + end + 1
		}
		line := strings.TrimRight(body[off:next], "\r\n")
		ch, n, rest := fence(line)
		switch {
		case fenceLen == 0 && n > 0 && !(ch == '`' && strings.ContainsRune(rest, '`')):
			fenceChar, fenceLen, start = ch, n, off
		case fenceLen > 0 && ch == fenceChar && n >= fenceLen && strings.TrimSpace(rest) == "":
			out = append(out, [2]int{start, next})
			fenceLen = 0
		}
		off = next
	}
	if fenceLen > 0 {
		out = append(out, [2]int{start, len(body)})
	}
	return out
}

// fence reads a fence at the start of line: its character, how many times it is repeated
// (0 when the line is no fence) and what follows it.
func fence(line string) (byte, int, string) {
	indent := len(line) - len(strings.TrimLeft(line, " "))
	if indent > 3 {
		return 0, 0, ""
	}
	line = line[indent:]
	if line == "" || line[0] != '`' && line[0] != '~' {
		return 0, 0, ""
	}
	n := 0
	for n < len(line) && line[n] == line[0] {
		n++
	}
	if n < 3 {
		return 0, 0, ""
	}
	return line[0], n, line[n:]
}
