package toc

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/peerwatch/peerwatch/event"
)

const (
	flapon      = "FLAPON\r\n\r\n" // the client's first bytes
	frameHeader = 6                // '*', type, sequence(2), length(2)
	roastKey    = "Tic/Toc"        // TOC password roasting string
	maxArgs     = 16               // arguments kept from a client command
	maxUser     = 64               // bytes kept of a screen name
	maxRooms    = 32               // chat rooms remembered per connection
	maxProposal = 32               // rendezvous proposals remembered per connection
)

// SFLAP frame types (TOC1 PROTOCOL, "SFLAP Documentation").
const (
	chanSignon    = 1
	chanData      = 2
	chanError     = 3
	chanSignoff   = 4
	chanKeepalive = 5
)

// Errors of the wire format.
var (
	ErrMarker  = errors.New("toc: frame does not start with '*'")
	ErrType    = errors.New("toc: unknown frame type")
	ErrFlapon  = errors.New("toc: stream does not start with FLAPON")
	ErrSignon  = errors.New("toc: bad signon frame")
	ErrRoast   = errors.New("toc: bad roasted password")
	ErrFields  = errors.New("toc: too few fields")
	ErrAddress = errors.New("toc: bad address")
)

// frame is one parsed SFLAP frame header.
type frame struct {
	typ    byte
	seq    uint16
	length int
}

// parseFrame parses an SFLAP header at the start of b. ok is false, with a
// nil error, while b holds less than the whole frame.
func parseFrame(b []byte) (f frame, ok bool, err error) {
	if len(b) == 0 {
		return f, false, nil
	}
	if b[0] != '*' {
		return f, false, ErrMarker
	}
	if len(b) < 2 {
		return f, false, nil
	}
	if b[1] < chanSignon || b[1] > chanKeepalive {
		return f, false, ErrType
	}
	if len(b) < frameHeader {
		return f, false, nil
	}
	f = frame{typ: b[1], seq: binary.BigEndian.Uint16(b[2:]), length: int(binary.BigEndian.Uint16(b[4:]))}
	return f, len(b) >= frameHeader+f.length, nil
}

// parseSignon parses a signon frame's payload: the FLAP version and, from
// the client, TLV 1 with the screen name (empty from the server).
func parseSignon(p []byte) (version uint32, user string, err error) {
	if len(p) < 4 {
		return 0, "", ErrSignon
	}
	version = binary.BigEndian.Uint32(p)
	p = p[4:]
	if len(p) == 0 {
		return version, "", nil
	}
	if len(p) < 4 || binary.BigEndian.Uint16(p) != 1 {
		return version, "", ErrSignon
	}
	n := int(binary.BigEndian.Uint16(p[2:]))
	if len(p) < 4+n {
		return version, "", ErrSignon
	}
	return version, text(p[4 : 4+n]), nil
}

// dataText returns a data frame's text without the NUL terminators the
// client appends.
func dataText(p []byte) string {
	for len(p) > 0 && p[len(p)-1] == 0 {
		p = p[:len(p)-1]
	}
	return text(p)
}

// text returns b as valid UTF-8: TOC text is ASCII or Latin-1, so invalid
// UTF-8 is read as Latin-1.
func text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// splitArgs splits a client command line into its words. Words are
// separated by spaces; a word in double quotes may hold spaces, and a
// backslash escapes the next character. At most maxArgs words are kept.
func splitArgs(line string) []string {
	var args []string
	i := 0
	for len(args) < maxArgs {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i >= len(line) {
			break
		}
		var b strings.Builder
		quoted := line[i] == '"'
		if quoted {
			i++
		}
		for i < len(line) {
			c := line[i]
			if c == '\\' && i+1 < len(line) {
				b.WriteByte(line[i+1])
				i += 2
				continue
			}
			if quoted && c == '"' {
				i++
				break
			}
			if !quoted && c == ' ' {
				break
			}
			b.WriteByte(c)
			i++
		}
		args = append(args, b.String())
	}
	return args
}

// splitFields splits a server message body into n colon-separated fields,
// the last keeping any further colons (an IM's text). It returns nil when
// there are fewer than n fields.
func splitFields(s string, n int) []string {
	f := strings.SplitN(s, ":", n)
	if len(f) < n {
		return nil
	}
	return f
}

// unroast recovers a password from its TOC roasted form: "0x" followed by
// the hex of each byte XORed with "Tic/Toc", repeating.
func unroast(s string) (string, error) {
	if len(s) < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || len(s)%2 != 0 {
		return "", ErrRoast
	}
	h := s[2:]
	out := make([]byte, len(h)/2)
	for i := range out {
		hi, ok1 := unhex(h[2*i])
		lo, ok2 := unhex(h[2*i+1])
		if !ok1 || !ok2 {
			return "", ErrRoast
		}
		out[i] = (hi<<4 | lo) ^ roastKey[i%len(roastKey)]
	}
	return text(out), nil
}

