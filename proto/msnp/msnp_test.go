package msnp

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		in      string
		ok      bool
		err     error
		cmd     string
		args    []string
		payload int
	}{
		{"VER 1 MSNP7 MSNP6 CVR0\r\n", true, nil, "VER", []string{"1", "MSNP7", "MSNP6", "CVR0"}, 0},
		{"OUT\r\n", true, nil, "OUT", nil, 0},
		{"911 3\r\n", true, nil, "911", []string{"3"}, 0},
		{"MSG 4 N 9\r\nhello bob", true, nil, "MSG", []string{"4", "N", "9"}, 9},
		{"MSG bob@hotmail.com Bob 0\r\n", true, nil, "MSG", []string{"bob@hotmail.com", "Bob", "0"}, 0},
		{"QRY 5 msmsgs@msnmsgr.com 32\r\n", true, nil, "QRY", []string{"5", "msmsgs@msnmsgr.com", "32"}, 32},
		{"QRY 5\r\n", true, nil, "QRY", []string{"5"}, 0},
		{"ADL 7 OK\r\n", true, nil, "ADL", []string{"7", "OK"}, 0},
		{"NOT 12\r\n", true, nil, "NOT", []string{"12"}, 12},
		{"CHG 10 NLN \r\n", true, nil, "CHG", []string{"10", "NLN"}, 0},
		{"MSG 4 N 61441\r\n", false, ErrLength, "", nil, 0},
		{"MSG 4 N x\r\n", false, ErrLength, "", nil, 0},
		{"MSG\r\n", false, ErrLength, "", nil, 0},
		{"MSG 4 N 1234567890\r\n", false, ErrLength, "", nil, 0},
		{"VER 1  MSNP7\r\n", false, ErrLine, "", nil, 0},
		{"VER 1 MSNP7\n", false, ErrLine, "", nil, 0},
		{"VER 1 MS\x01P7\r\n", false, ErrLine, "", nil, 0},
		{"VERB 1\r\n", false, ErrCommand, "", nil, 0},
		{"Ver 1\r\n", false, ErrCommand, "", nil, 0},
		{"9A1 1\r\n", false, ErrCommand, "", nil, 0},
		{"A1 1\r\n", false, ErrCommand, "", nil, 0},
		{"VER", false, nil, "", nil, 0},
		{"VER 1 MSNP", false, nil, "", nil, 0},
		{"ABC 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\r\n", false, ErrLine, "", nil, 0},
		{"VER " + strings.Repeat("1", maxLine), false, ErrLine, "", nil, 0},
	}
	for _, tt := range tests {
		l, ok, err := parseLine([]byte(tt.in))
		if ok != tt.ok || !errors.Is(err, tt.err) {
			t.Errorf("parseLine(%q) = ok %v err %v, want ok %v err %v", tt.in, ok, err, tt.ok, tt.err)
			continue
		}
		if !ok {
			continue
		}
		var args []string
		for i := 0; i < l.nargs; i++ {
			args = append(args, string(l.arg(i)))
		}
		if string(l.cmd[:]) != tt.cmd || !reflect.DeepEqual(args, tt.args) || l.payload != tt.payload {
			t.Errorf("parseLine(%q) = %s %q payload %d", tt.in, l.cmd, args, l.payload)
		}
	}
}

// Every valid line cut at every byte is incomplete, never an error.
func TestParseLineTruncated(t *testing.T) {
	for _, s := range append(lineSeeds(), "VER 1 MSNP8 CVR0\r\n") {
		full, ok, err := parseLine([]byte(s))
		if !ok || err != nil {
			continue
		}
		for i := 0; i < full.size; i++ {
			if _, ok, err := parseLine([]byte(s[:i])); ok || err != nil {
				t.Errorf("parseLine(%q) = ok %v err %v, want incomplete", s[:i], ok, err)
			}
		}
	}
}

// lineSeeds are the command lines of every synthetic step.
func lineSeeds() []string {
	var out []string
	for _, steps := range [][]step{dispatchSteps, nsSteps(), sbSteps(), rngSteps(), inviteSteps(), twnSteps, twnFailSteps} {
		for _, s := range steps {
			out = append(out, s.data)
		}
	}
	return out
}

