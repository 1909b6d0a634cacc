// Package flow tracks bidirectional flows keyed by their innermost 5-tuple
// and VLAN ids.
//
// A flow's originator is the sender of the first SYN, or else of the first
// packet; like Zeek, peerwatch says originator and responder rather than
// client and server, because peer-to-peer protocols have no server. Flows
// live in an index-addressed slab owned by one worker; the flow id is the
// capture index of the flow's first packet, so ids are the same whatever the
// number of workers.
//
// A Table keeps flows in a slab of fixed-size chunks, found through an
// open-addressing index from Key to slab index (a 64-bit hash of the key
// and linear probing, deletion by backward shift; about a quarter faster
// per lookup than a Go map keyed by the 72-byte Key), so that lookups and
// slot reuse allocate nothing and a *Flow stays put while the flow lives. Timeouts sit in a binary heap of
// deadlines that packets extend lazily: a packet only updates the flow's last
// time, and an out-of-date heap entry is requeued when it reaches the top,
// so Advance costs nothing per packet until a timer is really due, and
// flows end exactly at their deadline whatever the cadence of Advance. An
// LRU list over the slab picks the flow to evict when the table is full.
package flow
