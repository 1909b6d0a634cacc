package ymsg

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

func TestParseHeader(t *testing.T) {
	msg := pdu(svcMessage, 1, sid, "5", "bob")
	tests := []struct {
		name string
		in   []byte
		ok   bool
		err  error
		want header
	}{
		{"message", msg, true, nil, header{version: 0x0600, length: 8, service: svcMessage, status: 1, session: sid}},
		{"empty payload", pdu(svcLogoff, 0, 0), true, nil, header{version: 0x0600, service: svcLogoff}},
		{"max length", append([]byte("YMSG\x00\x0b\x00\x00\xff\xff\x00\x57"), make([]byte, 8)...), true, nil,
			header{version: 11, length: 0xFFFF, service: svcAuth}},
		{"bad magic", []byte("YMSX\x00\x0b"), false, ErrMagic, header{}},
		{"lower case", []byte("ymsg"), false, ErrMagic, header{}},
		{"http", []byte("GET / HTTP/1.0\r\n"), false, ErrMagic, header{}},
		{"partial", []byte("YMSG\x00\x0b\x00\x00\x00"), false, nil, header{}},
		{"empty", nil, false, nil, header{}},
	}
	for _, tt := range tests {
		h, ok, err := parseHeader(tt.in)
		if ok != tt.ok || !errors.Is(err, tt.err) || h != tt.want {
			t.Errorf("%s: parseHeader = %+v, %v, %v; want %+v, %v, %v", tt.name, h, ok, err, tt.want, tt.ok, tt.err)
		}
	}
	// Truncation at every byte: a prefix is incomplete, never an error.
	for i := range headerLen {
		if _, ok, err := parseHeader(msg[:i]); ok || err != nil {
			t.Errorf("prefix %d: ok %v err %v", i, ok, err)
		}
	}
}

func TestParseFields(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []field
		err  error
	}{
		{"two", "1\xc0\x80alice\xc0\x805\xc0\x80bob\xc0\x80", []field{{1, []byte("alice")}, {5, []byte("bob")}}, nil},
		{"empty value", "14\xc0\x80\xc0\x80", []field{{14, []byte{}}}, nil},
		{"no last separator", "14\xc0\x80hi", []field{{14, []byte("hi")}}, nil},
		{"empty", "", nil, nil},
		{"key only", "14\xc0\x80", []field{{14, []byte{}}}, nil},
		{"partial key", "14", nil, ErrTruncated},
		{"letter key", "ab\xc0\x80x\xc0\x80", nil, ErrKey},
		{"empty key", "\xc0\x80x\xc0\x80", nil, ErrKey},
		{"long key", "1234567\xc0\x80x\xc0\x80", nil, ErrKey},
		{"garbage tail", "1\xc0\x80a\xc0\x80zz", []field{{1, []byte("a")}}, ErrKey},
		{"six digits", "999999\xc0\x80v", []field{{999999, []byte("v")}}, nil},
	}
	for _, tt := range tests {
		got, err := parseFields([]byte(tt.in), nil)
		if !errors.Is(err, tt.err) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: parseFields = %v, %v; want %v, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
}

// Every prefix of a valid payload parses without panic into pairs that
// agree with the whole payload's, and passes the probe's prefix check.
func TestFieldsTruncation(t *testing.T) {
	for _, s := range v6Session {
		p := s.data[headerLen:]
		whole, err := parseFields(p, nil)
		if err != nil {
			t.Fatalf("whole payload: %v", err)
		}
		for i := range len(p) {
			got, err := parseFields(p[:i], nil)
			if err != nil && !errors.Is(err, ErrTruncated) {
				t.Fatalf("prefix %d of %q: %v", i, p, err)
			}
			for j, f := range got {
				if f.key != whole[j].key || !bytes.HasPrefix(append(whole[j].val[:len(whole[j].val):len(whole[j].val)], sep...), f.val) {
					t.Fatalf("prefix %d: pair %d = %v, whole %v", i, j, f, whole[j])
				}
			}
			if !checkFields(p[:i]) {
				t.Fatalf("checkFields rejects prefix %d of %q", i, p)
			}
		}
	}
}

