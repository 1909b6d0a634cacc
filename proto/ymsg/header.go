package ymsg

import (
	"encoding/binary"
	"errors"
)

// YMSG header (ymsg.md §1, gaim 0.56 yahoo_send_packet): "YMSG", version(2),
// vendor(2), payload length(2), service(2), status(4), session id(4), all
// big-endian; the payload follows.
const (
	magic      = "YMSG"
	headerLen  = 20
	maxPayload = 0xFFFF // the length field is 16 bits
)

// Errors of the wire format.
var (
	ErrMagic     = errors.New("ymsg: bad magic")
	ErrKey       = errors.New("ymsg: field key is not a decimal number")
	ErrTruncated = errors.New("ymsg: field list ends inside a key")
)

// header is a parsed 20-byte YMSG header.
type header struct {
	version uint16
	vendor  uint16
	length  int // payload bytes after the header
	service uint16
	status  uint32
	session uint32
}

// size is the whole PDU's length: header and payload.
func (h header) size() int { return headerLen + h.length }

// parseHeader parses the header at the start of b. It returns ok=false with
// a nil error when b holds only a prefix of a header whose magic is right so
// far, and ErrMagic as soon as a magic byte is wrong.
func parseHeader(b []byte) (h header, ok bool, err error) {
	n := min(len(b), len(magic))
	if string(b[:n]) != magic[:n] {
		return h, false, ErrMagic
	}
	if len(b) < headerLen {
		return h, false, nil
	}
	h.version = binary.BigEndian.Uint16(b[4:6])
	h.vendor = binary.BigEndian.Uint16(b[6:8])
	h.length = int(binary.BigEndian.Uint16(b[8:10]))
	h.service = binary.BigEndian.Uint16(b[10:12])
	h.status = binary.BigEndian.Uint32(b[12:16])
	h.session = binary.BigEndian.Uint32(b[16:20])
	return h, true, nil
}

// Services (ymsg.md §2; gaim 0.56 enum and gaim 0.75 yahoo.h).
const (
	svcLogon        = 0x01
	svcLogoff       = 0x02
	svcIsAway       = 0x03
	svcIsBack       = 0x04
	svcMessage      = 0x06
	svcNewMail      = 0x0B
	svcConfInvite   = 0x18
	svcConfLogon    = 0x19
	svcConfDecline  = 0x1A
	svcConfLogoff   = 0x1B
	svcConfAddInv   = 0x1C
	svcConfMsg      = 0x1D
	svcChatLogon    = 0x1E
	svcChatLogoff   = 0x1F
	svcChatMsg      = 0x20
	svcGameLogon    = 0x28
	svcGameLogoff   = 0x29
	svcGameMsg      = 0x2A
	svcFileTransfer = 0x46
	svcVoiceChat    = 0x4A
	svcNotify       = 0x4B
	svcWebcam       = 0x50
	svcAuthResp     = 0x54
	svcList         = 0x55
	svcAuth         = 0x57
	svcChatJoin     = 0x98
	svcChatLeave    = 0x99
	svcChatExit     = 0x9B
	svcChatAddInv   = 0x9D
	svcChatLogout   = 0xA0
	svcComment      = 0xA8
)

// statusOffline is the header status of a failed logon or a forced logoff
// (gaim's YAHOO_STATUS_OFFLINE is 0x5A55AA56; -1 means disconnected).
const (
	statusOffline      = 0x5A55AA56
	statusDisconnected = 0xFFFFFFFF
)

// serviceNames names the services this analyzer reports (lower case, for
// the protocol object's "service" field).
var serviceNames = map[uint16]string{
	svcLogon: "logon", svcLogoff: "logoff", svcIsAway: "isaway", svcIsBack: "isback",
	svcMessage: "message", svcNewMail: "newmail",
	svcConfInvite: "confinvite", svcConfLogon: "conflogon", svcConfDecline: "confdecline",
	svcConfLogoff: "conflogoff", svcConfAddInv: "confaddinvite", svcConfMsg: "confmsg",
	svcChatLogon: "chatlogon", svcChatLogoff: "chatlogoff", svcChatMsg: "chatmsg",
	svcGameLogon: "gamelogon", svcGameLogoff: "gamelogoff", svcGameMsg: "gamemsg",
	svcFileTransfer: "filetransfer", svcVoiceChat: "voicechat", svcNotify: "notify", svcWebcam: "webcam",
	svcAuthResp: "authresp", svcList: "list", svcAuth: "auth",
	svcChatJoin: "chatjoin", svcChatLeave: "chatleave", svcChatExit: "chatexit",
	svcChatAddInv: "chataddinvite", svcChatLogout: "chatlogout", svcComment: "comment",
}

// statusName names a header or field-10 status (gaim YAHOO_STATUS_*).
func statusName(v uint32) string {
	switch v {
	case 0:
		return "available"
	case 1:
		return "brb"
	case 2:
		return "busy"
	case 3:
		return "not_at_home"
	case 4:
		return "not_at_desk"
	case 5:
		return "not_in_office"
	case 6:
		return "on_phone"
	case 7:
		return "on_vacation"
	case 8:
		return "out_to_lunch"
	case 9:
		return "stepped_out"
	case 12:
		return "invisible"
	case 0x16:
		return "typing"
	case 99:
		return "custom"
	case 999:
		return "idle"
	case statusOffline:
		return "offline"
	case 0x5A55AA55:
		return "web_login"
	case statusDisconnected:
		return "disconnected"
	}
	return "other"
}
