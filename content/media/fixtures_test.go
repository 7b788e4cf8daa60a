package media_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"polyphony/content/media/mediatest"
)

// This file builds the media the upload tests send: real images encoded
// by the standard library with metadata spliced in, and audio and video
// containers with correct headers followed by filler. Files recorded by
// real encoders are in testdata/.

// testImage is a small picture with enough detail to compress unevenly.
func testImage() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), uint8(x*y) ^ 0x5a, 255})
		}
	}
	return img
}

// Markers that must not survive metadata stripping.
const (
	secretCamera  = "SecretCam 3000"
	secretComment = "secret comment: taken at home"
	secretXMP     = "http://ns.adobe.com/xap/1.0/"
	secretText    = "secret text chunk"
)

// tiffWithGPS returns a big-endian Exif TIFF structure whose IFD0 holds a
// camera make, an orientation (if not 0) and a GPS IFD with a latitude.
func tiffWithGPS(orientation uint16) []byte {
	var b bytes.Buffer
	be := binary.BigEndian
	w16 := func(v uint16) { _ = binary.Write(&b, be, v) }
	w32 := func(v uint32) { _ = binary.Write(&b, be, v) }
	b.WriteString("MM\x00\x2a")
	w32(8)
	entries := uint16(2)
	if orientation != 0 {
		entries = 3
	}
	ifd0Len := 2 + 12*int(entries) + 4
	makeOff := uint32(8 + ifd0Len)
	gpsOff := makeOff + uint32(len(secretCamera)+1)
	w16(entries)
	w16(0x010f) // Make
	w16(2)      // ASCII
	w32(uint32(len(secretCamera) + 1))
	w32(makeOff)
	if orientation != 0 {
		w16(0x0112)
		w16(3)
		w32(1)
		w16(orientation)
		w16(0)
	}
	w16(0x8825) // GPSInfo
	w16(4)      // LONG
	w32(1)
	w32(gpsOff)
	w32(0) // no next IFD
	b.WriteString(secretCamera + "\x00")
	// GPS IFD: latitude ref "N" and latitude 51/1 30/1 0/1.
	w16(2)
	w16(0x0001)
	w16(2)
	w32(2)
	b.WriteString("N\x00\x00\x00")
	w16(0x0002)
	w16(5) // RATIONAL
	w32(3)
	w32(gpsOff + 2 + 24 + 4)
	w32(0)
	for _, v := range []uint32{51, 1, 30, 1, 0, 1} {
		w32(v)
	}
	return b.Bytes()
}

// jpegSegment returns marker segment m with payload p.
func jpegSegment(m byte, p []byte) []byte {
	seg := []byte{0xff, m, byte((len(p) + 2) >> 8), byte(len(p) + 2)}
	return append(seg, p...)
}

