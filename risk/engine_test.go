package risk

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/event"
)

var (
	t0     = time.Date(2002, 4, 1, 12, 0, 0, 0, time.UTC)
	client = netip.MustParseAddrPort("10.0.0.5:1025")
	server = netip.MustParseAddrPort("64.12.24.50:5190")
)

// rec builds an app-layer record of flow 7 from the aim/oscar session.
func rec(kind event.Kind, edit func(*event.Record)) *event.Record {
	r := &event.Record{Type: "oscar", Time: t0, FlowID: 7, Seq: 3, PcapCnt: 42, PcapFile: "a.pcap",
		Src: client, Dst: server, Proto: "TCP", AppProto: "oscar", CommunityID: "1:abc",
		App: &event.App{Event: kind, Fields: map[string]any{}},
		PW: &event.Peerwatch{Kind: kind, Service: "aim", Product: "AIM", Category: event.CatIM, Local: "src",
			Users: &event.Users{Local: "alice", Peer: "bob"}}}
	if edit != nil {
		edit(r)
	}
	return r
}

func fileinfo(name, typ, sha string) *event.Record {
	return rec(event.File, func(r *event.Record) {
		r.Type, r.App = event.TypeFileinfo, nil
		r.AppProto = "oft"
		r.File = &event.FileRec{Filename: name, Size: 68, State: "CLOSED", SHA256: sha}
		r.PW.FileType = typ
		r.PW.Feature = event.FileTransfer
	})
}

func message(text string) *event.Record {
	return rec(event.Message, func(r *event.Record) { r.PW.Message = &event.MessageInfo{Length: len(text), Text: text} })
}

// base are the rules every first aim/oscar record raises.
var base = []string{"im_use", "unencrypted_session"}

