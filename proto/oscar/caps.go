package oscar

import "github.com/peerwatch/peerwatch/event"

// Capability UUIDs (aim-oscar.md §4.1, from gaim 0.56 oscar/info.c and
// pidgin 2.7.0 family_locate.c aim_caps[]). Most are
// 09 46 XX YY 4C 7F 11 D1 82 22 44 45 53 54 00 00, where XXYY is the short
// form; the Games capability also exists with bytes 8-9 swapped (22 82).

// capEntry is one row of the capability table: the UUID, a stable
// snake_case name, the feature it signals ("" for capabilities that are
// client properties, not features) and the analyzer name of the peer
// connection it announces ("" when the data goes through the server or is
// not characterised).
type capEntry struct {
	uuid    [16]byte
	name    string
	feature event.Feature
	peer    string
}

// Peer-connection analyzer names announced by rendezvous proposals
// (aim-oscar.md §5: ODC2 for Direct IM, OFT2 for file transfer).
const (
	peerODC = "odc"
	peerOFT = "oft"
)

// aimCap builds the common 0946XXYY-4C7F-11D1-8222-444553540000 form.
func aimCap(short uint16) [16]byte {
	return [16]byte{0x09, 0x46, byte(short >> 8), byte(short), 0x4C, 0x7F, 0x11, 0xD1,
		0x82, 0x22, 0x44, 0x45, 0x53, 0x54, 0x00, 0x00}
}

// Short forms of the 0946xxxx capabilities used by the exploit check.
const (
	capShortVoice  = 0x1341
	capShortAddIns = 0x1347
	capShortGames  = 0x134A
)

// capGames2 is the Games capability variant with bytes 8-9 swapped
// (aim-oscar.md §4.1 and §9.1: "82 22 or 22 82").
var capGames2 = [16]byte{0x09, 0x46, 0x13, 0x4A, 0x4C, 0x7F, 0x11, 0xD1,
	0x22, 0x82, 0x44, 0x45, 0x53, 0x54, 0x00, 0x00}

// capTable lists every capability UUID named in aim-oscar.md §4.1 and
// icq.md §5. 0x1342 is left out: the spec marks it unconfirmed and it is in
// neither gaim list.
var capTable = [...]capEntry{
	// 2002 capabilities, aim-oscar.md §4.1 and §6.
	{aimCap(0x1341), "voice", event.Voice, ""},
	{aimCap(0x1343), "send_file", event.FileTransfer, peerOFT},
	{aimCap(0x1344), "icq_direct", event.DirectIM, ""},
	{aimCap(0x1345), "direct_im", event.DirectIM, peerODC},
	{aimCap(0x1346), "buddy_icon", event.IMImage, ""},
	{aimCap(0x1347), "add_ins", event.AddIns, ""},
	{aimCap(0x1348), "get_file", event.GetFile, peerOFT},
	{aimCap(0x1349), "server_relay", event.ServerRelay, ""},
	{aimCap(0x134A), "games", event.Games, ""},
	{capGames2, "games2", event.Games, ""},
	{aimCap(0x134B), "buddy_list", event.BuddyList, ""},
	// Later client properties (aim-oscar.md §4.1 "later").
	{aimCap(0x134D), "interoperate", "", ""},
	{aimCap(0x134E), "utf8", "", ""},
	// Audio/video capabilities, 2003+ (aim-oscar.md §4.1 0x0100-0x0105,
	// names from pidgin 2.7.0 family_locate.c).
	{aimCap(0x0100), "video", event.Video, ""},
	{aimCap(0x0101), "live_video", event.Video, ""},
	{aimCap(0x0102), "camera", event.Webcam, ""},
	{aimCap(0x0103), "microphone", event.Voice, ""},
	{aimCap(0x0104), "rtc_audio", event.Voice, ""},
	{aimCap(0x0105), "ichat_av", event.Video, ""},
	// pidgin 2.7.0 matches iChat AV with this tail (44 45 45 53 54 00);
	// kept beside the regular form because clients copied from it.
	{[16]byte{0x09, 0x46, 0x01, 0x05, 0x4C, 0x7F, 0x11, 0xD1, 0x82, 0x22, 0x44, 0x45, 0x45, 0x53, 0x54, 0x00}, "ichat_av", event.Video, ""},
	{aimCap(0xF004), "screen_share", event.AppSharing, ""},
	// Capabilities outside the 0946 block (aim-oscar.md §4.1).
	{[16]byte{0x74, 0x8F, 0x24, 0x20, 0x62, 0x87, 0x11, 0xD1, 0x82, 0x22, 0x44, 0x45, 0x53, 0x54, 0x00, 0x00}, "chat", event.ChatRoom, ""},
	{[16]byte{0x97, 0xB1, 0x27, 0x51, 0x24, 0x3C, 0x43, 0x34, 0xAD, 0x22, 0xD6, 0xAB, 0xF7, 0x3F, 0x14, 0x92}, "icq_rtf", "", ""},
	{[16]byte{0x2E, 0x7A, 0x64, 0x75, 0xFA, 0xDF, 0x4D, 0xC8, 0x88, 0x6F, 0xEA, 0x35, 0x95, 0xFD, 0xB6, 0xDF}, "icq_utf_old", "", ""},
	{[16]byte{0xF2, 0xE7, 0xC7, 0xF4, 0xFE, 0xAD, 0x4D, 0xFB, 0xB2, 0x35, 0x36, 0x79, 0x8B, 0xDF, 0x00, 0x00}, "trillian_secureim", "", ""},
	{[16]byte{0x56, 0x3F, 0xC8, 0x09, 0x0B, 0x6F, 0x41, 0xBD, 0x9F, 0x79, 0x42, 0x26, 0x09, 0xDF, 0xA2, 0xF3}, "typing", "", ""},
}

// capInfo returns the name, feature and peer-connection analyzer of a
// capability UUID, and whether the UUID is known. It does not allocate.
func capInfo(uuid [16]byte) (name string, f event.Feature, peer string, ok bool) {
	for i := range capTable {
		if capTable[i].uuid == uuid {
			e := &capTable[i]
			return e.name, e.feature, e.peer, true
		}
	}
	return "", "", "", false
}

// capShort returns XXYY of a 09 46 XX YY 4C 7F 11 D1 ... capability (either
// games byte order), or 0 when the UUID is not of that form.
func capShort(uuid [16]byte) uint16 {
	if uuid[0] != 0x09 || uuid[1] != 0x46 || uuid[4] != 0x4C || uuid[5] != 0x7F ||
		uuid[6] != 0x11 || uuid[7] != 0xD1 || uuid[10] != 0x44 || uuid[11] != 0x45 ||
		uuid[12] != 0x53 || uuid[13] != 0x54 || uuid[14] != 0 || uuid[15] != 0 {
		return 0
	}
	if !(uuid[8] == 0x82 && uuid[9] == 0x22) && !(uuid[8] == 0x22 && uuid[9] == 0x82) {
		return 0
	}
	return uint16(uuid[2])<<8 | uint16(uuid[3])
}
