package oscar

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"github.com/peerwatch/peerwatch/event"
)

// rvTLV is one inner TLV for buildRendezvous.
type rvTLV struct {
	Type  uint16
	Value []byte
}

// buildRendezvous returns the value of ICBM channel-2 TLV 0x0005
// (aim-oscar.md §4): type(2) cookie(8) capability(16) then the TLVs in
// order. Values longer than 0xFFFF bytes are cut at 0xFFFF.
func buildRendezvous(typ uint16, cookie [8]byte, capUUID [16]byte, tlvs ...rvTLV) []byte {
	b := binary.BigEndian.AppendUint16(nil, typ)
	b = append(b, cookie[:]...)
	b = append(b, capUUID[:]...)
	for _, t := range tlvs {
		b = rvAppendTLV(b, t.Type, t.Value)
	}
	return b
}

// rvAppendTLV appends type(2) length(2) value, cutting value at 0xFFFF.
func rvAppendTLV(b []byte, typ uint16, v []byte) []byte {
	if len(v) > 0xFFFF {
		v = v[:0xFFFF]
	}
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

// rvIP is a 4-byte address TLV (0x0002, 0x0003 or 0x0004); ip must be a
// dotted IPv4 literal.
func rvIP(typ uint16, ip string) rvTLV {
	a := netip.MustParseAddr(ip).As4()
	return rvTLV{typ, a[:]}
}

// rvPort is TLV 0x0005.
func rvPort(port uint16) rvTLV {
	return rvTLV{rvTLVPort, binary.BigEndian.AppendUint16(nil, port)}
}

// rvSendFileData is send-file service data (TLV 0x2711 value,
// aim-oscar.md §4.2): subtype(2) count(2) size(4) name NUL.
func rvSendFileData(subtype, count uint16, size uint32, name string) []byte {
	b := binary.BigEndian.AppendUint16(nil, subtype)
	b = binary.BigEndian.AppendUint16(b, count)
	b = binary.BigEndian.AppendUint32(b, size)
	b = append(b, name...)
	return append(b, 0)
}

// buildICBMCh2 returns a SNAC (10-byte header, flags 0, request id 0)
// carrying a channel-2 ICBM: family 0x0004, subtype 0x0006 (outgoing:
// cookie, channel, recipient) or 0x0007 (incoming: cookie, channel, sender,
// warning level 0, zero user-info TLVs), then TLV 0x0005 = rv. Wrap it in a
// FLAP channel-2 frame to put it on the wire.
func buildICBMCh2(subtype uint16, cookie [8]byte, screenName string, rv []byte) []byte {
	b := []byte{0x00, 0x04}
	b = binary.BigEndian.AppendUint16(b, subtype)
	b = append(b, 0, 0, 0, 0, 0, 0) // flags, request id
	b = append(b, cookie[:]...)
	b = append(b, 0x00, 0x02) // channel 2
	if len(screenName) > 255 {
		screenName = screenName[:255]
	}
	b = append(b, byte(len(screenName)))
	b = append(b, screenName...)
	if subtype == 0x0007 {
		b = append(b, 0, 0, 0, 0) // warning level, user-info TLV count
	}
	return rvAppendTLV(b, 0x0005, rv)
}

var rvCookie = [8]byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}

// rvSendFileProposal is a WinAIM-style send-file proposal with every
// address TLV, a port, an invitation and service data.
func rvSendFileProposal() []byte {
	return buildRendezvous(rvPropose, rvCookie, aimCap(0x1343),
		rvTLV{0x000A, []byte{0, 1}},
		rvIP(rvTLVProxyIP, "10.0.0.5"),
		rvIP(rvTLVInternalIP, "10.0.0.5"),
		rvIP(rvTLVExternalIP, "198.51.100.7"),
		rvPort(5190),
		rvTLV{0x000F, nil},
		rvTLV{rvTLVMessage, []byte("Please accept this file.")},
		rvTLV{rvTLVCharset, []byte("us-ascii")},
		rvTLV{0x000E, []byte("en")},
		rvTLV{rvTLVServiceData, rvSendFileData(1, 1, 123456, "report.doc")},
	)
}

