package eve

import (
	"net/netip"
	"strconv"

	"github.com/peerwatch/peerwatch/event"
)

// The peerwatch object is written by hand, byte for byte as encoding/json
// writes it with the struct tags of package event: fields in struct order,
// omitempty fields left out when zero (a nil pointer, an empty slice, an
// empty string, false, 0), json:"-" fields never written. Every member is
// written with a leading comma; openObject and closeObject turn the first
// comma into the opening brace, so no flag is needed.
// TestPeerwatchMatchesJSON and FuzzPeerwatch hold the property, and
// TestPeerwatchGeneratorCoversFields fails when a field is added to the
// event types without the generator (and so this encoder) knowing it.

// closeObject ends an object whose members, each written with a leading
// comma, start at start.
func closeObject(dst []byte, start int) []byte {
	if len(dst) == start {
		return append(dst, '{', '}')
	}
	dst[start] = '{'
	return append(dst, '}')
}

// appendStringField writes ,"key":"s" (key is the quoted key and colon).
func appendStringField(dst []byte, key, s string) []byte {
	dst = append(dst, key...)
	return appendString(dst, s)
}

// appendOmitString writes ,"key":"s" unless s is empty.
func appendOmitString(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	dst = append(dst, key...)
	return appendString(dst, s)
}

// appendPeerwatch writes the peerwatch object as encoding/json.Marshal
// writes *event.Peerwatch (p is not nil).
func appendPeerwatch(dst []byte, p *event.Peerwatch) []byte {
	start := len(dst)
	dst = appendOmitString(dst, `,"kind":`, string(p.Kind))
	dst = appendOmitString(dst, `,"service":`, p.Service)
	dst = appendOmitString(dst, `,"product":`, p.Product)
	dst = appendOmitString(dst, `,"category":`, string(p.Category))
	dst = appendOmitString(dst, `,"feature":`, string(p.Feature))
	if p.Users != nil {
		dst = append(dst, `,"users":`...)
		dst = appendUsers(dst, p.Users)
	}
	dst = appendOmitString(dst, `,"confidence":`, p.Confidence)
	if len(p.Evidence) > 0 {
		dst = append(dst, `,"evidence":`...)
		dst = appendStringList(dst, p.Evidence)
	}
	if p.Proxy != nil {
		dst = append(dst, `,"proxy":`...)
		dst = appendProxy(dst, p.Proxy)
	}
	dst = appendOmitString(dst, `,"file_type":`, p.FileType)
	if p.WouldBlock {
		dst = append(dst, `,"would_block":true`...)
	}
	dst = appendOmitString(dst, `,"detail":`, p.Detail)
	if p.Interim {
		dst = append(dst, `,"interim":true`...)
	}
	if p.Login != nil {
		dst = append(dst, `,"login":`...)
		dst = appendLogin(dst, p.Login)
	}
	if p.Message != nil {
		dst = append(dst, `,"message":`...)
		dst = appendMessage(dst, p.Message)
	}
	if p.File != nil {
		dst = append(dst, `,"file":`...)
		dst = appendFileInfo(dst, p.File)
	}
	if p.Credential != nil {
		dst = append(dst, `,"credential":`...)
		dst = appendCredential(dst, p.Credential)
	}
	if p.Direct != nil {
		dst = append(dst, `,"direct":`...)
		dst = appendDirect(dst, p.Direct)
	}
	if p.Tunnel != nil {
		dst = append(dst, `,"tunnel":`...)
		dst = appendTunnel(dst, p.Tunnel)
	}
	if p.Search != nil {
		dst = append(dst, `,"search":{"query":`...)
		dst = appendString(dst, p.Search.Query)
		dst = append(dst, '}')
	}
	dst = appendOmitString(dst, `,"expectation":`, p.Expectation)
	dst = appendOmitString(dst, `,"local":`, p.Local)
	dst = appendOmitString(dst, `,"evasion":`, p.Evasion)
	if len(p.CorroboratedBy) > 0 {
		dst = append(dst, `,"corroborated_by":[`...)
		for i, id := range p.CorroboratedBy {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendUint(dst, id, 10)
		}
		dst = append(dst, ']')
	}
	// Tentative is json:"-".
	return closeObject(dst, start)
}

