package media

import "bytes"

// markupTags are the openings findMarkup looks for. Each must be followed
// by white space, '>' or '/' (or the end of the data), so that "<svg" is not
// found in "<svgfoo". None is shorter than four characters: in compressed
// media data a given 4-letter opening plus delimiter turns up about once
// in 2^34 bytes, so a false refusal within the 64 KiB searched is a
// one-in-a-few-hundred-thousand event.
var markupTags = []string{
	"<script", "<html", "<body", "<head", "<iframe", "<frameset", "<svg",
	"<object", "<embed", "<img", "<meta", "<link", "<style", "<form",
	"<?php", "<!doctype",
}

// findMarkup returns the first HTML, SVG or PHP opening in b (ignoring
// case), or "". Detect runs it over the first sniffLen bytes of every
// upload, where browsers and other content sniffers decide what a file
// is: a "GIF" that opens a <script> there is refused, not stored.
func findMarkup(b []byte) string {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 {
			return ""
		}
		i += j
		for _, tag := range markupTags {
			if hasTagAt(b[i:], tag) {
				return tag
			}
		}
		i++
	}
}

func hasTagAt(b []byte, tag string) bool {
	if len(b) < len(tag) || !bytes.EqualFold(b[:len(tag)], []byte(tag)) {
		return false
	}
	if len(b) == len(tag) {
		return true
	}
	switch b[len(tag)] {
	case ' ', '\t', '\n', '\r', '\f', '>', '/':
		return true
	}
	return false
}
