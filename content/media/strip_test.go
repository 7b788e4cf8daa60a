package media_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"polyphony/content/media"
)

// uploadImage stores data through Upload on a local store and returns the
// stored bytes.
func uploadImage(t *testing.T, data []byte) []byte {
	t.Helper()
	s := newLocal(t).store
	up, err := media.Upload(t.Context(), s, bytes.NewReader(data), int64(len(data)), media.UploadOptions{})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	got := getObject(t, s, up.Key)
	if up.Size != int64(len(got)) {
		t.Errorf("Upload reported %d bytes, %d stored", up.Size, len(got))
	}
	return got
}

// jpegSegments lists the marker segments of a JPEG up to its first scan.
func jpegSegments(t *testing.T, b []byte) (markers []byte, payloads [][]byte) {
	t.Helper()
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xff {
			t.Fatalf("no marker at byte %d", i)
		}
		m := b[i+1]
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		markers = append(markers, m)
		payloads = append(payloads, b[i+4:i+2+n])
		if m == 0xda {
			return markers, payloads
		}
		i += 2 + n
	}
	t.Fatal("no scan")
	return nil, nil
}

func assertNoSecrets(t *testing.T, b []byte) {
	t.Helper()
	for _, s := range []string{secretCamera, secretComment, secretXMP, secretText, "Photoshop 3.0", "\x88\x25"} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("stored image still contains %q", s)
		}
	}
}

func samePixels(t *testing.T, got, want image.Image) {
	t.Helper()
	if got.Bounds() != want.Bounds() {
		t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
	}
	for y := got.Bounds().Min.Y; y < got.Bounds().Max.Y; y++ {
		for x := got.Bounds().Min.X; x < got.Bounds().Max.X; x++ {
			if got.At(x, y) != want.At(x, y) {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, got.At(x, y), want.At(x, y))
			}
		}
	}
}

