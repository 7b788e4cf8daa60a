package media

import (
	"bufio"
	"bytes"
	"fmt"
	"unicode/utf8"
)

// detection is what detect learnt about an upload from its first bytes.
type detection struct {
	format
	// Strip, for images, parses the whole file, drops its metadata and
	// writes the rest to dst; for WebM audio it writes in a missing
	// Duration. Other audio and video have none.
	Strip stripFunc
	// Probe, if set, checks bytes beyond the sniffed head as they pass.
	Probe *probe
}

// format is one accepted file type.
type format struct {
	Mime string
	Ext  string
	Kind Kind
}

// stripFunc copies an image from src to dst without its metadata, failing
// unless src holds exactly one well-formed image and nothing after it.
type stripFunc func(dst imageSink, src *bufio.Reader) error

var (
	formatJPEG = format{"image/jpeg", "jpg", KindImage}
	formatPNG  = format{"image/png", "png", KindImage}
	formatGIF  = format{"image/gif", "gif", KindImage}
	formatWebP = format{"image/webp", "webp", KindImage}
	formatMP3  = format{"audio/mpeg", "mp3", KindAudio}
	formatWAV  = format{"audio/wav", "wav", KindAudio}
	formatOpus = format{"audio/ogg", "opus", KindAudio}
	formatOgg  = format{"audio/ogg", "ogg", KindAudio}
	formatM4A  = format{"audio/mp4", "m4a", KindAudio}
	formatMP4  = format{"video/mp4", "mp4", KindVideo}
	formatMOV  = format{"video/quicktime", "mov", KindVideo}
	formatWebA = format{"audio/webm", "webm", KindAudio}
	formatWebM = format{"video/webm", "webm", KindVideo}
)

// detect decides an upload's type from head, its first bytes (all of it
// when whole is set). It recognises only the accepted formats, each by its
// magic bytes and the structure of its header:
//
//   - JPEG (FF D8 FF), PNG (signature), GIF (GIF87a/GIF89a) and WebP (RIFF
//     WEBP): the whole file is parsed later by the format's stripFunc;
//   - MP4/M4A/QuickTime: an ftyp box with an accepted major brand, then
//     well-formed boxes; audio or video from the track handlers in moov;
//   - WebM: an EBML header with DocType "webm" and a Segment; audio or
//     video from the track types;
//   - Ogg: a first page with a valid checksum opening an Opus or Vorbis
//     stream, and no other kind of stream beginning beside it;
//   - WAV: RIFF WAVE with a PCM, float, A-law or µ-law fmt chunk;
//   - MP3: an ID3v2 tag and/or consecutive MPEG audio frame headers.
//
// Whatever else is refused with a *TypeError naming what it looks like, as
// is an accepted format whose head holds HTML or script markup.
//
// Upload adds, for every file, a refusal of any that ends in a ZIP
// directory (JAR, DOCX, APK and ZIP polyglots), and for images a full
// parse that refuses data after the end marker.
//
// Not caught, by design or for lack of a decoder:
//
//   - audio and video are checked in their headers and their end only:
//     bytes appended after the last box, cluster or page, or hidden in
//     the media data, pass, and are served as audio/video with nosniff;
//   - markup beyond the first sniffLen bytes (in an image it can only
//     lie in pixel data, since comments, metadata and unknown chunks are
//     dropped);
//   - compressed pixel data is not decoded: an image whose structure is
//     sound but whose data is corrupt, or whose dimensions are huge, is
//     accepted;
//   - metadata inside audio and video (ID3 tags, the GPS position a
//     phone writes into an MP4's udta or meta box, WebM tags) is kept;
//   - JPEGs with trailers after the end marker (motion photos, MPF
//     pictures) are refused rather than trimmed, and HEIC, AVIF, TIFF,
//     BMP, SVG, FLAC, AIFF, AVI, Matroska, Ogg video and 3GP are refused
//     even when harmless.
func detect(head []byte, whole bool) (detection, error) {
	d, err := identify(head, whole)
	if err != nil {
		return detection{}, err
	}
	if tag := findMarkup(head); tag != "" {
		return detection{}, &TypeError{
			Detected: d.Mime + " containing HTML",
			Reason:   fmt.Sprintf("%q found in the first %d bytes", tag, len(head)),
		}
	}
	return d, nil
}

