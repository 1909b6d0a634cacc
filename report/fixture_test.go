package report

import (
	"database/sql"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/sink/sqlite"
)

// base is the capture time of the fixture's first packet.
var base = time.Date(2002, 6, 1, 9, 0, 0, 0, time.UTC)

// Attacker-controlled strings the fixture plants where a capture could:
// a screen name, a peer name, a file name and a client string.
const (
	evilName   = "<script>document.title='pwned'</script>"
	evilFile   = `<img src=x onerror="document.title='pwned';document.body.innerHTML='pwned'">.exe`
	evilClient = "\x1b[2J\x1b]0;owned\x07AIM 5.0\u202eexe.txt"
)

// rec builds a record of flow id at offset ms with the peerwatch object pw.
func rec(typ string, id uint64, seq uint32, ms int, src, dst string, appProto string, pw *event.Peerwatch) event.Record {
	return event.Record{Type: typ, Time: base.Add(time.Duration(ms) * time.Millisecond), FlowID: id, Seq: seq,
		Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst), Proto: "TCP", AppProto: appProto,
		PW: pw}
}

// flowOf builds the final flow record.
func flowOf(id uint64, ms, durMS int, src, dst, appProto, orig string, bytes uint64, pw *event.Peerwatch) event.Record {
	r := rec(event.TypeFlow, id, 100, ms+durMS, src, dst, appProto, pw)
	r.AppProtoOrig = orig
	r.Flow = &event.FlowRec{PktsToServer: 4, PktsToClient: 3, BytesToServer: bytes / 2, BytesToClient: bytes - bytes/2,
		Start: base.Add(time.Duration(ms) * time.Millisecond), End: base.Add(time.Duration(ms+durMS) * time.Millisecond),
		State: "closed", Reason: "shutdown"}
	return r
}

// alertOf builds an alert record in a risk column.
func alertOf(id uint64, seq uint32, ms int, src, dst string, pw event.Peerwatch, sid int, title string, risk event.Risk, sev int, sigSev string) event.Record {
	pw.Kind = ""
	r := rec(event.TypeAlert, id, seq, ms, src, dst, "", &pw)
	r.Alert = &event.AlertRec{Action: "allowed", GID: 1, SignatureID: sid, Rev: 1, Signature: title, Category: "peerwatch " + string(risk),
		Severity: sev, Metadata: map[string][]string{"risk": {string(risk)}, "product": {pw.Product}, "signature_severity": {sigSev}}}
	return r
}

// fixture returns the records of a small run: an AIM user on
// 192.168.1.20 who logs in with a reversible password and sends an
// executable; an MSN user on 192.168.1.21 through a SOCKS proxy whose peer
// has a hostile screen name; an MSN HTTP-gateway flow; a Gnutella servent
// on 192.168.1.22 that a remote peer downloads an MP3 from; and a DNS flow.
func fixture() []event.Record {
	aim := event.Peerwatch{Service: "aim", Product: "AIM", Category: event.CatIM, Confidence: "confirmed"}
	msn := event.Peerwatch{Service: "msn", Product: "MSN Messenger", Category: event.CatIM, Confidence: "confirmed"}
	gnu := event.Peerwatch{Service: "gnutella", Product: "Gnutella", Category: event.CatP2P, Confidence: "confirmed"}
	with := func(p event.Peerwatch, f func(*event.Peerwatch)) *event.Peerwatch { f(&p); return &p }
	const a1, a2 = "192.168.1.20:49152", "64.12.24.50:5190"
	const m1, m2 = "192.168.1.21:1042", "203.0.113.5:1081"
	const h1, h2 = "192.168.1.20:1100", "207.46.110.21:80"
	const g1, g2 = "198.51.100.9:3000", "192.168.1.22:6346"

	login := rec("oscar", 1, 1, 10, a1, a2, "oscar", with(aim, func(p *event.Peerwatch) {
		p.Kind = event.Login
		p.Users = &event.Users{Local: "alice"}
		p.Login = &event.LoginInfo{User: "alice", Client: evilClient, Outcome: event.Success}
	}))
	login.App = &event.App{Event: event.Login, Fields: map[string]any{"method": "xor"}}
	cred := rec("oscar", 1, 2, 10, a1, a2, "oscar", with(aim, func(p *event.Peerwatch) {
		p.Kind = event.Credential
		p.Users = &event.Users{Local: "alice"}
		p.Credential = &event.CredentialInfo{Class: event.Reversible, User: "alice", What: "password", LengthClass: "5-8",
			Masked: "s*****t", Fingerprint: "0011223344556677", Secret: "sekrit"}
	}))
	cred.App = &event.App{Event: event.Credential}
	file := rec(event.TypeFileinfo, 1, 3, 500, a1, a2, "oscar", with(aim, func(p *event.Peerwatch) {
		p.FileType = "executable"
		p.Users = &event.Users{Local: "alice", Peer: evilName}
	}))
	file.File = &event.FileRec{Filename: evilFile, Size: 2048, State: "CLOSED", MD5: "44d88612fea8a8f36de82e1278abb02f",
		SHA1: "3395856ce81f2b7382dee72602f798b642f14140", SHA256: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
		Magic: "PE32 executable (GUI) Intel 80386, for MS Windows"}
	msnLogin := rec("msnp", 2, 1, 2000, m1, m2, "msnp", with(msn, func(p *event.Peerwatch) {
		p.Kind = event.Login
		p.Users = &event.Users{Local: "bob@hotmail.com", Peer: evilName}
		p.Login = &event.LoginInfo{User: "bob@hotmail.com", Client: "MSMSGS 5.0", Outcome: event.Success}
	}))
	msnLogin.AppProtoOrig = "socks"
	msnLogin.App = &event.App{Event: event.Login}
	gfile := rec(event.TypeFileinfo, 4, 1, 4000, g1, g2, "gnutella", with(gnu, func(p *event.Peerwatch) { p.FileType = "audio" }))
	gfile.File = &event.FileRec{Filename: "song\x1b[31m.mp3", Size: 3 << 20, State: "TRUNCATED", Gaps: true,
		SHA1: "da39a3ee5e6b4b0d3255bfef95601890afd80709", Magic: "Audio file with ID3 version 2.3.0"}

	dns := flowOf(5, 100, 20, "192.168.1.20:53000", "192.168.1.1:53", "dns", "", 200,
		&event.Peerwatch{Category: event.CatCarrier})
	return []event.Record{
		login, cred, file,
		alertOf(1, 4, 10, a1, a2, aim, 9100020, "AIM password sent reversibly encoded", event.RiskCredentialExposure, 1, "High"),
		alertOf(1, 5, 500, a1, a2, *with(aim, func(p *event.Peerwatch) { p.Users = &event.Users{Local: "alice", Peer: evilName} }),
			9100030, "Executable moved over IM", event.RiskMalwareCarrier, 1, "Critical"),
		flowOf(1, 0, 1000, a1, a2, "oscar", "", 4096, &aim),
		msnLogin,
		alertOf(2, 2, 2000, m1, m2, msn, 9100040, "IM through a proxy", event.RiskEvasion, 2, "Medium"),
		flowOf(2, 1500, 1000, m1, m2, "msnp", "socks", 2311, with(msn, func(p *event.Peerwatch) {
			p.Proxy = &event.Proxy{Kind: "socks", Addr: "203.0.113.5:1081", Target: "messenger.hotmail.com:1863"}
			p.Evasion = event.ViaProxy
		})),
		flowOf(3, 3000, 90, h1, h2, "http", "", 1446, with(msn, func(p *event.Peerwatch) {
			p.Category = event.CatCarrier
			p.Evasion = event.HTTPTunnel
		})),
		gfile,
		alertOf(4, 2, 4000, g1, g2, gnu, 9100050, "Media file shared over P2P", event.RiskCopyrightBandwidth, 3, "Low"),
		flowOf(4, 3900, 2000, g1, g2, "gnutella", "", 3<<20, with(gnu, func(p *event.Peerwatch) { p.Evasion = event.UsualPort })),
		dns,
	}
}