func TestParseMIME(t *testing.T) {
	m, err := parseMIME([]byte(mimeText("MS%20Sans%20Serif", "hello")))
	if err != nil || string(m.contentType) != "text/plain" || string(m.body) != "hello" ||
		string(m.format) != "FN=MS%20Sans%20Serif; EF=; CO=0; CS=0; PF=22" {
		t.Errorf("text: %+v %v", m, err)
	}
	m, err = parseMIME([]byte(mimeTyping("bob@hotmail.com")))
	if err != nil || string(m.contentType) != "text/x-msmsgscontrol" || string(m.typingUser) != "bob@hotmail.com" {
		t.Errorf("typing: %+v %v", m, err)
	}
	tests := []struct {
		in   string
		err  error
		body string
	}{
		{"Content-Type: text/plain\n\nLF only", nil, "LF only"},
		{"Content-Type: text/plain\r\n", nil, ""},
		{"", nil, ""},
		{"no colon here\r\n\r\n", ErrHeader, ""},
		{": empty name\r\n\r\n", ErrHeader, ""},
		{strings.Repeat("A: b\r\n", maxHeaders+1), ErrHeader, ""},
	}
	for _, tt := range tests {
		m, err := parseMIME([]byte(tt.in))
		if !errors.Is(err, tt.err) || string(m.body) != tt.body {
			t.Errorf("parseMIME(%q) = body %q err %v", tt.in, m.body, err)
		}
	}
	if v, ok := formatParam([]byte("FN=Arial; EF=B; CO=0"), "EF"); !ok || string(v) != "B" {
		t.Errorf("formatParam EF = %q %v", v, ok)
	}
	if _, ok := formatParam([]byte("EF=; CO=0"), "FN"); ok {
		t.Error("formatParam found a missing FN")
	}
}

func TestURLDecode(t *testing.T) {
	for in, want := range map[string]string{"Alice%20Smith": "Alice Smith", "100%": "100%", "%zz%41": "%zzA", "%4": "%4", "": ""} {
		if got := urlDecode([]byte(in)); got != want || decodedLen([]byte(in)) != len(want) {
			t.Errorf("urlDecode(%q) = %q (len %d), want %q", in, got, decodedLen([]byte(in)), want)
		}
	}
}

func TestProbe(t *testing.T) {
	tests := []struct {
		in   string
		resp bool
		want classify.Result
	}{
		{"VER 1 MSNP7 MSNP6 MSNP5 MSNP4 CVR0\r\n", false, classify.Match},
		{"VER 1 MSNP8 CVR0\r\n", true, classify.Match},
		{"VER 1 MSNP2\r\n", false, classify.Match},
		{"USR 93 tesla_brian@hotmail.com 1835953129.20013021.2623242\r\n", false, classify.Match},
		{"ANS 1 alice@hotmail.com 849102291.520491113 11752013\r\n", false, classify.Match},
		{"VER 1 MSN", false, classify.NeedMore},
		{"USR 93 tesla_brian@hot", false, classify.NeedMore},
		// A switchboard opening is the client's only.
		{"USR 93 tesla_brian@hotmail.com 1835953129.20013021.2623242\r\n", true, classify.NoMatch},
		// Look-alikes from mail, FTP and other line protocols.
		{"VER 1 SMTP\r\n", false, classify.NoMatch},
		{"VER 1\r\n", false, classify.NoMatch},
		{"VER x MSNP7\r\n", false, classify.NoMatch},
		{"USR 1 alice@hotmail.com\r\n", false, classify.NoMatch},
		{"USR 1 alice@hotmail.com secret\r\n", false, classify.NoMatch},
		{"USR 1 alice 1.2\r\n", false, classify.NoMatch},
		{"ANS 1 alice@hotmail.com 1.2\r\n", false, classify.NoMatch},
		{"USER alice\r\n", false, classify.NoMatch},
		{"220 mail.example.com ESMTP\r\n", true, classify.NoMatch},
		{"+OK POP3 ready\r\n", true, classify.NoMatch},
		{"* OK IMAP4rev1\r\n", true, classify.NoMatch},
		{"ANSWER 1\r\n", false, classify.NoMatch},
		{"VER 1 MSNP7", false, classify.NeedMore},
		{"VER 1 MSNP7" + strings.Repeat(" MSNP7", 100), false, classify.NoMatch},
		{"\x00\x01\x02", false, classify.NoMatch},
	}
	for _, tt := range tests {
		in := classify.Input{Data: []byte(tt.in)}
		if tt.resp {
			in.Dir = flow.Resp
		}
		if got := probe(&in); got != tt.want {
			t.Errorf("probe(%q, resp %v) = %v, want %v", tt.in, tt.resp, got, tt.want)
		}
	}
}