// roast is the client's side of unroast, for tests and documentation.
func roast(pw string) string {
	const digits = "0123456789abcdef"
	b := []byte("0x")
	for i := 0; i < len(pw); i++ {
		c := pw[i] ^ roastKey[i%len(roastKey)]
		b = append(b, digits[c>>4], digits[c&15])
	}
	return string(b)
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// capabilities maps the TOC string form of a rendezvous capability UUID
// (spec §4.1; upper case) to its feature. Only the 0946XXXX-4C7F-11D1-
// 8222-444553540000 family and the chat UUID are listed.
var capabilities = map[string]event.Feature{
	"09461341": event.Voice,
	"09461343": event.FileTransfer,
	"09461345": event.DirectIM,
	"09461346": event.IMImage,
	"09461347": event.AddIns,
	"09461348": event.GetFile,
	"0946134A": event.Games,
	"0946134B": event.BuddyList,
	"09461349": event.ServerRelay,
}

const (
	capSuffix = "-4C7F-11D1-8222-444553540000"
	// Games has a second form with bytes 8-9 swapped (spec §4.1).
	capSuffixGames = "-4C7F-11D1-2282-444553540000"
	capChat        = "748F2420-6287-11D1-8222-444553540000"
)

// feature returns the feature a capability UUID string names.
func feature(uuid string) (event.Feature, bool) {
	u := strings.ToUpper(uuid)
	if u == capChat {
		return event.ChatRoom, true
	}
	if len(u) != 36 {
		return "", false
	}
	f, ok := capabilities[u[:8]]
	switch {
	case !ok:
		return "", false
	case u[8:] == capSuffix, f == event.Games && u[8:] == capSuffixGames:
		return f, true
	}
	return "", false
}

// proposal is a parsed RVOUS_PROPOSE.
type proposal struct {
	user, uuid, cookie string
	seq                int
	rip, pip, vip      netip.Addr // rendezvous, proposer and verified IPs
	port               uint16
	tlvs               map[int][]byte // base64-decoded TLV values, by tag
}

// Rendezvous TLV tags in TOC's decimal form (spec §4 table).
const (
	tlvInvite      = 12    // invitation message
	tlvServiceData = 10001 // 0x2711: feature-specific data
	maxTLVs        = 8
)

// parseProposal parses the fields after "RVOUS_PROPOSE:":
// user:uuid:cookie:seq:rip:pip:vip:port[:tag:base64 value...].
func parseProposal(s string) (p proposal, err error) {
	f := strings.Split(s, ":")
	if len(f) < 8 {
		return p, ErrFields
	}
	p.user, p.uuid, p.cookie = f[0], f[1], f[2]
	p.seq, _ = strconv.Atoi(f[3])
	for i, a := range []*netip.Addr{&p.rip, &p.pip, &p.vip} {
		if f[4+i] == "" {
			continue
		}
		if *a, err = netip.ParseAddr(f[4+i]); err != nil || !a.Is4() {
			return p, ErrAddress
		}
	}
	port, err := strconv.ParseUint(f[7], 10, 16)
	if err != nil {
		return p, ErrAddress
	}
	p.port = uint16(port)
	for i := 8; i+1 < len(f) && len(p.tlvs) < maxTLVs; i += 2 {
		tag, err := strconv.Atoi(f[i])
		if err != nil {
			continue
		}
		v, err := base64.StdEncoding.DecodeString(f[i+1])
		if err != nil {
			continue
		}
		if p.tlvs == nil {
			p.tlvs = map[int][]byte{}
		}
		p.tlvs[tag] = v
	}
	return p, nil
}

// addrs returns the distinct usable addresses a proposal discloses, each
// with its port.
func (p *proposal) addrs() []netip.AddrPort {
	var out []netip.AddrPort
	for _, a := range []netip.Addr{p.rip, p.pip, p.vip} {
		if !a.IsValid() || a.IsUnspecified() {
			continue
		}
		ap := netip.AddrPortFrom(a, p.port)
		dup := false
		for _, o := range out {
			dup = dup || o == ap
		}
		if !dup {
			out = append(out, ap)
		}
	}
	return out
}

// sendFileInfo parses Send File service data (spec §4.2): subtype(2),
// file count(2), total size(4), NUL-terminated file name.
func sendFileInfo(d []byte) (name string, count int, size int64, ok bool) {
	if len(d) < 9 {
		return "", 0, 0, false
	}
	count = int(binary.BigEndian.Uint16(d[2:]))
	size = int64(binary.BigEndian.Uint32(d[4:]))
	n := d[8:]
	for i, c := range n {
		if c == 0 {
			n = n[:i]
			break
		}
	}
	if len(n) > 255 {
		n = n[:255]
	}
	return text(n), count, size, true
}

// stripHTML removes tags and decodes the common entities of an AIM
// message, leaving the text a user typed.
func stripHTML(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			tag := strings.ToLower(s[i+1 : i+end])
			if tag == "br" || tag == "br/" || tag == "br /" {
				b.WriteByte('\n')
			}
			i += end + 1
		case '&':
			decoded := false
			for _, e := range entities {
				if strings.HasPrefix(s[i:], e.name) {
					b.WriteString(e.text)
					i += len(e.name)
					decoded = true
					break
				}
			}
			if !decoded {
				b.WriteByte('&')
				i++
			}
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}

var entities = [...]struct{ name, text string }{
	{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}, {"&quot;", `"`}, {"&nbsp;", " "}, {"&#39;", "'"},
}

// loginError maps a TOC sign-on ERROR code (TOC1 PROTOCOL, "ERROR
// codes", 98x: sign-on errors) to a login outcome and reason.
func loginError(code string) (event.Outcome, string, bool) {
	switch code {
	case "980":
		return event.WrongPassword, "incorrect nickname or password", true
	case "981":
		return event.Failure, "service temporarily unavailable", true
	case "982":
		return event.Refused, "warning level too high to sign on", true
	case "983":
		return event.RateLimited, "connecting and disconnecting too frequently", true
	case "989":
		return event.Failure, "unknown sign-on error", true
	}
	return "", "", false
}
