package award

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"codeberg.org/go-pdf/fpdf"
	"github.com/skip2/go-qrcode"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
)

// The certificate is set in the Go fonts, TrueType fonts that ship inside a Go module and
// are embedded in the binary: fpdf's own core fonts know only Windows-1252, and a name in
// Polish, Greek or Cyrillic must come out as it was typed. The Go fonts cover the Latin,
// Greek and Cyrillic scripts (Windows Glyph List 4); characters beyond them, such as Chinese,
// Arabic or emoji, have no glyph (Unprintable lists them): the name chosen for the
// certificate and the settings refuse them, and the account page warns of them in the
// account's name.
var regularFont = func() *sfnt.Font {
	f, err := sfnt.Parse(goregular.TTF)
	if err != nil {
		panic(err) // the font is compiled in
	}
	return f
}()

// Unprintable lists the characters of s that the certificate's font has no glyph for, each
// once, in the order they come.
func Unprintable(s string) []rune {
	var buf sfnt.Buffer
	var out []rune
	seen := map[rune]bool{}
	for _, r := range s {
		if r == ' ' || seen[r] {
			continue
		}
		if i, err := regularFont.GlyphIndex(&buf, r); err != nil || i == 0 {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// printable is s without the characters the font has no glyph for (fpdf refuses those
// outside the Basic Multilingual Plane, and shows the others as nothing), so that a
// certificate is always made: the chosen name and the settings refuse such characters, and
// only a name taken from the account can still hold them, of which the account page warns.
func printable(s string) string {
	missing := Unprintable(s)
	if len(missing) == 0 {
		return s
	}
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if slices.Contains(missing, r) {
			return -1
		}
		return r
	}, s)), " ")
}

// VerifyURL is the public address of a code's verification page.
func VerifyURL(publicURL, code string) string {
	return strings.TrimRight(publicURL, "/") + "/verify/" + code
}

// Certificate is the award's certificate: one A4 page with the awarding organisations, the
// person's name as they want it shown, the award's title, its date, the verification code
// and a QR code of the verification page's address under publicURL. A revoked award's
// certificate says so across the page, so that a copy downloaded after the revocation
// cannot pass for a valid one.
func Certificate(a Award, publicURL string) ([]byte, error) {
	link := VerifyURL(publicURL, a.Code)
	a.ShownName, a.Title = printable(a.ShownName), printable(a.Title)
	orgs := make([]string, len(a.Organisations))
	for i, o := range a.Organisations {
		orgs[i] = printable(o)
	}
	a.Organisations = orgs
	qr, err := qrcode.Encode(link, qrcode.Medium, 512)
	if err != nil {
		return nil, fmt.Errorf("certificate QR code: %w", err)
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(true)
	pdf.AddUTF8FontFromBytes("go", "", goregular.TTF)
	pdf.AddUTF8FontFromBytes("go", "B", gobold.TTF)
	pdf.SetTitle(a.Title+" — "+a.ShownName, true)
	pdf.SetCreator("Polyphony", true)
	pdf.SetCreationDate(a.AwardedAt)
	pdf.SetModificationDate(a.AwardedAt)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(25, 25, 25)
	pdf.AddPage()

	const pageW, pageH = 210.0, 297.0
	const textW = pageW - 50
	// A double frame, in NHS blue.
	pdf.SetDrawColor(0, 94, 184)
	pdf.SetLineWidth(1.2)
	pdf.Rect(10, 10, pageW-20, pageH-20, "D")
	pdf.SetLineWidth(0.3)
	pdf.Rect(14, 14, pageW-28, pageH-28, "D")

	centred := func(size float64, style, text string, lineH float64) {
		pdf.SetFont("go", style, size)
		pdf.SetX(25)
		pdf.MultiCell(textW, lineH, text, "", "C", false)
	}
	pdf.SetTextColor(33, 43, 50)
	pdf.SetY(34)
	for _, o := range a.Organisations {
		centred(13, "B", o, 7)
	}
	pdf.SetY(max(pdf.GetY()+14, 70))
	centred(14, "", "This is to certify that", 8)
	pdf.SetY(pdf.GetY() + 8)
	pdf.SetTextColor(0, 48, 135)
	centred(28, "B", a.ShownName, 13)
	pdf.SetTextColor(33, 43, 50)
	pdf.SetY(pdf.GetY() + 8)
	centred(14, "", "has been awarded the", 8)
	pdf.SetY(pdf.GetY() + 6)
	centred(20, "B", a.Title, 10)
	pdf.SetY(pdf.GetY() + 8)
	centred(14, "", "on "+Date(a.AwardedAt), 8)

	if a.Status == Revoked && a.Revoked != nil {
		pdf.SetY(pdf.GetY() + 8)
		pdf.SetTextColor(212, 53, 28)
		centred(16, "B", "Revoked on "+Date(a.Revoked.At), 9)
		pdf.SetTextColor(33, 43, 50)
	}

	// The QR code and the code itself, for a reader who checks the certificate.
	const qrSize = 42.0
	pdf.RegisterImageOptionsReader("verify-qr", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(qr))
	pdf.ImageOptions("verify-qr", (pageW-qrSize)/2, 190, qrSize, qrSize, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, link)
	pdf.SetY(190 + qrSize + 4)
	centred(10, "", "Verification code", 5)
	centred(15, "B", a.Code, 8)
	centred(9, "", "Check this certificate at "+link, 5)
	if pdf.Err() {
		return nil, fmt.Errorf("certificate: %w", pdf.Error())
	}
	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	return out.Bytes(), nil
}
