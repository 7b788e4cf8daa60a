package media

import (
	"bufio"
)

const mimeGIF = "image/gif"

// GIF block introducers and extension labels.
const (
	gifExtension = 0x21
	gifImage     = 0x2c
	gifTrailer   = 0x3b
	gifControl   = 0xf9
	gifApp       = 0xff
)

// stripGIF copies a GIF block by block up to its trailer, which must end
// the file. It keeps images, graphic control extensions and the looping
// extensions (NETSCAPE2.0, ANIMEXTS1.0); it drops comments, plain-text
// extensions and other application extensions (XMP, ICC profiles).
func stripGIF(dst imageSink, src *bufio.Reader) error {
	var hdr [13]byte // signature and logical screen descriptor
	if err := readN(src, hdr[:], mimeGIF); err != nil {
		return err
	}
	if _, err := dst.Write(hdr[:]); err != nil {
		return err
	}
	if flags := hdr[10]; flags&0x80 != 0 {
		if err := pass(dst, src, 3<<(flags&7+1), mimeGIF); err != nil {
			return err
		}
	}
	sawImage := false
	for {
		b, err := src.ReadByte()
		if err != nil {
			return ended(mimeGIF, err)
		}
		switch b {
		case gifTrailer:
			if !sawImage {
				return malformed(mimeGIF, "no image")
			}
			if _, err := dst.Write([]byte{b}); err != nil {
				return err
			}
			return expectEnd(mimeGIF, src)
		case gifImage:
			if err := copyGIFImage(dst, src); err != nil {
				return err
			}
			sawImage = true
		case gifExtension:
			if err := gifExtensionBlock(dst, src); err != nil {
				return err
			}
		default:
			return malformed(mimeGIF, "unknown block 0x%02x", b)
		}
	}
}

func copyGIFImage(dst imageSink, src *bufio.Reader) error {
	var desc [10]byte // introducer, position, size, flags
	desc[0] = gifImage
	if err := readN(src, desc[1:], mimeGIF); err != nil {
		return err
	}
	if _, err := dst.Write(desc[:]); err != nil {
		return err
	}
	if flags := desc[9]; flags&0x80 != 0 {
		if err := pass(dst, src, 3<<(flags&7+1), mimeGIF); err != nil {
			return err
		}
	}
	lzw, err := src.ReadByte()
	if err != nil {
		return ended(mimeGIF, err)
	}
	if lzw < 2 || lzw > 8 {
		return malformed(mimeGIF, "LZW code size %d", lzw)
	}
	if _, err := dst.Write([]byte{lzw}); err != nil {
		return err
	}
	return gifSubBlocks(dst, src, true)
}

func gifExtensionBlock(dst imageSink, src *bufio.Reader) error {
	label, err := src.ReadByte()
	if err != nil {
		return ended(mimeGIF, err)
	}
	keep := label == gifControl
	if label == gifApp {
		id, err := src.Peek(12)
		if err != nil {
			return ended(mimeGIF, err)
		}
		keep = id[0] == 11 && (string(id[1:]) == "NETSCAPE2.0" || string(id[1:]) == "ANIMEXTS1.0")
	}
	if keep {
		if _, err := dst.Write([]byte{gifExtension, label}); err != nil {
			return err
		}
	}
	return gifSubBlocks(dst, src, keep)
}

// gifSubBlocks copies (or, unless keep, drops) a sequence of data
// sub-blocks and its terminator.
func gifSubBlocks(dst imageSink, src *bufio.Reader, keep bool) error {
	for {
		n, err := src.ReadByte()
		if err != nil {
			return ended(mimeGIF, err)
		}
		if keep {
			if _, err := dst.Write([]byte{n}); err != nil {
				return err
			}
		}
		if n == 0 {
			return nil
		}
		if keep {
			err = pass(dst, src, int64(n), mimeGIF)
		} else {
			err = skip(src, int64(n), mimeGIF)
		}
		if err != nil {
			return err
		}
	}
}
