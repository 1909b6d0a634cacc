package flow

import (
	"net/netip"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/decode"
)

// trafficPackets returns n UDP packets of n distinct flows, alternating
// direction, one millisecond apart from start.
func trafficPackets(n int, start time.Time) []decode.Packet {
	ps := make([]decode.Packet, n)
	for i := range ps {
		p := &ps[i]
		p.Timestamp = start.Add(time.Duration(i) * time.Millisecond)
		p.Src = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		p.Dst = netip.MustParseAddr("192.0.2.1")
		p.SrcPort, p.DstPort = uint16(1024+i%50000), 53
		p.Proto = decode.UDP
		p.WireLen = 80
		if i%2 == 1 {
			*p = reversed(*p)
		}
	}
	return ps
}

func TestLookupExistingDoesNotAllocate(t *testing.T) {
	tab := NewTable(Config{ActiveTimeout: time.Hour}, Hooks{End: func(*Flow, EndReason) {}})
	ps := trafficPackets(1000, t0)
	for i := range ps {
		tab.Lookup(&ps[i], uint64(i+1))
	}
	// TCP flag handling on an existing flow too.
	tp := tcpP(cli, srv, syn, 0).packet()
	tab.Lookup(tp, 5000)
	i := 0
	allocs := testing.AllocsPerRun(10000, func() {
		p := &ps[i%len(ps)]
		tab.Advance(p.Timestamp)
		tab.Lookup(p, 1)
		tp.TCP.Flags ^= decode.ACK | decode.SYN
		tab.Lookup(tp, 1)
		i++
	})
	if allocs != 0 {
		t.Errorf("Lookup of existing flows: %v allocations per run, want 0", allocs)
	}
	if tab.Stats().Created != 1001 {
		t.Errorf("created %d flows, want 1001", tab.Stats().Created)
	}
}

func TestCreateAfterEndDoesNotAllocate(t *testing.T) {
	// A full table where every packet is a new flow: each Lookup evicts the
	// least recent flow and reuses its slot. Once the map and the slab have
	// reached their size this must not allocate.
	const maxFlows = 256
	tab := NewTable(Config{MaxFlows: maxFlows}, Hooks{End: func(*Flow, EndReason) {}})
	ps := trafficPackets(200000, t0)
	n := 0
	next := func() {
		p := &ps[n%len(ps)]
		tab.Advance(p.Timestamp)
		tab.Lookup(p, uint64(n+1))
		n++
	}
	for range 100000 {
		next()
	}
	allocs := testing.AllocsPerRun(50000, next)
	if allocs != 0 {
		t.Errorf("creating flows in reused slots: %v allocations per run, want 0", allocs)
	}
	st := tab.Stats()
	if st.Evicted == 0 || tab.Len() != maxFlows {
		t.Errorf("stats %+v, len %d: the test did not reuse slots", st, tab.Len())
	}
}

func TestTimeoutChurnDoesNotAllocate(t *testing.T) {
	// Flows that end by timeout from Advance, replaced by new flows.
	tab := NewTable(Config{UDPIdle: time.Second}, Hooks{End: func(*Flow, EndReason) {}})
	ps := trafficPackets(200000, t0)
	n := 0
	next := func() {
		p := &ps[n%len(ps)]
		p.Timestamp = t0.Add(time.Duration(n) * time.Millisecond)
		tab.Advance(p.Timestamp)
		tab.Lookup(p, uint64(n+1))
		n++
	}
	for range 50000 {
		next()
	}
	if allocs := testing.AllocsPerRun(20000, next); allocs != 0 {
		t.Errorf("timeout churn: %v allocations per run, want 0", allocs)
	}
	if st := tab.Stats(); st.Ended[EndTimeout] == 0 || tab.Len() > 1001 {
		t.Errorf("stats %+v: the test did not time flows out", st)
	}
}

func TestHelpersDoNotAllocate(t *testing.T) {
	p := tcpP(cli6, srv6, syn, 0).packet()
	tab := NewTable(Config{}, Hooks{})
	f, _, _ := tab.Lookup(p, 1)
	buf := make([]byte, 0, 64)
	var sink uint64
	allocs := testing.AllocsPerRun(1000, func() {
		sink += Hash(p)
		k := KeyOf(p)
		sink += uint64(k.A.Port())
		buf = AppendCommunityID(buf[:0], f)
		tab.SetIdle(f, time.Minute)
	})
	if allocs != 0 {
		t.Errorf("Hash, KeyOf, AppendCommunityID, SetIdle: %v allocations per run, want 0", allocs)
	}
	_ = sink
}