func TestProbeAllocs(t *testing.T) {
	in := classify.Input{Data: []byte("USR 93 tesla_brian@hotmail.com 1835953129.20013021.2623242\r\n")}
	if n := testing.AllocsPerRun(100, func() { probe(&in) }); n != 0 {
		t.Fatalf("probe allocates %v times", n)
	}
}

func BenchmarkProbe(b *testing.B) {
	in := classify.Input{Data: []byte("VER 1 MSNP7 MSNP6 MSNP5 MSNP4 CVR0\r\n")}
	b.ReportAllocs()
	for b.Loop() {
		probe(&in)
	}
}

// feedAll feeds data after what is pending, keeping the unconsumed rest.
func feedAll(t testing.TB, c analyzer.Conn, dir flow.Dir, data []byte, pend *[2][]byte) {
	buf := append((*pend)[dir], data...)
	n, err := c.Feed(dir, buf)
	if err != nil {
		t.Fatalf("Feed(%q): %v", buf, err)
	}
	(*pend)[dir] = append([]byte(nil), buf[n:]...)
}

// run feeds steps to a new analyzer, each step split at byte split.
func run(t testing.TB, steps []step, split int, opts analyzer.Options, x *analyzer.Expectation) *analyzer.Recorder {
	rec := analyzer.NewRecorder()
	rec.Opts = opts
	spec, _ := analyzer.Lookup("msnp")
	c := spec.New(analyzer.NewSession(rec, &spec, x))
	var pend [2][]byte
	for _, s := range steps {
		b := []byte(s.data)
		dir := flow.Dir(s.dir)
		if split > 0 && split < len(b) {
			feedAll(t, c, dir, b[:split], &pend)
			feedAll(t, c, dir, b[split:], &pend)
		} else {
			feedAll(t, c, dir, b, &pend)
		}
	}
	return rec
}

func kinds(rec *analyzer.Recorder) []event.Kind {
	var k []event.Kind
	for _, e := range rec.Events {
		k = append(k, e.Kind)
	}
	return k
}

func TestNotificationServer(t *testing.T) {
	rec := run(t, nsSteps(), 0, analyzer.Options{}, nil)
	want := []event.Kind{event.Login, event.Credential, event.Login, event.Presence, event.Presence, event.Presence,
		event.Credential, event.Credential, event.Presence, event.Logout}
	if got := kinds(rec); !reflect.DeepEqual(got, want) {
		t.Fatalf("kinds = %v, want %v", got, want)
	}
	if l := rec.Events[2].Login; l.Outcome != event.Success || l.User != "alice@hotmail.com" || l.Client != "MSNMSGR 4.6.0082" ||
		rec.Events[2].Fields["friendly_name"] != "Alice Smith" || rec.Events[2].Fields["protocol"] != "MSNP7" {
		t.Errorf("login = %+v %v", l, rec.Events[2].Fields)
	}
	cr := rec.Events[1]
	if cr.Credential.Class != event.OfflineCrackable || cr.Credential.What != "md5_response" || cr.Credential.Length != 32 ||
		cr.Credential.Secret != "" || cr.Fields["seed"] != md5Seed {
		t.Errorf("md5 credential = %+v %v", cr.Credential, cr.Fields)
	}
	if len(rec.Expects) != 2 {
		t.Fatalf("expectations = %+v", rec.Expects)
	}
	sb, rng := rec.Expects[0], rec.Expects[1]
	if sb.Reason != reasonXfrSB || sb.Addrs[0] != sbAddr || sb.Proto != "msnp" || sb.Users.Local != "alice@hotmail.com" || sb.Product != product {
		t.Errorf("XFR SB expectation = %+v", sb)
	}
	if rng.Reason != reasonRng || rng.Addrs[0] != rngAddr || rng.Users.Peer != "bob@hotmail.com" {
		t.Errorf("RNG expectation = %+v", rng)
	}
	rec = run(t, nsSteps(), 0, analyzer.Options{RevealCredentials: true}, nil)
	if got := rec.Events[1].Credential.Secret; got != md5Response() {
		t.Errorf("revealed md5 response = %q", got)
	}
	rec = run(t, dispatchSteps, 0, analyzer.Options{}, nil)
	if len(rec.Expects) != 1 || rec.Expects[0].Reason != reasonXfrNS || rec.Expects[0].Addrs[0] != nsAddr {
		t.Errorf("XFR NS expectation = %+v", rec.Expects)
	}
}