func TestRules(t *testing.T) {
	_, _, eicar256 := eicarHashes()
	for _, tc := range []struct {
		name string
		rec  *event.Record
		want []string // rule ids besides base (nil base: none at all)
		skip bool     // the record has no base rules
	}{
		{name: "login", rec: rec(event.Login, nil)},
		{name: "tls label", rec: rec(event.Detected, func(r *event.Record) {
			r.Type, r.AppProto, r.PW.Category, r.App = "tls", "tls", event.CatCarrier, nil
		}), want: []string{"im_use"}, skip: true},
		{name: "p2p", rec: rec(event.Detected, func(r *event.Record) { r.PW.Service, r.PW.Category = "gnutella", event.CatP2P }),
			want: []string{"p2p_use", "unencrypted_session"}, skip: true},
		{name: "no service", rec: rec(event.Detected, func(r *event.Record) { r.PW.Service = "" }), skip: true},
		{name: "plaintext", rec: rec(event.Credential, func(r *event.Record) {
			r.PW.Credential = &event.CredentialInfo{Class: event.Plaintext, What: "password", LengthClass: "5-8"}
		}), want: []string{"credential_plaintext"}},
		{name: "reversible", rec: rec(event.Credential, func(r *event.Record) {
			r.PW.Credential = &event.CredentialInfo{Class: event.Reversible, What: "roasted_password"}
		}), want: []string{"credential_reversible"}},
		{name: "equivalent", rec: rec(event.Credential, func(r *event.Record) {
			r.PW.Credential = &event.CredentialInfo{Class: event.PasswordEquivalent}
		}), want: []string{"credential_password_equivalent"}},
		{name: "crackable", rec: rec(event.Credential, func(r *event.Record) {
			r.PW.Credential = &event.CredentialInfo{Class: event.OfflineCrackable}
		}), want: []string{"credential_offline_crackable"}},
		{name: "token", rec: rec(event.Credential, func(r *event.Record) {
			r.PW.Credential = &event.CredentialInfo{Class: event.SessionToken}
		}), want: []string{"credential_session_token"}},
		{name: "direct", rec: rec(event.Direct, func(r *event.Record) {
			r.PW.Direct = &event.DirectInfo{Addrs: []netip.AddrPort{netip.MustParseAddrPort("10.0.0.5:4443")}}
		}), want: []string{"ip_address_disclosed"}},
		{name: "direct empty", rec: rec(event.Direct, func(r *event.Record) { r.PW.Direct = &event.DirectInfo{} })},
		{name: "oscar exploit", rec: rec(event.Exploit, func(r *event.Record) { r.App.Fields["advisory"] = "w00w00" }),
			want: []string{"exploit_aim_game_overflow"}},
		{name: "toc exploit", rec: rec(event.Exploit, func(r *event.Record) { r.App.Fields["exploit"] = "aim_game_overflow" }),
			want: []string{"exploit_aim_game_overflow"}},
		{name: "msn font", rec: rec(event.Exploit, func(r *event.Record) { r.App.Fields["cve"] = "CVE-2002-1698" }),
			want: []string{"exploit_msn_font_overflow"}},
		{name: "other exploit", rec: rec(event.Exploit, nil), want: []string{"exploit_pattern"}},
		{name: "ymsg long field", rec: rec(event.Anomaly, func(r *event.Record) {
			r.Type, r.App, r.Anomaly = event.TypeAnomaly, nil, &event.AnomalyRec{Type: "applayer", Event: "ymsg_long_field"}
			r.PW = &event.Peerwatch{Service: "yahoo", Local: "src"}
		}), want: []string{"exploit_ymsg_long_field"}, skip: true},
		{name: "other anomaly", rec: rec(event.Anomaly, func(r *event.Record) {
			r.Type, r.App, r.Anomaly = event.TypeAnomaly, nil, &event.AnomalyRec{Event: "oscar_bad_flap"}
			r.PW = &event.Peerwatch{Service: "aim"}
		}), skip: true},
		{name: "app sharing", rec: rec(event.Detected, func(r *event.Record) { r.PW.Feature = event.AppSharing }),
			want: []string{"remote_app_sharing"}},
		{name: "remote assistance", rec: rec(event.Detected, func(r *event.Record) { r.PW.Feature = event.RemoteAssistance }),
			want: []string{"remote_assistance"}},
		{name: "spyware", rec: rec(event.Login, func(r *event.Record) {
			r.PW.Service, r.PW.Category, r.App.Fields["bundled_spyware"] = "kazaa", event.CatP2P, true
		}), want: []string{"p2p_use", "spyware_bundled_client", "unencrypted_session"}, skip: true},
		{name: "offer exe", rec: rec(event.File, func(r *event.Record) { r.PW.File = &event.FileInfo{Name: "setup.EXE"} }),
			want: []string{"executable_offered", "file_offered"}},
		{name: "offer Hello.exe", rec: rec(event.File, func(r *event.Record) { r.PW.File = &event.FileInfo{Name: "Hello.exe"} }),
			want: []string{"executable_offered", "file_offered", "ioc_worm_name"}},
		{name: "offer mp3", rec: rec(event.File, func(r *event.Record) { r.PW.File = &event.FileInfo{Name: "song.mp3"} }),
			want: []string{"file_offered", "media_file_offered"}},
		{name: "search hit", rec: rec(event.File, func(r *event.Record) {
			r.PW.File, r.PW.Feature = &event.FileInfo{Name: "song.mp3"}, event.SearchFeature
		})},
		{name: "file exe", rec: fileinfo("setup.exe", "executable", ""), want: []string{"executable_moved", "file_moved"}},
		{name: "file script", rec: fileinfo("run.vbs", "script", ""), want: []string{"file_moved", "script_moved"}},
		{name: "file jpg exe", rec: fileinfo("party.jpg", "executable", ""), want: []string{"extension_mismatch", "file_moved"}},
		{name: "file video", rec: fileinfo("clip.avi", "video", ""), want: []string{"file_moved", "media_file_moved"}},
		{name: "file eicar", rec: fileinfo("eicar.com", "other", eicar256), want: []string{"file_moved", "ioc_malware_hash"}},
		{name: "file hello", rec: fileinfo("hello.exe", "executable", ""), want: []string{"executable_moved", "file_moved", "ioc_worm_name"}},
		{name: "file text", rec: fileinfo("notes.txt", "document", ""), want: []string{"file_moved"}},
		{name: "card", rec: message("here: 4111 1111 1111 1111"), want: []string{"card_number_in_message"}},
		{name: "request", rec: message("what is your password?"), want: []string{"credential_request_phrase"}},
		{name: "lure", rec: message("This is AOL Staff. To verify your account send me your password"),
			want: []string{"staff_impersonation_lure"}},
		{name: "staff only", rec: message("MSN support says hi")},
		{name: "message no text", rec: rec(event.Message, func(r *event.Record) { r.PW.Message = &event.MessageInfo{Length: 9} })},
		{name: "flow other port", rec: rec("", func(r *event.Record) {
			r.Type, r.App, r.Flow, r.PW.Kind, r.PW.Evasion = event.TypeFlow, nil, &event.FlowRec{}, "", event.OtherPort
		}), want: []string{"evasion_other_port"}},
		{name: "flow proxy", rec: rec("", func(r *event.Record) {
			r.Type, r.App, r.Flow, r.PW.Evasion = event.TypeFlow, nil, &event.FlowRec{}, event.ViaProxy
			r.PW.Proxy, r.AppProtoOrig = &event.Proxy{Kind: "socks5", Addr: "10.0.0.1:1080"}, "socks"
		}), want: []string{"evasion_proxy"}},
		{name: "flow http tunnel", rec: rec("", func(r *event.Record) {
			r.Type, r.App, r.Flow, r.PW.Evasion = event.TypeFlow, nil, &event.FlowRec{}, event.HTTPTunnel
		}), want: []string{"evasion_http_tunnel"}},
		{name: "flow usual port", rec: rec("", func(r *event.Record) {
			r.Type, r.App, r.Flow, r.PW.Evasion = event.TypeFlow, nil, &event.FlowRec{}, event.UsualPort
		})},
		{name: "stats", rec: &event.Record{Type: event.TypeStats, PW: &event.Peerwatch{Service: "aim"}}, skip: true},
		{name: "alert", rec: rec(event.Login, func(r *event.Record) { r.Type = event.TypeAlert }), skip: true},
	} {
		e, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range e.Observe(tc.rec) {
			got = append(got, a.Alert.Metadata["rule_id"][0])
		}
		want := slices.Clone(tc.want)
		if !tc.skip {
			want = append(want, base...)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: rules %v, want %v", tc.name, got, want)
		}
	}
}

