package media

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// More Matroska element IDs: the Segment Info and what the duration is made from.
const (
	mkvInfo          = 0x1549a966
	mkvTimecodeScale = 0x2ad7b1
	mkvDuration      = 0x4489
	mkvTimecode      = 0xe7
	mkvSimpleBlock   = 0xa3
	mkvBlockGroup    = 0xa0
	mkvBlock         = 0xa1
	mkvBlockDuration = 0x9b
)

// mkvTopLevel lists the children of a Segment; meeting one ends a Cluster of unknown size.
var mkvTopLevel = map[uint64]bool{
	0x114d9b74: true, mkvInfo: true, mkvTracks: true, mkvCluster: true, 0x1c53bb6b: true, // SeekHead, Cues
	0x1043a770: true, 0x1941a469: true, 0x1254c367: true, // Chapters, Attachments, Tags
}

// maxInfoSize bounds the Segment Info held in memory while its Duration is added.
const maxInfoSize = 64 << 10

// writeWebMDuration copies a WebM file from src to dst, adding the Duration that a live
// recording (a browser's MediaRecorder) leaves out of its Segment Info, so that players
// know its length: the Info gets an 11-byte Void where the Duration belongs, the Clusters
// pass through while their block times are followed, and at the end the Void becomes the
// Duration of the last block. A file that already has a Duration, or whose layout is not a
// live recording's (the EBML header, a Segment of unknown size, then the Info first, so that
// nothing after it holds an offset that would move), passes through unchanged.
func writeWebMDuration(dst imageSink, src *bufio.Reader) error {
	w := &countingWriter{w: dst}
	copyRest := func() error {
		if _, err := io.Copy(w, src); err != nil {
			return fmt.Errorf("media: store WebM: %w", err)
		}
		return nil
	}
	id, size, err := copyHeader(w, src)
	if err != nil || id != ebmlHeader || size == ebmlUnknownSize {
		return errors.Join(err, copyRest())
	}
	if _, err := io.CopyN(w, src, int64(size)); err != nil {
		return fmt.Errorf("media: store WebM: %w", err)
	}
	if id, size, err = copyHeader(w, src); err != nil || id != mkvSegment || size != ebmlUnknownSize {
		return errors.Join(err, copyRest())
	}
	head, err := src.Peek(12)
	id, size, hdr, ok := ebmlElement(head)
	if !ok || id != mkvInfo || size > maxInfoSize {
		return errors.Join(ignoreEOF(err), copyRest())
	}
	info := make([]byte, hdr+int(size))
	if _, err := io.ReadFull(src, info); err != nil {
		w.Write(info)
		return copyRest()
	}
	scale, hasDuration := infoFields(info[hdr:])
	if hasDuration || scale == 0 {
		w.Write(info)
		return copyRest()
	}
	// The Info again, its size in 8 bytes, with room for the Duration at its end.
	grown := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(nil, mkvInfo), 1<<56|(size+11))
	grown = append(append(grown, info[hdr:]...), ebmlVoid, 0x89, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	if _, err := w.Write(grown); err != nil {
		return fmt.Errorf("media: store WebM: %w", err)
	}
	at := w.n - 11
	last, err := copyClusters(w, src)
	if err != nil {
		return err
	}
	if last <= 0 {
		return nil // no block time seen: the Void stays, and the length stays unknown
	}
	d := binary.BigEndian.AppendUint64([]byte{0x44, 0x89, 0x88}, math.Float64bits(float64(last)))
	if _, err := dst.WriteAt(d, at); err != nil {
		return fmt.Errorf("media: store WebM: %w", err)
	}
	return nil
}

// infoFields reads the timecode scale (nanoseconds per unit, 1 ms unless given) and
// whether there is a Duration, from a Segment Info's data.
func infoFields(b []byte) (scale uint64, hasDuration bool) {
	scale = 1_000_000
	for len(b) > 0 {
		id, size, hdr, ok := ebmlElement(b)
		if !ok || size > uint64(len(b)-hdr) {
			return 0, false
		}
		switch id {
		case mkvTimecodeScale:
			scale = ebmlUint(b[hdr : hdr+int(size)])
		case mkvDuration:
			hasDuration = true
		}
		b = b[hdr+int(size):]
	}
	return scale, hasDuration
}

