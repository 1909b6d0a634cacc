package msnp

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// msg handles a MSG command and its MIME payload. Client to server:
// "MSG trid ack len"; server to client: "MSG passport friendly len".
func (c *conn) msg(dir flow.Dir, l *line, payload []byte) {
	from := c.user
	if dir == flow.Resp {
		from = str(l.arg(0))
	}
	m, err := parseMIME(payload)
	if err != nil {
		c.s.Anomaly("msnp_bad_mime", err.Error())
		return
	}
	peer := c.peer(from)
	if len(m.format) > 0 {
		c.fontCheck(dir, l, m.format, peer)
	}
	ct := string(bytes.ToLower(m.contentType[:min(len(m.contentType), 64)]))
	switch ct {
	case "text/plain":
		mi := &event.MessageInfo{From: from, To: c.recipients(from), Length: len(m.body), Charset: "utf-8"}
		// Kept in memory for the content rules; the engine writes it only
		// with --capture-content.
		mi.Text = strings.ToValidUTF8(string(m.body), "\ufffd")
		f := c.fields(l)
		if fn, ok := formatParam(m.format, "FN"); ok {
			f["font"] = friendly(fn[:min(len(fn), maxFontField)])
		}
		if len(m.format) > 0 {
			f["format"] = str(m.format[:min(len(m.format), maxFontField)])
		}
		c.s.Emit(event.Event{Kind: event.Message, Dir: dir, Users: c.users(peer), Message: mi, Fields: f})
	case "text/x-msmsgscontrol":
		if len(m.typingUser) == 0 {
			return
		}
		who := str(m.typingUser)
		f := c.fields(l)
		f["typing"] = who
		c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Users: c.users(peer), Fields: f})
	case "text/x-msmsgsinvite":
		c.invitation(dir, l, peer, m.body)
	}
}

// peer names the other party of a message: its sender when it came from
// the server, the only other member when the local user sent it.
func (c *conn) peer(from string) string {
	if from != c.user {
		return from
	}
	if len(c.members) == 1 {
		return c.members[0]
	}
	return ""
}

// recipients are the switchboard's members other than the sender, and the
// local user when someone else sent it.
func (c *conn) recipients(from string) []string {
	var to []string
	if from != c.user && c.user != "" {
		to = append(to, c.user)
	}
	for _, m := range c.members {
		if m != from && !slices.Contains(to, m) {
			to = append(to, m)
		}
	}
	return to
}

// fontCheck reports the X-MMS-IM-Format font-name overflow (spec §6): an
// FN= value longer, once URL-decoded, than protocols.msnp.font_name_max.
func (c *conn) fontCheck(dir flow.Dir, l *line, format []byte, peer string) {
	fn, ok := formatParam(format, "FN")
	if !ok {
		return
	}
	limit := c.s.Options().Param("msnp", "font_name_max", fontNameMax)
	if n := decodedLen(fn); int64(n) > limit {
		f := c.fields(l)
		f["cve"] = cveFont
		f["font_name_length"] = n
		c.s.Emit(event.Event{Kind: event.Exploit, Dir: dir, Users: c.users(peer), Fields: f})
	}
}

// invite is an invitation remembered by its Invitation-Cookie, so an
// ACCEPT or CANCEL (which name no application) gets its feature.
type invite struct {
	cookie  string
	feature event.Feature
	app     string
	file    string
	size    int64
}

// Application GUIDs of spec §4 (compared case-insensitively).
var appGUIDs = [...]struct {
	guid    string
	feature event.Feature
	name    string
}{
	{"{5D3E02AB-6190-11d3-BBBB-00C04F795683}", event.FileTransfer, "file_transfer"},
	{"{44BBA842-CC51-11CF-AAFA-00AA00B6015C}", event.AppSharing, "netmeeting"},
	{"{02D3C01F-BF30-4825-A83A-DE7AF41648AA}", event.Voice, "voice"},
	{"{56b994a7-380f-410b-9985-c809d78c1bdc}", event.RemoteAssistance, "remote_assistance"},
	{"{F1B1920C-6A3C-4ce7-B18C-AFAB305FD03D}", event.AppSharing, "app_sharing"},
	{"{1DF57D09-637A-4ca5-91B9-2C3EDAAF62FE}", event.Whiteboard, "whiteboard"},
	{"{2A23868E-B45F-401d-B8B0-1E16B774A5B7}", event.Webcam, "webcam"},
}

// appNames map words of Application-Name to a feature when the GUID is
// unknown (games use per-game GUIDs).
var appNames = [...]struct {
	word    string
	feature event.Feature
}{
	{"file transfer", event.FileTransfer},
	{"remote assistance", event.RemoteAssistance},
	{"application sharing", event.AppSharing},
	{"netmeeting", event.AppSharing},
	{"whiteboard", event.Whiteboard},
	{"webcam", event.Webcam},
	{"video", event.Video},
	{"voice", event.Voice},
	{"audio", event.Voice},
	{"game", event.Games},
}

