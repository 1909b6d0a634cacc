package classify

import (
	"fmt"
	"testing"

	"github.com/peerwatch/peerwatch/flow"
)

// probeLog records which probes ran, in order, so tests can assert that a
// probe was (or was not) asked.
type probeLog []string

// probe returns a ProbeFunc named name that logs its calls and answers with f.
func (l *probeLog) probe(name string, f func(data []byte) Result) ProbeFunc {
	return func(in *Input) Result {
		*l = append(*l, name)
		return f(in.Data)
	}
}

// always answers r whatever the bytes.
func always(r Result) func([]byte) Result {
	return func([]byte) Result { return r }
}

// after answers NeedMore below n bytes and Match from n bytes on.
func after(n int) func([]byte) Result {
	return func(d []byte) Result {
		if len(d) < n {
			return NeedMore
		}
		return Match
	}
}

// firstByte answers Match when the data starts with b and NoMatch otherwise.
func firstByte(b byte) func([]byte) Result {
	return func(d []byte) Result {
		if d[0] == b {
			return Match
		}
		return NoMatch
	}
}

// call is one Classify call in a table case, on the case's single State.
type call struct {
	dir  flow.Dir
	udp  bool
	data string
	want Verdict
	// probes lists the probes that must run during this call, in order
	// (nil: not checked; empty non-nil: none may run).
	probes []string
}

// hint is an Engine.Hint call made before the first Classify.
type hint struct {
	udp        bool
	orig, resp uint16
}

// noMatch is the verdict "nothing can match this direction any more".
var noMatch = Verdict{Entry: -1, Done: true}

// more is the verdict "cannot tell yet".
var more = Verdict{Entry: -1}

func matched(i int, c flow.Confidence, ev flow.Evidence) Verdict {
	return Verdict{Entry: i, Confidence: c, Evidence: ev, Done: true}
}