// copyClusters copies the rest of a Segment and returns the end time of its last block, in
// timecode units: the latest block's time plus its BlockDuration when it has one. An
// element that runs past the end of the file ends it (the sniffer, not this, judges files).
func copyClusters(w io.Writer, src *bufio.Reader) (int64, error) {
	last, err := followClusters(w, src)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return last, nil
	}
	return last, err
}

func followClusters(w io.Writer, src *bufio.Reader) (int64, error) {
	var last, cluster int64
	inCluster := false
	for {
		head, err := src.Peek(12)
		if len(head) == 0 {
			return last, ignoreEOF(err)
		}
		id, size, hdr, ok := ebmlElement(head)
		if !ok {
			_, err := io.Copy(w, src) // not ours to judge: the sniffer passed it
			return last, err
		}
		switch {
		case id == mkvCluster:
			inCluster, cluster = true, 0
			if _, err := io.CopyN(w, src, int64(hdr)); err != nil {
				return last, err
			}
			continue
		case mkvTopLevel[id]:
			inCluster = false
		case inCluster && id == mkvTimecode && size <= 8:
			b, err := copyElement(w, src, hdr, size)
			if err != nil {
				return last, err
			}
			cluster = int64(ebmlUint(b))
			continue
		case inCluster && id == mkvSimpleBlock:
			t, err := copyBlock(w, src, hdr, size)
			if err != nil {
				return last, err
			}
			last = max(last, cluster+t)
			continue
		case inCluster && id == mkvBlockGroup && size <= maxInfoSize:
			b, err := copyElement(w, src, hdr, size)
			if err != nil {
				return last, err
			}
			last = max(last, cluster+blockGroupEnd(b))
			continue
		}
		if size == ebmlUnknownSize {
			_, err := io.Copy(w, src)
			return last, err
		}
		if _, err := io.CopyN(w, src, int64(hdr)+int64(size)); err != nil {
			return last, err
		}
	}
}

// copyElement copies an element and returns its data.
func copyElement(w io.Writer, src *bufio.Reader, hdr int, size uint64) ([]byte, error) {
	b := make([]byte, hdr+int(size))
	if n, err := io.ReadFull(src, b); err != nil {
		w.Write(b[:n])
		return nil, err
	}
	_, err := w.Write(b)
	return b[hdr:], err
}

// copyBlock copies a SimpleBlock and returns its time relative to its Cluster.
func copyBlock(w io.Writer, src *bufio.Reader, hdr int, size uint64) (int64, error) {
	head, _ := src.Peek(hdr + 8)
	t := int64(0)
	if len(head) > hdr {
		t = blockTime(head[hdr:])
	}
	_, err := io.CopyN(w, src, int64(hdr)+int64(size))
	return t, err
}

// blockTime reads a block's relative time: a signed 16-bit number after the track number.
func blockTime(b []byte) int64 {
	_, n, ok := ebmlVint(b, 8, false)
	if !ok || len(b) < n+2 {
		return 0
	}
	return int64(int16(binary.BigEndian.Uint16(b[n:])))
}

// blockGroupEnd is a BlockGroup's time relative to its Cluster, plus its duration.
func blockGroupEnd(b []byte) int64 {
	var t, d int64
	for len(b) > 0 {
		id, size, hdr, ok := ebmlElement(b)
		if !ok || size > uint64(len(b)-hdr) {
			break
		}
		switch id {
		case mkvBlock:
			t = blockTime(b[hdr : hdr+int(size)])
		case mkvBlockDuration:
			d = int64(ebmlUint(b[hdr : hdr+int(size)]))
		}
		b = b[hdr+int(size):]
	}
	return t + d
}

// copyHeader copies an element header and returns its ID and size.
func copyHeader(w io.Writer, src *bufio.Reader) (id, size uint64, err error) {
	head, err := src.Peek(12)
	id, size, hdr, ok := ebmlElement(head)
	if !ok {
		return 0, 0, ignoreEOF(err)
	}
	_, err = io.CopyN(w, src, int64(hdr))
	return id, size, err
}

func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, bufio.ErrBufferFull) {
		return nil
	}
	return err
}

// countingWriter counts what it writes.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
