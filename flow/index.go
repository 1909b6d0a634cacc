package flow

import "encoding/binary"

// index finds a flow's slot by its key: open addressing with linear
// probing over a power-of-two array of (hash, slot) entries, kept at most
// half full. Deletion shifts the following entries back instead of leaving
// tombstones, so a lookup stops at the first empty entry. Against a Go map
// keyed by Key (72 bytes, hashed and compared whole on every packet) it
// hashes a few words with mix64 and compares a key only when the full
// 64-bit hashes agree. The keys themselves live in the slots.
type index struct {
	ents []ient
	n    int
	mask uint64
}

// ient is one entry; slot is the slot number plus one, 0 for empty.
type ient struct {
	h    uint64
	slot uint32
}

// minIndex is the smallest entry array.
const minIndex = 1024

// hashKey hashes a flow key; both directions of a flow have the same Key,
// so the same hash. Deterministic: no seed.
func hashKey(k *Key) uint64 {
	a, b := k.A.Addr().As16(), k.B.Addr().As16()
	h := uint64(0x9e3779b97f4a7c15)
	h = mix64(h ^ binary.BigEndian.Uint64(a[:8]))
	h = mix64(h ^ binary.BigEndian.Uint64(a[8:]))
	h = mix64(h ^ binary.BigEndian.Uint64(b[:8]))
	h = mix64(h ^ binary.BigEndian.Uint64(b[8:]))
	return mix64(h ^ (uint64(k.A.Port())<<48 | uint64(k.B.Port())<<32 | uint64(k.Proto)<<24 ^
		uint64(k.VLAN[0])<<12 ^ uint64(k.VLAN[1])))
}

// find returns the slot of key k, whose hash is h.
func (t *Table) find(k *Key, h uint64) (uint32, bool) {
	x := &t.idx
	if x.n == 0 {
		return 0, false
	}
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		e := &x.ents[i]
		if e.slot == 0 {
			return 0, false
		}
		if e.h == h && t.slot(e.slot-1).f.Key == *k {
			return e.slot - 1, true
		}
	}
}

// insert adds slot s under hash h; the key must not be in the index.
func (x *index) insert(h uint64, s uint32) {
	if 2*(x.n+1) > len(x.ents) {
		x.grow()
	}
	i := h & x.mask
	for x.ents[i].slot != 0 {
		i = (i + 1) & x.mask
	}
	x.ents[i] = ient{h: h, slot: s + 1}
	x.n++
}

// grow doubles the entry array (or makes the first one) and reinserts.
func (x *index) grow() {
	old := x.ents
	x.ents = make([]ient, max(minIndex, 2*len(old)))
	x.mask = uint64(len(x.ents) - 1)
	for _, e := range old {
		if e.slot == 0 {
			continue
		}
		i := e.h & x.mask
		for x.ents[i].slot != 0 {
			i = (i + 1) & x.mask
		}
		x.ents[i] = e
	}
}

// remove deletes slot s, stored under hash h, and shifts back the entries
// after it that probing would no longer reach.
func (x *index) remove(h uint64, s uint32) {
	if x.n == 0 {
		return
	}
	i := h & x.mask
	for x.ents[i].slot != s+1 {
		if x.ents[i].slot == 0 {
			return // not there
		}
		i = (i + 1) & x.mask
	}
	for j := i; ; {
		j = (j + 1) & x.mask
		e := x.ents[j]
		if e.slot == 0 {
			break
		}
		// e stays if its home position lies cyclically in (i, j]:
		// probing from home still reaches it without passing i.
		home := e.h & x.mask
		if i <= j {
			if i < home && home <= j {
				continue
			}
		} else if i < home || home <= j {
			continue
		}
		x.ents[i] = e
		i = j
	}
	x.ents[i] = ient{}
	x.n--
}
