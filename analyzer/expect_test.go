package analyzer

import (
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestExpectMatch(t *testing.T) {
	x := NewExpectations(ExpectConfig{TTL: time.Minute})
	x.Add(Expectation{Addrs: []netip.AddrPort{ap("10.0.0.1:5000"), ap("203.0.113.9:5000")}, Proto: "a", Index: 10, Created: t0})
	x.Add(Expectation{Addrs: []netip.AddrPort{ap("10.0.0.2:0")}, Proto: "any-port", Index: 11, Created: t0})
	x.Add(Expectation{Addrs: []netip.AddrPort{ap("10.0.0.3:7000")}, From: netip.MustParseAddr("10.0.0.9"), Proto: "from", Index: 12, Created: t0})
	x.Add(Expectation{Addrs: []netip.AddrPort{ap("10.0.0.4:8000")}, EitherEnd: true, Proto: "either", Index: 13, Created: t0})
	x.Add(Expectation{Addrs: []netip.AddrPort{ap("192.0.2.53:0")}, Hostname: true, Proto: "dns", Index: 14, Created: t0})

	tests := []struct {
		name       string
		index      uint64
		at         time.Duration
		orig, resp string
		want       string
	}{
		{"before the announcement", 10, 0, "1.1.1.1:1", "10.0.0.1:5000", ""},
		{"wrong port", 20, 0, "1.1.1.1:1", "10.0.0.1:5001", ""},
		{"second announced address", 20, time.Second, "1.1.1.1:1", "203.0.113.9:5000", "a"},
		{"consumed", 21, time.Second, "1.1.1.1:1", "10.0.0.1:5000", ""},
		{"any port", 22, 0, "1.1.1.1:1", "10.0.0.2:31337", "any-port"},
		{"wrong source", 23, 0, "10.0.0.8:1", "10.0.0.3:7000", ""},
		{"right source", 24, 0, "10.0.0.9:1", "10.0.0.3:7000", "from"},
		{"either end", 25, 0, "10.0.0.4:8000", "1.1.1.1:9", "either"},
		{"expired", 26, 2 * time.Minute, "1.1.1.1:1", "192.0.2.53:443", ""},
		{"hostname", 27, 30 * time.Second, "1.1.1.1:1", "192.0.2.53:443", "dns"},
		{"hostname not consumed", 28, 30 * time.Second, "1.1.1.1:2", "192.0.2.53:80", "dns"},
	}
	for _, tt := range tests {
		m, ok := x.Match(tt.index, t0.Add(tt.at), ap(tt.orig), ap(tt.resp))
		if got := map[bool]string{true: m.Proto}[ok]; got != tt.want {
			t.Errorf("%s: matched %q, want %q", tt.name, got, tt.want)
		}
	}
	if st := x.Stats(); st.Added != 5 || st.Matched != 6 {
		t.Errorf("stats %+v", st)
	}
}

// The latest announcement wins, whatever order workers added them in.
func TestExpectLatest(t *testing.T) {
	x := NewExpectations(ExpectConfig{})
	x.Add(Expectation{Addrs: []netip.AddrPort{ap("10.0.0.1:5000")}, Proto: "late", Index: 30, Created: t0})
	x.Add(Expectation{Addrs: []netip.AddrPort{ap("10.0.0.1:5000")}, Proto: "early", Index: 20, Created: t0})
	if m, _ := x.Match(40, t0, ap("1.1.1.1:1"), ap("10.0.0.1:5000")); m.Proto != "late" {
		t.Errorf("matched %q", m.Proto)
	}
	if m, _ := x.Match(25, t0, ap("1.1.1.1:1"), ap("10.0.0.1:5000")); m.Proto != "early" {
		t.Errorf("index 25 matched %q", m.Proto)
	}
}

func TestExpectBounds(t *testing.T) {
	x := NewExpectations(ExpectConfig{Max: 4, PerHost: 2, TTL: time.Minute})
	add := func(addr string, idx uint64, at time.Duration) bool {
		return x.Add(Expectation{Addrs: []netip.AddrPort{ap(addr)}, Index: idx, Created: t0.Add(at)})
	}
	if !add("10.0.0.1:1", 1, 0) || !add("10.0.0.1:2", 2, 0) || add("10.0.0.1:3", 3, 0) {
		t.Error("per-host quota not applied")
	}
	add("10.0.0.2:1", 4, 0)
	add("10.0.0.3:1", 5, 0)
	if !add("10.0.0.4:1", 6, 2*time.Minute) || x.Len() > 4 {
		t.Errorf("table bound: len %d", x.Len())
	}
	st := x.Stats()
	if st.DroppedQuota != 1 || st.Expired+st.DroppedFull == 0 || st.Peak != 4 {
		t.Errorf("stats %+v", st)
	}
	if x.Add(Expectation{Index: 7, Created: t0}) {
		t.Error("expectation without addresses accepted")
	}
}

func TestParam(t *testing.T) {
	o := Options{Params: map[string]map[string]int64{"oscar": {"game_data_max": 512}}}
	if o.Param("oscar", "game_data_max", 256) != 512 || o.Param("oscar", "other", 7) != 7 || o.Param("toc", "game_data_max", 256) != 256 {
		t.Error("Param does not fall back to defaults")
	}
}
