package media

import (
	"bufio"
	"encoding/binary"
)

const mimeWebP = "image/webp"

// webpKept lists the chunks a stripped WebP keeps: the extended header,
// colour profile, animation and image data. EXIF, XMP and unknown chunks
// are dropped.
var webpKept = map[string]bool{
	"VP8X": true, "ICCP": true, "ANIM": true, "ANMF": true,
	"ALPH": true, "VP8 ": true, "VP8L": true,
}

// VP8X flags announcing EXIF and XMP chunks, cleared once they are gone.
const (
	vp8xEXIF = 0x08
	vp8xXMP  = 0x04
)

// stripWebP copies a WebP's RIFF chunks, dropping metadata, and patches
// the RIFF size to match. The RIFF must end the file.
func stripWebP(dst imageSink, src *bufio.Reader) error {
	var hdr [12]byte
	if err := readN(src, hdr[:], mimeWebP); err != nil {
		return err
	}
	riff := int64(binary.LittleEndian.Uint32(hdr[4:]))
	if riff < 4+8 {
		return malformed(mimeWebP, "RIFF size %d too small", riff)
	}
	if _, err := dst.Write(hdr[:]); err != nil {
		return err
	}
	left := riff - 4 // bytes of chunks after "WEBP"
	out := int64(4)  // the new RIFF size
	sawImage := false
	for first := true; left > 0; first = false {
		if left < 8 {
			return malformed(mimeWebP, "%d stray bytes at the end of the RIFF", left)
		}
		var ch [8]byte
		if err := readN(src, ch[:], mimeWebP); err != nil {
			return err
		}
		name := string(ch[:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:]))
		padded := size + size&1
		if 8+padded > left {
			return malformed(mimeWebP, "chunk %q runs past the end of the RIFF", name)
		}
		left -= 8 + padded
		if !isFourCC(ch[:4]) {
			return malformed(mimeWebP, "invalid chunk name %q", name)
		}
		switch {
		case first && name != "VP8X" && name != "VP8 " && name != "VP8L":
			return malformed(mimeWebP, "first chunk is %q, not image data or VP8X", name)
		case !first && name == "VP8X":
			return malformed(mimeWebP, "VP8X chunk out of place")
		}
		if err := checkWebPChunk(name, size, src); err != nil {
			return err
		}
		switch name {
		case "VP8 ", "VP8L", "ANMF":
			sawImage = true
		}
		if !webpKept[name] {
			if err := skip(src, padded, mimeWebP); err != nil {
				return err
			}
			continue
		}
		out += 8 + padded
		if _, err := dst.Write(ch[:]); err != nil {
			return err
		}
		if name == "VP8X" {
			if err := copyVP8X(dst, src, padded); err != nil {
				return err
			}
			continue
		}
		if err := pass(dst, src, padded, mimeWebP); err != nil {
			return err
		}
	}
	if !sawImage {
		return malformed(mimeWebP, "no image data")
	}
	if err := expectEnd(mimeWebP, src); err != nil {
		return err
	}
	if out > 0xffffffff {
		return malformed(mimeWebP, "too large")
	}
	var size [4]byte
	binary.LittleEndian.PutUint32(size[:], uint32(out))
	_, err := dst.WriteAt(size[:], 4)
	return err
}

// checkWebPChunk checks the start of an image chunk's bitstream.
func checkWebPChunk(name string, size int64, src *bufio.Reader) error {
	switch name {
	case "VP8X":
		if size < 10 {
			return malformed(mimeWebP, "VP8X chunk too short")
		}
	case "VP8L":
		b, err := src.Peek(1)
		if size < 5 || err != nil || b[0] != 0x2f {
			return malformed(mimeWebP, "VP8L chunk without its signature")
		}
	case "VP8 ":
		b, err := src.Peek(6)
		if size < 10 || err != nil || b[3] != 0x9d || b[4] != 0x01 || b[5] != 0x2a {
			return malformed(mimeWebP, "VP8 chunk without its start code")
		}
	}
	return nil
}

// copyVP8X copies the extended header with the EXIF and XMP flags cleared.
func copyVP8X(dst imageSink, src *bufio.Reader, n int64) error {
	b := make([]byte, n)
	if err := readN(src, b, mimeWebP); err != nil {
		return err
	}
	b[0] &^= vp8xEXIF | vp8xXMP
	_, err := dst.Write(b)
	return err
}

// isFourCC reports a RIFF chunk name: printable ASCII.
func isFourCC(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
