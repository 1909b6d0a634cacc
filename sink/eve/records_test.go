package eve

import (
	"net/netip"
	"time"

	"github.com/peerwatch/peerwatch/event"
)

// Fixture records: one of every type with every field set, used by the
// golden, schema and benchmark tests.

var (
	t0 = time.Date(2004, 3, 5, 14, 22, 7, 123456789, time.UTC)
	// t1 is in another zone: the encoder must convert to UTC.
	t1 = time.Date(2004, 3, 5, 15, 30, 0, 5000, time.FixedZone("CET", 3600))
)

func fullPeerwatch() *event.Peerwatch {
	return &event.Peerwatch{
		Kind:       event.Login,
		Service:    "aim",
		Product:    "AIM",
		Category:   event.CatIM,
		Feature:    event.FileTransfer,
		Users:      &event.Users{Local: "alice<script>", Peer: "bob & co"},
		Confidence: "confirmed",
		Evidence:   []string{"port", "prefix", "parse"},
		Proxy:      &event.Proxy{Kind: "socks5", Addr: "10.0.0.9:1080", Target: "login.oscar.aol.com:5190"},
		FileType:   "executable",
		WouldBlock: true,
		Detail:     "bad channel 9",
		Interim:    true,
		Login:      &event.LoginInfo{User: "alice", Client: "AIM 5.9.3702", Outcome: event.WrongPassword, Reason: "bad password"},
		Message:    &event.MessageInfo{From: "alice", To: []string{"bob", "carol"}, Length: 12, Charset: "utf-8", Text: "hi \"bob\"\n\u2028é"},
		File:       &event.FileInfo{Name: "setup.exe", Size: 123456, Hash: "urn:sha1:ABCDEF", Outcome: event.Offered},
		Credential: &event.CredentialInfo{Class: event.Reversible, User: "alice", What: "password", Length: 8,
			Masked: "p******d", Fingerprint: "hmac:0123abcd", Secret: "password"},
		Direct:      &event.DirectInfo{Addrs: []netip.AddrPort{netip.MustParseAddrPort("192.168.1.5:5190"), netip.MustParseAddrPort("[2001:db8::1]:443")}, Outcome: event.Accepted},
		Tunnel:      &event.TunnelInfo{Kind: "http_connect", Target: "login.oscar.aol.com:443", Outcome: event.Success},
		Search:      &event.SearchInfo{Query: "mp3 <all>"},
		Expectation: "oscar rendezvous",
		Local:       "src",
	}
}

func envelope(typ string) event.Record {
	return event.Record{
		Type:         typ,
		Time:         t0,
		FlowID:       17,
		Seq:          3,
		PcapCnt:      42,
		PcapFile:     "aim-login.pcap",
		Src:          netip.MustParseAddrPort("192.168.1.5:1044"),
		Dst:          netip.MustParseAddrPort("64.12.24.50:5190"),
		Proto:        "TCP",
		VLAN:         []uint16{10, 4094},
		AppProto:     "oscar",
		AppProtoOrig: "socks",
		CommunityID:  "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
	}
}

// fixtures returns one record of every type with all fields set.
func fixtures() []struct {
	name string
	rec  event.Record
} {
	flow := envelope(event.TypeFlow)
	flow.PW = &event.Peerwatch{Service: "aim", Confidence: "confirmed", Evidence: []string{"port", "parse"}, Local: "src"}
	flow.Flow = &event.FlowRec{PktsToServer: 12, PktsToClient: 10, BytesToServer: 2048, BytesToClient: 1 << 40,
		Start: t0, End: t1, Age: 4073, State: "closed", Reason: "shutdown", Alerted: true}

	flow6 := envelope(event.TypeFlow)
	flow6.Src = netip.MustParseAddrPort("[2001:db8::5]:50000")
	flow6.Dst = netip.MustParseAddrPort("[::ffff:10.1.2.3]:6346")
	flow6.Proto = "UDP"
	flow6.VLAN = nil
	flow6.AppProto, flow6.AppProtoOrig = "gnutella", ""
	flow6.Flow = &event.FlowRec{PktsToServer: 1, Start: t0, End: t0, State: "new", Reason: "timeout"}

	anomaly := envelope(event.TypeAnomaly)
	anomaly.PW = &event.Peerwatch{Detail: "channel 9 is not a FLAP channel"}
	anomaly.Anomaly = &event.AnomalyRec{Type: "applayer", Event: "oscar_bad_flap_channel", Layer: "proto_parser", AppProto: "oscar"}

	file := envelope(event.TypeFileinfo)
	file.PW = &event.Peerwatch{Service: "aim", FileType: "executable", Feature: event.FileTransfer}
	file.File = &event.FileRec{Filename: "setup.exe", Size: 123456, State: "CLOSED", Stored: true, Gaps: true,
		MD5: "d41d8cd98f00b204e9800998ecf8427e", SHA1: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
		SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		Magic:  "PE32 executable (GUI) Intel 80386, for MS Windows", TxID: 2}

	alert := envelope(event.TypeAlert)
	alert.PW = fullPeerwatch()
	alert.Alert = &event.AlertRec{Action: "blocked", GID: 1, SignatureID: 9100001, Rev: 1,
		Signature: "PEERWATCH AIM reversible password", Category: "Credential exposure", Severity: 1,
		Metadata: map[string][]string{"signature_severity": {"Critical"}, "protocol": {"oscar"}, "product": {"AIM", "ICQ"}, "risk": {"credentials"}}}

	app := envelope("oscar")
	app.PW = fullPeerwatch()
	app.App = &event.App{Event: event.Login, Fields: map[string]any{
		"user": "alice", "snac": []int{23, 2}, "flags": map[string]bool{"b": true, "a": false},
		"tlv_count": 7, "ratio": 0.5, "empty": nil,
	}}

	// A protocol sharing a Suricata event type must use Suricata's fields.
	http := envelope("http")
	http.AppProto, http.AppProtoOrig = "http", ""
	http.PW = &event.Peerwatch{Kind: event.Tunnel, Tunnel: &event.TunnelInfo{Kind: "http_connect", Target: "a.example:443"}}
	http.App = &event.App{Event: event.Tunnel, Fields: map[string]any{"hostname": "a.example", "http_method": "CONNECT", "url": "a.example:443", "status": 200}}

	stats := event.Record{Type: event.TypeStats, Time: t1, Stats: &event.StatsRec{Uptime: 3600,
		Suricata: map[string]any{"decoder": map[string]any{"pkts": 1000, "bytes": 500000, "tcp": 900, "udp": 100},
			"flow": map[string]any{"total": 20, "tcp": 15, "udp": 5}, "uptime": 99}}}

	pstats := event.Record{Type: event.TypePeerwatchStats, Time: t1, Stats: &event.StatsRec{Uptime: 3600,
		Peerwatch: map[string]any{"proto": map[string]any{"oscar": map[string]uint64{"flows": 3, "events": 12}},
			"evictions": 0, "skip": map[string]int{"no_payload": 4}}}}

	return []struct {
		name string
		rec  event.Record
	}{
		{"flow", flow}, {"flow_ipv6_udp", flow6}, {"anomaly", anomaly}, {"fileinfo", file},
		{"alert", alert}, {"app_oscar", app}, {"app_http", http}, {"stats", stats}, {"peerwatch_stats", pstats},
	}
}
