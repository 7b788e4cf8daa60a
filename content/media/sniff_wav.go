package media

import (
	"encoding/binary"
	"fmt"
)

const mimeWAV = "audio/wav"

// wavCodecs are the WAVE format tags accepted: PCM, IEEE float, A-law,
// µ-law and the extensible header that wraps them.
var wavCodecs = map[uint16]bool{1: true, 3: true, 6: true, 7: true, 0xfffe: true}

// sniffWAV checks a RIFF WAVE head: its chunks up to a "fmt " chunk,
// which must come before "data" and describe a plain audio encoding.
func sniffWAV(head []byte) (detection, error) {
	for off := 12; ; {
		if off+8 > len(head) {
			return detection{}, malformed(mimeWAV, "no fmt chunk in the first %d bytes", len(head))
		}
		id := string(head[off : off+4])
		size := int(binary.LittleEndian.Uint32(head[off+4:]))
		body := off + 8
		switch id {
		case "data":
			return detection{}, malformed(mimeWAV, "audio data before the fmt chunk")
		case "fmt ":
			if size < 16 || body+16 > len(head) {
				return detection{}, malformed(mimeWAV, "fmt chunk too short")
			}
			f := head[body:]
			tag := binary.LittleEndian.Uint16(f)
			channels := binary.LittleEndian.Uint16(f[2:])
			rate := binary.LittleEndian.Uint32(f[4:])
			if !wavCodecs[tag] {
				return detection{}, &TypeError{Detected: "WAVE audio", Reason: fmt.Sprintf("encoded with format %#04x", tag)}
			}
			if channels == 0 || rate == 0 {
				return detection{}, malformed(mimeWAV, "fmt chunk with %d channels at %d Hz", channels, rate)
			}
			return detection{format: formatWAV}, nil
		}
		if !isFourCC(head[off:off+4]) || size > len(head) {
			return detection{}, malformed(mimeWAV, "bad chunk %q before the fmt chunk", id)
		}
		off = body + size + size&1
	}
}