// matrixRows are the risk_matrix rows the risk engine would write for the
// fixture, including findings the policy allowed (count > alerts).
var matrixRows = []struct {
	host    string
	home    bool
	service string
	product string
	risk    event.Risk
	count   int64
	alerts  int64
	worst   int
}{
	{"192.168.1.20", true, "aim", "AIM", event.RiskCredentialExposure, 1, 1, 3},
	{"192.168.1.20", true, "aim", "AIM", event.RiskMalwareCarrier, 1, 1, 4},
	{"192.168.1.20", true, "aim", "AIM", event.RiskUnencrypted, 3, 0, 1},
	{"192.168.1.20", true, "aim", "AIM", event.RiskFileTransfer, 1, 0, 2},
	{"192.168.1.21", true, "msn", "MSN Messenger", event.RiskEvasion, 1, 1, 2},
	{"192.168.1.21", true, "msn", "MSN Messenger", event.RiskIMUse, 1, 0, 1},
	{"192.168.1.22", true, "gnutella", "Gnutella", event.RiskCopyrightBandwidth, 1, 1, 1},
	{"198.51.100.9", false, "gnutella", "Gnutella", event.RiskP2PUse, 1, 0, 1},
}

// buildDB writes the fixture with sink/sqlite's writer and returns the
// database path. With v3 it adds what schema version 3 brings if the
// writer did not (the risk_matrix table, flows.evasion) and fills them;
// without, it drops risk_matrix as a version 2 database lacks it.
func buildDB(t testing.TB, v3 bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "peerwatch.db")
	s, err := sqlite.Open(path, sqlite.Options{HomeNet: []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")},
		Run: sqlite.RunInfo{Started: base, Args: "analyze fixture.pcap", Version: "test", Files: []string{"fixture.pcap"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(fixture()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if !v3 {
		// What a version 2 database lacks.
		exec(`DROP TABLE IF EXISTS risk_matrix`)
		exec(`ALTER TABLE flows DROP COLUMN evasion`)
		return path
	}
	exec(`CREATE TABLE IF NOT EXISTS risk_matrix (run_id INTEGER, host TEXT, home INTEGER, service TEXT,
		product TEXT, risk TEXT, count INTEGER, alerts INTEGER, worst INTEGER, first_us INTEGER, last_us INTEGER)`)
	if ok, err := hasColumn(t.Context(), db, "flows", "evasion"); err != nil {
		t.Fatal(err)
	} else if !ok {
		exec(`ALTER TABLE flows ADD COLUMN evasion TEXT NOT NULL DEFAULT ''`)
	}
	exec(`DELETE FROM risk_matrix`)
	for i, m := range matrixRows {
		at := base.Add(time.Duration(i) * time.Second).UnixMicro()
		exec(`INSERT INTO risk_matrix VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, m.host, m.home, m.service, m.product,
			string(m.risk), m.count, m.alerts, m.worst, at, at)
	}
	for id, ev := range map[int]string{1: event.UsualPort, 2: event.ViaProxy, 3: event.HTTPTunnel, 4: event.OtherPort} {
		exec(`UPDATE flows SET evasion = ? WHERE flow_id = ?`, ev, id)
	}
	return path
}