func identify(head []byte, whole bool) (detection, error) {
	switch {
	case bytes.HasPrefix(head, []byte{0xff, 0xd8, 0xff}):
		return detection{format: formatJPEG, Strip: stripJPEG}, nil
	case bytes.HasPrefix(head, pngSignature):
		return detection{format: formatPNG, Strip: stripPNG}, nil
	case bytes.HasPrefix(head, []byte("GIF87a")) || bytes.HasPrefix(head, []byte("GIF89a")):
		return detection{format: formatGIF, Strip: stripGIF}, nil
	case isRIFF(head, "WEBP"):
		return detection{format: formatWebP, Strip: stripWebP}, nil
	case isRIFF(head, "WAVE"):
		return sniffWAV(head)
	case bytes.HasPrefix(head, []byte("OggS")):
		return sniffOgg(head)
	case bytes.HasPrefix(head, ebmlMagic):
		return sniffWebM(head)
	case len(head) >= 8 && string(head[4:8]) == "ftyp":
		return sniffISOBMFF(head)
	case bytes.HasPrefix(head, []byte("ID3")) || isFrameSync(head):
		return sniffMP3(head, whole)
	}
	return detection{}, &TypeError{Detected: describe(head)}
}

func isRIFF(head []byte, form string) bool {
	return len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == form
}

// describe names the content of a refused upload, for the error message.
func describe(head []byte) string {
	has := func(prefix string) bool { return bytes.HasPrefix(head, []byte(prefix)) }
	switch {
	case has("\x7fELF"):
		return "an ELF executable"
	case has("MZ"):
		return "a Windows executable (MZ/PE)"
	case has("\xfe\xed\xfa\xce"), has("\xfe\xed\xfa\xcf"), has("\xce\xfa\xed\xfe"), has("\xcf\xfa\xed\xfe"):
		return "a Mach-O executable"
	case has("\xca\xfe\xba\xbe"):
		return "a Mach-O universal binary or Java class file"
	case has("\x00asm"):
		return "a WebAssembly module"
	case has("#!"):
		return "a script (#!)"
	case has("PK\x03\x04"), has("PK\x05\x06"), has("PK\x07\x08"):
		return "a ZIP archive (or JAR, APK or Office document)"
	case has("\x1f\x8b"):
		return "a gzip archive"
	case has("Rar!\x1a\x07"):
		return "a RAR archive"
	case has("7z\xbc\xaf\x27\x1c"):
		return "a 7-Zip archive"
	case bytes.Contains(head[:min(len(head), 1024)], []byte("%PDF-")):
		return "a PDF document"
	case has("BM"):
		return "a BMP image"
	case has("II*\x00"), has("MM\x00*"):
		return "a TIFF image"
	case has("\x00\x00\x01\x00"):
		return "a Windows icon (ICO)"
	case has("fLaC"):
		return "FLAC audio"
	case len(head) >= 12 && has("FORM") && (string(head[8:12]) == "AIFF" || string(head[8:12]) == "AIFC"):
		return "AIFF audio"
	case isRIFF(head, "AVI "):
		return "an AVI video"
	}
	if m := describeMarkup(head); m != "" {
		return m
	}
	if len(head) > 0 && utf8.Valid(head) && isText(head) {
		return "a text file"
	}
	return "unrecognised content"
}

func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' {
			return false
		}
	}
	return true
}

// describeMarkup names a head that starts, after a byte-order mark and
// white space, with markup.
func describeMarkup(head []byte) string {
	s := bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	s = bytes.TrimLeft(s, " \t\r\n\f")
	if len(s) == 0 || s[0] != '<' {
		return ""
	}
	lower := bytes.ToLower(s[:min(len(s), 4096)])
	switch {
	case bytes.Contains(lower, []byte("<svg")):
		return "an SVG image"
	case bytes.HasPrefix(lower, []byte("<!doctype html")) || findMarkup(s) != "":
		return "an HTML document"
	case bytes.HasPrefix(lower, []byte("<?xml")):
		return "an XML document"
	}
	return "markup (HTML or XML)"
}