func TestStripJPEG(t *testing.T) {
	want, err := jpeg.Decode(bytes.NewReader(plainJPEG(t)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		orientation uint16
	}{{"Upright", 0}, {"Rotated", 6}} {
		t.Run(tc.name, func(t *testing.T) {
			got := uploadImage(t, jpegWithMetadata(t, tc.orientation))
			assertNoSecrets(t, got)
			markers, payloads := jpegSegments(t, got)
			var app1 [][]byte
			for i, m := range markers {
				switch {
				case m == 0xe1:
					app1 = append(app1, payloads[i])
				case m == 0xed || m == 0xfe:
					t.Errorf("segment 0x%02x survived", m)
				}
			}
			switch {
			case tc.orientation == 0 && len(app1) != 0:
				t.Errorf("%d APP1 segments left, want none", len(app1))
			case tc.orientation != 0 && (len(app1) != 1 || len(app1[0]) != 32 || !bytes.HasPrefix(app1[0], []byte("Exif\x00\x00MM"))):
				t.Errorf("APP1 segments %q, want one 32-byte Exif holding the orientation", app1)
			case tc.orientation != 0 && binary.BigEndian.Uint16(app1[0][6+8+2+8:]) != tc.orientation:
				t.Errorf("orientation %d kept, want %d", binary.BigEndian.Uint16(app1[0][6+8+2+8:]), tc.orientation)
			}
			img, err := jpeg.Decode(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("stripped JPEG does not decode: %v", err)
			}
			samePixels(t, img, want)
		})
	}
	t.Run("CommentFromEncoder", func(t *testing.T) {
		orig := readTestdata(t, "image-ffmpeg.jpg")
		got := uploadImage(t, orig)
		markers, _ := jpegSegments(t, got)
		if bytes.IndexByte(markers, 0xfe) >= 0 {
			t.Errorf("comment segment survived: markers % x", markers)
		}
		if origMarkers, _ := jpegSegments(t, orig); bytes.IndexByte(origMarkers, 0xfe) < 0 {
			t.Fatal("fixture has no comment to strip")
		}
		a, err := jpeg.Decode(bytes.NewReader(orig))
		if err != nil {
			t.Fatal(err)
		}
		b, err := jpeg.Decode(bytes.NewReader(got))
		if err != nil {
			t.Fatalf("stripped JPEG does not decode: %v", err)
		}
		samePixels(t, b, a)
	})
}

func TestStripPNG(t *testing.T) {
	got := uploadImage(t, pngWithMetadata(t))
	assertNoSecrets(t, got)
	for _, chunk := range []string{"eXIf", "tEXt", "zTXt", "iTXt", "tIME", "prVt"} {
		if bytes.Contains(got, []byte(chunk)) {
			t.Errorf("chunk %s survived", chunk)
		}
	}
	plain := plainPNG(t)
	if !bytes.Equal(got, plain) {
		t.Errorf("stripped PNG (%d bytes) differs from the PNG before metadata was added (%d bytes)", len(got), len(plain))
	}
	img, err := png.Decode(bytes.NewReader(got))
	if err != nil {
		t.Fatalf("stripped PNG does not decode: %v", err)
	}
	samePixels(t, img, testImage())
}

func TestStripGIF(t *testing.T) {
	plain := gifWithoutMetadata(t)
	got := uploadImage(t, gifWithMetadata(t, secretComment))
	assertNoSecrets(t, got)
	if !bytes.Equal(got, plain) {
		t.Errorf("stripped GIF (%d bytes) differs from the GIF before metadata was added (%d bytes)", len(got), len(plain))
	}
	g, err := gif.DecodeAll(bytes.NewReader(got))
	if err != nil {
		t.Fatalf("stripped GIF does not decode: %v", err)
	}
	if len(g.Image) != 2 || g.LoopCount != 0 {
		t.Errorf("%d frames, loop count %d; want 2 frames looping forever", len(g.Image), g.LoopCount)
	}

	// Markup beyond the sniffed head is not refused but cannot survive:
	// comments are dropped.
	big := noisyGIF(t, 100<<10)
	comment := append([]byte{0x21, 0xfe, 25}, "<script>alert(1)</script>\x00"...)
	withScript := append(append(append([]byte(nil), big[:len(big)-1]...), comment...), 0x3b)
	if stored := uploadImage(t, withScript); !bytes.Equal(stored, big) {
		t.Errorf("a comment with markup beyond the head was stored (contains <script: %v)", bytes.Contains(stored, []byte("<script")))
	}
}

// noisyGIF returns an animated GIF of at least n bytes.
func noisyGIF(t *testing.T, n int) []byte {
	t.Helper()
	g := &gif.GIF{}
	for i := 0; i*32*24 < n; i++ {
		img := image.NewPaletted(image.Rect(0, 0, 32, 24), palette.Plan9)
		copy(img.Pix, filler(len(img.Pix), byte(i)))
		g.Image = append(g.Image, img)
		g.Delay = append(g.Delay, 5)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// gifWithoutMetadata returns what gifWithMetadata wraps.
func gifWithoutMetadata(t *testing.T) []byte {
	t.Helper()
	withMeta := gifWithMetadata(t, "x")
	// Remove the comment (21 fe 01 'x' 00) and the XMP extension.
	i := bytes.Index(withMeta, []byte{0x21, 0xfe})
	j := bytes.Index(withMeta, []byte("XMP DataXMP")) - 3
	end := j + 3 + 11 + 1 + len(secretXMP) + 1
	if i < 0 || j != i+5 {
		t.Fatalf("unexpected fixture layout")
	}
	return append(append([]byte(nil), withMeta[:i]...), withMeta[end:]...)
}

func TestStripWebP(t *testing.T) {
	got := uploadImage(t, webpWithMetadata())
	want := riff("WEBP", riffChunk("VP8X", make([]byte, 10)), riffChunk("VP8L", webpLossless1x1))
	if !bytes.Equal(got, want) {
		t.Errorf("stripped WebP\n% x\nwant\n% x", got, want)
	}
	for _, name := range []string{"image-lossy.webp", "image-lossless.webp", "image-animated.webp"} {
		t.Run(name, func(t *testing.T) {
			orig := readTestdata(t, name)
			if got := uploadImage(t, orig); !bytes.Equal(got, orig) {
				t.Errorf("a WebP without metadata changed in storage")
			}
		})
	}
}

func TestUploadMalformedImages(t *testing.T) {
	png := plainPNG(t)
	badCRC := append([]byte(nil), png...)
	badCRC[len(badCRC)-20] ^= 0x40 // inside the last IDAT
	critical := append(append(append([]byte(nil), png[:33]...), pngChunk("ABCD", []byte("x"))...), png[33:]...)
	headerLater := append(append(append([]byte(nil), png[:8]...), pngChunk("gAMA", []byte{0, 0, 0xb1, 0x8f})...), png[8:]...)
	jpg := plainJPEG(t)
	noFrame := append([]byte{0xff, 0xd8}, jpegSegment(0xda, []byte{1, 1, 0, 0, 0x3f, 0})...)
	noFrame = append(noFrame, 0x12, 0x34, 0xff, 0xd9)
	webp := riff("WEBP", riffChunk("VP8L", webpLossless1x1))
	longRIFF := append([]byte(nil), webp...)
	binary.LittleEndian.PutUint32(longRIFF[4:], uint32(len(webp)))
	badVP8L := riff("WEBP", riffChunk("VP8L", append([]byte{0x2e}, webpLossless1x1[1:]...)))
	gifTrailing := append(gifWithoutMetadata(t), 0x1a, 0x14, 0x00, 0x3b)
	cases := []struct {
		name string
		data []byte
		want error
		text string
	}{
		{"PNGBadCRC", badCRC, media.ErrMalformed, "fails its CRC check"},
		{"PNGUnknownCriticalChunk", critical, media.ErrMalformed, `unknown critical chunk "ABCD"`},
		{"PNGHeaderNotFirst", headerLater, media.ErrMalformed, "not the image header"},
		{"PNGDataAfterEnd", append(append([]byte(nil), png...), 0, 1, 2, 3), media.ErrMalformed, "data follows the end"},
		{"PNGWithoutEnd", png[:len(png)-12], media.ErrTruncated, "ends before its end marker"},
		{"JPEGGarbageAfterStart", append([]byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0, 0}, filler(3000, 1)...), media.ErrMalformed, "where a marker was expected"},
		{"JPEGScanWithoutFrame", noFrame, media.ErrMalformed, "scan before any frame header"},
		{"JPEGDataAfterEnd", append(append([]byte(nil), jpg...), "trailer"...), media.ErrMalformed, "data follows the end"},
		{"WebPRIFFLongerThanFile", longRIFF, media.ErrTruncated, "ends before its end marker"},
		{"WebPDataAfterRIFF", append(append([]byte(nil), webp...), 0, 0, 0, 0), media.ErrMalformed, "data follows the end"},
		{"WebPBadSignature", badVP8L, media.ErrMalformed, "VP8L chunk without its signature"},
		{"GIFDataAfterTrailer", gifTrailing, media.ErrMalformed, "data follows the end"},
	}
	s := newLocal(t).store
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := media.Upload(t.Context(), s, bytes.NewReader(tc.data), int64(len(tc.data)), media.UploadOptions{})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("err = %v; want %v mentioning %q", err, tc.want, tc.text)
			}
		})
	}
	assertNothingStored(t, s, "journal/")
}
