package media

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
)

const mimeJPEG = "image/jpeg"

// JPEG markers the stripper treats specially.
const (
	jpegSOI  = 0xd8
	jpegEOI  = 0xd9
	jpegSOS  = 0xda
	jpegTEM  = 0x01
	jpegAPP0 = 0xe0
	jpegAPP1 = 0xe1
	jpegAPP2 = 0xe2
	jpegAPPE = 0xee
	jpegCOM  = 0xfe
)

// stripJPEG copies a JPEG, segment by segment and then scan by scan, up to
// its end-of-image marker, which must end the file.
//
// Kept: the frame, table, restart and scan segments, JFIF (APP0, without
// its thumbnail), the ICC colour profile (APP2 "ICC_PROFILE") and Adobe's
// colour-transform flag (APP14). Dropped: Exif with its GPS block and
// thumbnail and XMP (APP1), Photoshop/IPTC (APP13), every other APPn,
// comments (COM) and reserved JPGn segments. When the Exif block held an
// orientation other than "normal", a 32-byte Exif segment carrying only
// that orientation takes its place, so that a phone photo is not shown on
// its side.
func stripJPEG(dst imageSink, src *bufio.Reader) error {
	var soi [2]byte
	if err := readN(src, soi[:], mimeJPEG); err != nil {
		return err
	}
	if soi != [2]byte{0xff, jpegSOI} {
		return malformed(mimeJPEG, "no start-of-image marker")
	}
	if _, err := dst.Write(soi[:]); err != nil {
		return err
	}
	s := jpegStripper{dst: dst, src: src}
	marker, err := s.nextMarker()
	for err == nil {
		switch {
		case marker == jpegEOI:
			if !s.sawScan {
				return malformed(mimeJPEG, "no image data before the end-of-image marker")
			}
			if _, err := dst.Write([]byte{0xff, jpegEOI}); err != nil {
				return err
			}
			return expectEnd(mimeJPEG, src)
		case marker == jpegTEM:
			_, err = dst.Write([]byte{0xff, marker})
		case marker == jpegSOS:
			if !s.sawFrame {
				return malformed(mimeJPEG, "scan before any frame header")
			}
			if err = s.segment(marker); err == nil {
				s.sawScan = true
				marker, err = s.scan()
				continue
			}
		case marker == jpegSOI || 0xd0 <= marker && marker <= 0xd7:
			return malformed(mimeJPEG, "marker 0x%02x outside its place", marker)
		case marker < 0xc0:
			return malformed(mimeJPEG, "unknown marker 0x%02x", marker)
		default:
			err = s.segment(marker)
		}
		if err == nil {
			marker, err = s.nextMarker()
		}
	}
	return err
}

type jpegStripper struct {
	dst      io.Writer
	src      *bufio.Reader
	sawFrame bool
	sawScan  bool
	oriented bool   // an orientation segment was written
	payload  []byte // reused for the segments that are read whole
}

// nextMarker reads a marker, skipping the 0xff fill bytes allowed before it.
func (s *jpegStripper) nextMarker() (byte, error) {
	b, err := s.src.ReadByte()
	if err != nil {
		return 0, ended(mimeJPEG, err)
	}
	if b != 0xff {
		return 0, malformed(mimeJPEG, "found 0x%02x where a marker was expected", b)
	}
	for b == 0xff {
		if b, err = s.src.ReadByte(); err != nil {
			return 0, ended(mimeJPEG, err)
		}
	}
	if b == 0 {
		return 0, malformed(mimeJPEG, "stuffed zero byte outside a scan")
	}
	return b, nil
}

// segment handles one marker segment: it is copied, rewritten or dropped.
func (s *jpegStripper) segment(marker byte) error {
	var lb [2]byte
	if err := readN(s.src, lb[:], mimeJPEG); err != nil {
		return err
	}
	length := int64(binary.BigEndian.Uint16(lb[:]))
	if length < 2 {
		return malformed(mimeJPEG, "segment 0x%02x has length %d", marker, length)
	}
	n := length - 2
	switch {
	case isJPEGStructural(marker):
		if isJPEGFrame(marker) {
			s.sawFrame = true
		}
		if _, err := s.dst.Write([]byte{0xff, marker, lb[0], lb[1]}); err != nil {
			return err
		}
		return pass(s.dst, s.src, n, mimeJPEG)
	case marker == jpegAPP0:
		return s.app0(n)
	case marker == jpegAPP1:
		return s.app1(n)
	case marker == jpegAPP2 && s.hasID(n, "ICC_PROFILE\x00"),
		marker == jpegAPPE && s.hasID(n, "Adobe"):
		if _, err := s.dst.Write([]byte{0xff, marker, lb[0], lb[1]}); err != nil {
			return err
		}
		return pass(s.dst, s.src, n, mimeJPEG)
	}
	// Other APPn, COM, JPGn and the reserved 0xc8: metadata or
	// extensions no browser needs.
	return skip(s.src, n, mimeJPEG)
}