func TestClassify(t *testing.T) {
	type tcase struct {
		name    string
		entries func(l *probeLog) []Entry
		hint    *hint
		calls   []call
	}
	tcp := func(name string, sig Signature) Entry { return Entry{Name: name, Sig: sig, TCP: true} }
	udp := func(name string, sig Signature) Entry { return Entry{Name: name, Sig: sig, UDP: true} }
	pre := func(b string) Prefix { return Prefix{Dir: flow.Orig, Bytes: b} }
	cases := []tcase{
		{
			name: "prefix at offset 0",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("a", Signature{Prefixes: []Prefix{pre("ABC")}})}
			},
			calls: []call{{data: "ABCD", want: matched(0, flow.Pattern, flow.EvPrefix)}},
		},
		{
			name: "prefix exactly the data",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("a", Signature{Prefixes: []Prefix{pre("ABC")}})}
			},
			calls: []call{{data: "ABC", want: matched(0, flow.Pattern, flow.EvPrefix)}},
		},
		{
			name: "prefix at offset 2",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("a", Signature{Prefixes: []Prefix{{Dir: flow.Orig, Offset: 2, Bytes: "XY"}}})}
			},
			calls: []call{{data: "\x00\x01XYz", want: matched(0, flow.Pattern, flow.EvPrefix)}},
		},
		{
			name: "offset prefix beyond the data needs more",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("a", Signature{Prefixes: []Prefix{{Dir: flow.Orig, Offset: 4, Bytes: "XY"}}})}
			},
			calls: []call{
				{data: "\x00\x01", want: more},
				{data: "\x00\x01\x02\x03X", want: more},
				{data: "\x00\x01\x02\x03XY", want: matched(0, flow.Pattern, flow.EvPrefix)},
			},
		},
		{
			name: "offset prefix mismatch",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("a", Signature{Prefixes: []Prefix{{Dir: flow.Orig, Offset: 2, Bytes: "XY"}}})}
			},
			calls: []call{{data: "XYXZ", want: noMatch}},
		},
		{
			name: "wildcard inside",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("a", Signature{Prefixes: []Prefix{pre("A??D")}})}
			},
			calls: []call{{data: "A\x00\xffD", want: matched(0, flow.Pattern, flow.EvPrefix)}},
		},
		{
			name: "wildcard inside mismatch",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("a", Signature{Prefixes: []Prefix{pre("A??D")}})}
			},
			calls: []call{{data: "A\x00\xffE", want: noMatch}},
		},
		{
			name: "leading wildcard",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("a", Signature{Prefixes: []Prefix{pre("?BC")}})}
			},
			calls: []call{{data: "zBC", want: matched(0, flow.Pattern, flow.EvPrefix)}},
		},
		{
			name: "fold matches any case",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("irc", Signature{Prefixes: []Prefix{{Dir: flow.Orig, Bytes: "nick ", Fold: true}}})}
			},
			calls: []call{{data: "NiCk bob", want: matched(0, flow.Pattern, flow.EvPrefix)}},
		},
		{
			name: "fold upper-case first byte",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("irc", Signature{Prefixes: []Prefix{{Dir: flow.Orig, Bytes: "NICK ", Fold: true}}})}
			},
			calls: []call{{data: "nick bob", want: matched(0, flow.Pattern, flow.EvPrefix)}},
		},
		{
			name: "fold does not fold non-letters",
			entries: func(*probeLog) []Entry {
				// '[' and '{' differ by 32 like letters do, but are not letters.
				return []Entry{tcp("a", Signature{Prefixes: []Prefix{{Dir: flow.Orig, Bytes: "[x", Fold: true}}})}
			},
			calls: []call{{data: "{x", want: noMatch}},
		},
		{
			name: "without fold case matters",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("irc", Signature{Prefixes: []Prefix{pre("NICK ")}})}
			},
			calls: []call{{data: "nick bob", want: noMatch}},
		},
		{
			name: "direction must agree",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("a", Signature{Prefixes: []Prefix{pre("ABC")}})}
			},
			calls: []call{
				{dir: flow.Resp, data: "ABC", want: noMatch},
				{dir: flow.Orig, data: "ABC", want: matched(0, flow.Pattern, flow.EvPrefix)},
			},
		},
		{
			name: "either direction",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("a", Signature{Prefixes: []Prefix{{Dir: flow.Orig, Either: true, Bytes: "ABC"}}})}
			},
			calls: []call{
				{dir: flow.Resp, data: "ABC", want: matched(0, flow.Pattern, flow.EvPrefix)},
				{dir: flow.Orig, data: "ABC", want: matched(0, flow.Pattern, flow.EvPrefix)},
			},
		},
		{
			name: "resp prefix",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("http", Signature{Prefixes: []Prefix{{Dir: flow.Resp, Bytes: "HTTP/1."}}})}
			},
			calls: []call{
				{dir: flow.Orig, data: "HTTP/1.1 200", want: noMatch},
				{dir: flow.Resp, data: "HTTP/1.1 200", want: matched(0, flow.Pattern, flow.EvPrefix)},
			},
		},
		{
			name: "prefix longer than data needs more, then matches",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("g", Signature{Prefixes: []Prefix{pre("GNUTELLA CONNECT/")}})}
			},
			calls: []call{
				{data: "GNU", want: more},
				{data: "GNUTELLA CONN", want: more},
				{data: "GNUTELLA CONNECT/0.6", want: matched(0, flow.Pattern, flow.EvPrefix)},
			},
		},
		{
			name: "prefix longer than data then mismatch",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("g", Signature{Prefixes: []Prefix{pre("GNUTELLA CONNECT/")}})}
			},
			calls: []call{
				{data: "GNU", want: more},
				{data: "GNUTELLA OK", want: noMatch},
			},
		},
		{
			name: "empty data is not done",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("a", Signature{Prefixes: []Prefix{pre("A")}})}
			},
			calls: []call{{data: "", want: more}, {data: "A", want: matched(0, flow.Pattern, flow.EvPrefix)}},
		},
		{
			name: "probe need more then match",
			entries: func(l *probeLog) []Entry {
				return []Entry{tcp("oscar", Signature{Prefixes: []Prefix{pre("\x2a\x01")}, Probe: l.probe("oscar", after(6))})}
			},
			calls: []call{
				{data: "\x2a\x01\x00", want: more, probes: []string{"oscar"}},
				{data: "\x2a\x01\x00\x01\x00\x04", want: matched(0, flow.Probe, flow.EvPrefix|flow.EvProbe), probes: []string{"oscar"}},
			},
		},
		{
			name: "probe runs only on a prefix hit",
			entries: func(l *probeLog) []Entry {
				return []Entry{tcp("oscar", Signature{Prefixes: []Prefix{pre("\x2a\x01")}, Probe: l.probe("oscar", after(0))})}
			},
			calls: []call{
				{data: "\x2a", want: more, probes: []string{}},
				{data: "\x2a\x02", want: noMatch, probes: []string{}},
			},
		},
		{
			name: "probe no match excludes for later calls",
			entries: func(l *probeLog) []Entry {
				return []Entry{tcp("a", Signature{Prefixes: []Prefix{pre("AB")}, Probe: l.probe("a", func(d []byte) Result {
					if len(d) < 4 {
						return NoMatch
					}
					return Match // would match, but must never be asked again
				})})}
			},
			calls: []call{
				{data: "ABC", want: noMatch, probes: []string{"a"}},
				{data: "ABCD", want: noMatch, probes: []string{}},
				{data: "ABCDE", want: noMatch, probes: []string{}},
			},
		},
		{
			name: "exclusion is per entry",
			entries: func(l *probeLog) []Entry {
				return []Entry{
					tcp("a", Signature{Prefixes: []Prefix{pre("AB")}, Probe: l.probe("a", always(NoMatch))}),
					tcp("b", Signature{Prefixes: []Prefix{pre("ABCD")}}),
				}
			},
			calls: []call{
				{data: "ABC", want: more, probes: []string{"a"}},
				{data: "ABCD", want: matched(1, flow.Pattern, flow.EvPrefix), probes: []string{}},
			},
		},
		{
			name: "heuristic probe on a flow without prefix hit",
			entries: func(l *probeLog) []Entry {
				return []Entry{
					tcp("a", Signature{Prefixes: []Prefix{pre("AB")}}),
					tcp("h", Signature{Probe: l.probe("h", firstByte(0xe3)), Heuristic: true}),
				}
			},
			calls: []call{{data: "\xe3\x01", want: matched(1, flow.Probe, flow.EvProbe), probes: []string{"h"}}},
		},
		{
			name: "heuristic probe no match excludes it",
			entries: func(l *probeLog) []Entry {
				return []Entry{tcp("h", Signature{Probe: l.probe("h", func(d []byte) Result {
					if len(d) == 1 {
						return NoMatch
					}
					return Match
				}), Heuristic: true})}
			},
			calls: []call{
				{data: "x", want: noMatch, probes: []string{"h"}},
				{data: "xy", want: noMatch, probes: []string{}},
			},
		},
		{
			name: "heuristic probe need more is pending",
			entries: func(l *probeLog) []Entry {
				return []Entry{tcp("h", Signature{Probe: l.probe("h", after(3)), Heuristic: true})}
			},
			calls: []call{
				{data: "x", want: more, probes: []string{"h"}},
				{data: "xyz", want: matched(0, flow.Probe, flow.EvProbe), probes: []string{"h"}},
			},
		},
		{
			name: "probe without heuristic flag never runs without prefix",
			entries: func(l *probeLog) []Entry {
				return []Entry{tcp("p", Signature{Prefixes: []Prefix{pre("Z")}, Probe: l.probe("p", always(Match))})}
			},
			calls: []call{{data: "abc", want: noMatch, probes: []string{}}},
		},
		{
			name: "heuristics wait while a prefix hit needs more",
			entries: func(l *probeLog) []Entry {
				return []Entry{
					tcp("http", Signature{Prefixes: []Prefix{pre("GET ")}, Probe: l.probe("http", func(d []byte) Result {
						if len(d) < 10 {
							return NeedMore
						}
						return NoMatch
					})}),
					tcp("h", Signature{Probe: l.probe("h", always(Match)), Heuristic: true}),
				}
			},
			calls: []call{
				{data: "GET /", want: more, probes: []string{"http"}},
				// The prefix's probe gives up: now the heuristic may run.
				{data: "GET /xxxxxx", want: matched(1, flow.Probe, flow.EvProbe), probes: []string{"http", "h"}},
			},
		},
		{
			name: "heuristics run while a prefix is only partly seen",
			entries: func(l *probeLog) []Entry {
				return []Entry{
					tcp("g", Signature{Prefixes: []Prefix{pre("GNUTELLA")}}),
					tcp("h", Signature{Probe: l.probe("h", after(2)), Heuristic: true}),
				}
			},
			calls: []call{
				{data: "G", want: more, probes: []string{"h"}},
				{data: "GN", want: matched(1, flow.Probe, flow.EvProbe), probes: []string{"h"}},
			},
		},
		{
			name: "heuristic entry with its own prefix hit runs its probe once",
			entries: func(l *probeLog) []Entry {
				return []Entry{tcp("h", Signature{Prefixes: []Prefix{pre("\xe3")}, Probe: l.probe("h", after(4)), Heuristic: true})}
			},
			calls: []call{
				{data: "\xe3\x00", want: more, probes: []string{"h"}},
				{data: "\xe3\x00\x00\x00", want: matched(0, flow.Probe, flow.EvPrefix|flow.EvProbe), probes: []string{"h"}},
				// Without the prefix it is still a heuristic candidate.
			},
		},
		{
			name: "heuristics by priority",
			entries: func(l *probeLog) []Entry {
				return []Entry{
					tcp("h30", Signature{Probe: l.probe("h30", always(Match)), Heuristic: true, Priority: 30}),
					tcp("h10", Signature{Probe: l.probe("h10", always(NoMatch)), Heuristic: true, Priority: 10}),
					tcp("h20", Signature{Probe: l.probe("h20", always(Match)), Heuristic: true, Priority: 20}),
				}
			},
			calls: []call{{data: "x", want: matched(2, flow.Probe, flow.EvProbe), probes: []string{"h10", "h20"}}},
		},
		{
			name: "heuristics in index order on equal priority",
			entries: func(l *probeLog) []Entry {
				return []Entry{
					tcp("a", Signature{Probe: l.probe("a", always(NeedMore)), Heuristic: true}),
					tcp("b", Signature{Probe: l.probe("b", always(Match)), Heuristic: true}),
					tcp("c", Signature{Probe: l.probe("c", always(Match)), Heuristic: true}),
				}
			},
			calls: []call{{data: "x", want: matched(1, flow.Probe, flow.EvProbe), probes: []string{"a", "b"}}},
		},
		{
			name: "port-hinted heuristic first",
			entries: func(l *probeLog) []Entry {
				return []Entry{
					tcp("h10", Signature{Probe: l.probe("h10", always(Match)), Heuristic: true, Priority: 10}),
					tcp("h90", Signature{Ports: []uint16{4662}, Probe: l.probe("h90", always(Match)), Heuristic: true, Priority: 90}),
				}
			},
			hint:  &hint{orig: 50000, resp: 4662},
			calls: []call{{data: "x", want: matched(1, flow.Probe, flow.EvProbe|flow.EvPort), probes: []string{"h90"}}},
		},
		{
			name: "port-hinted heuristic rejecting falls back to the others once",
			entries: func(l *probeLog) []Entry {
				return []Entry{
					tcp("h10", Signature{Probe: l.probe("h10", after(2)), Heuristic: true, Priority: 10}),
					tcp("h90", Signature{Ports: []uint16{4662}, Probe: l.probe("h90", always(NoMatch)), Heuristic: true, Priority: 90}),
				}
			},
			hint: &hint{orig: 4662, resp: 50000},
			calls: []call{
				{data: "x", want: more, probes: []string{"h90", "h10"}},
				{data: "xy", want: matched(0, flow.Probe, flow.EvProbe), probes: []string{"h10"}},
			},
		},
		{
			name: "heuristic past its MaxBytes is excluded",
			entries: func(l *probeLog) []Entry {
				return []Entry{
					tcp("small", Signature{Probe: l.probe("small", always(Match)), Heuristic: true, MaxBytes: 4, Priority: 1}),
					tcp("big", Signature{Probe: l.probe("big", after(8)), Heuristic: true, Priority: 2}),
				}
			},
			calls: []call{
				{data: "12345", want: more, probes: []string{"big"}},
				{data: "1234", want: more, probes: []string{"big"}}, // excluded for good
				{data: "12345678", want: matched(1, flow.Probe, flow.EvProbe), probes: []string{"big"}},
			},
		},
		{
			name: "heuristic at exactly its MaxBytes still runs",
			entries: func(l *probeLog) []Entry {
				return []Entry{tcp("small", Signature{Probe: l.probe("small", always(Match)), Heuristic: true, MaxBytes: 4})}
			},
			calls: []call{{data: "1234", want: matched(0, flow.Probe, flow.EvProbe), probes: []string{"small"}}},
		},
		{
			name: "port-hinted heuristic past its MaxBytes is excluded",
			entries: func(l *probeLog) []Entry {
				return []Entry{tcp("small", Signature{Ports: []uint16{9}, Probe: l.probe("small", always(Match)), Heuristic: true, MaxBytes: 2})}
			},
			hint: &hint{orig: 1000, resp: 9},
			calls: []call{
				{data: "123", want: noMatch, probes: []string{}},
				{data: "1", want: noMatch, probes: []string{}},
			},
		},
		{
			name: "heuristic at DefaultMaxBytes",
			entries: func(l *probeLog) []Entry {
				return []Entry{tcp("h", Signature{Probe: l.probe("h", always(Match)), Heuristic: true})}
			},
			calls: []call{{data: string(make([]byte, DefaultMaxBytes+1)), want: noMatch, probes: []string{}}},
		},
		{
			name: "tcp-only prefix not considered for udp",
			entries: func(l *probeLog) []Entry {
				return []Entry{tcp("a", Signature{Prefixes: []Prefix{pre("AB")}, Probe: l.probe("a", always(Match))})}
			},
			calls: []call{
				{udp: true, data: "AB", want: noMatch, probes: []string{}},
				{udp: false, data: "AB", want: matched(0, flow.Probe, flow.EvPrefix|flow.EvProbe), probes: []string{"a"}},
			},
		},
		{
			name: "udp-only prefix not considered for tcp",
			entries: func(*probeLog) []Entry {
				return []Entry{udp("a", Signature{Prefixes: []Prefix{pre("AB")}})}
			},
			calls: []call{
				{udp: false, data: "AB", want: noMatch},
				{udp: true, data: "AB", want: matched(0, flow.Pattern, flow.EvPrefix)},
			},
		},
		{
			name: "udp-only heuristic not run for tcp and vice versa",
			entries: func(l *probeLog) []Entry {
				return []Entry{
					udp("u", Signature{Probe: l.probe("u", firstByte('u')), Heuristic: true}),
					tcp("t", Signature{Probe: l.probe("t", firstByte('t')), Heuristic: true}),
				}
			},
			calls: []call{
				{udp: false, data: "u", want: noMatch, probes: []string{"t"}},
				{udp: true, data: "t", want: noMatch, probes: []string{"u"}},
			},
		},
		{
			name: "entry on both transports",
			entries: func(*probeLog) []Entry {
				return []Entry{{Name: "y", TCP: true, UDP: true, Sig: Signature{Prefixes: []Prefix{pre("YMSG")}}}}
			},
			calls: []call{
				{udp: true, data: "YMSG", want: matched(0, flow.Pattern, flow.EvPrefix)},
				{udp: false, data: "YMSG", want: matched(0, flow.Pattern, flow.EvPrefix)},
			},
		},
		{
			name: "hinted udp heuristic not run on tcp input",
			entries: func(l *probeLog) []Entry {
				return []Entry{udp("u", Signature{Ports: []uint16{53}, Probe: l.probe("u", always(Match)), Heuristic: true})}
			},
			hint:  &hint{udp: true, orig: 1000, resp: 53},
			calls: []call{{udp: false, data: "x", want: noMatch, probes: []string{}}},
		},
		{
			name: "tie: lower priority wins",
			entries: func(*probeLog) []Entry {
				return []Entry{
					tcp("long", Signature{Prefixes: []Prefix{pre("ABC")}, Priority: 5}),
					tcp("short", Signature{Prefixes: []Prefix{pre("AB")}, Priority: 1}),
				}
			},
			calls: []call{{data: "ABCD", want: matched(1, flow.Pattern, flow.EvPrefix)}},
		},
		{
			name: "tie: first entry wins on equal priority",
			entries: func(*probeLog) []Entry {
				return []Entry{
					tcp("a", Signature{Prefixes: []Prefix{pre("AB")}}),
					tcp("b", Signature{Prefixes: []Prefix{pre("ABC")}}),
				}
			},
			calls: []call{{data: "ABCD", want: matched(0, flow.Pattern, flow.EvPrefix)}},
		},
		{
			name: "tie: higher confidence beats priority",
			entries: func(l *probeLog) []Entry {
				return []Entry{
					tcp("pattern", Signature{Prefixes: []Prefix{pre("AB")}, Priority: 1}),
					tcp("probe", Signature{Prefixes: []Prefix{pre("ABC")}, Probe: l.probe("probe", always(Match)), Priority: 99}),
				}
			},
			calls: []call{{data: "ABCD", want: matched(1, flow.Probe, flow.EvPrefix|flow.EvProbe)}},
		},
		{
			name: "tie: higher confidence beats port hint",
			entries: func(l *probeLog) []Entry {
				return []Entry{
					tcp("pattern", Signature{Ports: []uint16{80}, Prefixes: []Prefix{pre("AB")}}),
					tcp("probe", Signature{Prefixes: []Prefix{pre("AB")}, Probe: l.probe("probe", always(Match))}),
				}
			},
			hint:  &hint{orig: 1000, resp: 80},
			calls: []call{{data: "ABCD", want: matched(1, flow.Probe, flow.EvPrefix|flow.EvProbe)}},
		},
		{
			name: "tie: priority beats port hint",
			entries: func(*probeLog) []Entry {
				return []Entry{
					tcp("a", Signature{Prefixes: []Prefix{pre("AB")}, Priority: 1}),
					tcp("b", Signature{Ports: []uint16{80}, Prefixes: []Prefix{pre("ABC")}, Priority: 9}),
					tcp("c", Signature{Prefixes: []Prefix{{Dir: flow.Orig, Offset: 1, Bytes: "B"}}, Priority: 0}),
				}
			},
			hint:  &hint{orig: 1000, resp: 80},
			calls: []call{{data: "ABCD", want: matched(2, flow.Pattern, flow.EvPrefix)}},
		},
		{
			name: "tie: a very low priority beats the port hint",
			entries: func(*probeLog) []Entry {
				return []Entry{
					tcp("a", Signature{Prefixes: []Prefix{pre("AB")}, Priority: -1 << 40}),
					tcp("b", Signature{Ports: []uint16{80}, Prefixes: []Prefix{pre("AB")}}),
				}
			},
			hint:  &hint{orig: 1000, resp: 80},
			calls: []call{{data: "AB", want: matched(0, flow.Pattern, flow.EvPrefix)}},
		},
		{
			name: "tie: equal priority, the port hint wins",
			entries: func(*probeLog) []Entry {
				return []Entry{
					tcp("a", Signature{Prefixes: []Prefix{pre("AB")}, Priority: 5}),
					tcp("b", Signature{Ports: []uint16{80}, Prefixes: []Prefix{pre("AB")}, Priority: 5}),
				}
			},
			hint:  &hint{orig: 1000, resp: 80},
			calls: []call{{data: "AB", want: matched(1, flow.Pattern, flow.EvPrefix|flow.EvPort)}},
		},
		{
			name: "prefix match beats heuristic",
			entries: func(l *probeLog) []Entry {
				return []Entry{
					tcp("h", Signature{Ports: []uint16{80}, Probe: l.probe("h", always(Match)), Heuristic: true}),
					tcp("a", Signature{Prefixes: []Prefix{pre("AB")}, Priority: 100}),
				}
			},
			hint:  &hint{orig: 1000, resp: 80},
			calls: []call{{data: "AB", want: matched(1, flow.Pattern, flow.EvPrefix), probes: []string{}}},
		},
		{
			name: "port hint alone never matches",
			entries: func(*probeLog) []Entry {
				return []Entry{
					tcp("http", Signature{Ports: []uint16{80}}),
					tcp("p", Signature{Ports: []uint16{80}, Prefixes: []Prefix{pre("ZZ")}}),
				}
			},
			hint: &hint{orig: 1000, resp: 80},
			calls: []call{
				{data: "GET / HTTP/1.1\r\n", want: noMatch},
				{data: "Z", want: more},
			},
		},
		{
			name: "port-hinted probe without heuristic flag does not run",
			entries: func(l *probeLog) []Entry {
				return []Entry{tcp("p", Signature{Ports: []uint16{80}, Prefixes: []Prefix{pre("ZZ")}, Probe: l.probe("p", always(Match))})}
			},
			hint:  &hint{orig: 1000, resp: 80},
			calls: []call{{data: "abc", want: noMatch, probes: []string{}}},
		},
		{
			name: "heuristic flag without probe is harmless",
			entries: func(*probeLog) []Entry {
				return []Entry{tcp("h", Signature{Ports: []uint16{80}, Heuristic: true})}
			},
			hint:  &hint{orig: 1000, resp: 80},
			calls: []call{{data: "abc", want: noMatch}},
		},
		{
			name: "done once nothing is pending",
			entries: func(l *probeLog) []Entry {
				return []Entry{
					tcp("a", Signature{Prefixes: []Prefix{pre("ABCD")}}),
					tcp("b", Signature{Prefixes: []Prefix{pre("AB")}, Probe: l.probe("b", func(d []byte) Result {
						if len(d) < 3 {
							return NeedMore
						}
						return NoMatch
					})}),
					tcp("h", Signature{Probe: l.probe("h", after(3)), Heuristic: true}),
				}
			},
			calls: []call{
				{data: "A", want: more, probes: []string{"h"}},  // a, b partial; h needs more
				{data: "AB", want: more, probes: []string{"b"}}, // b hit, pending: heuristics wait
				{data: "ABX", want: matched(2, flow.Probe, flow.EvProbe), probes: []string{"b", "h"}},
			},
		},
		{
			name: "done with entry -1 after every candidate fails",
			entries: func(l *probeLog) []Entry {
				return []Entry{
					tcp("a", Signature{Prefixes: []Prefix{pre("ABCD")}}),
					tcp("h", Signature{Probe: l.probe("h", func(d []byte) Result {
						if len(d) < 2 {
							return NeedMore
						}
						return NoMatch
					}), Heuristic: true}),
				}
			},
			calls: []call{
				{data: "A", want: more},
				{data: "AB", want: more}, // h says no; a still possible
				{data: "ABX", want: noMatch, probes: []string{}},
				{data: "ABXY", want: noMatch, probes: []string{}},
			},
		},
		{
			name:    "no entries",
			entries: func(*probeLog) []Entry { return nil },
			calls:   []call{{data: "x", want: noMatch}, {udp: true, data: "x", want: noMatch}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var log probeLog
			eng := New(tc.entries(&log))
			var st State
			if tc.hint != nil {
				eng.Hint(&st, tc.hint.udp, tc.hint.orig, tc.hint.resp)
			}
			for k, c := range tc.calls {
				log = log[:0]
				in := Input{Dir: c.dir, Data: []byte(c.data), UDP: c.udp}
				got := eng.Classify(&st, &in)
				if got != c.want {
					t.Errorf("call %d (%q): got %+v, want %+v", k, c.data, got, c.want)
				}
				if c.probes != nil && fmt.Sprint(log) != fmt.Sprint(c.probes) {
					t.Errorf("call %d (%q): probes run %v, want %v", k, c.data, log, c.probes)
				}
				if got.Done && got.Entry >= 0 && !eng.Entries()[got.Entry].fits(c.udp) {
					t.Errorf("call %d: entry %d does not run over udp=%v", k, got.Entry, c.udp)
				}
			}
		})
	}
}
