package gnutella

import (
	"bytes"
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

// probeRunAtRef is probeRunAt without the type table: runAt at every
// offset. The table must never change a result.
func probeRunAtRef(d []byte) classify.Result {
	need := false
	for off := 0; off < min(len(d), probeScan); off++ {
		switch runAt(d[off:]) {
		case classify.Match:
			return classify.Match
		case classify.NeedMore:
			need = true
		}
	}
	if need || len(d) < probeScan {
		if len(d) >= probeMax {
			return classify.NoMatch
		}
		return classify.NeedMore
	}
	return classify.NoMatch
}

func FuzzProbeRunAt(f *testing.F) {
	ping := desc(1, typePing, 7, 0, nil)
	f.Add(append(append(append([]byte("xx"), ping...), ping...), ping...))
	f.Add(append([]byte("junk"), ping[:20]...))
	f.Add(session[3].data)
	f.Fuzz(func(t *testing.T, d []byte) {
		if got, want := probeRunAt(d), probeRunAtRef(d); got != want {
			t.Fatalf("probeRunAt = %v, runAt at every offset = %v", got, want)
		}
	})
}

// TestProbeRunAtTable runs FuzzProbeRunAt's check over descriptor chains
// cut at every length and shifted by every prefix up to 40 bytes.
func TestProbeRunAtTable(t *testing.T) {
	ping := desc(1, typePing, 7, 0, nil)
	query := desc(2, typeQuery, 5, 1, []byte("\x00\x00abc\x00"))
	chain := append(append(append([]byte{}, ping...), query...), ping...)
	matches := 0
	for pre := 0; pre <= 40; pre++ {
		for cut := 0; cut <= len(chain); cut++ {
			d := append(bytes.Repeat([]byte{0x55}, pre), chain[:cut]...)
			got, want := probeRunAt(d), probeRunAtRef(d)
			if got != want {
				t.Fatalf("prefix %d, cut %d: probeRunAt = %v, reference = %v", pre, cut, got, want)
			}
			if got == classify.Match {
				matches++
			}
		}
	}
	if matches == 0 {
		t.Fatal("no input matched: the test proves nothing")
	}
}
