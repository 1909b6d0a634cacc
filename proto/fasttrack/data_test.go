package fasttrack

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

// Synthetic messages built byte for byte from ../shared/specs/fasttrack.md
// (giFT-FastTrack PROTOCOL and fst_udp_discover.c).

// ping is a 0x27 node ping: type, minimum encryption type 0x29, 0x80, name.
func ping(network string) []byte {
	return append([]byte{0x27, 0, 0, 0, 0x29, 0x80}, network+"\x00"...)
}

// pong is a 0x28 node pong: type, enc type, 00, ?, ?(2), load, ?, name.
func pong(network string, load byte) []byte {
	return append([]byte{0x28, 0, 0, 0, 0x29, 0x00, 0x07, 0x00, 0x00, load, 0x00}, network+"\x00"...)
}

// pong2 is a 0x29 reply; with open, it carries the sender's address.
func pong2(open bool, addr netip.AddrPort) []byte {
	b := []byte{0x29, 0, 0, 0, 0x29, 0x01, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef}
	if open {
		b[6] = 1
		a := addr.Addr().As4()
		b = append(b, a[:]...)
		b = binary.BigEndian.AppendUint16(b, addr.Port())
		b = append(b, 0x00, 0x02)
	}
	return b
}

// prng is a xorshift generator: reproducible "encrypted" bytes.
type prng uint64

func (p *prng) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		x := uint64(*p)
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		*p = prng(x)
		b[i] = byte(x >> 32)
	}
	return b
}

// testHash is the 20-byte FastTrack hash of the synthetic download.
var testHash = []byte("\x8e\x0c\xda\x92\xda\x56\x44\x48\xda\x5e\xc5\x07\x0f\x32\x31\x90\x7a\xba\xc2\xa6")

// mp3 is the synthetic file: an ID3v2 header and filler.
var mp3 = append([]byte("ID3\x03\x00\x00\x00\x00\x0f\x76"), []byte(strings.Repeat("\xff\xfb\x90\x64 frame ", 300))...)

// hashRequest is a KaZaA 2.0 download by hash with every request header.
var hashRequest = "GET /.hash=8e0cda92da564448da5ec5070f3231907abac2a6 HTTP/1.1\r\n" +
	"Host: 198.51.100.9:2001\r\n" +
	"UserAgent: KazaaClient Jan 29 2002 18:51:10\r\n" +
	"X-Kazaa-Username: alice2002\r\n" +
	"X-Kazaa-Network: KaZaA\r\n" +
	"X-Kazaa-IP: 192.168.1.20:1214\r\n" +
	"X-Kazaa-SupernodeIP: 203.0.113.5:1214\r\n" +
	"X-Kazaa-XferId: 2736198\r\n" +
	"X-Kazaa-XferUid: QmFzZTY0VWlk\r\n" +
	"Connection: close\r\n" +
	"Range: bytes=0-\r\n\r\n"

// hashResponse answers hashRequest with the whole file and its tags.
func hashResponse() string {
	return "HTTP/1.1 200 OK\r\n" +
		"Server: KazaaClient Jan 29 2002 18:51:10\r\n" +
		"Accept-Ranges: bytes\r\n" +
		"Content-Type: audio/mpeg\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n", len(mp3)) +
		"X-Kazaa-Username: bob_shares\r\n" +
		"X-Kazaa-Network: KaZaA\r\n" +
		"X-Kazaa-IP: 10.0.0.7:1214\r\n" +
		"X-Kazaa-SupernodeIP: 203.0.113.99:1214\r\n" +
		"X-KazaaTag: 3==" + base64.StdEncoding.EncodeToString(testHash) + "\r\n" +
		"X-KazaaTag: 4=Song Title\r\n" +
		"X-KazaaTag: 6=Some Artist\r\n" +
		"X-KazaaTag: 8=Album 2002\r\n" +
		"X-KazaaTag: 14=Pop\r\n" +
		"X-KazaaTag: 21=128\r\n" +
		"X-KazaaTag: 26=ripped by bob\r\n\r\n"
}

// giveRequest is the requester's GET on a push connection (index form).
var giveRequest = "GET /13609/Some%20Artist%20-%20Song.mp3 HTTP/1.1\r\n" +
	"Host: 192.168.1.20:1214\r\n" +
	"UserAgent: Grokster 1.3\r\n" +
	"X-Kazaa-Username: carol\r\n" +
	"X-Kazaa-Network: Grokster\r\n\r\n"

// giveResponse is the uploader's answer: a partial range of a Windows
// executable named as a song (magic mismatch).
var giveFile = append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), make([]byte, 2000)...)