func TestAlertRecord(t *testing.T) {
	p, err := ParsePolicy("p", []byte("rules:\n  - {name: stop, action: block, match: {risk: social_engineering}}\n  - {action: allow, match: {risks: [im_use, unencrypted]}}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := New(Config{Policy: p})
	secret := "AOL staff here: verify your password, and your card 4111-1111-1111-1111 please"
	r := message(secret)
	r.VLAN = []uint16{5}
	out := e.Observe(r)
	if len(out) != 2 {
		t.Fatalf("%d alerts, want card and lure: %+v", len(out), out)
	}
	for _, a := range out {
		if a.Type != event.TypeAlert || a.FlowID != 7 || a.Seq != 3 || a.PcapCnt != 42 || a.PcapFile != "a.pcap" ||
			a.Src != client || a.Dst != server || a.Proto != "TCP" || a.AppProto != "oscar" || a.CommunityID != "1:abc" ||
			!a.Time.Equal(t0) || !slices.Equal(a.VLAN, []uint16{5}) {
			t.Errorf("envelope not copied: %+v", a)
		}
		al := a.Alert
		if al.Action != "allowed" || al.GID != 1 || al.Rev != 1 || al.SignatureID < MinSID || al.Severity != 1 ||
			al.Category != "Possible Social Engineering Attempted" || al.Metadata["risk"][0] != "social_engineering" ||
			al.Metadata["service"][0] != "aim" || al.Metadata["product"][0] != "AIM" || al.Metadata["protocol"][0] != "oscar" ||
			!slices.Equal(al.Metadata["users"], []string{"alice", "bob"}) || al.Metadata["policy_rule"][0] != "stop" {
			t.Errorf("alert: %+v", al)
		}
		if !a.PW.WouldBlock || a.PW.Kind != event.Message || a.PW.Service != "aim" || a.PW.Users.Local != "alice" ||
			a.PW.Local != "src" || a.PW.Message != nil {
			t.Errorf("peerwatch: %+v", a.PW)
		}
		ev := strings.Join(al.Metadata["evidence"], " ")
		if strings.Contains(ev, "verify your password") || strings.Contains(ev, "4111-1111") || strings.Contains(ev, "please") {
			t.Errorf("evidence leaks the message: %q", ev)
		}
	}
	if ev := out[0].Alert.Metadata["evidence"][0]; ev != "card 4111********1111" {
		t.Errorf("card evidence %q", ev)
	}
	if ev := out[1].Alert.Metadata["evidence"][0]; ev != "staff en:staff/aol_staff; request en:password/verify_your_password" {
		t.Errorf("lure evidence %q", ev)
	}
	c := e.Counters()
	if c["alerts"] != 2 || c["would_block"] != 2 || c["allowed"] != 2 || c["findings"] != 4 || c["finding.card_number_in_message"] != 1 {
		t.Errorf("counters %v", c)
	}
}

func TestDedupeAndMatrix(t *testing.T) {
	e, _ := New(Config{HomeNet: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	cred := func(seq uint32) *event.Record {
		return rec(event.Credential, func(r *event.Record) {
			r.Seq, r.Time = seq, t0.Add(time.Duration(seq)*time.Second)
			r.PW.Credential = &event.CredentialInfo{Class: event.Plaintext}
		})
	}
	if n := len(e.Observe(cred(1))); n != 3 {
		t.Fatalf("first record: %d alerts", n)
	}
	if n := len(e.Observe(cred(2))); n != 0 {
		t.Errorf("second record of the flow: %d alerts, want 0 (deduplicated)", n)
	}
	// Per-file rules: a second name is a new alert, the same name is not.
	offer := func(name string) *event.Record {
		return rec(event.File, func(r *event.Record) { r.PW.File = &event.FileInfo{Name: name} })
	}
	if n := len(e.Observe(offer("a.exe"))); n != 2 {
		t.Errorf("offer a.exe: %d alerts", n)
	}
	if n := len(e.Observe(offer("b.exe"))); n != 2 {
		t.Errorf("offer b.exe: %d alerts", n)
	}
	if n := len(e.Observe(offer("a.exe"))); n != 0 {
		t.Errorf("offer a.exe again: %d alerts", n)
	}
	// Fileinfo records are files: never deduplicated.
	for i := 0; i < 2; i++ {
		if n := len(e.Observe(fileinfo("x.exe", "executable", ""))); n != 2 {
			t.Errorf("fileinfo %d: %d alerts", i, n)
		}
	}
	// The responder in home_net is the matrix host.
	in := rec(event.Login, func(r *event.Record) { r.FlowID, r.Src, r.Dst = 8, server, client })
	e.Observe(in)
	e.FlowEnd(7)
	if n := len(e.Observe(cred(3))); n != 3 {
		t.Errorf("after FlowEnd: %d alerts, want the flow's rules again", n)
	}
	m := e.Matrix()
	var cells []string
	for _, c := range m {
		cells = append(cells, c.Host.String()+" "+c.Service+" "+string(c.Risk))
		if !c.Home || c.Product != "AIM" {
			t.Errorf("cell %+v", c)
		}
		if c.Risk == event.RiskCredentialExposure && (c.Count != 3 || c.Alerts != 2 || c.Worst != Critical ||
			!c.First.Equal(t0.Add(time.Second)) || !c.Last.Equal(t0.Add(3*time.Second))) {
			t.Errorf("credential cell %+v", c)
		}
		if c.Risk == event.RiskIMUse && c.Count != 3 { // once per flow: flow 7, flow 8, flow 7 again after FlowEnd
			t.Errorf("im_use cell %+v", c)
		}
	}
	want := []string{"10.0.0.5 aim unencrypted", "10.0.0.5 aim file_transfer", "10.0.0.5 aim malware_carrier",
		"10.0.0.5 aim credential_exposure", "10.0.0.5 aim im_use"}
	if !slices.Equal(cells, want) {
		t.Errorf("matrix\n got %q\nwant %q", cells, want)
	}
	if c := e.Counters(); c["deduplicated"] != 3 {
		t.Errorf("deduplicated %d, want 3 (second credential; repeated offer: file_offered, executable_offered): %v", c["deduplicated"], c)
	}
}

func TestVolume(t *testing.T) {
	e, err := New(Config{Window: 30 * time.Second, VolumeThreshold: 1000,
		HomeNet: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	if e.Window() != 30*time.Second || e.VolumeThreshold() != 1000 {
		t.Fatalf("config %v %d", e.Window(), e.VolumeThreshold())
	}
	h := netip.MustParseAddr("10.0.0.5")
	if out := e.Volume(h, "gnutella", t0, 999); out != nil {
		t.Errorf("under threshold: %+v", out)
	}
	out := e.Volume(h, "gnutella", t0, 1000)
	if len(out) != 1 {
		t.Fatalf("%d alerts", len(out))
	}
	a := out[0]
	if a.FlowID != 0 || a.Src != netip.AddrPortFrom(h, 0) || a.Dst.IsValid() || a.Proto != "" || !a.Time.Equal(t0) ||
		a.Alert.Metadata["rule_id"][0] != "bandwidth_volume" || a.Alert.Metadata["bytes"][0] != "1000" ||
		a.Alert.Metadata["window_seconds"][0] != "30" || a.PW.Service != "gnutella" {
		t.Errorf("volume alert %+v %+v", a, a.Alert)
	}
	e.Volume(h, "gnutella", t0.Add(30*time.Second), 5000)
	m := e.Matrix()
	if len(m) != 1 || m[0].Count != 2 || m[0].Risk != event.RiskCopyrightBandwidth || !m[0].Home ||
		!m[0].Last.Equal(t0.Add(30*time.Second)) {
		t.Errorf("matrix %+v", m)
	}
	if _, err := New(Config{Window: -1}); err == nil {
		t.Error("negative window accepted")
	}
	d, _ := New(Config{})
	if d.Window() != DefaultWindow || d.VolumeThreshold() != DefaultVolumeThreshold {
		t.Errorf("defaults %v %d", d.Window(), d.VolumeThreshold())
	}
}

func BenchmarkObserve(b *testing.B) {
	e, _ := New(Config{})
	r := message("are we still on for lunch at noon? bring the slides please")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.FlowID = uint64(i%64 + 1)
		e.Observe(r)
	}
}
