package flow

import (
	"net/netip"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/decode"
)

// Vectors from the Community ID spec's baseline
// (corelight/community-id-spec, baseline/baseline_deflt.json and
// baseline_seed1.json).
var communityIDVectors = []struct {
	proto        decode.IPProto
	src, dst     string
	sport, dport uint16
	seed0, seed1 string
}{
	{6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
	{6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
	{17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
	{132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=", "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
	{46, "10.1.12.1", "10.1.12.2", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=", "1:rYir8gphR31noO9iDRQmF/BteEI="},
}

func TestCommunityIDSpecVectors(t *testing.T) {
	for _, v := range communityIDVectors {
		for _, swap := range []bool{false, true} {
			a := netip.AddrPortFrom(netip.MustParseAddr(v.src), v.sport)
			b := netip.AddrPortFrom(netip.MustParseAddr(v.dst), v.dport)
			if swap {
				a, b = b, a
			}
			for seed, want := range map[uint16]string{0: v.seed0, 1: v.seed1} {
				if got := string(appendCommunityID(nil, a, b, v.proto, seed)); got != want {
					t.Errorf("proto %d %v > %v seed %d: %q, want %q", v.proto, a, b, seed, got, want)
				}
			}
		}
	}
}

func TestCommunityIDOfFlows(t *testing.T) {
	tests := []struct {
		name  string
		first pkt
		want  string
	}{
		{"tcp from the client", tcpP("128.232.110.120:34855", "66.35.250.204:80", syn, 0), "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"tcp from the server", tcpP("66.35.250.204:80", "128.232.110.120:34855", psh, 0), "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"tcp ipv6", tcpP("[2607:f8b0:400c:c03::1a]:25", "[2001:470:e5bf:dead:4957:2174:e82c:4887]:63943", synAck, 0), "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
		{"udp", udpP("8.8.8.8:53", "192.168.1.52:54585", 0), "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
		{"other protocol", pkt{"10.1.12.2:0", "10.1.12.1:0", 46, 0, 0}, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
		{"icmp has none", pkt{"192.168.0.89:0", "192.168.0.1:0", 1, 0, 0}, ""},
		{"icmpv6 has none", pkt{"[fe80::1]:0", "[fe80::2]:0", 58, 0, 0}, ""},
		{"sctp has none", pkt{"192.168.170.8:7", "192.168.170.56:7", 132, 0, 0}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab := NewTable(Config{}, Hooks{})
			f, _, _ := tab.Lookup(tc.first.packet(), 1)
			if got := CommunityID(f); got != tc.want {
				t.Errorf("CommunityID = %q, want %q", got, tc.want)
			}
			if got := string(AppendCommunityID([]byte("x"), f)); got != "x"+tc.want {
				t.Errorf("AppendCommunityID = %q", got)
			}
		})
	}
	if got := CommunityID(&Flow{Proto: decode.TCP}); got != "" {
		t.Errorf("CommunityID of a flow without addresses = %q", got)
	}
}

func TestAge(t *testing.T) {
	f := Flow{First: t0, Last: t0.Add(1500 * time.Millisecond)}
	if f.Age() != 1500*time.Millisecond {
		t.Errorf("Age = %v", f.Age())
	}
}

func BenchmarkCommunityID(b *testing.B) {
	tab := NewTable(Config{}, Hooks{})
	f, _, _ := tab.Lookup(tcpP(cli, srv, syn, 0).packet(), 1)
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendCommunityID(buf[:0], f)
	}
}
