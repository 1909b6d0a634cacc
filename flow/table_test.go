package flow

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/decode"
)

// Endpoints used by the tests.
const (
	cli  = "10.0.0.2:40000"
	srv  = "192.0.2.1:80"
	cli6 = "[2001:db8::2]:40000"
	srv6 = "[2001:db8::1]:443"
)

func TestOriginator(t *testing.T) {
	tests := []struct {
		name       string
		first      pkt
		orig, resp string
		dir        Dir
		midStream  bool
	}{
		{"syn sender", tcpP(cli, srv, syn, 0), cli, srv, Orig, false},
		{"syn sender from the larger address", tcpP(srv, cli, syn, 0), srv, cli, Orig, false},
		{"syn-ack receiver", tcpP(srv, cli, synAck, 0), cli, srv, Resp, true},
		{"first data sender", tcpP(srv, cli, psh, 0), srv, cli, Orig, true},
		{"first fin sender", tcpP(cli, srv, finAck, 0), cli, srv, Orig, true},
		{"udp first sender", udpP(srv, cli, 0), srv, cli, Orig, false},
		{"ipv6 syn sender", tcpP(cli6, srv6, syn, 0), cli6, srv6, Orig, false},
		{"ipv6 syn-ack receiver", tcpP(srv6, cli6, synAck, 0), cli6, srv6, Resp, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			f, dir, created := h.feed(tc.first)
			if !created {
				t.Fatal("first packet did not create a flow")
			}
			if got, want := f.Orig, netip.MustParseAddrPort(tc.orig); got != want {
				t.Errorf("Orig = %v, want %v", got, want)
			}
			if got, want := f.Resp, netip.MustParseAddrPort(tc.resp); got != want {
				t.Errorf("Resp = %v, want %v", got, want)
			}
			if dir != tc.dir {
				t.Errorf("dir = %v, want %v", dir, tc.dir)
			}
			if f.MidStream != tc.midStream {
				t.Errorf("MidStream = %v, want %v", f.MidStream, tc.midStream)
			}
			if f.ID != 1 || f.Pkts[tc.dir] != 1 || f.Bytes[tc.dir] != 100 || f.Pkts[tc.dir.Other()] != 0 {
				t.Errorf("ID %d, Pkts %v, Bytes %v", f.ID, f.Pkts, f.Bytes)
			}
			if f.Key.A.Compare(f.Key.B) > 0 {
				t.Errorf("Key not ordered: %v", f.Key)
			}
			// The reply maps to the same flow in the other direction.
			reply := tc.first
			reply.src, reply.dst, reply.flags, reply.at = tc.first.dst, tc.first.src, ack, time.Second
			g, rdir, created := h.feed(reply)
			if g != f || created || rdir != tc.dir.Other() {
				t.Errorf("reply: same flow %v, created %v, dir %v", g == f, created, rdir)
			}
		})
	}
}

func TestCountersAndTimes(t *testing.T) {
	h := newHarness(t, Config{})
	h.feed(tcpP(cli, srv, syn, 0), tcpP(srv, cli, synAck, time.Millisecond), tcpP(cli, srv, ack, 2*time.Millisecond))
	f, _, _ := h.feed(tcpP(cli, srv, psh, 3*time.Second))
	// A packet stamped earlier than the last one counts but does not move Last back.
	f, _, _ = h.feed(tcpP(srv, cli, psh, time.Second))
	if f.Pkts != [2]uint64{3, 2} || f.Bytes != [2]uint64{300, 200} {
		t.Errorf("Pkts %v Bytes %v", f.Pkts, f.Bytes)
	}
	if !f.First.Equal(t0) || !f.Last.Equal(t0.Add(3*time.Second)) || f.Age() != 3*time.Second {
		t.Errorf("First %v Last %v Age %v", f.First, f.Last, f.Age())
	}
	if h.tab.Len() != 1 || h.tab.Stats().Created != 1 {
		t.Errorf("Len %d, Stats %+v", h.tab.Len(), h.tab.Stats())
	}
}

func TestVLANSeparatesFlows(t *testing.T) {
	tab := NewTable(Config{}, Hooks{})
	p := tcpP(cli, srv, syn, 0).packet()
	f1, _, _ := tab.Lookup(p, 1)
	p.VLAN = [2]uint16{100, 0}
	f2, _, created := tab.Lookup(p, 2)
	if !created || f1 == f2 || f2.VLAN != p.VLAN || tab.Len() != 2 {
		t.Errorf("VLAN 100 joined the untagged flow: created %v, len %d", created, tab.Len())
	}
}

