package oscar

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// icqTypes names the ICQ message types of channel 4 (icq.md §2.2).
var icqTypes = map[uint8]string{
	0x01: "text", 0x04: "url", 0x06: "auth_request", 0x07: "auth_denied", 0x08: "auth_granted",
	0x0C: "added", 0x0E: "email_express", 0x13: "contacts", 0x1A: "plugin",
}

// icbm handles 04/06 (sent by the client) and 04/07 (received): cookie,
// channel, the peer's screen name, for 04/07 a counted user-info block,
// then the message TLVs (§3.1, §3.2).
func (c *conn) icbm(dir flow.Dir, sn snac) {
	b := sn.body
	if len(b) < 11 || len(b) < 11+int(b[10]) {
		c.s.Anomaly("oscar_bad_snac", "short ICBM header")
		return
	}
	channel := binary.BigEndian.Uint16(b[8:10])
	peer := printable(b[11:11+int(b[10])], 97)
	rest := b[11+int(b[10]):]
	incoming := sn.subtype == 0x0007
	if incoming {
		if len(rest) < 4 {
			c.s.Anomaly("oscar_bad_snac", "short ICBM user info")
			return
		}
		var err error
		rest, err = skipTLVCount(rest[4:], int(binary.BigEndian.Uint16(rest[2:4])), nil)
		if err != nil {
			c.s.Anomaly("oscar_bad_tlv", "ICBM user info: "+err.Error())
			return
		}
	}
	if isUIN(peer) && c.service == "" {
		// An AIM account cannot have a numeric name: talking to a UIN
		// over OSCAR is what ICQ clients do.
		c.setProduct(true)
	}
	var t tlvBlock
	if err := parseTLVs(rest, &t); err != nil {
		c.s.Anomaly("oscar_bad_tlv", "ICBM: "+err.Error())
	}
	from, to := c.user, peer
	if incoming {
		from, to = peer, c.user
	}
	switch channel {
	case 1:
		if v, ok := t.get(0x0002); ok {
			c.textIM(dir, from, to, peer, v)
		}
	case 2:
		if v, ok := t.get(0x0005); ok {
			c.rendezvous(dir, peer, v)
		}
	case 4:
		if v, ok := t.get(0x0005); ok {
			c.icqIM(dir, from, to, peer, v)
		}
	}
}

// textIM handles the channel-1 message fragments: 05 01 features, then
// one or more 01 01 len charset(2) subset(2) text (§3.3).
func (c *conn) textIM(dir flow.Dir, from, to, peer string, b []byte) {
	var text string
	length, parts := 0, 0
	cs := uint16(charsetASCII)
	for len(b) >= 4 {
		id, n := b[0], int(binary.BigEndian.Uint16(b[2:4]))
		if len(b) < 4+n {
			c.s.Anomaly("oscar_bad_tlv", "message fragment runs past its TLV")
			break
		}
		if id == 0x01 && n >= 4 {
			cs = binary.BigEndian.Uint16(b[4:6])
			part := b[8 : 4+n]
			length += len(part)
			parts++
			if len(text) < maxText {
				text += decodeText(part, cs)
			}
		}
		b = b[4+n:]
	}
	if parts == 0 {
		return
	}
	c.message(dir, from, to, peer, length, charsetName(cs), stripHTML(text), nil)
}

// message emits a message event; the text is kept only with --capture-content.
func (c *conn) message(dir flow.Dir, from, to, peer string, length int, charset, text string, fields map[string]any) {
	m := &event.MessageInfo{From: from, Length: length, Charset: charset}
	if to != "" {
		m.To = []string{to}
	}
	// Kept in memory for the content rules; the engine writes it only
	// with --capture-content.
	m.Text = text
	c.s.Emit(event.Event{Kind: event.Message, Dir: dir, Users: c.users(peer), Message: m, Fields: fields})
}

// icqIM handles a channel-4 ICQ message: UIN (LE), type, flags, length
// (LE) and text, fields separated by 0xFE (icq.md §2.2).
func (c *conn) icqIM(dir flow.Dir, from, to, peer string, b []byte) {
	c.setProduct(true)
	if len(b) < 8 {
		c.s.Anomaly("oscar_bad_tlv", "short ICQ channel-4 message")
		return
	}
	uin := binary.LittleEndian.Uint32(b[:4])
	typ := b[4]
	n := int(binary.LittleEndian.Uint16(b[6:8]))
	body := b[8:]
	if n > len(body) {
		c.s.Anomaly("oscar_bad_tlv", "ICQ message length runs past its TLV")
		n = len(body)
	}
	body = body[:n]
	for len(body) > 0 && body[len(body)-1] == 0 {
		body = body[:len(body)-1]
	}
	name, ok := icqTypes[typ]
	if !ok {
		name = "unknown"
	}
	sep := make([]byte, 0, min(len(body), maxText))
	for _, ch := range body[:min(len(body), maxText)] {
		if ch == 0xFE {
			ch = '\n'
		}
		sep = append(sep, ch)
	}
	c.message(dir, from, to, peer, len(body), "", decodeText(sep, charsetLatin1), map[string]any{"icq_type": name, "icq_uin": int64(uin)})
}

