package server

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// NHSUKFonts is the folder from which the NHS.UK frontend's style sheet loads the NHS.UK
// font (Frutiger), as the frontend expects an NHS service to load it.
const NHSUKFonts = "https://assets.nhs.uk/fonts/"

// nhsukStylesheet is the NHS.UK frontend's style sheet in the embedded static files.
const nhsukStylesheet = "static/nhsuk/nhsuk-frontend.min.css"

var (
	// fontFace is one @font-face rule of a minified style sheet; its declarations hold no
	// braces.
	fontFace = regexp.MustCompile(`@font-face\s*\{[^}]*\}`)
	// frontendImages are the frontend's own pictures, which its style sheet names from the
	// root of the site that serves the frontend; here they are under /static/nhsuk.
	frontendImages = regexp.MustCompile(`url\((["']?)/assets/`)
)

// fontSource says where pages load the NHS.UK font from. The style sheet and the
// Content-Security-Policy must agree on it: a font the policy refuses is an error in every
// page's console, and the page falls back to the machine's fonts anyway.
type fontSource struct {
	folder string // the folder of the font files, ending in "/"; "" for none
	origin string // the folder's origin, which font-src allows
}

// parseFontSource checks the folder of the font files: "" (no web font: pages use the
// machine's own fonts and ask no other site for anything) or an absolute http(s) address.
func parseFontSource(folder string) (fontSource, error) {
	if folder == "" {
		return fontSource{}, nil
	}
	u, err := url.Parse(folder)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fontSource{}, fmt.Errorf("fonts: %q is not an http(s) address of a folder", folder)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return fontSource{folder: u.String(), origin: u.Scheme + "://" + u.Host}, nil
}

// fontSrc is the font-src directive of the Content-Security-Policy.
func (f fontSource) fontSrc() string {
	if f.origin == "" {
		return "font-src 'self'"
	}
	return "font-src 'self' " + f.origin
}

// stylesheet returns the NHS.UK frontend's style sheet as this site serves it. Its
// @font-face rules load the font from the font source, or are gone when there is none, so
// that the browser asks for nothing the policy refuses and uses the fallback fonts the
// style sheet names (Arial, then any sans-serif). Its pictures point under /static/nhsuk.
func (f fontSource) stylesheet(css []byte) []byte {
	if f.folder == "" {
		css = fontFace.ReplaceAll(css, nil)
	} else if f.folder != NHSUKFonts {
		css = bytes.ReplaceAll(css, []byte(NHSUKFonts), []byte(f.folder))
	}
	return frontendImages.ReplaceAll(css, []byte("url(${1}/static/nhsuk/assets/"))
}