// appFeature returns the feature of an invitation's application.
func appFeature(guid, name []byte) event.Feature {
	for _, g := range appGUIDs {
		if bytes.EqualFold(guid, []byte(g.guid)) {
			return g.feature
		}
	}
	low := bytes.ToLower(name[:min(len(name), 128)])
	for _, n := range appNames {
		if bytes.Contains(low, []byte(n.word)) {
			return n.feature
		}
	}
	return ""
}

// invitation is a parsed text/x-msmsgsinvite body.
type invitation struct {
	name, guid, command, cookie []byte
	file, size                  []byte
	ip, ipInternal, port        []byte
	authCookie, cancelCode      []byte
}

func parseInvitation(body []byte) (inv invitation, err error) {
	var rest []byte
	err = eachHeader(body, func(name, value []byte) {
		switch string(name) {
		case "Application-Name":
			inv.name = value
		case "Application-GUID":
			inv.guid = value
		case "Invitation-Command":
			inv.command = value
		case "Invitation-Cookie":
			inv.cookie = value
		case "Application-File":
			inv.file = value
		case "Application-FileSize":
			inv.size = value
		case "IP-Address":
			inv.ip = value
		case "IP-Address-Internal":
			inv.ipInternal = value
		case "Port":
			inv.port = value
		case "AuthCookie":
			inv.authCookie = value
		case "Cancel-Code":
			inv.cancelCode = value
		}
	}, &rest)
	return inv, err
}

// addrs returns the distinct announced addresses with the port.
func (inv *invitation) addrs() []netip.AddrPort {
	out := []netip.AddrPort{}
	port, ok := atoi(inv.port)
	if !ok || port == 0 || port > 65535 {
		return out
	}
	for _, s := range [][]byte{inv.ip, inv.ipInternal} {
		a, err := netip.ParseAddr(str(s))
		if err != nil || a.IsUnspecified() {
			continue
		}
		ap := netip.AddrPortFrom(a, uint16(port))
		if !slices.Contains(out, ap) {
			out = append(out, ap)
		}
	}
	return out
}

// invitation turns an invitation message into a file or direct event, and
// announces the MSNFTP connection of an accepted file transfer.
func (c *conn) invitation(dir flow.Dir, l *line, peer string, body []byte) {
	inv, err := parseInvitation(body)
	if err != nil {
		c.s.Anomaly("msnp_bad_invitation", err.Error())
		return
	}
	cur := invite{cookie: str(inv.cookie), app: str(inv.name), file: str(inv.file), feature: appFeature(inv.guid, inv.name)}
	if n, ok := atoi(inv.size); ok {
		cur.size = int64(n)
	}
	known := -1
	for i, v := range c.invites {
		if v.cookie == cur.cookie && cur.cookie != "" {
			known = i
		}
	}
	if known >= 0 {
		k := c.invites[known]
		cur.feature = cmp(cur.feature, k.feature)
		cur.app, cur.file = cmpStr(cur.app, k.app), cmpStr(cur.file, k.file)
		if cur.size == 0 {
			cur.size = k.size
		}
	}
	var out event.Outcome
	switch strings.ToUpper(str(inv.command)) {
	case "INVITE":
		out = event.Offered
		if known < 0 && len(c.invites) < maxInvites {
			c.invites = append(c.invites, cur)
		}
	case "ACCEPT":
		out = event.Accepted
	case "CANCEL":
		out = event.Cancelled
	default:
		c.s.Anomaly("msnp_bad_invitation", "unknown Invitation-Command")
		return
	}
	f := c.fields(l)
	f["invitation_command"] = str(inv.command)
	if cur.app != "" {
		f["application"] = cur.app
	}
	if len(inv.guid) > 0 {
		f["application_guid"] = str(inv.guid)
	}
	if cur.cookie != "" {
		f["invitation_cookie"] = cur.cookie
	}
	if len(inv.cancelCode) > 0 {
		f["cancel_code"] = str(inv.cancelCode)
	}
	users := c.users(peer)
	addrs := inv.addrs()
	var fi *event.FileInfo
	if cur.feature == event.FileTransfer {
		fi = &event.FileInfo{Name: cur.file, Size: cur.size, Outcome: out}
	}
	if len(addrs) == 0 && fi != nil {
		c.s.Emit(event.Event{Kind: event.File, Dir: dir, Feature: cur.feature, Users: users, Fields: f, File: fi})
		return
	}
	c.s.Emit(event.Event{Kind: event.Direct, Dir: dir, Feature: cur.feature, Users: users, Fields: f, File: fi,
		Direct: &event.DirectInfo{Addrs: addrs, Outcome: out}})
	if cur.feature != event.FileTransfer || len(addrs) == 0 || out == event.Cancelled {
		return
	}
	c.s.Expect(analyzer.Expectation{Addrs: addrs, Proto: "msnftp", Service: "msn", Product: product,
		Feature: event.FileTransfer, Users: users, FileName: cur.file, Reason: reasonInvite,
		Data: map[string]any{"auth_cookie": str(inv.authCookie), "size": cur.size}})
}

func cmp(a, b event.Feature) event.Feature {
	if a != "" {
		return a
	}
	return b
}

func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
