package httpwire

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// feedAll feeds in to a fresh body in pieces of at most step bytes (0: all
// at once) and returns the decoded content, bytes consumed, done and error.
func feedAll(mk func() Body, in []byte, step int) (content string, used int, done bool, err error) {
	b := mk()
	var out bytes.Buffer
	sink := func(p []byte) { out.Write(p) }
	for used < len(in) {
		end := len(in)
		if step > 0 && used+step < end {
			end = used + step
		}
		piece := in[used:end]
		n, d, e := b.Feed(piece, sink)
		used += n
		if e != nil || d {
			return out.String(), used, d, e
		}
		if n != len(piece) {
			return out.String(), used, d, errors.New("short consume before done")
		}
	}
	return out.String(), used, b.Done(), nil
}

func TestBody(t *testing.T) {
	length := func(n int64) func() Body { return func() Body { return NewBody(n, false, false) } }
	chunked := func() Body { return NewBody(99, true, true) }
	closed := func() Body { return NewBody(0, false, true) }
	tests := []struct {
		name    string
		mk      func() Body
		in      string
		content string
		used    int // -1: all of in
		done    bool
		err     error
	}{
		{"length exact", length(5), "hello", "hello", -1, true, nil},
		{"length with next message", length(5), "helloGET /", "hello", 5, true, nil},
		{"length partial", length(10), "hello", "hello", -1, false, nil},
		{"length zero", length(0), "GET /", "", 0, true, nil},
		{"length negative is zero", length(-3), "x", "", 0, true, nil},
		{"close delimited", closed, "all of it", "all of it", -1, false, nil},
		{"chunked", chunked, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT", "hello world", 26, true, nil},
		{"chunked upper hex", chunked, "A\r\n0123456789\r\n0\r\n\r\n", "0123456789", -1, true, nil},
		{"chunked leading zeros", chunked, "0005\r\nhello\r\n0\r\n\r\n", "hello", -1, true, nil},
		{"chunked bare lf", chunked, "5\nhello\n0\n\n", "hello", -1, true, nil},
		{"chunked extensions", chunked, "5;name=\"v;x\"\r\nhello\r\n0;last\r\n\r\n", "hello", -1, true, nil},
		{"chunked bws before ext", chunked, "5 \t;a=b\r\nhello\r\n0 \r\n\r\n", "hello", -1, true, nil},
		{"chunked trailers", chunked, "5\r\nhello\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\nNEXT", "hello", 31, true, nil},
		{"chunked huge size accepted", chunked, "7fffffffffffffff\r\nabc", "abc", -1, false, nil},
		{"chunked incomplete", chunked, "5\r\nhel", "hel", -1, false, nil},
		{"chunked no digits", chunked, "\r\n", "", 1, false, ErrBadChunk},
		{"chunked negative", chunked, "-5\r\nhello\r\n", "", 1, false, ErrBadChunk},
		{"chunked plus sign", chunked, "+5\r\n", "", 1, false, ErrBadChunk},
		{"chunked 0x prefix", chunked, "0x5\r\n", "", 2, false, ErrBadChunk},
		{"chunked overflow", chunked, "8000000000000000\r\n", "", 16, false, ErrBadChunk},
		{"chunked overflow many digits", chunked, "10000000000000000\r\n", "", 17, false, ErrBadChunk},
		{"chunked junk after size", chunked, "5x\r\n", "", 2, false, ErrBadChunk},
		{"chunked junk after bws", chunked, "5 x\r\n", "", 3, false, ErrBadChunk},
		{"chunked cr without lf", chunked, "5\rhello", "", 3, false, ErrBadChunk},
		{"chunked data without crlf", chunked, "5\r\nhelloX", "hello", 9, false, ErrBadChunk},
		{"chunked data cr then junk", chunked, "5\r\nhello\rX", "hello", 10, false, ErrBadChunk},
		{"chunked size line too long", chunked, "1;" + strings.Repeat("e", maxChunkLine), "", maxChunkLine + 1, false, ErrChunkLineTooLong},
		{"chunked endless leading zeros", chunked, strings.Repeat("0", maxChunkLine+1), "", maxChunkLine + 1, false, ErrChunkLineTooLong},
		{"chunked trailer too long", chunked, "0\r\n" + strings.Repeat("X: y\r\n", maxTrailerBytes/6+1), "", 3 + maxTrailerBytes + 1, false, ErrChunkLineTooLong},
	}
	for _, tt := range tests {
		wantUsed := tt.used
		if wantUsed < 0 {
			wantUsed = len(tt.in)
		}
		for _, step := range []int{0, 1, 2, 3, 7} {
			content, used, done, err := feedAll(tt.mk, []byte(tt.in), step)
			if !errors.Is(err, tt.err) || content != tt.content || used != wantUsed || done != tt.done {
				t.Errorf("%s step %d: content %q used %d done %v err %v; want %q %d %v %v",
					tt.name, step, content, used, done, err, tt.content, wantUsed, tt.done, tt.err)
			}
		}
	}
}

// TestBodySplits feeds a chunked body in every 2-way split.
func TestBodySplits(t *testing.T) {
	in := []byte("4;x=y\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nA: b\r\n\r\n")
	for i := 0; i < len(in); i++ {
		b := NewBody(0, true, false)
		var out bytes.Buffer
		n1, d1, err := b.Feed(in[:i], func(p []byte) { out.Write(p) })
		if err != nil || d1 || n1 != i {
			t.Fatalf("split %d: first feed n=%d done=%v err=%v", i, n1, d1, err)
		}
		n2, d2, err := b.Feed(in[i:], func(p []byte) { out.Write(p) })
		if err != nil || !d2 || n1+n2 != len(in) {
			t.Fatalf("split %d: n=%d done=%v err=%v", i, n1+n2, d2, err)
		}
		if out.String() != "Wikipedia in\r\n\r\nchunks." || b.Decoded() != 23 {
			t.Fatalf("split %d: content %q decoded %d", i, out.String(), b.Decoded())
		}
	}
}

func TestBodyStickyAndDone(t *testing.T) {
	b := NewBody(0, true, false)
	if _, _, err := b.Feed([]byte("z"), nil); !errors.Is(err, ErrBadChunk) {
		t.Fatalf("err = %v", err)
	}
	if n, _, err := b.Feed([]byte("5\r\n"), nil); n != 0 || !errors.Is(err, ErrBadChunk) {
		t.Errorf("after error: n=%d err=%v", n, err)
	}
	d := NewBody(2, false, false)
	d.Feed([]byte("ab"), nil)
	if n, done, err := d.Feed([]byte("cd"), nil); n != 0 || !done || err != nil {
		t.Errorf("after done: n=%d done=%v err=%v", n, done, err)
	}
}

func TestBodySkip(t *testing.T) {
	tests := []struct {
		name   string
		body   Body
		prefix string
		skip   int64
		ok     bool
		done   bool
	}{
		{"length within", NewBody(10, false, false), "ab", 5, true, false},
		{"length to end", NewBody(10, false, false), "ab", 8, true, true},
		{"length past end", NewBody(10, false, false), "ab", 9, false, false},
		{"close", NewBody(0, false, true), "", 1 << 40, true, false},
		{"chunk data within", NewBody(0, true, false), "a\r\nab", 8, true, false},
		{"chunk data past end", NewBody(0, true, false), "a\r\nab", 9, false, false},
		{"chunk size line", NewBody(0, true, false), "a", 1, false, false},
		{"negative", NewBody(10, false, false), "", -1, false, false},
	}
	for _, tt := range tests {
		b := tt.body
		b.Feed([]byte(tt.prefix), nil)
		before := b.Decoded()
		if ok := b.Skip(tt.skip); ok != tt.ok || b.Done() != tt.done {
			t.Errorf("%s: Skip = %v done %v", tt.name, ok, b.Done())
		}
		if tt.ok && b.Decoded() != before+tt.skip {
			t.Errorf("%s: Decoded %d, want %d", tt.name, b.Decoded(), before+tt.skip)
		}
	}
	// After skipping the rest of a chunk, its CRLF and the next chunk follow.
	b := NewBody(0, true, false)
	b.Feed([]byte("5\r\nhe"), nil)
	b.Skip(3)
	if n, done, err := b.Feed([]byte("\r\n0\r\n\r\n"), nil); n != 7 || !done || err != nil {
		t.Errorf("after skip: n=%d done=%v err=%v", n, done, err)
	}
}

func TestBodyAllocs(t *testing.T) {
	in := []byte("5;x\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\n")
	var total int
	out := func(p []byte) { total += len(p) }
	allocs := testing.AllocsPerRun(100, func() {
		b := NewBody(0, true, false)
		b.Feed(in, out)
	})
	if allocs != 0 {
		t.Errorf("allocs = %v, want 0", allocs)
	}
}

func BenchmarkBodyChunked(b *testing.B) {
	var in []byte
	for i := 0; i < 16; i++ {
		in = append(in, "400\r\n"...)
		in = append(in, bytes.Repeat([]byte{'x'}, 0x400)...)
		in = append(in, "\r\n"...)
	}
	in = append(in, "0\r\n\r\n"...)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		body := NewBody(0, true, false)
		if _, done, err := body.Feed(in, nil); !done || err != nil {
			b.Fatal(done, err)
		}
	}
}
