package httpwire

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// addSeeds adds every file under testdata/seed (raw HTTP streams cut from
// real captures, see testdata/SOURCES.md) to f.
func addSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "seed", "*"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkAliases fails unless every header slice points into in.
func checkAliases(t *testing.T, in []byte, hs []Header) {
	for _, h := range hs {
		for _, p := range [][]byte{h.Name, h.Value} {
			if len(p) > 0 && !inside(in, p) {
				t.Fatalf("header slice %q does not alias the input", p)
			}
		}
	}
}

func inside(in, p []byte) bool {
	if len(in) == 0 {
		return false
	}
	for i := range in {
		if &in[i] == &p[0] {
			return i+len(p) <= len(in)
		}
	}
	return false
}

func FuzzRequestHead(f *testing.F) {
	addSeeds(f)
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))                              // minimal request
	f.Add([]byte("\r\nPOST /x HTTP/1.0\nContent-Length: 3\n\nabc"))                 // leading CRLF, bare LF, body
	f.Add([]byte("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"))                           // obs-fold
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n"))                // CL list
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")) // chunked
	f.Fuzz(func(t *testing.T, in []byte) {
		lim := Limits{MaxLine: 256, MaxHeaders: 8, MaxHeaderBytes: 1024}
		req, n, err := ParseRequestHead(in, lim, nil)
		if err != nil {
			if n != 0 || !(errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge)) {
				t.Fatalf("n=%d err=%v", n, err)
			}
			return
		}
		if n == 0 {
			return
		}
		if n > len(in) || n > lim.MaxHeaderBytes || len(req.Headers) > lim.MaxHeaders {
			t.Fatalf("n=%d headers=%d out of bounds", n, len(req.Headers))
		}
		checkAliases(t, in, req.Headers)
		// The head alone parses the same; one byte less is incomplete.
		if _, m, err := ParseRequestHead(in[:n], lim, nil); m != n || err != nil {
			t.Fatalf("head alone: n=%d err=%v, want %d", m, err, n)
		}
		if _, m, err := ParseRequestHead(in[:n-1], lim, nil); m != 0 || err != nil {
			t.Fatalf("head minus one: n=%d err=%v, want need-more", m, err)
		}
		_, _ = req.Framing()
		_ = req.Get("host")
	})
}

func FuzzResponseHead(f *testing.F) {
	addSeeds(f)
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))        // minimal response
	f.Add([]byte("HTTP/1.0 404\n\n"))                                      // no reason, bare LF
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")) // chunked
	f.Fuzz(func(t *testing.T, in []byte) {
		lim := Limits{MaxLine: 256, MaxHeaders: 8, MaxHeaderBytes: 1024}
		resp, n, err := ParseResponseHead(in, lim, nil)
		if err != nil || n == 0 {
			if n != 0 {
				t.Fatalf("n=%d with err=%v", n, err)
			}
			return
		}
		if n > len(in) || resp.Status < 100 || resp.Status > 999 {
			t.Fatalf("n=%d status=%d", n, resp.Status)
		}
		checkAliases(t, in, resp.Headers)
		if _, m, err := ParseResponseHead(in[:n-1], lim, nil); m != 0 || err != nil {
			t.Fatalf("head minus one: n=%d err=%v, want need-more", m, err)
		}
		_, _, _ = resp.Framing([]byte("GET"))
	})
}

// FuzzBody checks that feeding a body whole and byte by byte agree.
func FuzzBody(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), uint8(0))       // chunked
	f.Add([]byte("5;e=1\nhello\n0\nT: x\n\nrest"), uint8(0)) // chunked, bare LF, trailer
	f.Add([]byte("ffffffffffffffff\r\n"), uint8(0))          // overflow
	f.Add([]byte("abcdef"), uint8(3))                        // Content-Length 3
	f.Add([]byte("abcdef"), uint8(255))                      // close-delimited
	f.Fuzz(func(t *testing.T, in []byte, mode uint8) {
		mk := func() Body {
			switch mode {
			case 0:
				return NewBody(0, true, false)
			case 255:
				return NewBody(0, false, true)
			}
			return NewBody(int64(mode), false, false)
		}
		c1, u1, d1, e1 := feedAll(mk, in, 0)
		c2, u2, d2, e2 := feedAll(mk, in, 1)
		if c1 != c2 || u1 != u2 || d1 != d2 || (e1 == nil) != (e2 == nil) {
			t.Fatalf("whole: %q %d %v %v; bytewise: %q %d %v %v", c1, u1, d1, e1, c2, u2, d2, e2)
		}
		if u1 > len(in) || len(c1) > len(in) {
			t.Fatalf("used %d content %d of %d", u1, len(c1), len(in))
		}
	})
}