func TestParseRendezvous(t *testing.T) {
	games := []byte("Pogo Checkers\x00table=7")
	tests := []struct {
		name string
		in   []byte
		want rendezvous
		err  error
	}{
		{
			name: "send file proposal",
			in:   rvSendFileProposal(),
			want: rendezvous{
				Type: rvPropose, Cookie: rvCookie, Cap: aimCap(0x1343),
				CapName: "send_file", Feature: event.FileTransfer, PeerProto: "oft",
				InternalIP: netip.MustParseAddr("10.0.0.5"), ExternalIP: netip.MustParseAddr("198.51.100.7"),
				VerifiedIP: netip.MustParseAddr("10.0.0.5"), Port: 5190,
				FileName: "report.doc", FileSize: 123456, FileCount: 1,
				Message:     "Please accept this file.",
				ServiceData: rvSendFileData(1, 1, 123456, "report.doc"),
			},
		},
		{
			name: "direct im proposal",
			in: buildRendezvous(rvPropose, rvCookie, aimCap(0x1345),
				rvIP(rvTLVInternalIP, "192.168.1.2"), rvIP(rvTLVExternalIP, "203.0.113.9"), rvPort(4443)),
			want: rendezvous{
				Type: rvPropose, Cookie: rvCookie, Cap: aimCap(0x1345),
				CapName: "direct_im", Feature: event.DirectIM, PeerProto: "odc",
				InternalIP: netip.MustParseAddr("192.168.1.2"), ExternalIP: netip.MustParseAddr("203.0.113.9"),
				Port: 4443,
			},
		},
		{
			name: "proxied direct im",
			in: buildRendezvous(rvPropose, rvCookie, aimCap(0x1345),
				rvIP(rvTLVProxyIP, "64.12.26.1"), rvPort(5190), rvTLV{rvTLVUseProxy, nil}),
			want: rendezvous{
				Type: rvPropose, Cookie: rvCookie, Cap: aimCap(0x1345),
				CapName: "direct_im", Feature: event.DirectIM, PeerProto: "odc",
				VerifiedIP: netip.MustParseAddr("64.12.26.1"), Port: 5190, Proxy: true,
			},
		},
		{
			name: "cancel",
			in:   buildRendezvous(rvCancel, rvCookie, aimCap(0x1343), rvTLV{0x000B, []byte{0, 1}}),
			want: rendezvous{Type: rvCancel, Cookie: rvCookie, Cap: aimCap(0x1343),
				CapName: "send_file", Feature: event.FileTransfer, PeerProto: "oft"},
		},
		{
			name: "accept",
			in:   buildRendezvous(rvAccept, rvCookie, aimCap(0x1343)),
			want: rendezvous{Type: rvAccept, Cookie: rvCookie, Cap: aimCap(0x1343),
				CapName: "send_file", Feature: event.FileTransfer, PeerProto: "oft"},
		},
		{
			name: "games variant 2 with service data",
			in:   buildRendezvous(rvPropose, rvCookie, capGames2, rvTLV{rvTLVServiceData, games}),
			want: rendezvous{Type: rvPropose, Cookie: rvCookie, Cap: capGames2,
				CapName: "games2", Feature: event.Games, ServiceData: games},
		},
		{
			name: "unknown capability",
			in:   buildRendezvous(rvPropose, rvCookie, [16]byte{1, 2, 3}, rvPort(1)),
			want: rendezvous{Type: rvPropose, Cookie: rvCookie, Cap: [16]byte{1, 2, 3}, Port: 1},
		},
		{
			name: "first repeated tlv wins, wrong sizes ignored",
			in: buildRendezvous(rvPropose, rvCookie, aimCap(0x1345),
				rvTLV{rvTLVInternalIP, []byte{1, 2, 3}}, rvIP(rvTLVInternalIP, "10.1.1.1"),
				rvIP(rvTLVInternalIP, "10.2.2.2"), rvTLV{rvTLVPort, []byte{1}}, rvPort(7), rvPort(8)),
			want: rendezvous{Type: rvPropose, Cookie: rvCookie, Cap: aimCap(0x1345),
				CapName: "direct_im", Feature: event.DirectIM, PeerProto: "odc",
				InternalIP: netip.MustParseAddr("10.1.1.1"), Port: 7},
		},
		{
			name: "latin-1 file name and ucs-2 message",
			in: buildRendezvous(rvPropose, rvCookie, aimCap(0x1343),
				rvTLV{rvTLVMessage, []byte{0x00, 'h', 0x00, 0xE9, 0x00, 0x07}},
				rvTLV{rvTLVCharset, []byte("unicode-2-0")},
				rvTLV{rvTLVServiceData, rvSendFileData(2, 3, 99, "caf\xe9\x01.txt")}),
			want: rendezvous{Type: rvPropose, Cookie: rvCookie, Cap: aimCap(0x1343),
				CapName: "send_file", Feature: event.FileTransfer, PeerProto: "oft",
				FileName: `café\x01.txt`, FileSize: 99, FileCount: 3, Message: `hé\x07`,
				ServiceData: rvSendFileData(2, 3, 99, "caf\xe9\x01.txt")},
		},
		{
			name: "file name without NUL",
			in: buildRendezvous(rvPropose, rvCookie, aimCap(0x1343),
				rvTLV{rvTLVServiceData, []byte{0, 1, 0, 1, 0, 0, 0, 5, 'a', '.', 'b'}}),
			want: rendezvous{Type: rvPropose, Cookie: rvCookie, Cap: aimCap(0x1343),
				CapName: "send_file", Feature: event.FileTransfer, PeerProto: "oft",
				FileName: "a.b", FileSize: 5, FileCount: 1,
				ServiceData: []byte{0, 1, 0, 1, 0, 0, 0, 5, 'a', '.', 'b'}},
		},
		{
			name: "short send-file service data",
			in: buildRendezvous(rvPropose, rvCookie, aimCap(0x1343),
				rvPort(9), rvTLV{rvTLVServiceData, []byte{0, 1, 0}}),
			want: rendezvous{Type: rvPropose, Cookie: rvCookie, Cap: aimCap(0x1343),
				CapName: "send_file", Feature: event.FileTransfer, PeerProto: "oft",
				Port: 9, ServiceData: []byte{0, 1, 0}},
			err: ErrRendezvousServiceData,
		},
		{
			name: "unknown type still parsed",
			in:   buildRendezvous(7, rvCookie, aimCap(0x1345), rvPort(4443)),
			want: rendezvous{Type: 7, Cookie: rvCookie, Cap: aimCap(0x1345),
				CapName: "direct_im", Feature: event.DirectIM, PeerProto: "odc", Port: 4443},
			err: ErrRendezvousType,
		},
		{
			name: "tlv length past end",
			in:   append(buildRendezvous(rvPropose, rvCookie, aimCap(0x1345), rvPort(4443)), 0x00, 0x03, 0x00, 0x09, 1),
			want: rendezvous{Type: rvPropose, Cookie: rvCookie, Cap: aimCap(0x1345),
				CapName: "direct_im", Feature: event.DirectIM, PeerProto: "odc", Port: 4443},
			err: ErrRendezvousTruncated,
		},
		{
			name: "short header",
			in:   make([]byte, 25),
			err:  ErrRendezvousShort,
		},
		{
			name: "empty",
			err:  ErrRendezvousShort,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRendezvous(tt.in)
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			rvCompare(t, got, tt.want)
		})
	}
}

