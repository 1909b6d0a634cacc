package hostnames

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	l := Default()
	for host, want := range map[string]string{
		"login.oscar.aol.com":          "aim",
		"LOGIN.ICQ.COM.":               "icq",
		"icq.com":                      "icq",
		"bos-m013.icq.com":             "icq",
		"db3msgr5011.msgr.hotmail.com": "msn",
		"scs.msg.yahoo.com":            "yahoo",
		"web.whatsapp.com":             "whatsapp",
		"notwhatsapp.com":              "",
		"evil-icq.com":                 "",
		"www.example.com":              "",
		"":                             "",
		strings.Repeat("a", 300):       "",
	} {
		e, ok := l.Lookup(host)
		if got := map[bool]string{true: e.Service}[ok]; got != want {
			t.Errorf("Lookup(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{"*. aim AIM\n", "a.*.com aim AIM\n", "onlyhost aim\n"} {
		if _, err := Parse(strings.NewReader(bad), "x"); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	l, err := Default().Extend(strings.NewReader("chat.example.org corpchat Corp Chat\n*.icq.com other Other\n"), "local")
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := l.Lookup("chat.example.org"); e.Product != "Corp Chat" {
		t.Errorf("extended entry: %+v", e)
	}
	if e, _ := l.Lookup("x.icq.com"); e.Service != "other" {
		t.Errorf("override: %+v", e)
	}
	if e, _ := Default().Lookup("x.icq.com"); e.Service != "icq" {
		t.Error("Extend changed the default list")
	}
}

func TestLookupAllocs(t *testing.T) {
	l := Default()
	if n := testing.AllocsPerRun(100, func() { l.Lookup("Bos-M013.ICQ.com") }); n != 0 {
		t.Fatalf("Lookup allocates %v times", n)
	}
}

func BenchmarkLookup(b *testing.B) {
	l := Default()
	b.ReportAllocs()
	for b.Loop() {
		l.Lookup("db3msgr5011.msgr.hotmail.com")
	}
}