func TestGroups(t *testing.T) {
	fs, _ := parseFields(pdu(0, 0, 0, "8", "2", "7", "a", "10", "0", "7", "b", "10", "2")[headerLen:], nil)
	var got []string
	fieldSet(fs).groups(func(g fieldSet) { got = append(got, g.str(7)+"/"+g.str(10)) })
	if want := []string{"a/0", "b/2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("groups = %v, want %v", got, want)
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		in, want string
		utf      bool
	}{
		{"\x1b[#ff0000m<font face=\"Arial\">caf\xe9</font>", "café", false},
		{"\x1b[1m<FADE #ff0000,#0000ff>bold</fade>\x1b[x1m", "bold", false},
		{"a <b>c</b> <not a tag> d", "a c <not a tag> d", false},
		{"caf\xc3\xa9", "café", true},
		{"caf\xc3\xa9", "cafÃ©", false},
		{"bad \xff utf", "bad ÿ utf", true},
		{"ctl\x00\x07x", "ctlx", true},
	}
	for _, tt := range tests {
		if got := decode(stripMarkup([]byte(tt.in)), tt.utf, maxText); got != tt.want {
			t.Errorf("text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestProbe(t *testing.T) {
	two := append(pdu(svcAuth, 0, 0, "1", "bob"), pdu(svcAuth, 0, 0, "1", "bob")...)
	tests := []struct {
		name string
		in   []byte
		want classify.Result
	}{
		{"one whole pdu", pdu(svcAuth, 0, 0, "1", "bob"), classify.Match},
		{"empty pdu", pdu(svcLogoff, 0, 0), classify.Match},
		{"two pdus", two, classify.Match},
		{"second magic", two[:len(two)/2+4], classify.Match},
		{"second partial magic", two[:len(two)/2+2], classify.NeedMore},
		{"partial payload", two[:25], classify.NeedMore},
		{"magic only", []byte("YMSG"), classify.NeedMore},
		{"bad second", append(pdu(svcAuth, 0, 0, "1", "bob"), "HTTP"...), classify.NoMatch},
		{"bad key", pdu(svcAuth, 0, 0, "x", "bob"), classify.NoMatch},
		{"value without key", append([]byte("YMSG\x00\x0b\x00\x00\x00\x03\x00\x57"), append(make([]byte, 8), "abc"...)...), classify.NoMatch},
		{"other protocol", []byte("GET / HTTP/1.1\r\n"), classify.NoMatch},
		{"lower case", []byte("ymsg\x00\x0b"), classify.NoMatch},
		{"big pdu filling window", append([]byte("YMSG\x00\x0b\x00\x00\x08\x00\x00\x55"), append(make([]byte, 8), "87\xc0\x80"+strings.Repeat("a", 2000)...)...), classify.Match},
	}
	for _, tt := range tests {
		in := classify.Input{Data: tt.in}
		if got := probe(&in); got != tt.want {
			t.Errorf("%s: probe = %v, want %v", tt.name, got, tt.want)
		}
	}
	// Every prefix of a real session is NeedMore or Match.
	var all []byte
	for _, s := range v6Session {
		if s.dir == 0 {
			all = append(all, s.data...)
		}
	}
	for i := range min(len(all), probeWindow) {
		in := classify.Input{Data: all[:i]}
		if probe(&in) == classify.NoMatch {
			t.Fatalf("prefix %d rejected", i)
		}
	}
}

func TestProbeAllocs(t *testing.T) {
	in := classify.Input{Data: append(pdu(svcAuth, 0, 0, "1", "bob"), pdu(svcAuth, 0, 0, "1", "bob")...)}
	if n := testing.AllocsPerRun(100, func() { probe(&in) }); n != 0 {
		t.Fatalf("probe allocates %v times", n)
	}
}

func BenchmarkProbe(b *testing.B) {
	in := classify.Input{Data: v6Session[0].data}
	b.ReportAllocs()
	for b.Loop() {
		probe(&in)
	}
}

func BenchmarkFeed(b *testing.B) {
	var all [2][]byte
	for _, s := range v6Session {
		all[s.dir] = append(all[s.dir], s.data...)
	}
	spec, _ := analyzer.Lookup("ymsg")
	b.ReportAllocs()
	for b.Loop() {
		rec := analyzer.NewRecorder()
		c := spec.New(rec.Session(&spec))
		c.Feed(flow.Orig, all[0])
		c.Feed(flow.Resp, all[1])
	}
}

func feedAll(t *testing.T, c analyzer.Conn, dir flow.Dir, data []byte, pend *[2][]byte) {
	buf := append((*pend)[dir], data...)
	n, err := c.Feed(dir, buf)
	if err != nil {
		t.Fatalf("Feed: %v", err)
	}
	(*pend)[dir] = append([]byte(nil), buf[n:]...)
}

func run(t *testing.T, steps []step, split int, reveal bool) *analyzer.Recorder {
	rec := analyzer.NewRecorder()
	rec.Opts.CaptureContent = reveal
	rec.Opts.RevealCredentials = reveal
	spec, _ := analyzer.Lookup("ymsg")
	c := spec.New(rec.Session(&spec))
	var pend [2][]byte
	for _, s := range steps {
		if split > 0 && split < len(s.data) {
			feedAll(t, c, flow.Dir(s.dir), s.data[:split], &pend)
			feedAll(t, c, flow.Dir(s.dir), s.data[split:], &pend)
		} else {
			feedAll(t, c, flow.Dir(s.dir), s.data, &pend)
		}
	}
	return rec
}

func TestConnV6(t *testing.T) {
	rec := run(t, v6Session, 0, false)
	if !rec.Confirmed {
		t.Error("not confirmed")
	}
	var kinds []string
	for _, e := range rec.Events {
		k := string(e.Kind)
		if e.Feature != "" {
			k += "/" + string(e.Feature)
		}
		kinds = append(kinds, k)
		if e.Message != nil && e.Message.Text != "" {
			t.Errorf("message text stored without --capture-content: %q", e.Message.Text)
		}
		if e.Credential != nil && e.Credential.Secret != "" {
			t.Errorf("secret stored without --reveal-credentials: %+v", e.Credential)
		}
	}
	want := []string{"login", "credential", "login", "credential", "credential", "presence", "message", "presence", "message",
		"presence", "presence", "presence/conference", "presence/conference", "message/conference", "message/conference",
		"presence/chat_room", "presence/chat_room", "message/chat_room", "message/chat_room",
		"presence/webcam", "presence/voice", "presence/games", "file/file_transfer", "presence", "logout"}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("kinds =\n%v\nwant\n%v", kinds, want)
	}
	ev := rec.Events
	if l := ev[0].Login; l.User != "alice_2002" || l.Outcome != event.Pending {
		t.Errorf("login = %+v", l)
	}
	if c := ev[1].Credential; c.Class != event.PasswordEquivalent || c.What != "md5crypt_password" || c.Fingerprint == "" {
		t.Errorf("md5crypt credential = %+v", c)
	}
	if l := ev[2].Login; l.Outcome != event.Success || ev[2].Fields["session_id"] != int64(sid) {
		t.Errorf("login success = %+v %v", l, ev[2].Fields)
	}
	if c := ev[3].Credential; c.Class != event.SessionToken || c.What != "y_cookie" || c.Length != len("v=1&n=3lmp1hq9m6mk&l=a0b2c4d6/o&p=m2l0e8a012000000&r=9k&lg=us&intl=us") {
		t.Errorf("Y cookie = %+v", c)
	}
	if c := ev[4].Credential; c.What != "t_cookie" {
		t.Errorf("T cookie = %+v", c)
	}
	if m := ev[8].Message; m.From != "bob_smith" || m.Charset != "iso-8859-1" || !reflect.DeepEqual(m.To, []string{"alice_2002"}) {
		t.Errorf("incoming message = %+v", m)
	}
	if f := ev[22].File; f.Name != "report.doc" || f.Size != 48128 || f.Outcome != event.Offered || !strings.HasPrefix(ev[22].Fields["url"].(string), "http://fs.yahoo.com/") {
		t.Errorf("file = %+v %v", f, ev[22].Fields)
	}
	if m := ev[13].Message; !reflect.DeepEqual(m.To, []string{"bob_smith", "carol99"}) || ev[13].Fields["room"] != room {
		t.Errorf("conference message = %+v %v", m, ev[13].Fields)
	}

	revealed := run(t, v6Session, 0, true).Events
	if got := revealed[1].Credential.Secret; got != crypt {
		t.Errorf("revealed md5crypt = %q", got)
	}
	if got := revealed[8].Message.Text; got != "sure, café at 12" {
		t.Errorf("revealed text = %q", got)
	}
}

func TestConnChallenge(t *testing.T) {
	for _, tc := range []struct {
		code string
		want event.Outcome
	}{{"", event.Success}, {"13", event.WrongPassword}, {"14", event.Refused}, {"3", event.Failure}} {
		rec := run(t, challengeSession("AbX9.pQ2rT_kLm4nZ8sW1y--", tc.code), 0, false)
		var outcomes []event.Outcome
		var cred *event.CredentialInfo
		for _, e := range rec.Events {
			if e.Kind == event.Login {
				outcomes = append(outcomes, e.Login.Outcome)
			}
			if e.Credential != nil && cred == nil {
				cred = e.Credential
				if e.Fields["challenge_seen"] != true || e.Fields["challenge"] != nil {
					t.Errorf("challenge fields = %v", e.Fields)
				}
			}
		}
		if want := []event.Outcome{event.Pending, tc.want}; !reflect.DeepEqual(outcomes, want) {
			t.Errorf("code %q: outcomes %v, want %v", tc.code, outcomes, want)
		}
		if cred == nil || cred.Class != event.OfflineCrackable || cred.What != "challenge_response" || cred.User != "bob_smith" {
			t.Errorf("code %q: credential %+v", tc.code, cred)
		}
	}
}

// Every 2-way split of every PDU gives the same events.
func TestConnSplit(t *testing.T) {
	for _, steps := range [][]step{v6Session, challengeSession("x", "")} {
		whole := run(t, steps, 0, true).Events
		for split := 1; split < 200; split++ {
			if got := run(t, steps, split, true).Events; !reflect.DeepEqual(got, whole) {
				t.Fatalf("split at %d: events differ", split)
			}
		}
	}
}

func TestConnResync(t *testing.T) {
	rec := analyzer.NewRecorder()
	spec, _ := analyzer.Lookup("ymsg")
	c := spec.New(rec.Session(&spec))
	if _, err := c.Feed(flow.Orig, []byte("GET / HTTP/1.0\r\n\r\n")); err == nil {
		t.Error("a non-YMSG first header is not rejected")
	}

	rec = analyzer.NewRecorder()
	c = spec.New(rec.Session(&spec))
	data := append(append(pdu(svcLogon, 0, 0, "1", "a", "6", crypt), "junk"...), v6Session[3].data...)
	n, err := c.Feed(flow.Orig, data)
	for err == nil && n < len(data) {
		var m int
		m, err = c.Feed(flow.Orig, data[n:])
		if m == 0 {
			break
		}
		n += m
	}
	if err != nil || len(rec.Anomalies) == 0 || rec.Events[len(rec.Events)-1].Kind != event.Message {
		t.Errorf("resync: err %v anomalies %v events %d", err, rec.Anomalies, len(rec.Events))
	}
	c.(analyzer.GapHandler).Gap(flow.Orig, 10)
	n, _ = c.Feed(flow.Orig, append([]byte("xx"), v6Session[3].data...))
	if n == 0 {
		t.Error("no progress after a gap")
	}
}

func TestLongField(t *testing.T) {
	rec := run(t, []step{{0, pdu(svcMessage, 0, 0, "1", "a", "5", "b", "14", strings.Repeat("A", 3000))}}, 0, false)
	found := false
	for _, a := range rec.Anomalies {
		found = found || strings.Contains(a, "ymsg_long_field")
	}
	if !found {
		t.Errorf("no ymsg_long_field anomaly: %v", rec.Anomalies)
	}
}

func seeds(f *testing.F) {
	for _, s := range v6Session {
		f.Add(s.data)
	}
	for _, s := range challengeSession("x", "13") {
		f.Add(s.data)
	}
}

func FuzzHeader(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok, err := parseHeader(b)
		if ok && (err != nil || len(b) < headerLen || h.length > maxPayload) {
			t.Fatalf("parseHeader(%q) = %+v %v %v", b, h, ok, err)
		}
	})
}