// rvCompare fails t unless got equals want field by field.
func rvCompare(t *testing.T, got, want rendezvous) {
	t.Helper()
	if !bytes.Equal(got.ServiceData, want.ServiceData) {
		t.Errorf("ServiceData = %q, want %q", got.ServiceData, want.ServiceData)
	}
	got.ServiceData, want.ServiceData = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// rvFinchSendFile is the value of ICBM TLV 0x0005 in frame 571 of
// /work/shared/pcaps/oscar/lab__aim-finch-retroaimserver.pcap (SNAC
// 0004/0007 to bob: alice offers gift.bin through finch/libpurple). The
// server did not add TLV 0x0004; the proposer's address is in 0x0002 and
// 0x0003. Checked by hand against the hex shown by tshark -x.
const rvFinchSendFile = "00003231313830363900094613434c7f11d18222444553540000" +
	"000200040a4e0001000300040a4e0001000500021447000a00020001000f0000" +
	"2711001100010001000493e0676966742e62696e00"

func TestParseRendezvousReal(t *testing.T) {
	in, err := hex.DecodeString(rvFinchSendFile)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseRendezvous(in)
	if err != nil {
		t.Fatal(err)
	}
	rvCompare(t, got, rendezvous{
		Type: rvPropose, Cookie: [8]byte{'2', '1', '1', '8', '0', '6', '9', 0}, Cap: aimCap(0x1343),
		CapName: "send_file", Feature: event.FileTransfer, PeerProto: "oft",
		InternalIP: netip.MustParseAddr("10.78.0.1"), VerifiedIP: netip.MustParseAddr("10.78.0.1"),
		Port: 5191, FileName: "gift.bin", FileSize: 300000, FileCount: 1,
		ServiceData: in[len(in)-17:],
	})
}

func TestParseRendezvousAliases(t *testing.T) {
	in := rvSendFileProposal()
	r, err := parseRendezvous(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.ServiceData) == 0 || &r.ServiceData[0] != &in[len(in)-len(r.ServiceData)] {
		t.Fatal("ServiceData does not alias the input's last TLV")
	}
}

// TestParseRendezvousTruncated cuts a full proposal at every byte: below the
// header the error is ErrRendezvousShort and the result zero; at a TLV
// boundary there is no error; elsewhere ErrRendezvousTruncated. Every field
// of a partial result is either unset or equal to the full parse.
func TestParseRendezvousTruncated(t *testing.T) {
	full := rvSendFileProposal()
	want, err := parseRendezvous(full)
	if err != nil {
		t.Fatal(err)
	}
	boundary := map[int]bool{rvHeaderLen: true}
	for off := rvHeaderLen; off+4 <= len(full); {
		off += 4 + int(binary.BigEndian.Uint16(full[off+2:]))
		boundary[off] = true
	}
	for i := 0; i < len(full); i++ {
		got, err := parseRendezvous(full[:i])
		switch {
		case i < rvHeaderLen:
			if err != ErrRendezvousShort || !reflect.DeepEqual(got, rendezvous{}) {
				t.Fatalf("cut %d: %v %+v, want ErrRendezvousShort and zero", i, err, got)
			}
			continue
		case boundary[i]:
			if err != nil {
				t.Fatalf("cut %d at a TLV boundary: %v", i, err)
			}
		default:
			if err != ErrRendezvousTruncated {
				t.Fatalf("cut %d: err = %v, want ErrRendezvousTruncated", i, err)
			}
		}
		if got.Type != want.Type || got.Cookie != want.Cookie || got.Cap != want.Cap || got.CapName != want.CapName {
			t.Fatalf("cut %d: header %+v", i, got)
		}
		for _, f := range []struct {
			name      string
			set, same bool
		}{
			{"InternalIP", got.InternalIP.IsValid(), got.InternalIP == want.InternalIP},
			{"ExternalIP", got.ExternalIP.IsValid(), got.ExternalIP == want.ExternalIP},
			{"VerifiedIP", got.VerifiedIP.IsValid(), got.VerifiedIP == want.VerifiedIP},
			{"Port", got.Port != 0, got.Port == want.Port},
			{"Message", got.Message != "", got.Message == want.Message},
			{"FileName", got.FileName != "", got.FileName == want.FileName},
			{"FileSize", got.FileSize != 0, got.FileSize == want.FileSize},
			{"ServiceData", got.ServiceData != nil, bytes.Equal(got.ServiceData, want.ServiceData)},
		} {
			if f.set && !f.same {
				t.Fatalf("cut %d: partial %s differs from the full parse", i, f.name)
			}
		}
	}
}

func TestRvDecodeText(t *testing.T) {
	tests := []struct {
		in, charset string
		max         int
		want        string
	}{
		{"hello", "", 100, "hello"},
		{"h\xc3\xa9", "", 100, "hé"},            // valid UTF-8 kept
		{"h\xe9", "", 100, "hé"},                // invalid UTF-8 read as Latin-1
		{"h\xe9", "utf-8", 100, `h\xe9`},        // declared UTF-8: invalid escaped
		{"h\xc3\xa9", "ISO-8859-1", 100, "hÃ©"}, // declared Latin-1
		{"a\x00b\x1b\x7f\x85", "", 100, `a\x00b\x1b\x7f\x85`},
		{"\x00a\xd8\x00\x00", "unicode-2-0", 100, `a\xd8\x00\x00`}, // lone surrogate and odd byte
		{"abcdef", "", 3, "abc"},
		{"ab\xc3\xa9", "", 3, "ab"},       // cut inside a rune: backs off, stays UTF-8
		{"\xe9\xe9\xe9\xe9", "", 2, "éé"}, // Latin-1 cut is exact
		{"\x00a\x00b\x00c", "unicode-2-0", 4, "ab"},
		{"a\tb", `"us-ascii"`, 100, "a\tb"},
		{"", "", 100, ""},
	}
	for _, tt := range tests {
		if got := rvDecodeText([]byte(tt.in), []byte(tt.charset), tt.max); got != tt.want {
			t.Errorf("rvDecodeText(%q, %q) = %q, want %q", tt.in, tt.charset, got, tt.want)
		}
	}
}

func TestBuildICBMCh2(t *testing.T) {
	rv := buildRendezvous(rvPropose, rvCookie, aimCap(0x1345), rvPort(4443))
	for _, sub := range []uint16{6, 7} {
		b := buildICBMCh2(sub, rvCookie, "alice", rv)
		if binary.BigEndian.Uint16(b[0:]) != 4 || binary.BigEndian.Uint16(b[2:]) != sub {
			t.Fatalf("subtype %d: bad SNAC header % x", sub, b[:10])
		}
		if !bytes.HasSuffix(b, rv) || binary.BigEndian.Uint16(b[len(b)-len(rv)-2:]) != uint16(len(rv)) {
			t.Fatalf("subtype %d: TLV 0x0005 not at the end", sub)
		}
		if _, err := parseRendezvous(b[len(b)-len(rv):]); err != nil {
			t.Fatal(err)
		}
	}
}

func TestParseRendezvousAllocs(t *testing.T) {
	// Without message or file name no string is built: nothing allocates.
	in := buildRendezvous(rvPropose, rvCookie, aimCap(0x1345),
		rvIP(rvTLVInternalIP, "192.168.1.2"), rvIP(rvTLVExternalIP, "203.0.113.9"), rvPort(4443))
	if n := testing.AllocsPerRun(100, func() { _, _ = parseRendezvous(in) }); n != 0 {
		t.Fatalf("parseRendezvous allocates %v times, want 0", n)
	}
}

func FuzzRendezvous(f *testing.F) {
	// The real finch send-file proposal (TestParseRendezvousReal).
	if real, err := hex.DecodeString(rvFinchSendFile); err == nil {
		f.Add(real)
	}
	// A full send-file proposal (every TLV kind we decode).
	f.Add(rvSendFileProposal())
	// A proxied direct IM proposal.
	f.Add(buildRendezvous(rvPropose, rvCookie, aimCap(0x1345), rvIP(rvTLVProxyIP, "64.12.26.1"), rvTLV{rvTLVUseProxy, nil}))
	// A UCS-2 invitation on a games request.
	f.Add(buildRendezvous(rvPropose, rvCookie, capGames2, rvTLV{rvTLVMessage, []byte{0, 'x', 0xD8}}, rvTLV{rvTLVCharset, []byte("unicode-2-0")}))
	// A cancel with a reason.
	f.Add(buildRendezvous(rvCancel, rvCookie, aimCap(0x1343), rvTLV{0x000B, []byte{0, 1}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRendezvous(b)
		if len(b) < rvHeaderLen {
			if err != ErrRendezvousShort {
				t.Fatalf("short input: err %v", err)
			}
			return
		}
		if len(r.ServiceData) > len(b) || len(r.FileName) > 4*rvMaxFileName || len(r.Message) > 4*rvMaxMessage {
			t.Fatalf("unbounded result: %d %d %d", len(r.ServiceData), len(r.FileName), len(r.Message))
		}
		if fired, detail := exploitCheck(&r, exploitMaxLen, exploitRunLen); fired && detail == "" {
			t.Fatal("exploit fired without detail")
		}
	})
}

func BenchmarkParseRendezvous(b *testing.B) {
	for _, bm := range []struct {
		name string
		in   []byte
	}{
		{"direct_im", buildRendezvous(rvPropose, rvCookie, aimCap(0x1345),
			rvIP(rvTLVInternalIP, "192.168.1.2"), rvIP(rvTLVExternalIP, "203.0.113.9"), rvPort(4443))},
		{"send_file", rvSendFileProposal()},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bm.in)))
			for b.Loop() {
				_, _ = parseRendezvous(bm.in)
			}
		})
	}
}
