package socks

import (
	"errors"
	"testing"
)

// wire messages used across the tests.
const (
	req4     = "\x04\x01\x00\x50\x5d\xb8\xd8\x77alice\x00"
	req4a    = "\x04\x01\x01\xbb\x00\x00\x00\x01fd7b\x00login.live.com\x00"
	rep4     = "\x00\x5a\x01\xbb\x83\xfd\x3d\x50"
	greet    = "\x05\x02\x00\x02"
	choose2  = "\x05\x02"
	userpass = "\x01\x08corpuser\x0aproxypass1"
	authOK   = "\x01\x00"
	req5dom  = "\x05\x01\x00\x03\x15messenger.hotmail.com\x07\x47"
	req5v4   = "\x05\x01\x00\x01\x0a\x00\x00\x01\x0d\x3d"
	req5v6   = "\x05\x03\x00\x04\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x35"
	rep5     = "\x05\x00\x00\x01\xc0\x00\x02\x01\x04\x38"
)

func TestParseRequest4(t *testing.T) {
	tests := []struct {
		in     string
		err    error
		target string
		userid string
	}{
		{req4, nil, "93.184.216.119:80", "alice"},
		{req4a, nil, "login.live.com:443", "fd7b"},
		{"\x04\x02\x00\x15\x0a\x00\x00\x01\x00", nil, "10.0.0.1:21", ""},
		{"\x05\x01", ErrVersion, "", ""},
		{"\x04\x03", ErrCommand, "", ""},
		{"\x04\x01\x00\x00\x0a\x00\x00\x01\x00", ErrAddress, "", ""},
		{"\x04\x01\x00\x50\x00\x00\x00\x00\x00", ErrAddress, "", ""},
		{"\x04\x01\x00\x50\x0a\x00\x00\x01a\x01b\x00", ErrName, "", ""},
		{"\x04\x01\x00\x50\x00\x00\x00\x01\x00\x00", ErrName, "", ""},
		{"\x04\x01\x00\x50\x00\x00\x00\x01\x00a b\x00", ErrName, "", ""},
		{"\x04\x01\x00\x50\x0a\x00\x00\x01" + string(make([]byte, 0)) + longName(256) + "\x00", ErrName, "", ""},
	}
	for _, tt := range tests {
		r, ok, err := parseRequest4([]byte(tt.in))
		if !errors.Is(err, tt.err) || ok != (tt.err == nil) {
			t.Errorf("parseRequest4(%q) = ok %v err %v, want err %v", tt.in, ok, err, tt.err)
			continue
		}
		if ok && (r.target() != tt.target || string(r.userid) != tt.userid || r.size != len(tt.in)) {
			t.Errorf("parseRequest4(%q) = %q %q size %d", tt.in, r.target(), r.userid, r.size)
		}
	}
}

