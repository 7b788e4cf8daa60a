package media

import (
	"bytes"
	"fmt"
)

// EBML element IDs (with their length marker bits, as written).
const (
	ebmlHeader      = 0x1a45dfa3
	ebmlReadVersion = 0x42f7
	ebmlDocType     = 0x4282
	ebmlVoid        = 0xec
	ebmlCRC32       = 0xbf
	mkvSegment      = 0x18538067
	mkvCluster      = 0x1f43b675
	mkvTracks       = 0x1654ae6b
	mkvTrackEntry   = 0xae
	mkvTrackType    = 0x83
)

var ebmlMagic = []byte{0x1a, 0x45, 0xdf, 0xa3}

// sniffWebM checks a WebM head: an EBML header of DocType "webm" (version
// 1 of EBML) followed by a Segment. Audio or video comes from the types of
// the tracks listed before the first Cluster (MediaRecorder writes them
// first); without them the file counts as video.
func sniffWebM(head []byte) (detection, error) {
	const mime = "video/webm"
	id, size, hdr, ok := ebmlElement(head)
	if !ok || id != ebmlHeader || size > 256 || hdr+int(size) > len(head) {
		return detection{}, malformed(mime, "bad EBML header")
	}
	docType := ""
	for b := head[hdr : hdr+int(size)]; len(b) > 0; {
		cid, csize, chdr, ok := ebmlElement(b)
		if !ok || csize > uint64(len(b)-chdr) {
			return detection{}, malformed(mime, "bad EBML header element")
		}
		v := b[chdr : chdr+int(csize)]
		switch cid {
		case ebmlDocType:
			docType = string(bytes.TrimRight(v, "\x00"))
		case ebmlReadVersion:
			if ebmlUint(v) != 1 {
				return detection{}, malformed(mime, "EBML read version %d", ebmlUint(v))
			}
		}
		b = b[chdr+int(csize):]
	}
	switch docType {
	case "webm":
	case "matroska":
		return detection{}, &TypeError{Detected: "a Matroska (MKV) file", Reason: "only WebM is accepted"}
	default:
		return detection{}, &TypeError{Detected: fmt.Sprintf("an EBML file of type %q", docType)}
	}
	rest := head[hdr+int(size):]
	for {
		id, size, hdr, ok := ebmlElement(rest)
		if !ok {
			return detection{}, malformed(mime, "no Segment after the EBML header")
		}
		if id == mkvSegment {
			rest = rest[hdr:]
			break
		}
		if (id != ebmlVoid && id != ebmlCRC32) || size > uint64(len(rest)-hdr) {
			return detection{}, malformed(mime, "element 0x%x where the Segment belongs", id)
		}
		rest = rest[hdr+int(size):]
	}
	video, audio := webmTrackTypes(rest)
	if audio && !video {
		// A recording made in a browser has no Duration: it is written in on the way.
		return detection{format: formatWebA, Strip: writeWebMDuration}, nil
	}
	return detection{format: formatWebM}, nil
}

// webmTrackTypes looks through the start of a Segment's children for the
// track list and reports whether it has video and audio tracks.
func webmTrackTypes(b []byte) (video, audio bool) {
	for len(b) > 0 {
		id, size, hdr, ok := ebmlElement(b)
		if !ok || id == mkvCluster || size == ebmlUnknownSize {
			return video, audio
		}
		end := len(b)
		if size <= uint64(len(b)-hdr) {
			end = hdr + int(size)
		}
		if id == mkvTracks {
			for t := b[hdr:end]; len(t) > 0; {
				tid, tsize, thdr, ok := ebmlElement(t)
				if !ok {
					break
				}
				tend := min(len(t), thdr+int(min(tsize, uint64(len(t)))))
				if tid == mkvTrackEntry {
					switch webmTrackType(t[thdr:tend]) {
					case 1:
						video = true
					case 2:
						audio = true
					}
				}
				t = t[tend:]
			}
			return video, audio
		}
		b = b[end:]
	}
	return video, audio
}

func webmTrackType(b []byte) uint64 {
	for len(b) > 0 {
		id, size, hdr, ok := ebmlElement(b)
		if !ok || size > uint64(len(b)-hdr) {
			return 0
		}
		if id == mkvTrackType {
			return ebmlUint(b[hdr : hdr+int(size)])
		}
		b = b[hdr+int(size):]
	}
	return 0
}

// ebmlUnknownSize is the size of an element whose end is not written
// (live recordings leave the Segment and Clusters open).
const ebmlUnknownSize = 1<<64 - 1

// ebmlElement reads an element header: its ID (1 to 4 bytes), its size (1
// to 8 bytes, all value bits set meaning unknown) and the header's length.
func ebmlElement(b []byte) (id, size uint64, hdr int, ok bool) {
	id, n, ok := ebmlVint(b, 4, true)
	if !ok {
		return 0, 0, 0, false
	}
	size, m, ok := ebmlVint(b[n:], 8, false)
	if !ok {
		return 0, 0, 0, false
	}
	return id, size, n + m, true
}

// ebmlVint reads a variable-length integer of at most maxLen bytes. IDs
// keep their marker bit; sizes lose it, and all-ones becomes
// ebmlUnknownSize.
func ebmlVint(b []byte, maxLen int, keepMarker bool) (uint64, int, bool) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0, false
	}
	n := 1
	for mask := byte(0x80); b[0]&mask == 0; mask >>= 1 {
		n++
	}
	if n > maxLen || n > len(b) {
		return 0, 0, false
	}
	v := uint64(b[0])
	if !keepMarker {
		v &= uint64(0xff >> n)
	}
	allOnes := v == uint64(0xff>>n)
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
		allOnes = allOnes && c == 0xff
	}
	if !keepMarker && allOnes {
		return ebmlUnknownSize, n, true
	}
	return v, n, true
}

func ebmlUint(b []byte) uint64 {
	var v uint64
	for _, c := range b[:min(len(b), 8)] {
		v = v<<8 | uint64(c)
	}
	return v
}
