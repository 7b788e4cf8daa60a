package media

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// isoVideoBrands are the ISO base media (MP4) major brands accepted as
// MP4: the generic ISO brands, MP4 v1/v2, AVC/AV1, Apple's M4V, DASH/CMAF
// segments as browsers' MediaRecorder writes them.
var isoVideoBrands = map[string]bool{
	"isom": true, "iso2": true, "iso3": true, "iso4": true, "iso5": true,
	"iso6": true, "iso8": true, "iso9": true, "mp41": true, "mp42": true,
	"avc1": true, "av01": true, "M4V ": true, "M4VH": true, "M4VP": true,
	"dash": true, "msdh": true, "msix": true, "cmfc": true, "cmf2": true,
	"MSNV": true,
}

// isoAudioBrands are the major brands of audio-only MP4 files.
var isoAudioBrands = map[string]bool{"M4A ": true, "M4B ": true}

// isoRefusedBrands names other ISO formats for the error message.
var isoRefusedBrands = map[string]string{
	"heic": "a HEIC image", "heix": "a HEIC image", "mif1": "a HEIF image",
	"msf1": "a HEIF image sequence", "avif": "an AVIF image", "avis": "an AVIF image sequence",
	"3gp4": "a 3GPP video", "3gp5": "a 3GPP video", "3gp6": "a 3GPP video", "3g2a": "a 3GPP2 video",
	"crx ": "a Canon raw image", "jp2 ": "a JPEG 2000 image", "M4P ": "DRM-protected audio",
}

// sniffISOBMFF checks an MP4/M4A/QuickTime head: an ftyp box with an
// accepted major brand followed by well-formed boxes. Whether it is audio
// or video comes from the track handlers ("soun", "vide") of a movie box
// found in the head (MediaRecorder and "fast start" files put it first),
// else from the brand: M4A/M4B are audio, the rest video.
func sniffISOBMFF(head []byte) (detection, error) {
	const mime = "video/mp4"
	ftypSize := int(binary.BigEndian.Uint32(head))
	if ftypSize < 16 || ftypSize > 4096 || (ftypSize-16)%4 != 0 || ftypSize > len(head) {
		return detection{}, malformed(mime, "ftyp box of %d bytes", ftypSize)
	}
	major := string(head[8:12])
	var f format
	switch {
	case major == "qt  ":
		f = formatMOV
	case isoVideoBrands[major]:
		f = formatMP4
	case isoAudioBrands[major]:
		f = formatM4A
	default:
		what := isoRefusedBrands[major]
		if what == "" {
			what = fmt.Sprintf("an ISO media file of brand %q", major)
		}
		return detection{}, &TypeError{Detected: what}
	}
	var handlers []string
	for off := ftypSize; off+8 <= len(head); {
		size, hdr, ok := isoBoxSize(head[off:])
		if !ok {
			break // a 64-bit size cut off by the end of the head
		}
		typ := head[off+4 : off+8]
		if !isBoxType(typ) {
			return detection{}, malformed(f.Mime, "invalid box type %q at byte %d", typ, off)
		}
		if size != 0 && size < int64(hdr) {
			return detection{}, malformed(f.Mime, "box %q of %d bytes", typ, size)
		}
		if string(typ) == "moov" {
			end := len(head)
			if size != 0 && int64(off)+size < int64(end) {
				end = off + int(size)
			}
			handlers = isoHandlers(head[off+hdr:end], handlers)
		}
		if size == 0 || size > int64(len(head)-off) {
			break // extends to the end of the file, or past the head
		}
		off += int(size)
	}
	if f == formatMOV {
		return detection{format: f}, nil
	}
	switch {
	case slices.Contains(handlers, "vide"):
		f = formatMP4
	case slices.Contains(handlers, "soun"):
		f = formatM4A
	}
	return detection{format: f}, nil
}

// isoBoxSize reads a box header's size (0 meaning "to the end of the
// file") and the header's length.
func isoBoxSize(b []byte) (size int64, hdr int, ok bool) {
	size = int64(binary.BigEndian.Uint32(b))
	if size != 1 {
		return size, 8, true
	}
	if len(b) < 16 {
		return 0, 0, false
	}
	large := binary.BigEndian.Uint64(b[8:])
	if large > 1<<62 {
		return 0, 16, true
	}
	return int64(large), 16, true
}

// isBoxType reports four printable ASCII characters, or the © QuickTime
// uses to start metadata box names.
func isBoxType(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != 0xa9 {
			return false
		}
	}
	return true
}

// isoHandlers appends the handler types of the tracks in a (possibly cut
// off) moov payload.
func isoHandlers(b []byte, found []string) []string {
	for off := 0; off+8 <= len(b); {
		size, hdr, ok := isoBoxSize(b[off:])
		if !ok || size < int64(hdr) {
			return found
		}
		end := len(b)
		if int64(off)+size < int64(end) {
			end = off + int(size)
		}
		payload := b[off+hdr : end]
		switch string(b[off+4 : off+8]) {
		case "trak", "mdia":
			found = isoHandlers(payload, found)
		case "hdlr":
			if len(payload) >= 12 {
				found = append(found, string(payload[8:12]))
			}
		}
		if size > int64(len(b)-off) {
			return found
		}
		off += int(size)
	}
	return found
}
