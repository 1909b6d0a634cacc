package icqdc

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// PEER_INIT (licq icqpacket.cpp CPacketTcp_Handshake_v6/v7; spec icq.md §4):
// len(2 LE) then
//
//	FF · version(2) · size(2) · to-UIN(4) · 0000 · port(4) · from-UIN(4) ·
//	external IP(4) · internal IP(4) · mode(1) · port(4) · cookie(4) ·
//	0x00000050(4) · 0x00000003(4) · [v7, v8: 0x00000000(4)]
//
// size counts the bytes after it.
const (
	initLenV6 = 0x2C // body bytes of a v6 PEER_INIT
	initLenV7 = 0x30 // v7 and v8
	minUIN    = 10000
	maxUIN    = 1 << 31
	maxPacket = 0xFFFF
)

// Packet types: the first body byte.
const (
	typeInit    = 0xFF
	typeInitAck = 0x01
	typeMsg     = 0x02 // v6+: scrambled message, ack or cancel
	typeInit2   = 0x03 // v7+: second handshake step
)

// Direct-connection modes of the mode byte (licq MODE_*).
var modes = map[byte]string{0x01: "denied", 0x02: "indirect", 0x04: "direct"}

// Errors of the wire format.
var (
	ErrInit    = errors.New("icqdc: not a peer init packet")
	ErrVersion = errors.New("icqdc: unsupported peer protocol version")
	ErrUIN     = errors.New("icqdc: implausible UIN")
	ErrShort   = errors.New("icqdc: short packet")
)

// peerInit is a parsed PEER_INIT.
type peerInit struct {
	version    uint16
	to, from   uint32
	port       uint32
	external   netip.Addr
	internal   netip.Addr
	mode       byte
	secondPort uint32
}

// initLen returns the PEER_INIT body length of a version, 0 if unknown.
func initLen(v uint16) int {
	switch v {
	case 6:
		return initLenV6
	case 7, 8:
		return initLenV7
	}
	return 0
}

// checkInit validates a PEER_INIT frame (length word included) as far as
// b goes: complete is true when the whole frame was present and valid.
// It does not allocate.
func checkInit(b []byte) (complete bool, err error) {
	// Fixed bytes: length (checked once the version is known), FF, version, size.
	if len(b) >= 3 && b[2] != typeInit {
		return false, ErrInit
	}
	if len(b) < 5 {
		return false, nil
	}
	v := binary.LittleEndian.Uint16(b[3:])
	n := initLen(v)
	if n == 0 {
		return false, ErrVersion
	}
	if int(binary.LittleEndian.Uint16(b)) != n {
		return false, ErrInit
	}
	if len(b) >= 7 && int(binary.LittleEndian.Uint16(b[5:])) != n-5 {
		return false, ErrInit
	}
	if len(b) >= 11 && !plausible(binary.LittleEndian.Uint32(b[7:])) {
		return false, ErrUIN
	}
	if len(b) >= 13 && (b[11] != 0 || b[12] != 0) {
		return false, ErrInit
	}
	if len(b) >= 17 && binary.LittleEndian.Uint16(b[15:]) != 0 { // port < 65536
		return false, ErrInit
	}
	if len(b) >= 21 && !plausible(binary.LittleEndian.Uint32(b[17:])) {
		return false, ErrUIN
	}
	if len(b) >= 30 {
		if _, ok := modes[b[29]]; !ok {
			return false, ErrInit
		}
	}
	if len(b) >= 34 && binary.LittleEndian.Uint16(b[32:]) != 0 {
		return false, ErrInit
	}
	return len(b) >= 2+n, nil
}

func plausible(u uint32) bool { return u >= minUIN && u < maxUIN }

// parseInit reads a complete, valid PEER_INIT frame.
func parseInit(b []byte) (peerInit, error) {
	ok, err := checkInit(b)
	if err != nil {
		return peerInit{}, err
	}
	if !ok {
		return peerInit{}, ErrShort
	}
	le := binary.LittleEndian
	return peerInit{
		version:    le.Uint16(b[3:]),
		to:         le.Uint32(b[7:]),
		port:       le.Uint32(b[13:]),
		from:       le.Uint32(b[17:]),
		external:   netip.AddrFrom4([4]byte(b[21:25])),
		internal:   netip.AddrFrom4([4]byte(b[25:29])),
		mode:       b[29],
		secondPort: le.Uint32(b[30:]),
	}, nil
}

// addrs returns the distinct usable addresses a PEER_INIT advertises.
func (p peerInit) addrs() []netip.AddrPort {
	var out []netip.AddrPort
	port := p.port
	if port == 0 {
		port = p.secondPort
	}
	if port == 0 || port > 0xFFFF {
		return nil
	}
	for _, a := range []netip.Addr{p.external, p.internal} {
		if a.IsUnspecified() {
			continue
		}
		ap := netip.AddrPortFrom(a, uint16(port))
		if len(out) == 0 || out[0] != ap {
			out = append(out, ap)
		}
	}
	return out
}

// packetName names a packet by its first body byte after the handshake.
func packetName(t byte) string {
	switch t {
	case typeInit:
		return "peer_init"
	case typeInitAck:
		return "peer_init_ack"
	case typeMsg:
		return "peer_msg"
	case typeInit2:
		return "peer_init2"
	}
	return "other"
}