// plainJPEG encodes testImage.
func plainJPEG(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// jpegWithMetadata returns testImage as a JPEG carrying Exif (with GPS and
// the given orientation), XMP, Photoshop IPTC and a comment.
func jpegWithMetadata(t testing.TB, orientation uint16) []byte {
	t.Helper()
	plain := plainJPEG(t)
	var out []byte
	out = append(out, plain[:2]...) // SOI
	out = append(out, jpegSegment(0xe1, append([]byte("Exif\x00\x00"), tiffWithGPS(orientation)...))...)
	out = append(out, jpegSegment(0xe1, []byte(secretXMP+"\x00<x:xmpmeta><rdf:RDF/></x:xmpmeta>"))...)
	out = append(out, jpegSegment(0xed, []byte("Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x04\x1c\x02\x00\x02"))...)
	out = append(out, jpegSegment(0xfe, []byte(secretComment))...)
	return append(out, plain[2:]...)
}

// pngChunk returns a PNG chunk with a correct CRC.
func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

func plainPNG(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testImage()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngWithMetadata returns testImage as a PNG with eXIf (GPS), tEXt, zTXt,
// iTXt, tIME and a private chunk after its header.
func pngWithMetadata(t testing.TB) []byte {
	t.Helper()
	plain := plainPNG(t)
	ihdrEnd := 8 + 8 + 13 + 4
	var out []byte
	out = append(out, plain[:ihdrEnd]...)
	out = append(out, pngChunk("eXIf", tiffWithGPS(0))...)
	out = append(out, pngChunk("tEXt", []byte("Comment\x00"+secretText))...)
	out = append(out, pngChunk("zTXt", []byte("Author\x00\x00x\x9c\x03\x00\x00\x00\x00\x01"))...)
	out = append(out, pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"+secretXMP))...)
	out = append(out, pngChunk("tIME", []byte{0x07, 0xe8, 1, 2, 3, 4, 5})...)
	out = append(out, pngChunk("prVt", []byte(secretComment))...)
	return append(out, plain[ihdrEnd:]...)
}

// gifWithMetadata returns a two-frame looping GIF with the given comment
// and an XMP application extension after its screen descriptor.
func gifWithMetadata(t testing.TB, comment string) []byte {
	t.Helper()
	frames := 2
	pal := palette.Plan9
	g := &gif.GIF{LoopCount: 0}
	for i := range frames {
		img := image.NewPaletted(image.Rect(0, 0, 32, 24), pal)
		for y := range 24 {
			for x := range 32 {
				img.SetColorIndex(x, y, uint8(x*7+y*3+i*40))
			}
		}
		g.Image = append(g.Image, img)
		g.Delay = append(g.Delay, 10)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	plain := b.Bytes()
	headerEnd := 13 // logical screen descriptor and global table, if any
	if flags := plain[10]; flags&0x80 != 0 {
		headerEnd += 3 << (flags&7 + 1)
	}
	var ext []byte
	ext = append(ext, 0x21, 0xfe) // comment
	for c := []byte(comment); len(c) > 0; {
		n := min(len(c), 255)
		ext = append(ext, byte(n))
		ext = append(ext, c[:n]...)
		c = c[n:]
	}
	ext = append(ext, 0)
	ext = append(ext, 0x21, 0xff, 11)
	ext = append(ext, "XMP DataXMP"...)
	ext = append(ext, byte(len(secretXMP)))
	ext = append(ext, secretXMP...)
	ext = append(ext, 0)
	out := append([]byte(nil), plain[:headerEnd]...)
	out = append(out, ext...)
	return append(out, plain[headerEnd:]...)
}

// webpLossless1x1 is a 1×1 lossless WebP image's VP8L bitstream.
var webpLossless1x1 = []byte{0x2f, 0x00, 0x00, 0x00, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07, 0x00}

func riffChunk(name string, data []byte) []byte {
	c := append([]byte(name), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	c = append(c, data...)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

func riff(form string, chunks ...[]byte) []byte {
	body := []byte(form)
	for _, c := range chunks {
		body = append(body, c...)
	}
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

// webpWithMetadata returns an extended WebP with EXIF and XMP chunks and
// the VP8X flags announcing them.
func webpWithMetadata() []byte {
	vp8x := []byte{0x08 | 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0} // EXIF and XMP, 1×1
	return riff("WEBP",
		riffChunk("VP8X", vp8x),
		riffChunk("VP8L", webpLossless1x1),
		riffChunk("EXIF", tiffWithGPS(6)),
		riffChunk("XMP ", []byte(secretXMP)),
	)
}

// zipArchive returns a small ZIP holding one file.
func zipArchive(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create("payload.html")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("<html><script>alert(1)</script></html>"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngZipPolyglot hides a ZIP in a private chunk before IEND, its comment
// length stretched over the chunk's CRC and the IEND chunk, so that ZIP
// readers find it at the end of the file.
func pngZipPolyglot(t testing.TB) []byte {
	t.Helper()
	plain := plainPNG(t)
	z := zipArchive(t)
	const tailLen = 4 + 12 // the chunk's CRC and IEND
	binary.LittleEndian.PutUint16(z[len(z)-2:], tailLen)
	iend := len(plain) - 12
	out := append([]byte(nil), plain[:iend]...)
	out = append(out, pngChunk("zIPp", z)...)
	return append(out, plain[iend:]...)
}

// filler returns n bytes of pseudo-random data holding no ZIP signature.
func filler(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
		if b[i] == 'P' {
			b[i] = 'Q'
		}
	}
	return b
}

// isoBox and mp4Head are shared with the server's benchmarks.
var (
	isoBox  = mediatest.ISOBox
	mp4Head = mediatest.MP4Head
)

// mp4File returns an MP4 with the given head and an mdat of n filler
// bytes.
func mp4File(head []byte, n int) []byte {
	mdat := binary.BigEndian.AppendUint32(nil, uint32(8+n))
	mdat = append(mdat, "mdat"...)
	return append(append(append([]byte(nil), head...), mdat...), filler(n, 7)...)
}

// ebml returns an EBML element, its size written in 8 bytes.
func ebml(id uint32, payload ...[]byte) []byte {
	var b []byte
	for s := 24; s >= 0; s -= 8 {
		if c := byte(id >> s); c != 0 || len(b) > 0 {
			b = append(b, c)
		}
	}
	body := bytes.Join(payload, nil)
	b = append(b, 0x01)
	for i := 6; i >= 0; i-- {
		b = append(b, byte(len(body)>>(8*i)))
	}
	return append(b, body...)
}

// webmFile returns a WebM whose tracks have the given types (1 video, 2
// audio), recorded live (Segment and Cluster of unknown size) with n
// filler bytes of cluster data.
func webmFile(docType string, n int, trackTypes ...byte) []byte {
	header := ebml(0x1a45dfa3,
		ebml(0x4286, []byte{1}), ebml(0x42f7, []byte{1}), ebml(0x42f2, []byte{4}),
		ebml(0x42f3, []byte{8}), ebml(0x4282, []byte(docType)),
		ebml(0x4287, []byte{4}), ebml(0x4285, []byte{2}))
	var entries [][]byte
	for i, tt := range trackTypes {
		codec := "A_OPUS"
		if tt == 1 {
			codec = "V_VP8"
		}
		entries = append(entries, ebml(0xae, ebml(0xd7, []byte{byte(i + 1)}), ebml(0x83, []byte{tt}), ebml(0x86, []byte(codec))))
	}
	info := ebml(0x1549a966, ebml(0x2ad7b1, []byte{0x0f, 0x42, 0x40}), ebml(0x4d80, []byte("polyphony-test")))
	tracks := ebml(0x1654ae6b, entries...)
	unknown := []byte{0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	out := append([]byte(nil), header...)
	out = append(out, 0x18, 0x53, 0x80, 0x67)
	out = append(out, unknown...)
	out = append(out, info...)
	out = append(out, tracks...)
	out = append(out, 0x1f, 0x43, 0xb6, 0x75)
	out = append(out, unknown...)
	return append(out, filler(n, 3)...)
}

// oggPage returns an Ogg page holding one packet.
func oggPage(flags byte, serial, seq uint32, granule uint64, packet []byte) []byte {
	var segs []byte
	n := len(packet)
	for n >= 255 {
		segs = append(segs, 255)
		n -= 255
	}
	segs = append(segs, byte(n))
	p := []byte("OggS\x00")
	p = append(p, flags)
	p = binary.LittleEndian.AppendUint64(p, granule)
	p = binary.LittleEndian.AppendUint32(p, serial)
	p = binary.LittleEndian.AppendUint32(p, seq)
	p = append(p, 0, 0, 0, 0) // CRC, filled below
	p = append(p, byte(len(segs)))
	p = append(p, segs...)
	p = append(p, packet...)
	binary.LittleEndian.PutUint32(p[22:], oggChecksum(p))
	return p
}

// oggChecksum is the Ogg CRC (polynomial 0x04c11db7, no reflection, zero
// initial value), computed bit by bit.
func oggChecksum(page []byte) uint32 {
	var crc uint32
	for _, c := range page {
		crc ^= uint32(c) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04c11db7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// oggFile returns an Ogg stream whose first packet is head, then pages of
// filler up to about n bytes.
func oggFile(head []byte, n int) []byte {
	out := oggPage(0x02, 1, 0, 0, head)
	out = append(out, oggPage(0, 1, 1, 0, []byte("OpusTags\x08\x00\x00\x00polyphon\x00\x00\x00\x00"))...)
	for seq := uint32(2); len(out) < n; seq++ {
		out = append(out, oggPage(0, 1, seq, uint64(seq)*960, filler(4000, byte(seq)))...)
	}
	return out
}

var (
	opusHead   = []byte("OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00")
	vorbisHead = []byte("\x01vorbis\x00\x00\x00\x00\x01\x44\xac\x00\x00\x00\x00\x00\x00\x00\xee\x02\x00\x00\x00\x00\x00\xb8\x01")
	theoraHead = []byte("\x80theora\x03\x02\x01\x00\x14\x00\x0f\x00\x01\x40\x00\x00\xf0\x00\x00\x00\x00\x00\x1e\x00\x00\x00\x01\x00\x00\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0")
)

// mp3Frames returns n MPEG-1 layer III frames at 128 kbit/s, 44.1 kHz
// (417 bytes each), after an ID3v2.4 tag of tagLen bytes if tagLen > 0.
func mp3Frames(n, tagLen int) []byte {
	var out []byte
	if tagLen > 0 {
		size := tagLen - 10
		out = append(out, 'I', 'D', '3', 4, 0, 0,
			byte(size>>21&0x7f), byte(size>>14&0x7f), byte(size>>7&0x7f), byte(size&0x7f))
		out = append(out, make([]byte, size)...)
	}
	for i := range n {
		frame := filler(417, byte(i))
		copy(frame, []byte{0xff, 0xfb, 0x90, 0x64})
		out = append(out, frame...)
	}
	return out
}

// wavFile returns a 16-bit mono PCM WAVE file with n bytes of samples.
func wavFile(n int) []byte {
	fmtChunk := []byte{1, 0, 1, 0, 0x44, 0xac, 0, 0, 0x88, 0x58, 1, 0, 2, 0, 16, 0}
	return riff("WAVE", riffChunk("fmt ", fmtChunk), riffChunk("data", filler(n, 9)))
}
