package classify

import (
	"testing"

	"github.com/peerwatch/peerwatch/flow"
)

// fuzzEntries adds to the realistic registry entries that exercise every
// path: wildcards, folding, offsets, probes that flip answers, a tiny
// MaxBytes and a heuristic entry that also has a prefix.
func fuzzEntries() []Entry {
	entries := realisticEntries()
	flip := func(in *Input) Result {
		// Depends on several bytes so growing data changes the answer.
		switch {
		case len(in.Data) < 3:
			return NeedMore
		case in.Data[2]&1 == 0:
			return Match
		case len(in.Data) < 8:
			return NeedMore
		default:
			return NoMatch
		}
	}
	return append(entries,
		Entry{Name: "wild", TCP: true, UDP: true, Sig: Signature{Prefixes: []Prefix{{Either: true, Bytes: "?\x00?\x01"}}, Probe: flip, Priority: 3}},
		Entry{Name: "fold", TCP: true, Sig: Signature{Prefixes: []Prefix{{Dir: flow.Resp, Offset: 1, Bytes: "ok", Fold: true}}}},
		Entry{Name: "tiny", UDP: true, Sig: Signature{Ports: []uint16{9}, Probe: flip, Heuristic: true, MaxBytes: 5}},
		Entry{Name: "both", TCP: true, UDP: true, Sig: Signature{Ports: []uint16{80}, Prefixes: []Prefix{{Dir: flow.Orig, Bytes: "\x01"}}, Probe: flip, Heuristic: true, Priority: 40}},
	)
}

// FuzzClassify feeds growing prefixes of one direction's bytes to Classify
// on one State, as the pipeline does for a TCP stream, and checks the
// engine's promises.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\n",
		"GNUTELLA CONNECT/0.6\r\n",
		"\x2a\x01\x00\x01\x00\x04\x00\x00\x00\x01",
		"\x13BitTorrent protocol",
		"NICK alice\r\nUSER a 0 * :a\r\n",
		"\x06\xe3\x00\x00\x00\x00",
		"\xe4\x01\x00",
		"YMSG\x00\x10\x00\x00",
		"<?xml version='1.0'?><stream:stream>",
		"a\x00b\x01\x00\x00\x00\x00\x00",
		"\x01\x02\x03\x04\x05\x06\x07\x08\x09",
	} {
		for flags := range byte(8) {
			f.Add([]byte(s), flags, uint16(80))
		}
	}
	f.Add([]byte("xOK"), byte(1), uint16(9))
	f.Add([]byte("\x01\x02\x04"), byte(2), uint16(9))
	eng := New(fuzzEntries())
	entries := eng.Entries()
	f.Fuzz(func(t *testing.T, data []byte, flags byte, port uint16) {
		if len(data) > 2*eng.MaxBytes() {
			data = data[:2*eng.MaxBytes()]
		}
		dir := flow.Dir(flags & 1)
		udp := flags&2 != 0
		var other []byte
		if flags&4 != 0 {
			other = data
		}
		var st State
		eng.Hint(&st, udp, 40000, port)
		if i, ok := eng.PortHint(&st); ok && !entries[i].fits(udp) {
			t.Fatalf("port hint %q does not run over udp=%v", entries[i].Name, udp)
		}
		var excluded [MaxEntries]bool
		done := false
		for n := 1; n <= len(data); n++ {
			in := Input{Dir: dir, Data: data[:n], Other: other, UDP: udp}
			v := eng.Classify(&st, &in)
			if v.Done && v.Entry >= 0 {
				if v.Entry >= len(entries) {
					t.Fatalf("n=%d: entry %d out of range", n, v.Entry)
				}
				if excluded[v.Entry] {
					t.Fatalf("n=%d: excluded entry %q returned", n, entries[v.Entry].Name)
				}
				if !entries[v.Entry].fits(udp) {
					t.Fatalf("n=%d: entry %q does not run over udp=%v", n, entries[v.Entry].Name, udp)
				}
				if v.Confidence < flow.Pattern || v.Evidence&(flow.EvPrefix|flow.EvProbe) == 0 {
					t.Fatalf("n=%d: match without prefix or probe evidence: %+v", n, v)
				}
				if done {
					t.Fatalf("n=%d: %q matched after Done with no entry", n, entries[v.Entry].Name)
				}
			} else if v.Entry != -1 {
				t.Fatalf("n=%d: verdict %+v has an entry but is not a match", n, v)
			} else if v.Done {
				done = true // more bytes of the same stream cannot match
			} else if done {
				t.Fatalf("n=%d: pending again after Done", n)
			}
			for i := range entries {
				x := st.isExcluded(uint16(i))
				if excluded[i] && !x {
					t.Fatalf("n=%d: entry %q no longer excluded", n, entries[i].Name)
				}
				excluded[i] = x
			}
		}
	})
}

func BenchmarkClassify(b *testing.B) {
	eng := New(realisticEntries())
	cases := []struct {
		name string
		udp  bool
		dir  flow.Dir
		data string
	}{
		{"match_prefix", false, flow.Orig, "GNUTELLA CONNECT/0.6\r\n"},
		{"match_prefix_probe", false, flow.Orig, "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n"},
		{"match_heuristic", false, flow.Orig, "\x06\xe3\x00\x00\x00\x00"},
		{"pending", false, flow.Orig, "GNUTELLA CON"},
		{"nomatch_tcp", false, flow.Orig, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 random tls-ish bytes"},
		{"nomatch_udp", true, flow.Resp, "\x99\x88\x77\x66\x55\x44\x33\x22"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			in := Input{Dir: c.dir, Data: []byte(c.data), UDP: c.udp}
			var st State
			b.ReportAllocs()
			for b.Loop() {
				st.Reset()
				eng.Classify(&st, &in)
			}
		})
	}
}