func TestSwitchboard(t *testing.T) {
	x := &analyzer.Expectation{Reason: reasonXfrSB, Users: event.Users{Local: "alice@hotmail.com"}}
	rec := run(t, sbSteps(), 0, analyzer.Options{CaptureContent: true}, x)
	want := []event.Kind{event.Login, event.Credential, event.Login, event.Presence, event.Presence, event.Message,
		event.Presence, event.Message, event.Exploit, event.Message, event.Presence, event.Logout}
	if got := kinds(rec); !reflect.DeepEqual(got, want) {
		t.Fatalf("kinds = %v, want %v", got, want)
	}
	if m := rec.Events[5].Message; m.From != "alice@hotmail.com" || !reflect.DeepEqual(m.To, []string{"bob@hotmail.com"}) || m.Text != "hello bob" {
		t.Errorf("sent message = %+v", m)
	}
	if m := rec.Events[7].Message; m.From != "bob@hotmail.com" || !reflect.DeepEqual(m.To, []string{"alice@hotmail.com"}) || m.Length != 22 {
		t.Errorf("received message = %+v", m)
	}
	if e := rec.Events[8]; e.Fields["font_name_length"] != 200 || e.Fields["cve"] != cveFont {
		t.Errorf("exploit = %v", e.Fields)
	}
	if rec.Events[3].Users.Peer != "bob@hotmail.com" {
		t.Errorf("JOI users = %+v", rec.Events[3].Users)
	}
	rec = run(t, sbSteps(), 0, analyzer.Options{}, x)
	if rec.Events[5].Message.Text != "" {
		t.Error("text stored without --capture-content")
	}
	// protocols.msnp.font_name_max raises the limit.
	rec = run(t, sbSteps(), 0, analyzer.Options{Params: map[string]map[string]int64{"msnp": {"font_name_max": 256}}}, x)
	for _, e := range rec.Events {
		if e.Kind == event.Exploit {
			t.Error("exploit with font_name_max 256")
		}
	}
}

func TestInvitations(t *testing.T) {
	rec := run(t, inviteSteps(), 0, analyzer.Options{}, nil)
	type got struct {
		kind    event.Kind
		feature event.Feature
		out     event.Outcome
		addrs   int
	}
	var all []got
	for _, e := range rec.Events {
		g := got{kind: e.Kind, feature: e.Feature}
		switch {
		case e.Direct != nil:
			g.out, g.addrs = e.Direct.Outcome, len(e.Direct.Addrs)
		case e.File != nil:
			g.out = e.File.Outcome
		}
		if e.Feature != "" {
			all = append(all, g)
		}
	}
	want := []got{
		{event.File, event.FileTransfer, event.Offered, 0},
		{event.File, event.FileTransfer, event.Accepted, 0},
		{event.Direct, event.FileTransfer, event.Accepted, 2},
		{event.Direct, event.AppSharing, event.Offered, 0},
		{event.Direct, event.AppSharing, event.Accepted, 1},
		{event.Direct, event.RemoteAssistance, event.Offered, 0},
		{event.Direct, event.RemoteAssistance, event.Cancelled, 0},
		{event.Direct, event.Voice, event.Offered, 0},
		{event.Direct, event.Voice, event.Accepted, 2},
		{event.Direct, event.Whiteboard, event.Offered, 0},
		{event.Direct, event.Whiteboard, event.Accepted, 0},
		{event.Direct, event.Games, event.Offered, 0},
		{event.Direct, event.Games, event.Cancelled, 0},
	}
	if !reflect.DeepEqual(all, want) {
		t.Fatalf("invitation events:\n%+v\nwant\n%+v", all, want)
	}
	if len(rec.Expects) != 1 {
		t.Fatalf("expectations = %+v", rec.Expects)
	}
	x := rec.Expects[0]
	if x.Proto != "msnftp" || x.Feature != event.FileTransfer || x.FileName != "report.doc" || x.Reason != reasonInvite ||
		x.Data["auth_cookie"] != "1105092783" || x.Data["size"] != int64(123456) || len(x.Addrs) != 2 ||
		x.Addrs[0].String() != "203.0.113.20:6891" || x.Users.Peer != "bob@hotmail.com" {
		t.Errorf("msnftp expectation = %+v", x)
	}
}

func TestTWN(t *testing.T) {
	rec := run(t, twnSteps, 0, analyzer.Options{}, nil)
	if got, want := kinds(rec), []event.Kind{event.Login, event.Credential, event.Login, event.Logout}; !reflect.DeepEqual(got, want) {
		t.Fatalf("kinds = %v, want %v", got, want)
	}
	if c := rec.Events[1].Credential; c.Class != event.SessionToken || c.What != "passport_ticket" || c.Length != len(twnTicket) {
		t.Errorf("ticket = %+v", c)
	}
	rec = run(t, twnFailSteps, 0, analyzer.Options{}, nil)
	if l := rec.Events[len(rec.Events)-1].Login; l == nil || l.Outcome != event.WrongPassword || l.User != "mallory@hotmail.com" {
		t.Errorf("911 login = %+v", l)
	}
}

