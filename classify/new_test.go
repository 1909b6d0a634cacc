package classify

import (
	"fmt"
	"math"
	"testing"

	"github.com/peerwatch/peerwatch/flow"
)

func TestMaxBytes(t *testing.T) {
	sig := func(n int) Entry { return Entry{Name: fmt.Sprint(n), TCP: true, Sig: Signature{MaxBytes: n}} }
	cases := []struct {
		name    string
		entries []Entry
		want    int
	}{
		{"no entries", nil, DefaultMaxBytes},
		{"entries use the default", []Entry{sig(0), sig(0)}, DefaultMaxBytes},
		{"smaller limits do not lower it", []Entry{sig(16), sig(DefaultMaxBytes - 1)}, DefaultMaxBytes},
		{"negative limits are ignored", []Entry{sig(-1)}, DefaultMaxBytes},
		{"largest entry limit", []Entry{sig(100), sig(9000), sig(DefaultMaxBytes + 1)}, 9000},
		{"single larger limit", []Entry{sig(0), sig(DefaultMaxBytes * 2)}, DefaultMaxBytes * 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := New(c.entries).MaxBytes(); got != c.want {
				t.Errorf("MaxBytes() = %d, want %d", got, c.want)
			}
		})
	}
}

func TestNewLimitsEntries(t *testing.T) {
	entries := make([]Entry, MaxEntries+10)
	for i := range entries {
		entries[i] = Entry{Name: fmt.Sprint(i), TCP: true, Sig: Signature{Prefixes: []Prefix{{Bytes: "x"}}}}
	}
	entries[MaxEntries].Sig.MaxBytes = DefaultMaxBytes * 4 // dropped, so not counted
	eng := New(entries)
	if got := len(eng.Entries()); got != MaxEntries {
		t.Fatalf("len(Entries()) = %d, want %d", got, MaxEntries)
	}
	if got := eng.MaxBytes(); got != DefaultMaxBytes {
		t.Errorf("MaxBytes() = %d, want %d (dropped entries do not count)", got, DefaultMaxBytes)
	}
	// Every index up to MaxEntries-1 fits the exclusion bitmask.
	var st State
	for i := range MaxEntries {
		st.exclude(uint16(i))
		if !st.isExcluded(uint16(i)) {
			t.Fatalf("entry %d not excluded", i)
		}
	}
	if v := eng.Classify(&st, &Input{Data: []byte("x")}); v != noMatch {
		t.Errorf("all excluded: got %+v, want %+v", v, noMatch)
	}
	st.Reset()
	if v := eng.Classify(&st, &Input{Data: []byte("x")}); v != matched(0, flow.Pattern, flow.EvPrefix) {
		t.Errorf("after Reset: got %+v", v)
	}
}

// TestMalformed checks that bad registrations and bad inputs neither panic
// nor match.
func TestMalformed(t *testing.T) {
	eng := New([]Entry{
		{Name: "empty", TCP: true, Sig: Signature{Prefixes: []Prefix{{Bytes: ""}, {Offset: 3, Bytes: ""}}}},
		{Name: "negative", TCP: true, Sig: Signature{Prefixes: []Prefix{{Offset: -2, Bytes: "AB"}}}},
		{Name: "huge", TCP: true, Sig: Signature{Prefixes: []Prefix{{Offset: math.MaxInt, Bytes: "AB"}}}},
		{Name: "baddir", TCP: true, Sig: Signature{Prefixes: []Prefix{{Dir: 7, Bytes: "AB"}}}},
		{Name: "nothing", TCP: true, UDP: true},
	})
	var st State
	for _, d := range []string{"A", "AB", "ABCDEF"} {
		if v := eng.Classify(&st, &Input{Data: []byte(d)}); v.Entry >= 0 {
			t.Errorf("%q: got %+v, want no match", d, v)
		}
	}
	// The huge offset can never be reached: it stays pending rather than
	// overflowing.
	if v := eng.Classify(&st, &Input{Data: []byte("AB")}); v != more {
		t.Errorf("huge offset: got %+v, want %+v", v, more)
	}
	if v := eng.Classify(&st, &Input{Dir: 2, Data: []byte("AB")}); v != noMatch {
		t.Errorf("bad direction: got %+v, want %+v", v, noMatch)
	}
	// A State hinted by a larger engine must not index past this one.
	big := make([]Entry, 20)
	for i := range big {
		big[i] = Entry{Name: fmt.Sprint(i), TCP: true}
	}
	big[19].Sig.Ports = []uint16{80}
	New(big).Hint(&st, false, 1000, 80)
	if v := eng.Classify(&st, &Input{Data: []byte("zz")}); v.Entry >= 0 {
		t.Errorf("stale hint: got %+v", v)
	}
}

func TestHint(t *testing.T) {
	eng := New([]Entry{
		{Name: "http", TCP: true, Sig: Signature{Ports: []uint16{80, 8080}, Priority: 50}},
		{Name: "httpproxy", TCP: true, Sig: Signature{Ports: []uint16{8080, 3128}, Priority: 10}},
		{Name: "dns", UDP: true, Sig: Signature{Ports: []uint16{53}}},
		{Name: "ymsg", TCP: true, UDP: true, Sig: Signature{Ports: []uint16{5050}}},
		{Name: "same", TCP: true, Sig: Signature{Ports: []uint16{3128}, Priority: 10}},
	})
	cases := []struct {
		name       string
		udp        bool
		orig, resp uint16
		want       int
		ok         bool
	}{
		{"responder port", false, 40000, 80, 0, true},
		{"originator port", false, 80, 40000, 0, true},
		{"lower priority wins", false, 40000, 8080, 1, true},
		{"equal priority: first entry", false, 40000, 3128, 1, true},
		{"transport filters", false, 40000, 53, 0, false},
		{"udp", true, 40000, 53, 2, true},
		{"udp skips tcp-only", true, 40000, 80, 0, false},
		{"both transports", true, 5050, 5050, 3, true},
		{"no port", false, 1, 2, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var st State
			eng.Hint(&st, c.udp, 12345, 80) // a later Hint replaces an earlier one
			eng.Hint(&st, c.udp, c.orig, c.resp)
			got, ok := eng.PortHint(&st)
			if got != c.want || ok != c.ok {
				t.Errorf("PortHint = %d, %v; want %d, %v", got, ok, c.want, c.ok)
			}
		})
	}
	var st State
	if _, ok := eng.PortHint(&st); ok {
		t.Error("zero State has a port hint")
	}
}
