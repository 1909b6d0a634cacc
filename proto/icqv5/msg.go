package icqv5

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
)

const (
	serverPort = 4000 // icq.mirabilis.com
	version    = 5
	minUIN     = 10000   // §3.4: UINs below this were never handed out to users
	maxUIN     = 1 << 31 // §3.4
	maxPacket  = 4096    // ICQ v5 datagrams are < 1 KiB (messages are capped at 450 bytes)
	maxText    = 2048    // bound on decoded text
)

// Server header offsets (spec icq.md §3.1, Wireshark ICQ5_SRV_*).
const (
	srvSession = 0x03
	srvCommand = 0x07
	srvSeq1    = 0x09
	srvSeq2    = 0x0B
	srvUIN     = 0x0D
	srvHeader  = 0x15
)

// Client commands (spec icq.md §3.3; icqlib icq.h, Wireshark packet-icq.c).
const (
	cmdAck          = 0x000A
	cmdSendMsg      = 0x010E
	cmdLogin        = 0x03E8
	cmdContactList  = 0x0406
	cmdKeepAlive    = 0x042E
	cmdSendTextCode = 0x0438
	cmdChangePW     = 0x049C
	cmdKeepAlive2   = 0x051E
	cmdMetaUser     = 0x064A
)

// Server commands.
const (
	srvAck          = 0x000A
	srvLoginReply   = 0x005A
	srvBadPass      = 0x0064
	srvUserOnline   = 0x006E
	srvUserOffline  = 0x0078
	srvRecvMessage  = 0x00DC
	srvSysDelivered = 0x0104
	srvRandUser     = 0x024E
	srvMetaUser     = 0x03DE
)

// command is one entry of a command table: its name in the "command"
// field and the least parameter bytes it carries.
type command struct {
	code   uint16
	name   string
	params int
}

// clientCommands are the client commands of icqlib/Wireshark; the probe
// accepts only these.
var clientCommands = [...]command{
	{cmdAck, "ack", 0},
	{cmdSendMsg, "send_msg", 8},
	{0x015E, "reverse_tcp_request", 0},
	{0x03FC, "reg_new_user", 0},
	{cmdLogin, "login", 10},
	{cmdContactList, "contact_list", 1},
	{0x041A, "search_uin", 4},
	{0x0424, "search_user", 0},
	{cmdKeepAlive, "keep_alive", 0},
	{cmdSendTextCode, "send_text_code", 2},
	{0x0442, "ack_messages", 0},
	{0x044C, "login_1", 0},
	{0x0456, "msg_to_new_user", 0},
	{0x0460, "info_req", 4},
	{0x046A, "ext_info_req", 4},
	{cmdChangePW, "change_password", 2},
	{0x04A6, "new_user_info", 0},
	{0x04B0, "update_ext_info", 0},
	{0x04BA, "query_servers", 0},
	{0x04C4, "query_addons", 0},
	{0x04D8, "status_change", 4},
	{0x04EC, "new_user_1", 0},
	{0x050A, "update_info", 0},
	{0x0514, "auth_update", 0},
	{cmdKeepAlive2, "keep_alive2", 0},
	{0x0528, "login_2", 0},
	{0x053C, "add_to_list", 4},
	{0x0564, "rand_set", 0},
	{0x056E, "rand_search", 0},
	{cmdMetaUser, "meta_user", 2},
	{0x06A4, "invis_list", 1},
	{0x06AE, "vis_list", 1},
	{0x06B8, "update_list", 0},
}

// serverCommands are the server commands of icqlib/Wireshark.
var serverCommands = [...]command{
	{srvAck, "ack", 0},
	{0x001E, "silent_too_long", 0},
	{0x0028, "go_away", 0},
	{0x0046, "new_uin", 0},
	{srvLoginReply, "login_reply", 0},
	{srvBadPass, "bad_password", 0},
	{srvUserOnline, "user_online", 16},
	{srvUserOffline, "user_offline", 4},
	{0x0082, "query", 0},
	{0x008C, "user_found", 4},
	{0x00A0, "end_of_search", 0},
	{0x00B4, "new_user", 0},
	{0x00C8, "update_ext_success", 0},
	{0x00D2, "update_ext_fail", 0},
	{srvRecvMessage, "recv_message", 14},
	{0x00E6, "end_offline_messages", 0},
	{0x00F0, "not_connected", 0},
	{0x00FA, "try_again", 0},
	{srvSysDelivered, "sys_delivered_mess", 8},
	{0x0118, "info_reply", 4},
	{0x0122, "ext_info_reply", 4},
	{0x012C, "info_none", 0},
	{0x0136, "ext_info_none", 0},
	{0x01A4, "status_update", 4},
	{0x01C2, "system_message", 0},
	{0x01E0, "update_success", 0},
	{0x01EA, "update_fail", 0},
	{0x01F4, "auth_update", 0},
	{0x01FE, "authorize_fail", 0},
	{0x0212, "multi_packet", 1},
	{0x021C, "x1", 0},
	{srvRandUser, "rand_user", 16},
	{srvMetaUser, "meta_user", 3},
}

