package flow

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// reach reports whether probing from h's home position finds slot s
// before an empty entry, as Table.find would.
func (x *index) reach(h uint64, s uint32) bool {
	if len(x.ents) == 0 {
		return false
	}
	for i := h & x.mask; x.ents[i].slot != 0; i = (i + 1) & x.mask {
		if x.ents[i].slot == s+1 && x.ents[i].h == h {
			return true
		}
	}
	return false
}

// TestIndexChurn inserts and removes entries against a reference map, with
// hashes crowded onto a few home positions near the end of the array so
// that clusters wrap around to the start, and with enough entries to grow
// it twice. After every step each present entry must be reachable and each
// removed one gone.
func TestIndexChurn(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var x index
	ref := map[uint32]uint64{} // slot → hash
	var slots []uint32
	next := uint32(0)
	for step := 0; step < 20000; step++ {
		grow := step < 12000
		if len(slots) == 0 || (grow && rng.IntN(3) > 0) || (!grow && rng.IntN(3) == 0) {
			// Homes 1000..1039 in the first array (mask 1023) wrap past
			// its end; high bits spread them once the array grows.
			h := uint64(1000+rng.IntN(40)) | uint64(rng.IntN(8))<<40
			x.insert(h, next)
			ref[next] = h
			slots = append(slots, next)
			next++
		} else {
			k := rng.IntN(len(slots))
			s := slots[k]
			slots[k] = slots[len(slots)-1]
			slots = slots[:len(slots)-1]
			x.remove(ref[s], s)
			if x.reach(ref[s], s) {
				t.Fatalf("step %d: slot %d still reachable after remove", step, s)
			}
			delete(ref, s)
		}
		if x.n != len(ref) {
			t.Fatalf("step %d: n = %d, want %d", step, x.n, len(ref))
		}
		if step%97 == 0 || step > 19900 {
			for s, h := range ref {
				if !x.reach(h, s) {
					t.Fatalf("step %d: slot %d (hash %#x) unreachable", step, s, h)
				}
			}
		}
	}
	if len(x.ents) < 4*minIndex {
		t.Fatalf("array never grew twice: %d entries", len(x.ents))
	}
}

// TestIndexRemoveMissing: removing what is not there changes nothing.
func TestIndexRemoveMissing(t *testing.T) {
	var x index
	x.remove(5, 1) // empty index
	x.insert(5, 1)
	x.remove(5, 2)
	x.remove(6, 1)
	if x.n != 1 || !x.reach(5, 1) {
		t.Fatalf("n = %d, reachable %v", x.n, x.reach(5, 1))
	}
}

// TestHashKeyDirections: both directions of a flow share a Key, hence a
// hash; an address, a port, the protocol and each VLAN id change it.
func TestHashKeyDirections(t *testing.T) {
	k1 := KeyOf(tcpP("10.0.0.1:1234", "10.0.0.2:80", 0, 0).packet())
	k2 := KeyOf(tcpP("10.0.0.2:80", "10.0.0.1:1234", 0, 0).packet())
	if k1 != k2 || hashKey(&k1) != hashKey(&k2) {
		t.Fatalf("directions differ: %v %v", k1, k2)
	}
	seen := map[uint64]string{hashKey(&k1): "base"}
	for _, m := range []struct {
		name string
		mod  func(k *Key)
	}{
		{"address", func(k *Key) { k.B = netip.AddrPortFrom(netip.MustParseAddr("10.0.0.3"), k.B.Port()) }},
		{"port", func(k *Key) { k.B = netip.AddrPortFrom(k.B.Addr(), k.B.Port()+1) }},
		{"proto", func(k *Key) { k.Proto++ }},
		{"vlan0", func(k *Key) { k.VLAN[0] = 7 }},
		{"vlan1", func(k *Key) { k.VLAN[1] = 7 }},
	} {
		k := k1
		m.mod(&k)
		h := hashKey(&k)
		if o, dup := seen[h]; dup {
			t.Errorf("%s gives the same hash as %s", m.name, o)
		}
		seen[h] = m.name
	}
}
