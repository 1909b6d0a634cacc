package oscar

import (
	"crypto/md5"
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

// Builders of wire messages from aim-oscar.md and icq.md, used by the
// synthetic captures and the unit tests.

func tlv(typ uint16, v []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// seqs holds each direction's FLAP sequence number.
type seqs [2]uint16

func (s *seqs) flap(dir int, ch uint8, payload []byte) []byte {
	s[dir]++
	b := []byte{flapStart, ch}
	b = binary.BigEndian.AppendUint16(b, s[dir])
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	return append(b, payload...)
}

func snacBytes(fam, sub uint16, body []byte) []byte {
	return cat(u16(fam), u16(sub), u16(0), u32(uint32(fam)<<16|uint32(sub)), body)
}

func (s *seqs) snac(dir int, fam, sub uint16, body []byte) []byte {
	return s.flap(dir, chanData, snacBytes(fam, sub, body))
}

func roast(pw string) []byte {
	out := []byte(pw)
	for i := range out {
		out[i] ^= roastKeys[0][i%16]
	}
	return out
}

func sn(name string) []byte { return append([]byte{byte(len(name))}, name...) }

var icbmCookie = []byte("CKIE1234")

// imOut is a 04/06 channel-1 message to peer.
func imOut(peer string, cs uint16, text []byte) []byte {
	frag := cat([]byte{0x05, 0x01}, u16(3), []byte{1, 1, 2}, []byte{0x01, 0x01}, u16(uint16(4+len(text))), u16(cs), u16(0), text)
	return snacBytes(4, 6, cat(icbmCookie, u16(1), sn(peer), tlv(2, frag), tlv(3, nil)))
}

// incoming wraps message TLVs into a 04/07 from peer with a user-info block.
func incoming(peer string, channel uint16, tlvs []byte) []byte {
	return snacBytes(4, 7, cat(icbmCookie, u16(channel), sn(peer), u16(0), u16(1), tlv(1, u16(0x10)), tlvs))
}

// rvData is a rendezvous block (§4).
func rvData(typ uint16, cp [16]byte, inner []byte) []byte {
	return cat(u16(typ), icbmCookie, cp[:], inner)
}

var cookie = func() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}()

var t0 = time.Date(2002, 1, 15, 10, 0, 0, 0, time.UTC)

// XOR login of an ICQ client (icq.md §2.1), its channel-4 reply with a BOS
// redirect, then the BOS connection opened with the cookie alone.
func buildXOR() []byte {
	w := pcaptest.NewWriter()
	cli := netip.MustParseAddr("192.168.1.20")
	var s seqs
	c := w.TCP(t0, netip.AddrPortFrom(cli, 40000), netip.MustParseAddrPort("198.51.100.10:5190"))
	c.Handshake()
	c.Send(1, s.flap(1, chanSignon, u32(1)))
	c.Send(0, s.flap(0, chanSignon, cat(u32(1), tlv(1, []byte("12345678")), tlv(2, roast("s3cret99")),
		tlv(3, []byte("ICQ Inc. - Product of ICQ (TM) 2000b.4.65.1.3281.85")), tlv(0x16, u16(0x010A)), tlv(0x0F, []byte("en")), tlv(0x0E, []byte("us")))))
	c.Send(1, s.flap(1, chanSignoff, cat(tlv(1, []byte("12345678")), tlv(5, []byte("198.51.100.20:5190")), tlv(6, cookie))))
	c.Close()

	s = seqs{}
	b := w.TCP(c.T.Add(time.Second), netip.AddrPortFrom(cli, 40001), netip.MustParseAddrPort("198.51.100.20:5190"))
	b.Handshake()
	b.Send(1, s.flap(1, chanSignon, u32(1)))
	b.Send(0, s.flap(0, chanSignon, cat(u32(1), tlv(6, cookie))))
	b.Send(1, s.snac(1, 1, 3, cat(u16(1), u16(2), u16(3), u16(4), u16(0x15))))
	b.Send(0, s.snac(0, 1, 0x17, cat(u16(1), u16(3), u16(0x15), u16(1))))
	dc := cat([]byte{192, 168, 7, 9}, u32(1035), make([]byte, 29))
	b.Send(1, s.snac(1, 3, 0x0B, cat(sn("87654321"), u16(0), u16(2), tlv(0x0A, []byte{203, 0, 113, 5}), tlv(0x0C, dc))))
	b.Send(0, s.flap(0, chanData, imOut("87654321", charsetASCII, []byte("hello bob"))))
	icq := cat(binary.LittleEndian.AppendUint32(nil, 87654321), []byte{0x04, 0x00}, binary.LittleEndian.AppendUint16(nil, 29), []byte("see this\xfehttp://example.com/\x00"))
	b.Send(1, s.flap(1, chanData, incoming("87654321", 4, tlv(5, icq))))
	b.Send(0, s.flap(0, chanSignoff, nil))
	b.Close()
	return w.Bytes()
}

// MD5 login of an AIM client (aim-oscar.md §2.1) whose first attempt fails
// with a wrong password; the BOS it is sent to listens on 443. On BOS:
// typing, a UCS-2 message, away, and a file offer the peer accepts.
func buildMD5() []byte {
	w := pcaptest.NewWriter()
	cli := netip.MustParseAddr("192.168.1.30")
	login := netip.MustParseAddrPort("198.51.100.10:5190")
	key := "3141592653"
	client := []byte("AOL Instant Messenger (SM), version 4.8.2540/WIN32")
	attempt := func(port uint16, pw string, reply []byte, at time.Time) *pcaptest.Conv {
		var s seqs
		c := w.TCP(at, netip.AddrPortFrom(cli, port), login)
		c.Handshake()
		c.Send(1, s.flap(1, chanSignon, u32(1)))
		c.Send(0, s.flap(0, chanSignon, u32(1)))
		c.Send(0, s.snac(0, 0x17, 6, tlv(1, []byte("alice"))))
		c.Send(1, s.snac(1, 0x17, 7, cat(u16(uint16(len(key))), []byte(key))))
		sum := md5.Sum([]byte(key + pw + "AOL Instant Messenger (SM)"))
		c.Send(0, s.snac(0, 0x17, 2, cat(tlv(1, []byte("alice")), tlv(0x25, sum[:]), tlv(3, client), tlv(0x4A, []byte{1}))))
		c.Send(1, s.snac(1, 0x17, 3, reply))
		c.Close()
		return c
	}
	c := attempt(40100, "wrong", cat(tlv(1, []byte("alice")), tlv(8, u16(5)), tlv(4, []byte("http://www.aim.aol.com/errors/MISMATCH_PASSWD.html"))), t0)
	c = attempt(40101, "hunter2", cat(tlv(1, []byte("Alice")), tlv(5, []byte("198.51.100.30:443")), tlv(6, cookie), tlv(0x11, []byte("alice@example.com"))), c.T.Add(time.Second))

	var s seqs
	b := w.TCP(c.T.Add(time.Second), netip.AddrPortFrom(cli, 40102), netip.MustParseAddrPort("198.51.100.30:443"))
	b.Handshake()
	b.Send(1, s.flap(1, chanSignon, u32(1)))
	b.Send(0, s.flap(0, chanSignon, cat(u32(1), tlv(6, cookie))))
	b.Send(1, s.snac(1, 1, 3, cat(u16(1), u16(2), u16(3), u16(4))))
	b.Send(1, s.snac(1, 3, 0x0B, cat(sn("bob"), u16(0), u16(1), tlv(1, u16(0x10)))))
	b.Send(0, s.snac(0, 4, 0x14, cat(icbmCookie, u16(1), sn("bob"), u16(2))))
	b.Send(0, s.flap(0, chanData, imOut("bob", charsetUCS2BE, []byte("\x00<\x00B\x00>\x00h\x00\xe9\x00l\x00l\x00o\x00<\x00/\x00B\x00>"))))
	b.Send(1, s.flap(1, chanData, incoming("bob", 1, tlv(2, cat([]byte{5, 1}, u16(1), []byte{1}, []byte{1, 1}, u16(4+14), u16(charsetLatin1), u16(0),
		[]byte("<HTML>caf\xe9 &amp; tea</HTML>")[:14])))))
	b.Send(0, s.snac(0, 2, 4, tlv(4, []byte("out to lunch"))))
	sendFile := cat(u16(1), u16(1), u32(1048576), []byte("report.pdf\x00"))
	rv := rvData(0, aimCap(0x1343), cat(tlv(0x0A, u16(1)), tlv(2, []byte{203, 0, 113, 30}), tlv(3, []byte{192, 168, 1, 30}),
		tlv(4, []byte{203, 0, 113, 30}), tlv(5, u16(5190)), tlv(0x0F, nil), tlv(0x2711, sendFile)))
	b.Send(0, s.flap(0, chanData, snacBytes(4, 6, cat(icbmCookie, u16(2), sn("bob"), tlv(5, rv), tlv(3, nil)))))
	b.Send(1, s.flap(1, chanData, incoming("bob", 2, tlv(5, rvData(2, aimCap(0x1343), nil)))))
	b.Send(1, s.snac(1, 3, 0x0C, cat(sn("bob"), u16(0), u16(0))))
	b.Send(0, s.flap(0, chanSignoff, nil))
	b.Close()
	return w.Bytes()
}

// gameRequest is an incoming Games proposal whose service data is 600
// bytes of NOP sled (aim-oscar.md §9.1).
func gameRequest() []byte {
	sled := make([]byte, 600)
	for i := range sled {
		sled[i] = 0x90
	}
	rv := rvData(0, aimCap(0x134A), cat(tlv(0x0A, u16(1)), tlv(3, []byte{10, 0, 0, 7}), tlv(5, u16(4000)), tlv(0x2711, sled)))
	return incoming("mallory", 2, tlv(5, rv))
}

// A BOS session that receives an oversized game request.
func buildGame() []byte {
	w := pcaptest.NewWriter()
	var s seqs
	b := w.TCP(t0, netip.MustParseAddrPort("192.168.1.40:40200"), netip.MustParseAddrPort("198.51.100.20:5190"))
	b.Handshake()
	b.Send(1, s.flap(1, chanSignon, u32(1)))
	b.Send(0, s.flap(0, chanSignon, cat(u32(1), tlv(1, []byte("victim")), tlv(6, cookie))))
	b.Send(1, s.snac(1, 1, 3, cat(u16(1), u16(4))))
	b.Send(1, s.flap(1, chanData, gameRequest()))
	b.Close()
	return w.Bytes()
}

func TestCaptures(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "synthetic-xor-login.pcap"), buildXOR())
	golden.Check(t, filepath.Join("testdata", "synthetic-md5-bos.pcap"), buildMD5())
	golden.Check(t, filepath.Join("testdata", "synthetic-game-exploit.pcap"), buildGame())
}