func lookup(tab []command, code uint16) (command, bool) {
	for _, c := range tab {
		if c.code == code {
			return c, true
		}
	}
	return command{}, false
}

// Errors of the wire format.
var (
	ErrVersion   = errors.New("icqv5: not a version 5 packet")
	ErrShort     = errors.New("icqv5: packet shorter than its header")
	ErrTooLong   = errors.New("icqv5: packet too long")
	ErrCommand   = errors.New("icqv5: unknown command")
	ErrCheckcode = errors.New("icqv5: checkcode does not match the packet")
	ErrUIN       = errors.New("icqv5: implausible UIN")
	ErrTruncated = errors.New("icqv5: parameters truncated")
)

// header is a parsed client or server header.
type header struct {
	server  bool
	uin     uint32
	session uint32
	cmd     command
	seq1    uint16
	seq2    uint16
}

// key identifies a packet for duplicate suppression: retransmissions
// repeat command and sequence numbers (a client re-encrypts them with a
// new checkcode, so the bytes differ).
func (h header) key() uint64 {
	return uint64(h.cmd.code)<<32 | uint64(h.seq1)<<16 | uint64(h.seq2)
}

func plausibleUIN(u uint32) bool { return u >= minUIN && u < maxUIN }

// parseClient checks and reads the header of a scrambled client packet
// (§3.1, §3.4): version 5, four zero bytes, a plausible UIN, a known
// command after decryption and a consistent checkcode. It does not
// allocate.
func parseClient(pkt []byte) (header, uint32, error) {
	var h header
	if len(pkt) < clHeader {
		return h, 0, ErrShort
	}
	if len(pkt) > maxPacket {
		return h, 0, ErrTooLong
	}
	if binary.LittleEndian.Uint16(pkt) != version || binary.LittleEndian.Uint32(pkt[2:]) != 0 {
		return h, 0, ErrVersion
	}
	h.uin = binary.LittleEndian.Uint32(pkt[clUIN:])
	if !plausibleUIN(h.uin) {
		return h, 0, ErrUIN
	}
	key, check := keyOf(pkt)
	cmd, ok := lookup(clientCommands[:], plainU16(pkt, key, clCommand))
	if !ok {
		return h, 0, ErrCommand
	}
	if !checkOK(pkt, key, check) {
		return h, 0, ErrCheckcode
	}
	h.cmd = cmd
	h.session = plainU32(pkt, key, clSession)
	h.seq1 = plainU16(pkt, key, clSeq1)
	h.seq2 = plainU16(pkt, key, clSeq2)
	return h, key, nil
}

// parseServer checks and reads the plain 21-byte header of a server packet
// (§3.1): version 5, a zero byte, a known command with room for its
// parameters, a plausible UIN.
func parseServer(pkt []byte) (header, error) {
	h := header{server: true}
	if len(pkt) < srvHeader {
		return h, ErrShort
	}
	if len(pkt) > maxPacket {
		return h, ErrTooLong
	}
	if binary.LittleEndian.Uint16(pkt) != version || pkt[2] != 0 {
		return h, ErrVersion
	}
	cmd, ok := lookup(serverCommands[:], binary.LittleEndian.Uint16(pkt[srvCommand:]))
	if !ok {
		return h, ErrCommand
	}
	if len(pkt)-srvHeader < cmd.params {
		return h, ErrTruncated
	}
	h.uin = binary.LittleEndian.Uint32(pkt[srvUIN:])
	if !plausibleUIN(h.uin) {
		return h, ErrUIN
	}
	h.cmd = cmd
	h.session = binary.LittleEndian.Uint32(pkt[srvSession:])
	h.seq1 = binary.LittleEndian.Uint16(pkt[srvSeq1:])
	h.seq2 = binary.LittleEndian.Uint16(pkt[srvSeq2:])
	return h, nil
}

// ipv4 reads an IPv4 address in network byte order (icqlib sends
// htonl(ip) through its "n" append, so the bytes are in address order).
func ipv4(b []byte) netip.Addr {
	return netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]})
}

// addrPort builds an address from an ICQ IP field and a 32-bit
// little-endian port field; ok is false for 0.0.0.0 or an out-of-range port.
func addrPort(ip []byte, port uint32) (netip.AddrPort, bool) {
	a := ipv4(ip)
	if a.IsUnspecified() || port == 0 || port > 0xFFFF {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, uint16(port)), true
}

// latin1 decodes ICQ text (Latin-1, NUL-terminated, fields separated by
// 0xFE) to UTF-8: text ends at the first NUL, 0xFE becomes a newline and
// control characters other than tab and newline are dropped. The output is
// bounded by maxText runes.
func latin1(b []byte) string {
	var sb strings.Builder
	n := 0
	for _, c := range b {
		if c == 0 || n >= maxText {
			break
		}
		switch {
		case c == 0xFE:
			sb.WriteByte('\n')
		case c == '\t' || c == '\n':
			sb.WriteByte(c)
		case c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0):
			continue
		default:
			sb.WriteRune(rune(c))
		}
		n++
	}
	return sb.String()
}

// cstring returns b up to its first NUL.
func cstring(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}
