package flow

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/peerwatch/peerwatch/decode"
)

// reversed returns p with source and destination swapped.
func reversed(p decode.Packet) decode.Packet {
	p.Src, p.Dst = p.Dst, p.Src
	p.SrcPort, p.DstPort = p.DstPort, p.SrcPort
	return p
}

// randomPacket returns a TCP or UDP packet between random IPv4 or IPv6
// endpoints, sometimes VLAN-tagged.
func randomPacket(rng *rand.Rand) decode.Packet {
	addr := func() netip.Addr {
		if rng.IntN(2) == 0 {
			return netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())})
		}
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		b[0] = 0x20 // never a 4in6 address, as the decoder promises
		return netip.AddrFrom16(b)
	}
	p := decode.Packet{Src: addr(), Proto: decode.TCP, SrcPort: uint16(rng.Uint32()), DstPort: uint16(rng.Uint32())}
	if p.Src.Is4() {
		p.Dst = netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())})
	} else {
		p.Dst = addr()
		for p.Dst.Is4() {
			p.Dst = addr()
		}
	}
	if rng.IntN(2) == 0 {
		p.Proto = decode.UDP
	}
	if rng.IntN(4) == 0 {
		p.VLAN = [2]uint16{uint16(rng.IntN(4096)), uint16(rng.IntN(4096))}
	}
	return p
}

func TestHashAndKeySymmetry(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[uint64]Key{}
	for range 20000 {
		p := randomPacket(rng)
		r := reversed(p)
		if Hash(&p) != Hash(&r) {
			t.Fatalf("Hash differs by direction for %v:%d > %v:%d", p.Src, p.SrcPort, p.Dst, p.DstPort)
		}
		k := KeyOf(&p)
		if k != KeyOf(&r) || k.A.Compare(k.B) > 0 {
			t.Fatalf("KeyOf differs by direction or is unordered: %v / %v", k, KeyOf(&r))
		}
		if old, ok := seen[Hash(&p)]; ok && old != k {
			t.Fatalf("64-bit hash collision between %v and %v", old, k)
		}
		seen[Hash(&p)] = k
	}
}

func TestHashFields(t *testing.T) {
	base := tcpP(cli, srv, syn, 0).packet()
	h := Hash(base)
	tests := []struct {
		name   string
		change func(p *decode.Packet)
		same   bool
	}{
		{"vlan outer", func(p *decode.Packet) { p.VLAN[0] = 7 }, false},
		{"vlan inner", func(p *decode.Packet) { p.VLAN[1] = 7 }, false},
		{"proto", func(p *decode.Packet) { p.Proto = decode.UDP }, false},
		{"src port", func(p *decode.Packet) { p.SrcPort++ }, false},
		{"dst addr", func(p *decode.Packet) { p.Dst = p.Dst.Next() }, false},
		{"flags and payload", func(p *decode.Packet) { p.TCP.Flags = rst; p.Payload = []byte("x"); p.WireLen = 9 }, true},
		{"direction", func(p *decode.Packet) { *p = reversed(*p) }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := *base
			tc.change(&p)
			if got := Hash(&p) == h; got != tc.same {
				t.Errorf("same hash = %v, want %v", got, tc.same)
			}
		})
	}
}

func TestPortsIgnoredWithoutTransportPorts(t *testing.T) {
	// The decoder guarantees ports only for TCP and UDP; other protocols'
	// stray port values must not split their flows.
	a := tcpP(cli, srv, 0, 0).packet()
	a.Proto = 50 // ESP
	b := *a
	b.SrcPort, b.DstPort = 1, 2
	if KeyOf(a) != KeyOf(&b) || Hash(a) != Hash(&b) || KeyOf(a).A.Port() != 0 {
		t.Errorf("ports used for protocol %d: %v vs %v", a.Proto, KeyOf(a), KeyOf(&b))
	}
}

func TestHashSpreadsOverWorkers(t *testing.T) {
	// Sequential clients of one server, as a NAT or a scan produces, must
	// still spread evenly over the workers.
	const workers, flows = 8, 80000
	var count [workers]int
	p := udpP(cli, srv, 0).packet()
	for i := range flows {
		p.Src = netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		p.SrcPort = uint16(1024 + i%7)
		count[Hash(p)%workers]++
	}
	for w, n := range count {
		if n < flows/workers*9/10 || n > flows/workers*11/10 {
			t.Errorf("worker %d got %d of %d flows", w, n, flows)
		}
	}
}
