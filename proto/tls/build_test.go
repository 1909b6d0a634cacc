package tls

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

// This file builds TLS messages byte for byte from RFC 8446 and RFC 5246
// for the unit tests and the synthetic capture.

func u16(v int) []byte { return []byte{byte(v >> 8), byte(v)} }

// vec prefixes b with its length in n bytes.
func vec(n int, b []byte) []byte {
	var h []byte
	switch n {
	case 1:
		h = []byte{byte(len(b))}
	case 2:
		h = u16(len(b))
	case 3:
		h = []byte{byte(len(b) >> 16), byte(len(b) >> 8), byte(len(b))}
	}
	return append(h, b...)
}

func ext(typ int, body []byte) []byte { return append(u16(typ), vec(2, body)...) }

// hsMsg wraps a handshake body in its header (type, 24-bit length).
func hsMsg(typ byte, body []byte) []byte { return append([]byte{typ}, vec(3, body)...) }

// record wraps a fragment in a record header.
func record(typ byte, ver uint16, frag []byte) []byte {
	h := []byte{typ, byte(ver >> 8), byte(ver)}
	return append(h, vec(2, frag)...)
}

type helloOpts struct {
	sni      string
	alpns    []string
	versions []uint16 // supported_versions; nil: absent
	sid      []byte
	noExts   bool
}

func random32(seed byte) []byte {
	r := make([]byte, 32)
	for i := range r {
		r[i] = seed + byte(i)*7
	}
	return r
}

// clientHelloBody builds a ClientHello body (RFC 8446 §4.1.2).
func clientHelloBody(o helloOpts) []byte {
	b := u16(0x0303)
	b = append(b, random32(1)...)
	b = append(b, vec(1, o.sid)...)
	b = append(b, vec(2, []byte{0x0a, 0x0a, 0x13, 0x01, 0xc0, 0x2b, 0xc0, 0x2f})...)
	b = append(b, vec(1, []byte{0})...)
	if o.noExts {
		return b
	}
	var exts []byte
	exts = append(exts, ext(0x0a0a, nil)...) // GREASE
	if o.sni != "" {
		exts = append(exts, ext(extServerName, vec(2, append([]byte{0}, vec(2, []byte(o.sni))...)))...)
	}
	exts = append(exts, ext(10, vec(2, u16(29)))...) // supported_groups: x25519
	if len(o.alpns) > 0 {
		var l []byte
		for _, a := range o.alpns {
			l = append(l, vec(1, []byte(a))...)
		}
		exts = append(exts, ext(extALPN, vec(2, l))...)
	}
	if o.versions != nil {
		var l []byte
		for _, v := range o.versions {
			l = append(l, u16(int(v))...)
		}
		exts = append(exts, ext(extSupportedVersions, vec(1, l))...)
	}
	return append(b, vec(2, exts)...)
}

// serverHelloBody builds a ServerHello body (RFC 8446 §4.1.3); selected
// != 0 adds supported_versions.
func serverHelloBody(cipher int, selected uint16, sid []byte, alpn string) []byte {
	b := u16(0x0303)
	b = append(b, random32(100)...)
	b = append(b, vec(1, sid)...)
	b = append(b, u16(cipher)...)
	b = append(b, 0)
	var exts []byte
	if selected != 0 {
		exts = append(exts, ext(extSupportedVersions, u16(int(selected)))...)
	}
	if alpn != "" {
		exts = append(exts, ext(extALPN, vec(2, vec(1, []byte(alpn))))...)
	}
	if len(exts) > 0 {
		b = append(b, vec(2, exts)...)
	}
	return b
}

// opaque returns n bytes standing for ciphertext.
func opaque(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed ^ byte(i*31)
	}
	return b
}

// imSession is a TLS 1.2 handshake from an MSN Messenger client to a
// messenger server name: ClientHello with the SNI, the server's flight
// (ServerHello, ServerHelloDone; no certificate), the client's key
// exchange, ChangeCipherSpec and Finished both ways, application data.
func imSession() [][2][]byte {
	sid := opaque(32, 9)
	ch := record(recHandshake, 0x0301, hsMsg(hsClientHello, clientHelloBody(helloOpts{sni: "db3msgr5011.msgr.hotmail.com"})))
	flight := record(recHandshake, 0x0303, append(hsMsg(hsServerHello, serverHelloBody(0xc02f, 0, sid, "")), hsMsg(hsServerHelloDone, nil)...))
	cke := record(recHandshake, 0x0303, hsMsg(16, vec(1, opaque(32, 3))))
	ccs := record(recChangeCipherSpec, 0x0303, []byte{1})
	fin := record(recHandshake, 0x0303, opaque(40, 5))
	app := record(recApplicationData, 0x0303, opaque(120, 7))
	return [][2][]byte{
		{{0}, ch},
		{{1}, flight},
		{{0}, append(append(cke, ccs...), fin...)},
		{{1}, append(ccs, fin...)},
		{{0}, app},
		{{1}, app},
	}
}

// tls13Session is a TLS 1.3 handshake whose ClientHello is split over two
// records (RFC 8446 §5.1 allows it), with an ALPN, and a server that picks
// TLS 1.3 and h2: everything after the ServerHello is encrypted.
func tls13Session() [][2][]byte {
	msg := hsMsg(hsClientHello, clientHelloBody(helloOpts{sni: "web.whatsapp.com", alpns: []string{"h2", "http/1.1"}, versions: []uint16{0x2a2a, verTLS13, verTLS12}, sid: opaque(32, 1)}))
	ch := append(record(recHandshake, 0x0301, msg[:60]), record(recHandshake, 0x0301, msg[60:])...)
	sh := record(recHandshake, 0x0303, hsMsg(hsServerHello, serverHelloBody(0x1301, verTLS13, opaque(32, 1), "")))
	ccs := record(recChangeCipherSpec, 0x0303, []byte{1})
	enc := record(recApplicationData, 0x0303, opaque(2100, 11))
	return [][2][]byte{
		{{0}, ch},
		{{1}, append(append(sh, ccs...), enc...)},
		{{0}, append(ccs, record(recApplicationData, 0x0303, opaque(53, 2))...)},
	}
}

// buildCapture writes testdata/tls-im-sni.pcap: the IM handshake on 443,
// the TLS 1.3 one on a port that is no hint (detection must not need it),
// and bytes that start like a TLS record on 443 but are not a ClientHello
// (must stay unclassified).
func buildCapture() []byte {
	w := pcaptest.NewWriter()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	conv := func(t time.Time, o, r string, msgs [][2][]byte) time.Time {
		c := w.TCP(t, netip.MustParseAddrPort(o), netip.MustParseAddrPort(r))
		c.Handshake()
		for _, m := range msgs {
			c.Send(int(m[0][0]), m[1])
		}
		c.Close()
		return c.T.Add(time.Second)
	}
	t := conv(t0, "192.168.1.10:50000", "198.51.100.20:443", imSession())
	t = conv(t, "192.168.1.10:50001", "198.51.100.21:4433", tls13Session())
	junk := append([]byte("\x16\x03\x01\x00\x40\x01\x00\x00\x3c"), opaque(60, 13)...)
	binary.BigEndian.PutUint16(junk[9:], 0x0505) // not an SSL/TLS legacy_version
	conv(t, "192.168.1.10:50002", "198.51.100.22:443", [][2][]byte{{{0}, junk}, {{1}, opaque(30, 4)}})
	return w.Bytes()
}