func TestTCPState(t *testing.T) {
	type step struct {
		fromOrig bool
		flags    decode.TCPFlags
	}
	tests := []struct {
		name   string
		steps  []step
		state  TCPState
		sawSYN [2]bool
		sawFIN [2]bool
		sawRST bool
	}{
		{"syn only", []step{{true, syn}, {true, syn}}, StateNew, [2]bool{true, false}, [2]bool{}, false},
		{"handshake", []step{{true, syn}, {false, synAck}}, StateEstablished, [2]bool{true, true}, [2]bool{}, false},
		{"handshake and data", []step{{true, syn}, {false, synAck}, {true, ack}, {true, psh}, {false, psh}}, StateEstablished, [2]bool{true, true}, [2]bool{}, false},
		{"mid-stream both ways", []step{{true, psh}, {false, ack}}, StateEstablished, [2]bool{}, [2]bool{}, false},
		{"mid-stream one way", []step{{true, psh}, {true, psh}}, StateNew, [2]bool{}, [2]bool{}, false},
		{"half closed", []step{{true, syn}, {false, synAck}, {true, finAck}}, StateEstablished, [2]bool{true, true}, [2]bool{true, false}, false},
		{"fin both ways", []step{{true, syn}, {false, synAck}, {true, finAck}, {false, finAck}, {true, ack}}, StateClosed, [2]bool{true, true}, [2]bool{true, true}, false},
		{"refused", []step{{true, syn}, {false, rst | decode.ACK}}, StateClosed, [2]bool{true, false}, [2]bool{}, true},
		{"reset mid-stream", []step{{true, psh}, {false, psh}, {true, rst}}, StateClosed, [2]bool{}, [2]bool{}, true},
		{"closed stays closed", []step{{true, rst}, {false, psh}, {true, psh}}, StateClosed, [2]bool{}, [2]bool{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			var f *Flow
			for i, s := range tc.steps {
				src, dst := cli, srv
				if !s.fromOrig {
					src, dst = srv, cli
				}
				f, _, _ = h.feed(tcpP(src, dst, s.flags, time.Duration(i)*time.Millisecond))
			}
			if h.tab.Len() != 1 {
				t.Fatalf("%d flows, want 1", h.tab.Len())
			}
			if f.State != tc.state || f.SawSYN != tc.sawSYN || f.SawFIN != tc.sawFIN || f.SawRST != tc.sawRST {
				t.Errorf("State %v SYN %v FIN %v RST %v; want %v %v %v %v",
					f.State, f.SawSYN, f.SawFIN, f.SawRST, tc.state, tc.sawSYN, tc.sawFIN, tc.sawRST)
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	handshake := []pkt{tcpP(cli, srv, syn, 0), tcpP(srv, cli, synAck, time.Millisecond), tcpP(cli, srv, ack, 2*time.Millisecond)}
	closeBoth := append(slices.Clone(handshake), tcpP(cli, srv, finAck, time.Second), tcpP(srv, cli, finAck, 2*time.Second))
	tests := []struct {
		name    string
		cfg     Config
		pkts    []pkt
		setIdle time.Duration // applied to the flow after the packets, if non-zero
		idle    time.Duration // expected time from the last packet to the end
		why     EndReason
	}{
		{"embryonic syn", Config{}, []pkt{tcpP(cli, srv, syn, 0), tcpP(cli, srv, syn, 3*time.Second)}, 0, DefaultTCPEmbryonic, EndTimeout},
		{"embryonic mid-stream one way", Config{}, []pkt{tcpP(cli, srv, psh, 0)}, 0, DefaultTCPEmbryonic, EndTimeout},
		{"established", Config{}, handshake, 0, DefaultTCPIdle, EndTimeout},
		{"half closed is established", Config{}, append(slices.Clone(handshake), tcpP(cli, srv, finAck, time.Second)), 0, DefaultTCPIdle, EndTimeout},
		{"udp one way", Config{}, []pkt{udpP(cli, srv, 0)}, 0, DefaultUDPIdle, EndTimeout},
		{"udp both ways", Config{}, []pkt{udpP(cli, srv, 0), udpP(srv, cli, time.Second)}, 0, DefaultUDPIdle, EndTimeout},
		{"configured", Config{TCPIdle: 7 * time.Second, TCPEmbryonic: 3 * time.Second, UDPIdle: 11 * time.Second}, handshake, 0, 7 * time.Second, EndTimeout},
		{"configured embryonic", Config{TCPIdle: 7 * time.Second, TCPEmbryonic: 3 * time.Second}, handshake[:1], 0, 3 * time.Second, EndTimeout},
		{"configured udp", Config{UDPIdle: 11 * time.Second}, []pkt{udpP(cli, srv, 0)}, 0, 11 * time.Second, EndTimeout},
		{"setidle longer udp", Config{}, []pkt{udpP(cli, srv, 0)}, 10 * time.Minute, 10 * time.Minute, EndTimeout},
		{"setidle shorter udp", Config{}, []pkt{udpP(cli, srv, 0)}, 5 * time.Second, 5 * time.Second, EndTimeout},
		{"setidle established tcp", Config{}, handshake, time.Hour, time.Hour, EndTimeout},
		{"setidle embryonic tcp", Config{}, handshake[:1], 2 * time.Minute, 2 * time.Minute, EndTimeout},
		{"setidle reset to default", Config{}, []pkt{udpP(cli, srv, 0)}, -1, DefaultUDPIdle, EndTimeout},
		{"linger after fin both ways", Config{}, closeBoth, 0, DefaultLinger, EndClosed},
		{"linger after rst", Config{}, append(slices.Clone(handshake), tcpP(srv, cli, rst, time.Second)), 0, DefaultLinger, EndClosed},
		{"linger wins over setidle", Config{}, closeBoth, time.Hour, DefaultLinger, EndClosed},
		{"configured linger", Config{Linger: time.Second}, closeBoth, 0, time.Second, EndClosed},
		{"no linger", Config{Linger: -1}, closeBoth, 0, 0, EndClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.cfg)
			f, _, _ := h.feed(tc.pkts...)
			last := tc.pkts[len(tc.pkts)-1].at
			if tc.setIdle != 0 {
				h.tab.SetIdle(f, tc.setIdle)
				checkInvariants(t, h.tab)
			}
			if tc.idle > 0 {
				h.advance(last + tc.idle - 1)
				if len(h.rec.ends) != 0 {
					t.Fatalf("ended %v before its timeout", h.rec.ends)
				}
			}
			h.advance(last + tc.idle)
			if len(h.rec.ends) != 1 || h.rec.ends[0].why != tc.why || h.rec.ends[0].id != 1 {
				t.Fatalf("ends %+v, want flow 1 %v", h.rec.ends, tc.why)
			}
			if h.tab.Len() != 0 || h.tab.Stats().Ended[tc.why] != 1 {
				t.Errorf("Len %d, Stats %+v", h.tab.Len(), h.tab.Stats())
			}
		})
	}
}

func TestLookupEndsTimedOutFlow(t *testing.T) {
	// Without Advance, the next packet on the tuple still notices the
	// timeout, so flow boundaries do not depend on how often Advance runs.
	rec := &recorder{}
	tab := NewTable(Config{}, rec.hooks())
	tab.Lookup(udpP(cli, srv, 0).packet(), 1)
	f, _, created := tab.Lookup(udpP(srv, cli, DefaultUDPIdle-1).packet(), 2)
	if created || len(rec.ends) != 0 {
		t.Fatalf("packet inside the timeout started a flow")
	}
	f, dir, created := tab.Lookup(udpP(srv, cli, 2*DefaultUDPIdle).packet(), 3)
	if !created || f.ID != 3 || dir != Orig || f.Orig != netip.MustParseAddrPort(srv) {
		t.Errorf("created %v, ID %d, dir %v, Orig %v", created, f.ID, dir, f.Orig)
	}
	if len(rec.ends) != 1 || rec.ends[0] != (ended{id: 1, why: EndTimeout, state: StateEstablished, pkts: [2]uint64{1, 1}}) {
		t.Errorf("ends %+v", rec.ends)
	}
	checkInvariants(t, tab)
}

func TestLinger(t *testing.T) {
	h := newHarness(t, Config{})
	h.feed(tcpP(cli, srv, syn, 0), tcpP(srv, cli, synAck, 0), tcpP(cli, srv, ack, 0),
		tcpP(cli, srv, finAck, time.Second), tcpP(srv, cli, finAck, time.Second))
	// The last ACK and a retransmitted FIN join the closed flow and restart
	// its linger time.
	f, dir, created := h.feed(tcpP(cli, srv, ack, 3*time.Second))
	if created || dir != Orig || f.State != StateClosed {
		t.Fatalf("trailing ACK: created %v dir %v state %v", created, dir, f.State)
	}
	_, _, created = h.feed(tcpP(srv, cli, finAck, 6*time.Second))
	if created || len(h.rec.ends) != 0 {
		t.Fatalf("retransmitted FIN: created %v, ends %v", created, h.rec.ends)
	}
	h.advance(6*time.Second + DefaultLinger - 1)
	if len(h.rec.ends) != 0 {
		t.Fatalf("ended during linger: %v", h.rec.ends)
	}
	h.advance(6*time.Second + DefaultLinger)
	if len(h.rec.ends) != 1 || h.rec.ends[0] != (ended{id: 1, why: EndClosed, state: StateClosed, pkts: [2]uint64{4, 3}}) {
		t.Fatalf("ends %+v", h.rec.ends)
	}
	// After the linger a stray ACK starts a new, mid-stream flow.
	f, _, created = h.feed(tcpP(cli, srv, ack, time.Minute))
	if !created || !f.MidStream || f.ID != 8 {
		t.Errorf("stray ACK after linger: created %v, MidStream %v, ID %d", created, f.MidStream, f.ID)
	}
}

func TestReuse(t *testing.T) {
	handshake := []pkt{tcpP(cli, srv, syn, 0), tcpP(srv, cli, synAck, 0), tcpP(cli, srv, ack, 0)}
	tests := []struct {
		name   string
		before []pkt
		next   pkt
		reused bool
	}{
		{"syn after fin both ways", []pkt{tcpP(cli, srv, finAck, time.Second), tcpP(srv, cli, finAck, time.Second)}, tcpP(cli, srv, syn, 2*time.Second), true},
		{"syn after rst", []pkt{tcpP(srv, cli, rst, time.Second)}, tcpP(cli, srv, syn, 2*time.Second), true},
		{"syn after one fin", []pkt{tcpP(cli, srv, finAck, time.Second)}, tcpP(cli, srv, syn, 2*time.Second), true},
		{"syn from the responder after close", []pkt{tcpP(srv, cli, rst, time.Second)}, tcpP(srv, cli, syn, 2*time.Second), true},
		{"syn on established flow", nil, tcpP(cli, srv, syn, 2*time.Second), false},
		{"syn-ack after close", []pkt{tcpP(srv, cli, rst, time.Second)}, tcpP(srv, cli, synAck, 2*time.Second), false},
		{"ack after close", []pkt{tcpP(srv, cli, rst, time.Second)}, tcpP(cli, srv, ack, 2*time.Second), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.feed(handshake...)
			h.feed(tc.before...)
			f, dir, created := h.feed(tc.next)
			if created != tc.reused {
				t.Fatalf("created %v, want %v", created, tc.reused)
			}
			st := h.tab.Stats()
			if !tc.reused {
				if len(h.rec.ends) != 0 || st.Reused != 0 || f.ID != 1 {
					t.Errorf("ends %v, stats %+v, flow %d", h.rec.ends, st, f.ID)
				}
				return
			}
			if len(h.rec.ends) != 1 || h.rec.ends[0].id != 1 || h.rec.ends[0].why != EndReused {
				t.Errorf("ends %+v, want flow 1 reused", h.rec.ends)
			}
			if f.ID != h.index || dir != Orig || f.MidStream || f.Pkts != [2]uint64{1, 0} || !f.First.Equal(t0.Add(tc.next.at)) {
				t.Errorf("new flow %+v dir %v", *f, dir)
			}
			if f.Orig != netip.MustParseAddrPort(tc.next.src) {
				t.Errorf("new flow's originator %v, want the SYN sender %v", f.Orig, tc.next.src)
			}
			if st.Reused != 1 || st.Ended[EndReused] != 1 || st.Created != 2 || h.tab.Len() != 1 {
				t.Errorf("stats %+v, len %d", st, h.tab.Len())
			}
		})
	}
}

func TestInterim(t *testing.T) {
	h := newHarness(t, Config{ActiveTimeout: 10 * time.Minute})
	var f *Flow
	for at := time.Duration(0); at <= 35*time.Minute; at += 30 * time.Second {
		f, _, _ = h.feed(udpP(cli, srv, at), udpP(srv, cli, at))
	}
	if !slices.Equal(h.rec.interims, []uint32{1, 2, 3}) || !slices.Equal(h.rec.interimF, []uint64{1, 1, 1}) {
		t.Errorf("interims %v of flows %v, want 1 2 3 of flow 1", h.rec.interims, h.rec.interimF)
	}
	if len(h.rec.ends) != 0 || f.Interims != 3 || f.Pkts != [2]uint64{71, 71} || h.tab.Stats().Interim != 3 {
		t.Errorf("ends %v, Interims %d, Pkts %v", h.rec.ends, f.Interims, f.Pkts)
	}

	// The interim fires exactly at First + n*ActiveTimeout.
	h = newHarness(t, Config{ActiveTimeout: 10 * time.Minute})
	f, _, _ = h.feed(udpP(cli, srv, 0))
	h.tab.SetIdle(f, 24*time.Hour)
	h.advance(10*time.Minute - 1)
	if len(h.rec.interims) != 0 {
		t.Fatal("interim before the active timeout")
	}
	h.advance(10 * time.Minute)
	if len(h.rec.interims) != 1 {
		t.Fatal("no interim at the active timeout")
	}
	// A silent flow writes no more interims, however far the clock jumps.
	h.advance(10*time.Hour + time.Second)
	if !slices.Equal(h.rec.interims, []uint32{1}) {
		t.Errorf("interims after a silent jump: %v", h.rec.interims)
	}
	// A packet makes the next period boundary write one.
	h.feed(udpP(cli, srv, 10*time.Hour+2*time.Second))
	h.advance(10*time.Hour + 10*time.Minute - 1)
	if !slices.Equal(h.rec.interims, []uint32{1}) {
		t.Errorf("interim before the boundary: %v", h.rec.interims)
	}
	h.advance(10*time.Hour + 10*time.Minute)
	if !slices.Equal(h.rec.interims, []uint32{1, 2}) {
		t.Errorf("interims at the boundary after a packet: %v", h.rec.interims)
	}

	// Disabled by default in a zero Config.
	h = newHarness(t, Config{})
	f, _, _ = h.feed(udpP(cli, srv, 0))
	h.tab.SetIdle(f, 24*time.Hour)
	h.advance(23 * time.Hour)
	if len(h.rec.interims) != 0 || h.tab.Len() != 1 {
		t.Errorf("interims %v with ActiveTimeout 0", h.rec.interims)
	}
}

func TestIdleEndsBeforeInterim(t *testing.T) {
	// Timers fire as if time ran continuously, whatever the step of
	// Advance: an interim due before the idle deadline is written first,
	// then the flow ends; an interim due after it is not written.
	for _, steps := range [][]time.Duration{{time.Hour}, {61 * time.Second, time.Hour}} {
		h := newHarness(t, Config{ActiveTimeout: time.Minute})
		h.feed(udpP(cli, srv, 0), udpP(cli, srv, 50*time.Second))
		for _, at := range steps {
			h.advance(at)
		}
		if len(h.rec.interims) != 1 || len(h.rec.ends) != 1 || h.rec.ends[0].why != EndTimeout {
			t.Errorf("steps %v: interims %v ends %v", steps, h.rec.interims, h.rec.ends)
		}
	}
	h := newHarness(t, Config{ActiveTimeout: 2 * time.Minute})
	h.feed(udpP(cli, srv, 0), udpP(cli, srv, 50*time.Second))
	h.advance(time.Hour)
	if len(h.rec.interims) != 0 || len(h.rec.ends) != 1 {
		t.Errorf("interim after the idle deadline: interims %v ends %v", h.rec.interims, h.rec.ends)
	}
}

func TestEviction(t *testing.T) {
	h := newHarness(t, Config{MaxFlows: 3})
	a, b, c, d, e := "10.0.0.1:1000", "10.0.0.2:1000", "10.0.0.3:1000", "10.0.0.4:1000", "10.0.0.5:1000"
	h.feed(udpP(a, srv, 0), udpP(b, srv, time.Second), udpP(c, srv, 2*time.Second))
	h.feed(udpP(srv, a, 3*time.Second)) // a is now the most recently active
	f, _, created := h.feed(udpP(d, srv, 4*time.Second))
	if !created || h.tab.Len() != 3 {
		t.Fatalf("created %v, len %d", created, h.tab.Len())
	}
	if len(h.rec.ends) != 1 || h.rec.ends[0].id != 2 || h.rec.ends[0].why != EndEvicted {
		t.Fatalf("ends %+v, want flow 2 (b) evicted", h.rec.ends)
	}
	if f.Slot != 1 {
		t.Errorf("new flow in slot %d, want b's freed slot 1", f.Slot)
	}
	h.feed(udpP(e, srv, 5*time.Second))
	if len(h.rec.ends) != 2 || h.rec.ends[1].id != 3 || h.rec.ends[1].why != EndEvicted {
		t.Fatalf("ends %+v, want flow 3 (c) evicted next", h.rec.ends)
	}
	st := h.tab.Stats()
	if st.Evicted != 2 || st.Ended[EndEvicted] != 2 || st.Created != 5 || st.Peak != 3 || st.Live != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestEvictionOfTimedOutFlowIsATimeout(t *testing.T) {
	// Without Advance the least recent flow may already be past its
	// timeout; it ends as a timeout, not an eviction.
	rec := &recorder{}
	tab := NewTable(Config{MaxFlows: 1}, rec.hooks())
	tab.Lookup(udpP(cli, srv, 0).packet(), 1)
	tab.Lookup(udpP(cli6, srv6, 2*DefaultUDPIdle).packet(), 2)
	if len(rec.ends) != 1 || rec.ends[0].why != EndTimeout || tab.Stats().Evicted != 0 {
		t.Errorf("ends %+v, stats %+v", rec.ends, tab.Stats())
	}
}

func TestFlushOrder(t *testing.T) {
	h := newHarness(t, Config{})
	hosts := []string{"10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1", "10.0.0.4:1"}
	h.feed(udpP(hosts[0], srv, 0), udpP(hosts[1], srv, 30*time.Second), udpP(hosts[2], srv, 40*time.Second))
	h.advance(DefaultUDPIdle) // flow 1 times out; its slot 0 is free
	f, _, _ := h.feed(udpP(hosts[3], srv, 61*time.Second))
	if f.ID != 4 || f.Slot != 0 {
		t.Fatalf("flow %d in slot %d, want flow 4 in slot 0", f.ID, f.Slot)
	}
	h.feed(udpP(srv, hosts[1], 62*time.Second)) // flow 2 becomes the most recent
	// Capture indexes need not come in slot or LRU order either.
	h.tab.Lookup(udpP("10.9.9.9:9", srv, 63*time.Second).packet(), 1)
	h.rec.ends = nil
	h.tab.Flush(EndShutdown)
	var ids []uint64
	for _, e := range h.rec.ends {
		if e.why != EndShutdown {
			t.Errorf("flow %d ended %v", e.id, e.why)
		}
		ids = append(ids, e.id)
	}
	if want := []uint64{1, 2, 3, 4}; !slices.Equal(ids, want) {
		t.Errorf("flush order %v, want %v", ids, want)
	}
	if h.tab.Len() != 0 {
		t.Errorf("Len %d after Flush", h.tab.Len())
	}
	checkInvariants(t, h.tab)
	// The table stays usable.
	if _, _, created := h.feed(udpP(cli, srv, 70*time.Second)); !created || h.tab.Len() != 1 {
		t.Error("table unusable after Flush")
	}
}

func TestSetIdleIgnoresForeignFlows(t *testing.T) {
	h := newHarness(t, Config{})
	f, _, _ := h.feed(udpP(cli, srv, 0))
	other := NewTable(Config{}, Hooks{})
	other.SetIdle(f, time.Second) // not other's flow, and other has no slots
	h.tab.SetIdle(&Flow{Slot: f.Slot}, time.Second)
	h.tab.SetIdle(&Flow{Slot: 1 << 30}, time.Second)
	h.tab.SetIdle(nil, time.Second)
	checkInvariants(t, h.tab)
	h.advance(DefaultUDPIdle - 1)
	if h.tab.Len() != 1 {
		t.Error("SetIdle on a foreign flow changed a live flow's timeout")
	}
}

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	if c.MaxFlows != 1<<20 || c.TCPIdle != 5*time.Minute || c.TCPEmbryonic != 30*time.Second ||
		c.UDPIdle != time.Minute || c.Linger != 5*time.Second || c.ActiveTimeout != 30*time.Minute {
		t.Errorf("DefaultConfig() = %+v", c)
	}
	tab := NewTable(Config{MaxFlows: -5}, Hooks{})
	if tab.max != DefaultMaxFlows || tab.active != 0 || tab.linger != int64(DefaultLinger) {
		t.Errorf("zero config: max %d active %d linger %d", tab.max, tab.active, tab.linger)
	}
}

// TestEndExactlyOnce drives a small table with random traffic, flags,
// clock steps and SetIdle calls, checking the invariants after every step
// and that every flow created ends exactly once.
func TestEndExactlyOnce(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		endedIDs := map[uint64]int{}
		created := map[uint64]bool{}
		var tab *Table
		tab = NewTable(Config{MaxFlows: 1 + rng.IntN(16), ActiveTimeout: time.Duration(rng.IntN(3)) * time.Minute,
			Linger: time.Duration(rng.IntN(3)-1) * time.Second},
			Hooks{
				End: func(f *Flow, why EndReason) {
					endedIDs[f.ID]++
					if !tab.slot(f.Slot).live {
						t.Fatalf("End for flow %d whose slot is not live", f.ID)
					}
				},
				Interim: func(f *Flow) {
					if f.Interims == 0 {
						t.Fatal("Interim with Interims 0")
					}
				},
			})
		now := time.Duration(0)
		flags := []decode.TCPFlags{syn, synAck, ack, psh, finAck, rst, syn | decode.FIN}
		var live []*Flow
		for idx := uint64(1); idx <= 3000; idx++ {
			now += time.Duration(rng.IntN(20000)) * time.Millisecond
			if rng.IntN(50) == 0 {
				now -= 5 * time.Second // capture time steps back
			}
			src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(4))}), uint16(1000+rng.IntN(3)))
			dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 1, byte(rng.IntN(2))}), 80)
			if rng.IntN(2) == 0 {
				src, dst = dst, src
			}
			d := udpP(src.String(), dst.String(), now)
			if rng.IntN(2) == 0 {
				d = tcpP(src.String(), dst.String(), flags[rng.IntN(len(flags))], now)
			}
			p := d.packet()
			tab.Advance(p.Timestamp)
			checkNothingDue(t, tab)
			f, dir, isNew := tab.Lookup(p, idx)
			if isNew {
				created[idx] = true
				live = append(live, f)
			} else if f.Pkts[dir] == 0 {
				t.Fatalf("seed %d: counted nothing in direction %v", seed, dir)
			}
			if rng.IntN(10) == 0 && len(live) > 0 {
				// May name an ended flow: SetIdle must then do nothing harmful.
				tab.SetIdle(live[rng.IntN(len(live))], time.Duration(rng.IntN(120)-20)*time.Second)
			}
			checkInvariants(t, tab)
		}
		tab.Flush(EndShutdown)
		checkInvariants(t, tab)
		for id := range created {
			if endedIDs[id] != 1 {
				t.Fatalf("seed %d: flow %d ended %d times", seed, id, endedIDs[id])
			}
		}
		st := tab.Stats()
		var sum uint64
		for _, n := range st.Ended {
			sum += n
		}
		if len(endedIDs) != len(created) || sum != st.Created || st.Created != uint64(len(created)) || st.Live != 0 {
			t.Fatalf("seed %d: created %d, ended %d, stats %+v", seed, len(created), len(endedIDs), st)
		}
	}
}

func TestRewind(t *testing.T) {
	h := newHarness(t, Config{})
	h.feed(udpP(cli, srv, 10*time.Hour))
	h.advance(10 * time.Hour)
	h.tab.Rewind(time.Unix(0, 0).Add(time.Second), EndTimeout)
	if len(h.rec.ends) != 1 || h.rec.ends[0].why != EndTimeout || h.tab.Len() != 0 {
		t.Fatalf("ends %v, len %d", h.rec.ends, h.tab.Len())
	}
	// After the rewind, flows of the earlier epoch live normally.
	f1, _, created1 := h.feed(udpP(cli, srv, 2*time.Second))
	f2, _, created2 := h.feed(udpP(srv, cli, 3*time.Second))
	if !created1 || created2 || f1 != f2 || h.tab.Len() != 1 {
		t.Errorf("after rewind: created %v %v, same %v, len %d", created1, created2, f1 == f2, h.tab.Len())
	}
}
