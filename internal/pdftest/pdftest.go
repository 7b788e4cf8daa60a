// Package pdftest reads PDFs back the way a person's reader would, for tests: the text with
// Debian's pdftotext, and the QR codes of the images in them with pdfimages and a QR decoder.
// Without poppler-utils installed a test is skipped, saying so, except under CI, where it
// fails: `make test` installs them.
package pdftest

import (
	"bytes"
	"image"
	_ "image/png" // pdfimages -png writes PNG
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// need finds a poppler tool, or skips (fails under CI) when it is missing.
func need(tb testing.TB, tool string) string {
	tb.Helper()
	path, err := exec.LookPath(tool)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("%s is not installed: `make test` installs Debian's poppler-utils", tool)
	}
	tb.Skipf("%s is not installed (Debian's poppler-utils, which `make test` installs): skipping the check of the PDF", tool)
	return ""
}

// write puts the PDF in a file of the test's own.
func write(tb testing.TB, pdf []byte) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "document.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// Text is the PDF's text as pdftotext reads it, in reading order.
func Text(tb testing.TB, pdf []byte) string {
	tb.Helper()
	tool := need(tb, "pdftotext")
	var out, errOut bytes.Buffer
	cmd := exec.Command(tool, "-enc", "UTF-8", write(tb, pdf), "-")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		tb.Fatalf("pdftotext: %v: %s", err, errOut.String())
	}
	return out.String()
}

// QRCodes decodes every QR code among the PDF's images, as pdfimages extracts them, and
// returns their texts; an image that holds none is left out.
func QRCodes(tb testing.TB, pdf []byte) []string {
	tb.Helper()
	tool := need(tb, "pdfimages")
	dir := tb.TempDir()
	if out, err := exec.Command(tool, "-png", write(tb, pdf), filepath.Join(dir, "image")).CombinedOutput(); err != nil {
		tb.Fatalf("pdfimages: %v: %s", err, out)
	}
	files, err := filepath.Glob(filepath.Join(dir, "image-*.png"))
	if err != nil {
		tb.Fatal(err)
	}
	slices.Sort(files)
	var texts []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		img, _, err := image.Decode(bytes.NewReader(raw))
		if err != nil {
			tb.Fatalf("image %s from the PDF: %v", filepath.Base(f), err)
		}
		bmp, err := gozxing.NewBinaryBitmapFromImage(img)
		if err != nil {
			tb.Fatal(err)
		}
		res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
		if err != nil {
			continue // not a QR code
		}
		texts = append(texts, res.GetText())
	}
	return texts
}