// rendezvous handles a channel-2 ICBM (§4): the proposal announces a peer
// connection; accept and cancel answer it.
func (c *conn) rendezvous(dir flow.Dir, peer string, b []byte) {
	r, err := parseRendezvous(b)
	if err != nil {
		c.s.Anomaly("oscar_bad_rendezvous", err.Error())
		if len(b) < rvHeaderLen {
			return
		}
	}
	opt := c.s.Options()
	maxLen := int(opt.Param("oscar", "game_data_max", exploitMaxLen))
	runLen := int(opt.Param("oscar", "game_data_nonprintable_run", exploitRunLen))
	if fired, detail := exploitCheck(&r, maxLen, runLen); fired {
		c.s.Emit(event.Event{Kind: event.Exploit, Dir: dir, Feature: r.Feature, Users: c.users(peer),
			Fields: map[string]any{"advisory": exploitAdvisory, "detail": detail, "capability": r.CapName}})
	}
	if r.Feature == event.ServerRelay {
		// An ICQ type-2 message relayed by the server: a message, not a
		// peer connection (icq.md §2.2). Its inner layout is only partly
		// documented, so the text is not decoded.
		c.setProduct(true)
		if r.Type == rvPropose {
			from, to := c.user, peer
			if dir == flow.Resp {
				from, to = peer, c.user
			}
			c.message(dir, from, to, peer, len(r.ServiceData), "", "", map[string]any{"icq_type": "relay"})
		}
		return
	}
	fields := map[string]any{"capability": r.CapName, "cookie": hex.EncodeToString(r.Cookie[:])}
	if r.CapName == "" {
		fields["capability"] = hex.EncodeToString(r.Cap[:])
	}
	users := c.users(peer)
	switch r.Type {
	case rvCancel, rvAccept:
		out := event.Accepted
		if r.Type == rvCancel {
			out = event.Cancelled
		}
		c.s.Emit(event.Event{Kind: event.Direct, Dir: dir, Feature: r.Feature, Users: users, Fields: fields,
			Direct: &event.DirectInfo{Addrs: []netip.AddrPort{}, Outcome: out}})
		return
	case rvPropose:
	default:
		return
	}
	addrs := rvAddrs(&r)
	if r.Proxy {
		fields["proxy"] = true
	}
	if r.Message != "" && c.s.Options().CaptureContent {
		fields["invitation"] = r.Message
	}
	e := event.Event{Kind: event.Direct, Dir: dir, Feature: r.Feature, Users: users, Fields: fields,
		Direct: &event.DirectInfo{Addrs: addrs, Outcome: event.Offered}}
	if r.FileName != "" || r.FileSize > 0 {
		e.File = &event.FileInfo{Name: r.FileName, Size: r.FileSize, Outcome: event.Offered}
	}
	c.s.Emit(e)
	if r.PeerProto == "" || len(addrs) == 0 {
		return
	}
	svc, prod := "aim", "AIM"
	if c.service == "icq" {
		svc, prod = "icq", "ICQ"
	}
	c.s.Expect(analyzer.Expectation{Addrs: addrs, Proto: r.PeerProto, Service: svc, Product: prod, Feature: r.Feature,
		Users: users, FileName: r.FileName, Reason: "oscar_rendezvous",
		Data: map[string]any{"cookie": hex.EncodeToString(r.Cookie[:]), "size": r.FileSize, "files": r.FileCount}})
}

// rvAddrs lists the distinct announced addresses with the port: internal
// (TLV 3), external (TLV 4), verified/proxy (TLV 2). A proxied proposal
// without a port is reached on the proxy's 5190.
func rvAddrs(r *rendezvous) []netip.AddrPort {
	port := r.Port
	if port == 0 && r.Proxy {
		port = 5190
	}
	addrs := []netip.AddrPort{}
	if port == 0 {
		return addrs
	}
	for _, a := range []netip.Addr{r.InternalIP, r.ExternalIP, r.VerifiedIP} {
		if !a.IsValid() || a.IsUnspecified() {
			continue
		}
		ap := netip.AddrPortFrom(a, port)
		dup := false
		for _, x := range addrs {
			dup = dup || x == ap
		}
		if !dup {
			addrs = append(addrs, ap)
		}
	}
	return addrs
}
