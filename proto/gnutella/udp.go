package gnutella

import "github.com/peerwatch/peerwatch/flow"

// dgKind is what a UDP datagram carries.
type dgKind uint8

const (
	dgNone     dgKind = iota
	dgGnutella        // one descriptor: 23-byte header, then exactly its payload (GUESS, pings, vendor messages)
	dgMojito          // LimeWire Mojito DHT message (type 0x44 in the same header)
	dgGND             // Gnutella2 UDP transport fragment ("GND" header)
)

// Mojito: after the 23-byte header (version major/minor in bytes 17-18),
// opcode(1) · vendor(4) · version(2) · node ID(20) · ... (LimeWire
// org.limewire.mojito.messages; Wireshark packet-mojito.c). Opcodes 1..10:
// ping, store, find node, find value, stats, requests and responses.
const (
	mojitoMinPayload = 1 + 4 + 2 + 20
	mojitoMaxOpcode  = 0x0A
)

// GND: "GND" · flags(1) · sequence(2) · part(1) · count(1) (Gnutella2 UDP
// transport; flag 0x01 deflate, 0x02 acknowledge me). An acknowledgement
// has count 0 and no payload.
const gndHeaderLen = 8

// datagramKind classifies one UDP payload strictly: the header's length
// must equal the datagram's payload exactly and the payload must fit its
// type. It does not allocate.
func datagramKind(d []byte) dgKind {
	if len(d) >= gndHeaderLen && d[0] == 'G' && d[1] == 'N' && d[2] == 'D' {
		part, count := d[6], d[7]
		switch {
		case count == 0 && part != 0 && len(d) == gndHeaderLen:
			return dgGND // acknowledgement
		case count > 0 && part >= 1 && part <= count && len(d) > gndHeaderLen && d[3]&0xE0 == 0:
			return dgGND
		}
		return dgNone
	}
	h, err := parseHeader(d)
	if err != nil || headerLen+h.length != len(d) {
		return dgNone
	}
	p := d[headerLen:]
	if h.typ == typeMojito {
		if h.ttl > maxHopsTTL || h.hops > maxHopsTTL || len(p) < mojitoMinPayload ||
			p[0] == 0 || p[0] > mojitoMaxOpcode || !vendorCode(p[1:5]) {
			return dgNone
		}
		return dgMojito
	}
	if !plausible(h, p, maxPayload) {
		return dgNone
	}
	return dgGnutella
}

// datagram handles one UDP datagram: descriptors are reported as on TCP,
// Mojito and GND messages are counted, anything else is counted as other.
func (c *conn) datagram(dir flow.Dir, d []byte) {
	switch datagramKind(d) {
	case dgGnutella:
		c.dgram["gnutella"]++
		h, _ := parseHeader(d)
		c.s.Confirm()
		c.descriptor(dir, h, d[headerLen:], false)
	case dgMojito:
		c.dgram["mojito"]++
		c.s.Confirm()
		if op := d[headerLen]; int(op) < len(mojitoOps) {
			c.counts["mojito_"+mojitoOps[op]]++
		}
	case dgGND:
		c.dgram["gnd"]++
		c.s.Confirm()
	default:
		c.dgram["other"]++
	}
}

// mojitoOps names the Mojito opcodes (LimeWire mojito OpCode).
var mojitoOps = [...]string{1: "ping_request", 2: "ping_response", 3: "store_request", 4: "store_response",
	5: "find_node_request", 6: "find_node_response", 7: "find_value_request", 8: "find_value_response",
	9: "stats_request", 10: "stats_response"}