func appendUsers(dst []byte, u *event.Users) []byte {
	start := len(dst)
	dst = appendOmitString(dst, `,"local":`, u.Local)
	dst = appendOmitString(dst, `,"peer":`, u.Peer)
	return closeObject(dst, start)
}

func appendProxy(dst []byte, p *event.Proxy) []byte {
	dst = appendStringField(dst, `{"kind":`, p.Kind)
	dst = appendStringField(dst, `,"addr":`, p.Addr)
	dst = appendOmitString(dst, `,"target":`, p.Target)
	return append(dst, '}')
}

func appendLogin(dst []byte, l *event.LoginInfo) []byte {
	start := len(dst)
	dst = appendOmitString(dst, `,"user":`, l.User)
	dst = appendOmitString(dst, `,"client":`, l.Client)
	dst = appendOmitString(dst, `,"outcome":`, string(l.Outcome))
	dst = appendOmitString(dst, `,"reason":`, l.Reason)
	return closeObject(dst, start)
}

func appendMessage(dst []byte, m *event.MessageInfo) []byte {
	start := len(dst)
	dst = appendOmitString(dst, `,"from":`, m.From)
	if len(m.To) > 0 {
		dst = append(dst, `,"to":`...)
		dst = appendStringList(dst, m.To)
	}
	dst = append(dst, `,"length":`...)
	dst = strconv.AppendInt(dst, int64(m.Length), 10)
	dst = appendOmitString(dst, `,"charset":`, m.Charset)
	dst = appendOmitString(dst, `,"text":`, m.Text)
	return closeObject(dst, start)
}

func appendFileInfo(dst []byte, f *event.FileInfo) []byte {
	start := len(dst)
	dst = appendOmitString(dst, `,"name":`, f.Name)
	if f.Size != 0 {
		dst = append(dst, `,"size":`...)
		dst = strconv.AppendInt(dst, f.Size, 10)
	}
	dst = appendOmitString(dst, `,"hash":`, f.Hash)
	dst = appendOmitString(dst, `,"outcome":`, string(f.Outcome))
	return closeObject(dst, start)
}

func appendCredential(dst []byte, c *event.CredentialInfo) []byte {
	dst = appendStringField(dst, `{"class":`, string(c.Class))
	dst = appendOmitString(dst, `,"user":`, c.User)
	dst = appendStringField(dst, `,"what":`, c.What)
	if c.Length != 0 {
		dst = append(dst, `,"length":`...)
		dst = strconv.AppendInt(dst, int64(c.Length), 10)
	}
	dst = appendOmitString(dst, `,"length_class":`, c.LengthClass)
	dst = appendOmitString(dst, `,"masked":`, c.Masked)
	dst = appendOmitString(dst, `,"fingerprint":`, c.Fingerprint)
	dst = appendOmitString(dst, `,"secret":`, c.Secret)
	return append(dst, '}')
}

func appendDirect(dst []byte, d *event.DirectInfo) []byte {
	// Addrs has no omitempty: a nil slice is null, an empty one [].
	if d.Addrs == nil {
		dst = append(dst, `{"addrs":null`...)
	} else {
		dst = append(dst, `{"addrs":[`...)
		for i, ap := range d.Addrs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendAddrPortText(dst, ap)
		}
		dst = append(dst, ']')
	}
	dst = appendOmitString(dst, `,"outcome":`, string(d.Outcome))
	return append(dst, '}')
}

// appendAddrPortText writes ap as encoding/json does, through its
// MarshalText: "" for the zero value, "1.2.3.4:5", "[::1]:5". The text of
// an address without a zone is digits, dots, colons and brackets, which
// need no escaping; a zone is free text and goes through appendString.
func appendAddrPortText(dst []byte, ap netip.AddrPort) []byte {
	if ap.Addr().Zone() != "" {
		return appendString(dst, ap.String())
	}
	dst = append(dst, '"')
	dst = ap.AppendTo(dst)
	return append(dst, '"')
}

func appendTunnel(dst []byte, t *event.TunnelInfo) []byte {
	dst = appendStringField(dst, `{"kind":`, t.Kind)
	dst = appendStringField(dst, `,"target":`, t.Target)
	dst = appendOmitString(dst, `,"outcome":`, string(t.Outcome))
	return append(dst, '}')
}