func FuzzFields(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, _ := parseFields(b, nil)
		total := 0
		for _, x := range fs {
			total += len(x.val)
		}
		if total > len(b) {
			t.Fatalf("values longer than the payload")
		}
		checkFields(b)
		fieldSet(fs).groups(func(fieldSet) {})
		decode(stripMarkup(b), true, maxText)
	})
}

func FuzzProbe(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		in := classify.Input{Data: b}
		probe(&in)
	})
}

func FuzzConnFeed(f *testing.F) {
	for _, s := range v6Session {
		f.Add(s.data, s.dir == 1)
	}
	f.Add(append(pdu(svcAuth, 0, 0, "1", "a"), "YMSG\x00"...), false)
	f.Fuzz(func(t *testing.T, data []byte, resp bool) {
		dir := flow.Orig
		if resp {
			dir = flow.Resp
		}
		for _, reveal := range []bool{false, true} {
			rec := analyzer.NewRecorder()
			rec.Opts.CaptureContent, rec.Opts.RevealCredentials = reveal, reveal
			spec, _ := analyzer.Lookup("ymsg")
			c := spec.New(rec.Session(&spec))
			n, _ := c.Feed(dir, data)
			if n < 0 || n > len(data) {
				t.Fatalf("Feed consumed %d of %d", n, len(data))
			}
			c.(analyzer.GapHandler).Gap(dir, 1)
			c.Feed(dir, data)
		}
	})
}
