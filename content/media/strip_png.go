package media

import (
	"bufio"
	"encoding/binary"
	"hash/crc32"
	"io"
)

const mimePNG = "image/png"

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// pngKept lists the chunks a stripped PNG keeps: the critical ones, colour
// and transparency information, physical size and APNG animation. All
// others are dropped, among them eXIf, tEXt, zTXt, iTXt and tIME (the
// metadata) and private chunks, in which anything may hide.
var pngKept = map[string]bool{
	"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true,
	"tRNS": true, "cHRM": true, "gAMA": true, "iCCP": true, "sBIT": true,
	"sRGB": true, "cICP": true, "mDCV": true, "cLLI": true, "bKGD": true,
	"hIST": true, "pHYs": true, "sPLT": true,
	"acTL": true, "fcTL": true, "fdAT": true,
}

// maxPNGChunk is the largest chunk length the PNG format allows.
const maxPNGChunk = 1<<31 - 1

// stripPNG copies a PNG chunk by chunk, checking each chunk's CRC, up to
// its IEND chunk, which must end the file.
func stripPNG(dst imageSink, src *bufio.Reader) error {
	sig := make([]byte, len(pngSignature))
	if err := readN(src, sig, mimePNG); err != nil {
		return err
	}
	if string(sig) != string(pngSignature) {
		return malformed(mimePNG, "bad signature")
	}
	if _, err := dst.Write(sig); err != nil {
		return err
	}
	crc := crc32.NewIEEE()
	sawData := false
	for first := true; ; first = false {
		var hdr [8]byte
		if err := readN(src, hdr[:], mimePNG); err != nil {
			return err
		}
		length := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:])
		switch {
		case length > maxPNGChunk:
			return malformed(mimePNG, "chunk length %d too large", length)
		case !isChunkName(hdr[4:]):
			return malformed(mimePNG, "invalid chunk name %q", typ)
		case first && (typ != "IHDR" || length != 13):
			return malformed(mimePNG, "first chunk is %q, not the image header", typ)
		case !first && typ == "IHDR":
			return malformed(mimePNG, "second image header")
		}
		keep := pngKept[typ]
		if !keep && hdr[4]&0x20 == 0 {
			return malformed(mimePNG, "unknown critical chunk %q", typ)
		}
		crc.Reset()
		crc.Write(hdr[4:])
		var out io.Writer = crc
		if keep {
			if _, err := dst.Write(hdr[:]); err != nil {
				return err
			}
			out = io.MultiWriter(crc, dst)
		}
		if err := pass(out, src, length, mimePNG); err != nil {
			return err
		}
		var sum [4]byte
		if err := readN(src, sum[:], mimePNG); err != nil {
			return err
		}
		if binary.BigEndian.Uint32(sum[:]) != crc.Sum32() {
			return malformed(mimePNG, "chunk %q fails its CRC check", typ)
		}
		if keep {
			if _, err := dst.Write(sum[:]); err != nil {
				return err
			}
		}
		switch typ {
		case "IDAT":
			sawData = true
		case "IEND":
			if !sawData {
				return malformed(mimePNG, "no image data")
			}
			return expectEnd(mimePNG, src)
		}
	}
}

// isChunkName reports four ASCII letters, as PNG and WebP chunk names are.
func isChunkName(b []byte) bool {
	for _, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
