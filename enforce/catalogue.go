package enforce

import "github.com/peerwatch/peerwatch/event"

// PortRange is a transport and an inclusive port range.
type PortRange struct {
	Proto    string // "tcp" or "udp"
	From, To uint16
}

// Countermeasure is one port or host block the paper (or a protocol spec)
// gives for a client, for the whole service or for one feature of it.
type Countermeasure struct {
	Service string        // peerwatch.service
	Feature event.Feature // "" for the service itself; else only this feature
	Ports   []PortRange
	Hosts   []string // names the paper gives; never resolved, written as comments only
	Why     string   // the reason, written beside the rule
	Source  string   // where the fact comes from
}

// paper is the citation of the 2002 paper's port list, as transcribed in
// ../shared/specs/threat-matrix-2002.md ("Ports it names").
const paper = "ISS 2002 paper, specs/threat-matrix-2002.md"

func tcp(p ...uint16) []PortRange { return ports("tcp", p...) }
func udp(p ...uint16) []PortRange { return ports("udp", p...) }
func ports(proto string, p ...uint16) []PortRange {
	out := make([]PortRange, len(p))
	for i, x := range p {
		out[i] = PortRange{proto, x, x}
	}
	return out
}

// Catalogue lists the port and host countermeasures per client. Entries
// with a Feature are also applied when a policy blocks only that feature.
// The paper's port 80 uses (Yahoo login and file transfer, Gnutella
// transfers) are deliberately absent: blocking port 80 would block the web.
var Catalogue = []Countermeasure{
	{Service: "aim", Ports: tcp(5190), Hosts: []string{"login.oscar.aol.com"},
		Why: "AIM OSCAR login, BOS, file transfer and sharing (any port is configurable)", Source: paper},
	{Service: "aim", Feature: event.IMImage, Ports: tcp(4443),
		Why: "AIM IM images and direct IM (not configurable)", Source: paper + "; specs/aim-oscar.md"},
	{Service: "aim", Feature: event.DirectIM, Ports: tcp(4443),
		Why: "AIM direct IM (gaim listens on 4443)", Source: "specs/aim-oscar.md"},
	{Service: "msn", Ports: tcp(1863), Hosts: []string{"msgr.hotmail.com", "messenger.hotmail.com"},
		Why: ".NET Messenger notification and switchboard servers (not configurable)", Source: paper + "; specs/msnp.md"},
	{Service: "msn", Feature: event.FileTransfer, Ports: tcp(6891),
		Why: ".NET Messenger file transfer (MSNFTP)", Source: paper},
	{Service: "msn", Feature: event.AppSharing, Ports: tcp(1503),
		Why: ".NET Messenger application sharing (T.120)", Source: paper},
	{Service: "msn", Feature: event.Voice, Ports: []PortRange{{"udp", 13324, 13325}},
		Why: ".NET Messenger voice and video", Source: paper},
	{Service: "msn", Feature: event.Video, Ports: []PortRange{{"udp", 13324, 13325}},
		Why: ".NET Messenger voice and video", Source: paper},
	{Service: "yahoo", Ports: tcp(5050), Hosts: []string{"scs.msg.yahoo.com"},
		Why: "Yahoo! Messenger YMSG (login and file transfer also use HTTP port 80, not blocked here)", Source: paper + "; specs/ymsg.md"},
	{Service: "icq", Ports: tcp(5190), Hosts: []string{"login.icq.com"},
		Why: "ICQ login over OSCAR (shared with AIM)", Source: paper},
	{Service: "icq", Ports: tcp(3570), Why: "ICQ messages", Source: paper},
	{Service: "icq", Feature: event.FileTransfer, Ports: tcp(3574), Why: "ICQ file transfer", Source: paper},
	{Service: "icq", Feature: event.GetFile, Ports: tcp(7320), Why: "ICQ file sharing", Source: paper},
	{Service: "icq", Feature: event.Voice, Ports: udp(6701), Why: "ICQ voice and video", Source: paper},
	{Service: "icq", Feature: event.Video, Ports: udp(6701), Why: "ICQ voice and video", Source: paper},
	{Service: "icq", Ports: udp(4000), Hosts: []string{"icq.mirabilis.com"},
		Why: "ICQ v5 over UDP (ICQ 99/2000a; not in the paper's list)", Source: "specs/icq.md section 3"},
	{Service: "kazaa", Ports: append(tcp(1214), udp(1214)...),
		Why: "KaZaA/FastTrack supernode sessions, HTTP transfers and UDP discovery (random ports in later versions)", Source: paper + "; specs/fasttrack.md"},
	{Service: "gnutella", Ports: tcp(6346, 6347),
		Why: "Gnutella servents (any port; transfers often over 80)", Source: paper + "; specs/gnutella.md"},
}

// riskFeatures maps the risk columns a port block can express to the
// features that raise them.
var riskFeatures = map[event.Risk][]event.Feature{
	event.RiskFileTransfer:  {event.FileTransfer, event.GetFile},
	event.RiskRemoteControl: {event.AppSharing, event.RemoteAssistance},
}

// products are the product names of the catalogue's services, so that a
// policy rule that names products selects services.
var products = map[string][]string{
	"aim": {"AIM"}, "icq": {"ICQ"}, "msn": {"MSN Messenger", ".NET Messenger"}, "yahoo": {"Yahoo! Messenger"},
	"kazaa": {"KaZaA", "Grokster", "Morpheus"}, "gnutella": {"Gnutella", "LimeWire", "BearShare"},
}