func giveResponse() string {
	return "HTTP/1.1 206 Partial Content\r\n" +
		"Server: Grokster 1.3\r\n" +
		fmt.Sprintf("Content-Range: bytes 0-%d/%d\r\n", len(giveFile)-1, 3*len(giveFile)) +
		fmt.Sprintf("Content-Length: %d\r\n", len(giveFile)) +
		"X-Kazaa-Username: dave\r\n" +
		"X-Kazaa-Network: Grokster\r\n\r\n"
}

// writeSession writes an encrypted supernode session: the 12-byte client
// opening, the 8-byte server opening, then encrypted network names and
// messages (random-looking bytes: only their sizes follow the spec).
func writeSession(w *pcaptest.Writer, t0 time.Time, orig, resp netip.AddrPort, seed prng) *pcaptest.Conv {
	c := w.TCP(t0, orig, resp)
	c.Handshake()
	r := seed
	c.Send(0, append([]byte{0xfa, 0x00, 0xb6, 0x2b}, r.bytes(8)...)) // giFT's constant rand
	c.Send(1, r.bytes(8))
	c.Send(1, r.bytes(6))   // "KaZaA\0", encrypted
	c.Send(0, r.bytes(6))   // the client's network name
	c.Send(1, r.bytes(300)) // 0x4B packets: supernode list, network stats...
	c.Send(0, r.bytes(120)) // user info, shares
	c.Close()
	return c
}

// Hosts of the synthetic captures.
var (
	client    = netip.MustParseAddrPort("192.168.1.20:3456")
	supernode = netip.MustParseAddrPort("203.0.113.5:1214")
	uploader  = netip.MustParseAddrPort("198.51.100.9:2001")
)

// buildCapture writes fasttrack.pcap: UDP discovery, the encrypted session
// to the supernode that answered (corroborated by the discovery), a KaZaA
// HTTP download on a random port, a GIVE push download, and a plain HTTP
// request on port 1214 that must stay http.
func buildCapture() []byte {
	w := pcaptest.NewWriter()
	t0 := time.Date(2002, 2, 20, 21, 0, 0, 0, time.UTC)
	udpClient := netip.AddrPortFrom(client.Addr(), 1214)
	w.UDP(t0, udpClient, supernode, ping("KaZaA"))
	w.UDP(t0.Add(40*time.Millisecond), supernode, udpClient, pong("KaZaA", 42))
	other := netip.MustParseAddrPort("203.0.113.6:1214")
	w.UDP(t0.Add(50*time.Millisecond), udpClient, other, ping("KaZaA"))
	w.UDP(t0.Add(90*time.Millisecond), other, udpClient, pong2(true, netip.MustParseAddrPort("203.0.113.6:1214")))

	s := writeSession(w, t0.Add(time.Second), client, supernode, 0x1234567)

	h := w.TCP(s.T.Add(time.Second), netip.AddrPortFrom(client.Addr(), 3457), uploader)
	h.Handshake()
	h.Send(0, []byte(hashRequest))
	h.Send(1, append([]byte(hashResponse()), mp3...))
	h.Close()

	g := w.TCP(h.T.Add(time.Second), netip.MustParseAddrPort("198.51.100.10:4000"), netip.AddrPortFrom(client.Addr(), 1214))
	g.Handshake()
	g.Send(0, []byte("GIVE 4253679545\r\n"))
	g.Send(1, []byte(giveRequest))
	g.Send(0, append([]byte(giveResponse()), giveFile...))
	g.Close()

	p := w.TCP(g.T.Add(time.Second), netip.AddrPortFrom(client.Addr(), 3460), netip.MustParseAddrPort("198.51.100.20:1214"))
	p.Handshake()
	p.Send(0, []byte("GET /index.html HTTP/1.1\r\nHost: example.org\r\nUser-Agent: Mozilla/4.0\r\n\r\n"))
	p.Send(1, []byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
	p.Close()
	return w.Bytes()
}

// buildLoneSession writes fasttrack-session.pcap: an encrypted session
// whose hosts show nothing else of FastTrack, so it must stay unlabelled.
func buildLoneSession() []byte {
	w := pcaptest.NewWriter()
	t0 := time.Date(2002, 2, 20, 22, 0, 0, 0, time.UTC)
	writeSession(w, t0, netip.MustParseAddrPort("192.168.1.30:2222"), netip.MustParseAddrPort("203.0.113.77:1214"), 0x89abcdef)
	return w.Bytes()
}
