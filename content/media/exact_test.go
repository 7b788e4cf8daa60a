package media

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestExactReader(t *testing.T) {
	cases := []struct {
		name    string
		src     string
		size    int64
		wantErr error
	}{
		{"Exact", "hello", 5, nil},
		{"ExactEmpty", "", 0, nil},
		{"Short", "hell", 5, ErrSizeMismatch},
		{"Long", "hello!", 5, ErrSizeMismatch},
		{"LongFromEmpty", "x", 0, ErrSizeMismatch},
		{"Unknown", "anything", -1, nil},
	}
	for _, tc := range cases {
		for _, wrap := range []struct {
			name string
			fn   func(io.Reader) io.Reader
		}{
			{"Plain", func(r io.Reader) io.Reader { return r }},
			{"OneByte", iotest.OneByteReader},
			{"DataErr", iotest.DataErrReader},
		} {
			t.Run(tc.name+"/"+wrap.name, func(t *testing.T) {
				e := newExactReader(wrap.fn(strings.NewReader(tc.src)), tc.size)
				got, err := io.ReadAll(e)
				if err == nil {
					err = e.finish()
				}
				if !errors.Is(err, tc.wantErr) && !(tc.wantErr == nil && err == nil) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if tc.wantErr == nil && string(got) != tc.src {
					t.Fatalf("read %q, want %q", got, tc.src)
				}
				if tc.wantErr != nil && !e.mismatch {
					t.Fatal("mismatch not recorded")
				}
			})
		}
	}
}

// A consumer that reads exactly the declared size with a full-buffer read
// must not see the surplus byte as success: the read delivering the last
// expected byte fails instead.
func TestExactReaderFullBufferConsumer(t *testing.T) {
	e := newExactReader(strings.NewReader("abcdef"), 5)
	buf := make([]byte, 5)
	n, err := io.ReadFull(e, buf)
	if err == nil {
		t.Fatalf("ReadFull of a too-long stream succeeded with %q", buf[:n])
	}
	if !errors.Is(e.finish(), ErrSizeMismatch) {
		t.Fatalf("finish = %v, want ErrSizeMismatch", e.finish())
	}
}

// finish checks for surplus data itself when the consumer never read, as
// a client may do with an empty body, and reports an unconsumed stream.
func TestExactReaderFinish(t *testing.T) {
	e := newExactReader(strings.NewReader("x"), 0)
	if err := e.finish(); !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("finish of an unread too-long empty stream = %v, want ErrSizeMismatch", err)
	}
	e = newExactReader(strings.NewReader(""), 0)
	if err := e.finish(); err != nil {
		t.Fatalf("finish of an unread empty stream = %v", err)
	}
	e = newExactReader(strings.NewReader("abcde"), 5)
	if err := e.finish(); !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("finish of an unconsumed stream = %v, want ErrSizeMismatch", err)
	}
	e = newExactReader(strings.NewReader("abc"), 3)
	if _, err := io.ReadAll(e); err != nil {
		t.Fatal(err)
	}
	if err := e.finish(); err != nil {
		t.Fatalf("finish after an exact stream = %v", err)
	}
}

func TestExactReaderPassesSourceErrors(t *testing.T) {
	boom := errors.New("boom")
	e := newExactReader(iotest.ErrReader(boom), 10)
	if _, err := io.ReadAll(e); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if e.mismatch {
		t.Fatal("source error recorded as a size mismatch")
	}
}