// Every 2-way split of every step gives the same events.
func TestConnSplit(t *testing.T) {
	opts := analyzer.Options{CaptureContent: true}
	for _, steps := range [][]step{nsSteps(), sbSteps(), rngSteps(), inviteSteps(), twnSteps} {
		whole := run(t, steps, 0, opts, nil)
		longest := 0
		for _, s := range steps {
			longest = max(longest, len(s.data))
		}
		for split := 1; split < longest; split++ {
			got := run(t, steps, split, opts, nil)
			if !reflect.DeepEqual(got.Events, whole.Events) || !reflect.DeepEqual(got.Expects, whole.Expects) {
				t.Fatalf("split at %d: events differ", split)
			}
		}
	}
}

func TestGapStopsDirection(t *testing.T) {
	rec := analyzer.NewRecorder()
	spec, _ := analyzer.Lookup("msnp")
	c := spec.New(rec.Session(&spec))
	c.(analyzer.GapHandler).Gap(flow.Orig, 100)
	if n, err := c.Feed(flow.Orig, []byte("garbage")); n != 7 || err != nil {
		t.Errorf("Feed after gap = %d, %v", n, err)
	}
	if len(rec.Anomalies) != 1 {
		t.Errorf("anomalies = %v", rec.Anomalies)
	}
}

func seedFiles(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.pcap"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil && len(b) < 1<<16 {
			f.Add(b[min(len(b), 100):], false)
		}
	}
}

func FuzzLine(f *testing.F) {
	for _, s := range lineSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, ok, err := parseLine(data)
		if ok && (err != nil || l.size > len(data) || l.size > maxLine || l.payload > maxPayload || l.nargs > maxFields) {
			t.Fatalf("parseLine(%q) = %+v, %v", data, l, err)
		}
		if ok {
			openingLine(&l, true)
		}
	})
}

func FuzzMIME(f *testing.F) {
	f.Add([]byte(mimeText("MS%20Sans%20Serif", "hi")))
	f.Add([]byte(mimeTyping("bob@hotmail.com")))
	for _, s := range inviteSteps() {
		if i := strings.Index(s.data, "\r\n"); i > 0 && strings.HasPrefix(s.data, "MSG") {
			f.Add([]byte(s.data[i+2:]))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseMIME(data)
		if err == nil && len(m.body) > len(data) {
			t.Fatal("body longer than input")
		}
		if fn, ok := formatParam(m.format, "FN"); ok && decodedLen(fn) != len(urlDecode(fn)) {
			t.Fatalf("decodedLen(%q) = %d, urlDecode gives %d bytes", fn, decodedLen(fn), len(urlDecode(fn)))
		}
		inv, _ := parseInvitation(m.body)
		inv.addrs()
		appFeature(inv.guid, inv.name)
	})
}

func FuzzConnFeed(f *testing.F) {
	for _, s := range lineSeeds() {
		f.Add([]byte(s), false)
	}
	seedFiles(f)
	f.Fuzz(func(t *testing.T, data []byte, resp bool) {
		dir := flow.Orig
		if resp {
			dir = flow.Resp
		}
		rec := analyzer.NewRecorder()
		spec, _ := analyzer.Lookup("msnp")
		c := spec.New(rec.Session(&spec))
		// A switchboard opening first, so later lines meet members.
		c.Feed(flow.Orig, []byte("USR 1 alice@hotmail.com 1.2\r\n"))
		for len(data) > 0 {
			n, err := c.Feed(dir, data)
			if n < 0 || n > len(data) {
				t.Fatalf("Feed consumed %d of %d", n, len(data))
			}
			if err != nil || n == 0 {
				break
			}
			data = data[n:]
			dir = 1 - dir
		}
	})
}

func FuzzProbe(f *testing.F) {
	for _, s := range lineSeeds() {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("220 smtp ready\r\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, resp bool) {
		in := classify.Input{Data: data}
		if resp {
			in.Dir = flow.Resp
		}
		r := probe(&in)
		if r == classify.Match {
			if _, ok, err := parseLine(data[:min(len(data), maxProbe)]); !ok || err != nil {
				t.Fatalf("match without a whole line: %q", data)
			}
		}
	})
}
