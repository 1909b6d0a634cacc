package classify

import (
	"bytes"
	"testing"

	"github.com/peerwatch/peerwatch/flow"
)

// realisticEntries mirrors the shape of the real registry: carriers with many
// prefixes and a probe, prefix-only protocols, a two-byte binary prefix with a
// probe, and two heuristic probes that see every unclassified flow.
func realisticEntries() []Entry {
	httpProbe := func(in *Input) Result {
		if bytes.Contains(in.Data, []byte("\r\n")) {
			return Match
		}
		if len(in.Data) > 512 {
			return NoMatch
		}
		return NeedMore
	}
	var httpPrefixes []Prefix
	for _, m := range []string{"GET ", "POST ", "HEAD ", "PUT ", "CONNECT ", "OPTIONS "} {
		httpPrefixes = append(httpPrefixes, Prefix{Dir: flow.Orig, Bytes: m})
	}
	httpPrefixes = append(httpPrefixes, Prefix{Dir: flow.Resp, Bytes: "HTTP/1."})
	flapProbe := func(in *Input) Result {
		if len(in.Data) < 6 {
			return NeedMore
		}
		if in.Data[1] >= 1 && in.Data[1] <= 5 {
			return Match
		}
		return NoMatch
	}
	// A length-prefixed heuristic: first byte is the message length.
	lenProbe := func(in *Input) Result {
		if len(in.Data) < 2 {
			return NeedMore
		}
		if int(in.Data[0]) == len(in.Data) && in.Data[1] == 0xe3 {
			return Match
		}
		return NoMatch
	}
	// A UDP heuristic: 0x27 followed by a small opcode.
	kadProbe := func(in *Input) Result {
		if len(in.Data) < 2 {
			return NeedMore
		}
		if in.Data[0] == 0xe4 && in.Data[1] < 0x10 {
			return Match
		}
		return NoMatch
	}
	return []Entry{
		{Name: "bittorrent", TCP: true, Sig: Signature{Ports: []uint16{6881}, Prefixes: []Prefix{{Dir: flow.Orig, Bytes: "\x13BitTorrent protocol"}}}},
		{Name: "edonkey", TCP: true, Sig: Signature{Ports: []uint16{4662}, Probe: lenProbe, Heuristic: true, Priority: 20}},
		{Name: "gnutella", TCP: true, Sig: Signature{Ports: []uint16{6346}, Prefixes: []Prefix{{Dir: flow.Orig, Bytes: "GNUTELLA CONNECT/"}, {Dir: flow.Resp, Bytes: "GNUTELLA/0.6 "}}}},
		{Name: "http", TCP: true, Sig: Signature{Ports: []uint16{80, 8080, 3128}, Prefixes: httpPrefixes, Probe: httpProbe, Priority: 50}},
		{Name: "irc", TCP: true, Sig: Signature{Ports: []uint16{6667}, Prefixes: []Prefix{{Dir: flow.Orig, Bytes: "NICK ", Fold: true}, {Dir: flow.Orig, Bytes: "USER ", Fold: true}}}},
		{Name: "kad", UDP: true, Sig: Signature{Ports: []uint16{4672}, Probe: kadProbe, Heuristic: true, Priority: 10}},
		{Name: "msnp", TCP: true, Sig: Signature{Ports: []uint16{1863}, Prefixes: []Prefix{{Dir: flow.Orig, Bytes: "VER ???"}}}},
		{Name: "oscar", TCP: true, Sig: Signature{Ports: []uint16{5190}, Prefixes: []Prefix{{Either: true, Bytes: "\x2a\x01"}, {Either: true, Bytes: "\x2a\x02"}}, Probe: flapProbe}},
		{Name: "xmpp", TCP: true, Sig: Signature{Ports: []uint16{5222}, Prefixes: []Prefix{{Either: true, Bytes: "<?xml", Fold: true}, {Either: true, Bytes: "<stream:stream", Fold: true}}}},
		{Name: "ymsg", TCP: true, UDP: true, Sig: Signature{Ports: []uint16{5050}, Prefixes: []Prefix{{Either: true, Bytes: "YMSG"}, {Either: true, Offset: 4, Bytes: "\x00\x10"}}, MaxBytes: 8192}},
	}
}

func TestClassifyNoAllocs(t *testing.T) {
	eng := New(realisticEntries())
	cases := []struct {
		name string
		udp  bool
		dir  flow.Dir
		data string
		want string // entry name, "" for none
		done bool
	}{
		{"http match", false, flow.Orig, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "http", true},
		{"http pending", false, flow.Orig, "GET / HT", "", false},
		{"http response", false, flow.Resp, "HTTP/1.1 200 OK\r\n", "http", true},
		{"gnutella", false, flow.Orig, "GNUTELLA CONNECT/0.6\r\n", "gnutella", true},
		{"oscar probe", false, flow.Resp, "\x2a\x01\x00\x01\x00\x04\x00\x00\x00\x01", "oscar", true},
		{"irc fold", false, flow.Orig, "nick alice\r\n", "irc", true},
		{"ymsg offset", false, flow.Resp, "abcd\x00\x10", "ymsg", true},
		{"edonkey heuristic", false, flow.Orig, "\x06\xe3\x00\x00\x00\x00", "edonkey", true},
		{"kad heuristic", true, flow.Orig, "\xe4\x01\x00", "kad", true},
		{"no match tcp", false, flow.Orig, "\x00\x11\x22\x33\x44\x55\x66\x77 random bytes", "", true},
		{"no match udp", true, flow.Resp, "\x99\x88\x77\x66\x55\x44", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := Input{Dir: c.dir, Data: []byte(c.data), UDP: c.udp}
			var st State
			eng.Hint(&st, c.udp, 40000, 80)
			v := eng.Classify(&st, &in)
			name := ""
			if v.Done && v.Entry >= 0 {
				name = eng.Entries()[v.Entry].Name
			}
			if name != c.want || v.Done != c.done {
				t.Fatalf("got %+v (%q), want %q done=%v", v, name, c.want, c.done)
			}
			allocs := testing.AllocsPerRun(100, func() {
				st.Reset()
				eng.Hint(&st, c.udp, 40000, 80)
				_ = eng.Classify(&st, &in)
			})
			if allocs != 0 {
				t.Errorf("Classify allocates %v times per call", allocs)
			}
		})
	}
}
