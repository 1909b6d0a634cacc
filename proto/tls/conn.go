package tls

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// maxHandshake bounds one handshake message the analyzer reassembles: a
// certificate chain of a few certificates fits, the engine's 64 KiB
// per-direction buffer is not exceeded by much.
const maxHandshake = 64 << 10

// maxSANs bounds the DNS names kept from a certificate.
const maxSANs = 32

// side is the parse state of one direction.
type side struct {
	hs        []byte // handshake bytes of an incomplete message, across records
	skip      int    // bytes of an opaque record still to consume
	encrypted bool   // after ChangeCipherSpec: records are opaque
	lost      bool   // a gap or an oversized message: ignore the direction
}

// conn is the state of one TLS flow.
type conn struct {
	s       *analyzer.Session
	side    [2]side
	ch      clientHello
	sh      serverHello
	haveCH  bool
	haveSH  bool
	cert    map[string]any // the server certificate's fields; nil if none
	names   []string       // certificate CN and DNS SANs, for the host name lookup
	resumed bool
	emitted bool
}

func newConn(s *analyzer.Session) analyzer.Conn { return &conn{s: s} }

// Feed consumes whole records; handshake records are parsed, the others
// (and everything after ChangeCipherSpec) are skipped by length.
func (c *conn) Feed(dir flow.Dir, data []byte) (int, error) {
	sd := &c.side[dir&1]
	n := 0
	for n < len(data) {
		if sd.lost {
			return len(data), nil
		}
		if sd.skip > 0 {
			m := min(sd.skip, len(data)-n)
			sd.skip -= m
			n += m
			continue
		}
		if len(data)-n < 5 {
			return n, nil
		}
		// Record header: type(1) version(2) length(2), RFC 8446 §5.1.
		h := data[n : n+5]
		typ, l := h[0], int(h[3])<<8|int(h[4])
		if typ < recChangeCipherSpec || typ > recHeartbeat || h[1] != 3 || h[2] > 4 || l > maxRecord {
			return n, fmt.Errorf("%w: type %d version 0x%02x%02x length %d", ErrRecord, typ, h[1], h[2], l)
		}
		switch {
		case sd.encrypted || typ == recApplicationData || typ == recHeartbeat:
			sd.encrypted = true
			if dir&1 == flow.Resp {
				c.emit()
			}
			sd.skip = l
			n += 5
			continue
		case typ == recChangeCipherSpec:
			sd.encrypted = true
			sd.hs = sd.hs[:0]
			if dir&1 == flow.Resp {
				c.emit()
			}
			sd.skip = l
			n += 5
			continue
		}
		if len(data)-n < 5+l {
			return n, nil // wait for the whole record
		}
		body := data[n+5 : n+5+l]
		n += 5 + l
		var err error
		if typ == recAlert {
			c.alert(dir, body)
		} else {
			err = c.handshake(dir, sd, body)
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// alert reports a fatal alert (RFC 8446 §6: level(1) description(1)).
func (c *conn) alert(dir flow.Dir, b []byte) {
	if len(b) == 2 && b[0] == 2 {
		who := "client"
		if dir&1 == flow.Resp {
			who = "server"
		}
		c.s.Anomaly("tls_fatal_alert", who+" sent "+alertName(b[1]))
	}
}

// handshake parses the complete handshake messages of a record body,
// keeping an incomplete one for the next record.
func (c *conn) handshake(dir flow.Dir, sd *side, body []byte) error {
	b := body
	if len(sd.hs) > 0 {
		if len(sd.hs)+len(body) > maxHandshake+4 {
			return c.oversized(sd)
		}
		sd.hs = append(sd.hs, body...)
		b = sd.hs
	}
	for len(b) >= 4 {
		// Handshake header: msg_type(1) length(3), RFC 8446 §4.
		ml := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if ml > maxHandshake {
			return c.oversized(sd)
		}
		if len(b) < 4+ml {
			break
		}
		if err := c.message(dir, sd, b[0], b[4:4+ml]); err != nil {
			return err
		}
		b = b[4+ml:]
		if sd.encrypted {
			sd.hs = sd.hs[:0]
			return nil // the rest of the record is no longer plaintext
		}
	}
	if len(b) == 0 {
		sd.hs = sd.hs[:0]
		return nil
	}
	if len(sd.hs) > 0 {
		sd.hs = sd.hs[:copy(sd.hs, b)]
	} else {
		sd.hs = append(sd.hs, b...)
	}
	return nil
}

// oversized gives up on a direction whose handshake message exceeds the
// bound: it cannot be parsed, and the flow is labelled already if it can be.
func (c *conn) oversized(sd *side) error {
	c.s.Anomaly("tls_handshake_too_long", fmt.Sprintf("a handshake message over %d bytes", maxHandshake))
	sd.lost = true
	sd.hs = nil
	return nil
}

// message handles one handshake message.
func (c *conn) message(dir flow.Dir, sd *side, typ byte, b []byte) error {
	switch {
	case dir&1 == flow.Orig && typ == hsClientHello && !c.haveCH:
		ch, err := parseClientHello(b)
		if err != nil {
			return fmt.Errorf("client hello: %w", err)
		}
		c.ch, c.haveCH = ch, true
		c.ch.sessionID = append([]byte(nil), ch.sessionID...)
		c.s.Confirm()
		if ch.sni != "" {
			c.label(ch.sni)
		}
	case dir&1 == flow.Resp && typ == hsServerHello && !c.haveSH:
		sh, err := parseServerHello(b)
		if err != nil {
			return fmt.Errorf("server hello: %w", err)
		}
		c.sh, c.haveSH = sh, true
		c.sh.sessionID = nil
		if !c.haveCH {
			c.s.Confirm() // a capture that missed the client
		}
		v := sh.negotiated()
		c.resumed = c.haveCH && v < verTLS13 && len(sh.sessionID) > 0 && string(sh.sessionID) == string(c.ch.sessionID)
		if v >= verTLS13 {
			// TLS 1.3: everything after the ServerHello is encrypted.
			sd.encrypted = true
			c.emit()
		}
	case dir&1 == flow.Resp && typ == hsCertificate && c.cert == nil:
		c.certificate(b)
	case dir&1 == flow.Resp && typ == hsServerHelloDone:
		c.emit()
	}
	return nil
}

// certificate takes the names of the server's (first) certificate.
func (c *conn) certificate(b []byte) {
	der, err := firstCertificate(b)
	if err != nil || len(der) == 0 {
		if err != nil {
			c.s.Anomaly("tls_bad_certificate", err.Error())
		}
		return
	}
	x, err := parseCert(der)
	if err != nil {
		c.s.Anomaly("tls_bad_certificate", "certificate: "+err.Error())
		return
	}
	f := map[string]any{
		"subject":     x.subject,
		"issuerdn":    x.issuer,
		"serial":      x.serial,
		"notbefore":   x.notBefore,
		"notafter":    x.notAfter,
		"fingerprint": x.fingerprint,
	}
	c.names = append(c.names, x.names...)
	if len(x.sans) > 0 {
		f["subjectaltname"] = append([]string(nil), x.sans...)
	}
	c.cert = f
	if !c.haveCH || c.ch.sni == "" {
		for _, name := range c.names {
			if c.label(strings.TrimPrefix(name, "*.")) {
				break
			}
		}
	}
}

// label looks a host name up in the operator's list and, on a hit, names
// the flow's service with evidence SNI.
func (c *conn) label(name string) bool {
	e, ok := c.s.Options().Names().Lookup(name)
	if ok {
		c.s.Label(e.Service, e.Product, flow.EvSNI)
	}
	return ok
}

// emit reports the handshake once: after the server's first flight, or at
// the end of a flow whose handshake was cut short.
func (c *conn) emit() {
	if c.emitted || (!c.haveCH && !c.haveSH) {
		return
	}
	c.emitted = true
	f := map[string]any{}
	dir := flow.Orig
	if c.haveCH {
		if c.ch.sni != "" {
			f["sni"] = c.ch.sni
		}
		if len(c.ch.alpns) > 0 {
			f["client_alpns"] = c.ch.alpns
		}
		v := c.ch.version
		if c.ch.maxVersion != 0 {
			v = c.ch.maxVersion
		}
		f["client_handshake"] = map[string]any{"version": versionName(v)}
	}
	if c.haveSH {
		dir = flow.Resp
		v := c.sh.negotiated()
		f["version"] = versionName(v)
		f["server_handshake"] = map[string]any{"version": versionName(v), "cipher": int(c.sh.cipher)}
		if c.sh.alpn != "" {
			f["server_alpns"] = []string{c.sh.alpn}
		}
		if c.resumed {
			f["session_resumed"] = true
		}
	}
	for k, v := range c.cert {
		f[k] = v
	}
	c.s.Emit(event.Event{Kind: event.Detected, Dir: dir, Fields: f})
}

// Gap keeps skipping an opaque record across missing bytes; anywhere else
// the direction cannot be resynchronised and is ignored from then on.
func (c *conn) Gap(dir flow.Dir, size int) {
	sd := &c.side[dir&1]
	if sd.skip >= size {
		sd.skip -= size
		return
	}
	sd.lost = true
	sd.hs = nil
}

// End reports a handshake that never reached the server's flight.
func (c *conn) End(flow.EndReason) { c.emit() }

// attrNames are the short names of the distinguished-name attributes
// (RFC 4514 §3 and the ones OpenSSL prints).
var attrNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.4":                    "SN",
	"2.5.4.5":                    "serialNumber",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "street",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.12":                   "title",
	"2.5.4.15":                   "businessCategory",
	"2.5.4.17":                   "postalCode",
	"2.5.4.42":                   "GN",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
	"1.2.840.113549.1.9.1":       "emailAddress",
	"1.3.6.1.4.1.311.60.2.1.3":   "jurisdictionC",
}

// dn writes a distinguished name in the order of the certificate, as
// Suricata's tls.subject does ("C=US, O=Example, CN=example.com").
func dn(raw []byte) string {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &seq); err != nil || len(rest) != 0 {
		return ""
	}
	var b strings.Builder
	for _, rdn := range seq {
		for _, a := range rdn {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			name, ok := attrNames[a.Type.String()]
			if !ok {
				name = a.Type.String()
			}
			b.WriteString(name)
			b.WriteByte('=')
			fmt.Fprint(&b, a.Value)
		}
	}
	return b.String()
}

// hexColon writes b as hex bytes separated by colons.
func hexColon(b []byte, upper bool) string {
	digits := "0123456789abcdef"
	if upper {
		digits = "0123456789ABCDEF"
	}
	out := make([]byte, 0, 3*len(b))
	for i, x := range b {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, digits[x>>4], digits[x&15])
	}
	return string(out)
}
