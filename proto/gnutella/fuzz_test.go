package gnutella

import (
	"testing"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/flow"
)

func FuzzParseHandshake(f *testing.F) {
	f.Add([]byte(connect06))
	f.Add([]byte(answer06))
	f.Add([]byte("GNUTELLA OK\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, n, _ := parseHandshake(b)
		if n < 0 || n > len(b) {
			t.Fatalf("n = %d of %d", n, len(b))
		}
	})
}

func FuzzParseDescriptor(f *testing.F) {
	for _, m := range session[3:] {
		f.Add(m.data)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHeader(b)
		if err != nil || len(b) < headerLen+h.length {
			return
		}
		p := b[headerLen : headerLen+h.length]
		plausible(h, p, maxPayload)
		parsePong(p)
		parseQuery(p)
		if qh, err := parseQueryHit(p); err == nil && len(qh.results) > maxResults {
			t.Fatal("results unbounded")
		}
		parsePush(p)
		parseBye(p)
		datagramKind(b)
	})
}

func FuzzInflate(f *testing.F) {
	f.Add(compress(f, session[3].data, session[4].data), 7)
	f.Add([]byte("\x78\x9c\x00\x00\xff\xff"), 1)
	f.Fuzz(func(t *testing.T, b []byte, split int) {
		z := newInflater(1<<20, 100)
		split = min(max(split, 0), len(b))
		for _, part := range [][]byte{b[:split], b[split:]} {
			out, err := z.feed(part)
			if err != nil {
				return
			}
			if len(out) > 1<<20 {
				t.Fatal("bound exceeded")
			}
		}
	})
}

func FuzzProbe(f *testing.F) {
	f.Add([]byte(connect06), false, false)
	f.Add(session[3].data, true, false)
	f.Add(session[3].data, false, true)
	f.Add([]byte("GET /uri-res/N2R?urn:sha1:X HTTP/1.1\r\n"), false, false)
	f.Fuzz(func(t *testing.T, b []byte, mid, udp bool) {
		in := classify.Input{Data: b, MidStream: mid, UDP: udp}
		probe(&in)
	})
}

func FuzzConnFeed(f *testing.F) {
	for _, m := range session {
		f.Add(m.data, m.dir == flow.Resp)
	}
	f.Add([]byte("GIV 1:112233445566778899aabbccddeeff01/a\n\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), false)
	f.Fuzz(func(t *testing.T, data []byte, resp bool) {
		dir := flow.Orig
		if resp {
			dir = flow.Resp
		}
		rec := analyzer.NewRecorder()
		spec, _ := analyzer.Lookup("gnutella")
		c := spec.New(rec.Session(&spec))
		half := len(data) / 2
		n, _ := c.Feed(dir, data[:half])
		if n < 0 || n > half {
			t.Fatalf("Feed consumed %d of %d", n, half)
		}
		c.Feed(dir.Other(), data[half:])
		c.(analyzer.GapHandler).Gap(dir, 10)
		c.Feed(dir, data)
		c.(analyzer.Ender).End(flow.EndClosed)
	})
}
