package media

import (
	"bytes"
	"encoding/binary"
)

const mimeOgg = "audio/ogg"

// oggBOS flags the first page of a logical stream.
const oggBOS = 0x02

// sniffOgg checks an Ogg head: its pages up to the first one that does not
// begin a stream must be well formed with valid checksums, and every
// stream begun must be Opus or Vorbis audio (not, say, Theora video).
func sniffOgg(head []byte) (detection, error) {
	codec := ""
	for off, first := 0, true; ; first = false {
		page, ok := oggPage(head[off:])
		if !ok {
			if first {
				return detection{}, malformed(mimeOgg, "first page incomplete or damaged")
			}
			break // cut off by the end of the head
		}
		if page.flags&oggBOS == 0 {
			if first {
				return detection{}, malformed(mimeOgg, "first page does not begin a stream")
			}
			break
		}
		switch c := oggCodec(page.packet); c {
		case "opus", "vorbis":
			if codec == "" {
				codec = c
			}
		default:
			return detection{}, &TypeError{Detected: "an Ogg stream of " + c}
		}
		off += page.length
	}
	if codec == "opus" {
		return detection{format: formatOpus}, nil
	}
	return detection{format: formatOgg}, nil
}

type oggPageInfo struct {
	flags  byte
	length int    // header and body
	packet []byte // the first packet, or as much of it as the page holds
}

// oggPage parses the page at the start of b and checks its CRC.
func oggPage(b []byte) (oggPageInfo, bool) {
	if len(b) < 27 || string(b[:4]) != "OggS" || b[4] != 0 {
		return oggPageInfo{}, false
	}
	nseg := int(b[26])
	if len(b) < 27+nseg {
		return oggPageInfo{}, false
	}
	body, first, inFirst := 0, 0, true
	for _, l := range b[27 : 27+nseg] {
		body += int(l)
		if inFirst {
			first += int(l)
			inFirst = l == 255
		}
	}
	length := 27 + nseg + body
	if len(b) < length {
		return oggPageInfo{}, false
	}
	want := binary.LittleEndian.Uint32(b[22:26])
	if oggCRC(b[:length]) != want {
		return oggPageInfo{}, false
	}
	start := 27 + nseg
	return oggPageInfo{flags: b[5], length: length, packet: b[start : start+first]}, true
}

// oggCodec names the codec of a stream's first packet.
func oggCodec(p []byte) string {
	switch {
	case bytes.HasPrefix(p, []byte("OpusHead")) && len(p) >= 19 && p[8]&0xf0 == 0:
		return "opus"
	case bytes.HasPrefix(p, []byte("\x01vorbis")) && len(p) >= 30:
		return "vorbis"
	case bytes.HasPrefix(p, []byte("\x80theora")):
		return "Theora video"
	case bytes.HasPrefix(p, []byte("\x7fFLAC")):
		return "FLAC audio"
	case bytes.HasPrefix(p, []byte("Speex   ")):
		return "Speex audio"
	}
	return "an unknown codec"
}

var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// oggCRC computes an Ogg page checksum, reading the checksum field as
// zeros.
func oggCRC(page []byte) uint32 {
	var crc uint32
	for i, c := range page {
		if 22 <= i && i < 26 {
			c = 0
		}
		crc = crc<<8 ^ oggCRCTable[byte(crc>>24)^c]
	}
	return crc
}