// isJPEGStructural reports the markers of frames, tables, restart
// intervals and scans (SOFn, DHT, DAC, DQT, DRI, SOS, DNL, DHP, EXP).
func isJPEGStructural(m byte) bool {
	return 0xc0 <= m && m <= 0xcf && m != 0xc8 || 0xda <= m && m <= 0xdf
}

// isJPEGFrame reports the start-of-frame markers SOF0 to SOF15.
func isJPEGFrame(m byte) bool {
	return 0xc0 <= m && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc
}

func (s *jpegStripper) hasID(n int64, id string) bool {
	if n < int64(len(id)) {
		return false
	}
	b, err := s.src.Peek(len(id))
	return err == nil && string(b) == id
}

// read reads a whole segment payload (at most 65533 bytes).
func (s *jpegStripper) read(n int64) ([]byte, error) {
	if s.payload == nil {
		s.payload = make([]byte, 65535)
	}
	p := s.payload[:n]
	return p, readN(s.src, p, mimeJPEG)
}

// app0 keeps a JFIF header without its thumbnail and drops anything else
// (JFXX thumbnails among it).
func (s *jpegStripper) app0(n int64) error {
	if n < 14 || !s.hasID(n, "JFIF\x00") {
		return skip(s.src, n, mimeJPEG)
	}
	p, err := s.read(n)
	if err != nil {
		return err
	}
	seg := []byte{0xff, jpegAPP0, 0, 16}
	seg = append(seg, p[:12]...)
	seg = append(seg, 0, 0) // no thumbnail
	_, err = s.dst.Write(seg)
	return err
}

// app1 drops Exif and XMP, writing back only an orientation.
func (s *jpegStripper) app1(n int64) error {
	if !s.hasID(n, "Exif\x00\x00") {
		return skip(s.src, n, mimeJPEG)
	}
	p, err := s.read(n)
	if err != nil {
		return err
	}
	o := exifOrientation(p[6:])
	if o < 2 || s.oriented {
		return nil
	}
	s.oriented = true
	_, err = s.dst.Write(orientationExif(o))
	return err
}

// scan copies entropy-coded data up to the next marker that is neither a
// stuffed zero nor a restart marker, and returns that marker.
func (s *jpegStripper) scan() (byte, error) {
	for {
		if _, err := s.src.Peek(1); err != nil {
			return 0, ended(mimeJPEG, err)
		}
		buf, _ := s.src.Peek(s.src.Buffered())
		i := bytes.IndexByte(buf, 0xff)
		if i < 0 {
			i = len(buf)
		}
		if i > 0 {
			if _, err := s.dst.Write(buf[:i]); err != nil {
				return 0, err
			}
			_, _ = s.src.Discard(i)
			continue
		}
		pair, err := s.src.Peek(2)
		if err != nil {
			return 0, ended(mimeJPEG, err)
		}
		switch m := pair[1]; {
		case m == 0 || 0xd0 <= m && m <= 0xd7:
			if _, err := s.dst.Write(pair); err != nil {
				return 0, err
			}
			_, _ = s.src.Discard(2)
		case m == 0xff:
			_, _ = s.src.Discard(1) // fill byte before a marker
		default:
			_, _ = s.src.Discard(2)
			return m, nil
		}
	}
}

// exifOrientation returns the Orientation tag (1 to 8) of IFD0 in an Exif
// TIFF structure, or 0.
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(tiff[2:]) != 42 {
		return 0
	}
	ifd := int64(bo.Uint32(tiff[4:]))
	if ifd+2 > int64(len(tiff)) {
		return 0
	}
	count := int64(bo.Uint16(tiff[ifd:]))
	for i := range count {
		e := ifd + 2 + 12*i
		if e+12 > int64(len(tiff)) {
			break
		}
		tag, typ, n := bo.Uint16(tiff[e:]), bo.Uint16(tiff[e+2:]), bo.Uint32(tiff[e+4:])
		if tag == 0x0112 && typ == 3 && n == 1 {
			if v := int(bo.Uint16(tiff[e+8:])); 1 <= v && v <= 8 {
				return v
			}
		}
	}
	return 0
}

// orientationExif returns an APP1 segment whose Exif holds one tag,
// Orientation = o.
func orientationExif(o int) []byte {
	seg := []byte{0xff, jpegAPP1, 0, 34}
	seg = append(seg, "Exif\x00\x00"...)
	seg = append(seg, "MM\x00\x2a\x00\x00\x00\x08"...) // big-endian TIFF, IFD0 at 8
	seg = append(seg, 0, 1)                            // one entry
	seg = append(seg, 0x01, 0x12, 0, 3, 0, 0, 0, 1)    // Orientation, SHORT, count 1
	seg = append(seg, 0, byte(o), 0, 0)                // value, padded
	seg = append(seg, 0, 0, 0, 0)                      // no next IFD
	return seg
}
