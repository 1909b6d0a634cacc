package flow

import (
	"net/netip"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/decode"
)

// FuzzTable reads data as a script of table operations, four bytes each:
// an operation and TCP flags, two endpoint selectors, and a clock step. It
// checks that nothing panics, the structures stay consistent, no flow due
// survives Advance, and every flow ends exactly once.
func FuzzTable(f *testing.F) {
	// Handshake, data, FIN both ways, then a new SYN on the closed tuple.
	f.Add([]byte{0x02, 0x00, 0x10, 0x01, 0x12, 0x10, 0x00, 0x01, 0x10, 0x00, 0x10, 0x01,
		0x11, 0x00, 0x10, 0x02, 0x11, 0x10, 0x00, 0x02, 0x02, 0x00, 0x10, 0x03})
	// Many UDP flows, a long clock jump and a Flush.
	f.Add([]byte{0x80, 0x01, 0x10, 0x01, 0x80, 0x02, 0x10, 0x01, 0x80, 0x03, 0x10, 0x01,
		0xc0, 0x00, 0x00, 0xff, 0xe0, 0x00, 0x00, 0x00, 0x80, 0x04, 0x11, 0x01})
	// SetIdle shortening and lengthening between packets, and a RST.
	f.Add([]byte{0x80, 0x01, 0x10, 0x01, 0xa0, 0x00, 0x00, 0x05, 0x04, 0x01, 0x10, 0x01,
		0xa0, 0x00, 0x00, 0xf0, 0x80, 0x01, 0x10, 0x40})
	f.Fuzz(runScript)
}

// runScript runs one FuzzTable script.
func runScript(t *testing.T, data []byte) {
	endCount := map[uint64]int{}
	var tab *Table
	tab = NewTable(Config{MaxFlows: 8, ActiveTimeout: 90 * time.Second, Linger: 2 * time.Second,
		TCPEmbryonic: 10 * time.Second, UDPIdle: 20 * time.Second, TCPIdle: time.Minute},
		Hooks{End: func(f *Flow, _ EndReason) {
			endCount[f.ID]++
			if !tab.slot(f.Slot).live {
				t.Fatalf("End for flow %d in a free slot", f.ID)
			}
		}})
	var last *Flow
	now := t0
	index := uint64(0)
	for len(data) >= 4 {
		op, a, b, step := data[0], data[1], data[2], data[3]
		data = data[4:]
		// Signed clock steps so capture time can go back a little.
		now = now.Add(time.Duration(int8(step)) * 500 * time.Millisecond)
		switch op >> 5 {
		case 5:
			if last != nil {
				tab.SetIdle(last, time.Duration(int8(step))*time.Second)
			}
			continue
		case 6:
			tab.Advance(now.Add(time.Duration(step) * time.Minute))
			checkNothingDue(t, tab)
			continue
		case 7:
			tab.Flush(EndShutdown)
			last = nil
			continue
		}
		p := &decode.Packet{
			Timestamp: now,
			Src:       netip.AddrFrom4([4]byte{10, 0, 0, a & 0x0f}),
			Dst:       netip.AddrFrom4([4]byte{10, 0, 0, b & 0x0f}),
			SrcPort:   uint16(a >> 4),
			DstPort:   uint16(b >> 4),
			Proto:     decode.TCP,
			TCP:       decode.TCPInfo{Flags: decode.TCPFlags(op & 0x1f)},
			WireLen:   int(step),
		}
		if op&0x80 != 0 {
			p.Proto = decode.UDP
		}
		if op&0x40 != 0 {
			p.Src = netip.AddrFrom16([16]byte{0x20, 1, 15: a})
			p.Dst = netip.AddrFrom16([16]byte{0x20, 1, 15: b})
		}
		index++
		tab.Advance(now)
		checkNothingDue(t, tab)
		f, dir, created := tab.Lookup(p, index)
		if f == nil || f.Pkts[dir] == 0 || created && f.ID != index {
			t.Fatalf("Lookup returned %+v, %v, %v", f, dir, created)
		}
		if Hash(p) != Hash(&decode.Packet{Src: p.Dst, Dst: p.Src, SrcPort: p.DstPort, DstPort: p.SrcPort, Proto: p.Proto}) {
			t.Fatal("Hash depends on direction")
		}
		last = f
		checkInvariants(t, tab)
	}
	tab.Flush(EndShutdown)
	checkInvariants(t, tab)
	st := tab.Stats()
	if uint64(len(endCount)) != st.Created {
		t.Fatalf("%d flows created, %d ended", st.Created, len(endCount))
	}
	for id, n := range endCount {
		if n != 1 {
			t.Fatalf("flow %d ended %d times", id, n)
		}
	}
}
