package mediatest

// This file makes media for tests and benchmarks (an MP4 head, a large MP4 generated as it is
// read) and samples the process's memory while a benchmark runs.

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ISOBox returns an ISO base media box.
func ISOBox(typ string, payload ...[]byte) []byte {
	body := bytes.Join(payload, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(b, typ...), body...)
}

// MP4Head returns ftyp and moov boxes for the given brand with one track per handler
// ("vide", "soun").
func MP4Head(brand string, handlers ...string) []byte {
	ftyp := ISOBox("ftyp", []byte(brand), []byte{0, 0, 2, 0}, []byte("isomiso2mp41"))
	var traks [][]byte
	for _, h := range handlers {
		hdlr := ISOBox("hdlr", make([]byte, 8), []byte(h), make([]byte, 12), []byte("handler\x00"))
		traks = append(traks, ISOBox("trak", ISOBox("tkhd", make([]byte, 84)), ISOBox("mdia", ISOBox("mdhd", make([]byte, 24)), hdlr)))
	}
	moov := ISOBox("moov", append([][]byte{ISOBox("mvhd", make([]byte, 100))}, traks...)...)
	return append(ftyp, moov...)
}

// NoiseBlock is 1 MiB of fixed pseudo-random bytes, for streams that repeat it.
func NoiseBlock() []byte {
	block := make([]byte, 1<<20)
	_, _ = rand.NewChaCha8([32]byte{9}).Read(block)
	return block
}

// MP4Stream returns an MP4 video of exactly size bytes (a movie header with a video track,
// then an mdat box repeating block) generated as it is read, so that a benchmark can send
// hundreds of megabytes without holding them.
func MP4Stream(size int64, block []byte) io.Reader {
	head := MP4Head("isom", "vide")
	head = binary.BigEndian.AppendUint32(head, uint32(size-int64(len(head))))
	head = append(head, "mdat"...)
	return io.MultiReader(bytes.NewReader(head), &repeater{block: block, left: size - int64(len(head))})
}

// repeater yields left bytes by repeating block.
type repeater struct {
	block []byte
	off   int
	left  int64
}

func (r *repeater) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := copy(p, r.block[r.off:])
	r.off = (r.off + n) % len(r.block)
	r.left -= int64(n)
	return n, nil
}

// ResidentBytes returns this process's resident set size, or 0 where /proc is missing.
func ResidentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(fields[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// Peaks samples the resident set and the Go heap in use every 5 ms until Stop.
type Peaks struct {
	rss, heap atomic.Int64
	stop      chan struct{}
	done      chan struct{}
}

// SamplePeaks starts sampling.
func SamplePeaks() *Peaks {
	p := &Peaks{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			if rss := ResidentBytes(); rss > p.rss.Load() {
				p.rss.Store(rss)
			}
			runtime.ReadMemStats(&ms)
			if h := int64(ms.HeapInuse); h > p.heap.Load() {
				p.heap.Store(h)
			}
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

// Stop ends sampling and returns the peaks in MiB.
func (p *Peaks) Stop() (rssMiB, heapMiB float64) {
	close(p.stop)
	<-p.done
	return float64(p.rss.Load()) / (1 << 20), float64(p.heap.Load()) / (1 << 20)
}