func longName(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

// Every proper prefix of a valid message asks for more bytes.
func TestTruncation(t *testing.T) {
	parsers := []struct {
		name  string
		msg   string
		parse func([]byte) (bool, error)
	}{
		{"request4", req4, func(b []byte) (bool, error) { _, ok, err := parseRequest4(b); return ok, err }},
		{"request4a", req4a, func(b []byte) (bool, error) { _, ok, err := parseRequest4(b); return ok, err }},
		{"reply4", rep4, func(b []byte) (bool, error) { _, ok, err := parseReply4(b); return ok, err }},
		{"greeting", greet, func(b []byte) (bool, error) { _, ok, err := parseGreeting(b); return ok, err }},
		{"choice", choose2, func(b []byte) (bool, error) { _, ok, err := parseChoice(b); return ok, err }},
		{"userpass", userpass, func(b []byte) (bool, error) { _, ok, err := parseUserPass(b); return ok, err }},
		{"authstatus", authOK, func(b []byte) (bool, error) { _, ok, err := parseAuthStatus(b); return ok, err }},
		{"request5 domain", req5dom, func(b []byte) (bool, error) { _, ok, err := parseMsg5(b, false); return ok, err }},
		{"request5 ipv4", req5v4, func(b []byte) (bool, error) { _, ok, err := parseMsg5(b, false); return ok, err }},
		{"request5 ipv6", req5v6, func(b []byte) (bool, error) { _, ok, err := parseMsg5(b, false); return ok, err }},
		{"reply5", rep5, func(b []byte) (bool, error) { _, ok, err := parseMsg5(b, true); return ok, err }},
	}
	for _, p := range parsers {
		for i := 0; i < len(p.msg); i++ {
			if ok, err := p.parse([]byte(p.msg[:i])); ok || err != nil {
				t.Errorf("%s: %d of %d bytes: ok %v err %v", p.name, i, len(p.msg), ok, err)
			}
		}
		if ok, err := p.parse([]byte(p.msg)); !ok || err != nil {
			t.Errorf("%s: whole: ok %v err %v", p.name, ok, err)
		}
	}
}

func TestParseSOCKS5(t *testing.T) {
	g, ok, err := parseGreeting([]byte(greet))
	if !ok || err != nil || !g.offered(2) || g.offered(1) || g.size != 4 {
		t.Errorf("greeting: %+v %v %v", g, ok, err)
	}
	u, ok, err := parseUserPass([]byte(userpass))
	if !ok || err != nil || string(u.user) != "corpuser" || string(u.pass) != "proxypass1" || u.size != len(userpass) {
		t.Errorf("userpass: %+v %v %v", u, ok, err)
	}
	for _, tt := range []struct {
		in, want string
		reply    bool
	}{
		{req5dom, "messenger.hotmail.com:1863", false},
		{req5v4, "10.0.0.1:3389", false},
		{req5v6, "[2001:db8::1]:53", false},
		{rep5, "192.0.2.1:1080", true},
	} {
		m, ok, err := parseMsg5([]byte(tt.in), tt.reply)
		if !ok || err != nil || m.addrPort() != tt.want || m.size != len(tt.in) {
			t.Errorf("parseMsg5(%q) = %q %v %v", tt.in, m.addrPort(), ok, err)
		}
	}
	bad := []struct {
		in    string
		reply bool
		err   error
		parse string
	}{
		{"\x04", false, ErrVersion, "greeting"},
		{"\x05\x00", false, ErrMethod, "greeting"},
		{"\x05\x01\x0a", false, ErrMethod, "greeting"},
		{"\x05\x01\xff", false, ErrMethod, "greeting"},
		{"\x02\x01", false, ErrAuth, "userpass"},
		{"\x01\x00", false, ErrAuth, "userpass"},
		{"\x02\x00", false, ErrAuth, "status"},
		{"\x05\x00\x00\x01", false, ErrCommand, "msg5"},
		{"\x05\x04\x00\x01", false, ErrCommand, "msg5"},
		{"\x05\x09\x00\x01", true, ErrReply, "msg5"},
		{"\x05\x01\x01\x01", false, ErrVersion, "msg5"},
		{"\x05\x01\x00\x02", false, ErrAddress, "msg5"},
		{"\x05\x01\x00\x03\x00", false, ErrAddress, "msg5"},
		{"\x05\x01\x00\x03\x03a b", false, ErrAddress, "msg5"},
		{"\x05\x0b", false, ErrMethod, "choice"},
	}
	for _, tt := range bad {
		var err error
		switch tt.parse {
		case "greeting":
			_, _, err = parseGreeting([]byte(tt.in))
		case "userpass":
			_, _, err = parseUserPass([]byte(tt.in))
		case "status":
			_, _, err = parseAuthStatus([]byte(tt.in))
		case "choice":
			_, _, err = parseChoice([]byte(tt.in))
		default:
			_, _, err = parseMsg5([]byte(tt.in), tt.reply)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("%s(%q) err = %v, want %v", tt.parse, tt.in, err, tt.err)
		}
	}
}

func FuzzSOCKS(f *testing.F) {
	for _, s := range []string{req4, req4a, rep4, greet, choose2, userpass, authOK, req5dom, req5v4, req5v6, rep5} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, ok, err := parseRequest4(b); ok {
			if err != nil || r.size > len(b) || r.size < 9 {
				t.Fatalf("request4 size %d of %d", r.size, len(b))
			}
			_ = r.target()
		}
		if _, ok, _ := parseReply4(b); ok && len(b) < size4Reply {
			t.Fatal("reply4 short")
		}
		if g, ok, _ := parseGreeting(b); ok && (g.size > len(b) || len(g.methods) != g.size-2) {
			t.Fatalf("greeting size %d", g.size)
		}
		if u, ok, _ := parseUserPass(b); ok && (u.size > len(b) || len(u.user)+len(u.pass)+3 != u.size) {
			t.Fatalf("userpass size %d", u.size)
		}
		parseAuthStatus(b)
		parseChoice(b)
		for _, reply := range []bool{false, true} {
			if m, ok, _ := parseMsg5(b, reply); ok {
				if m.size > len(b) {
					t.Fatalf("msg5 size %d of %d", m.size, len(b))
				}
				_ = m.addrPort()
			}
		}
	})
}
