package risk

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/event"
)

// eicar is the standard 68-byte EICAR anti-virus test file.
const eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

func eicarHashes() (string, string, string) {
	m, s1, s2 := md5.Sum([]byte(eicar)), sha1.Sum([]byte(eicar)), sha256.Sum256([]byte(eicar))
	return hex.EncodeToString(m[:]), hex.EncodeToString(s1[:]), hex.EncodeToString(s2[:])
}

func TestDefaultIOCEicar(t *testing.T) {
	if len(eicar) != 68 {
		t.Fatalf("eicar string is %d bytes", len(eicar))
	}
	m, s1, s2 := eicarHashes()
	ioc := DefaultIOC()
	for _, h := range [][3]string{{m, "", ""}, {"", s1, ""}, {"", "", s2}, {strings.ToUpper(m), "", ""}} {
		e, ok := ioc.MatchHash(h[0], h[1], h[2])
		if !ok || e.Risk != event.RiskMalwareCarrier || !strings.Contains(e.Description, "EICAR") {
			t.Errorf("MatchHash(%v) = %+v, %v", h, e, ok)
		}
	}
	if _, ok := ioc.MatchHash("", "", strings.Repeat("0", 64)); ok {
		t.Error("an unknown digest matched")
	}
	if _, ok := ioc.MatchHash("", "", ""); ok {
		t.Error("empty digests matched")
	}
}

func TestIOCNames(t *testing.T) {
	ioc := DefaultIOC().Merge(mustIOC(t, "name:*.pif malware_carrier any PIF\nname:x?.scr worm glob\n"))
	for _, tc := range []struct {
		name string
		want string // risk, "" for no match
	}{
		{"Hello.exe", "worm"},
		{"HELLO.EXE", "worm"},
		{`C:\Temp\hello.exe`, "worm"},
		{"dir/Hello.exe. ", "worm"},
		{"hello.exe\x00.txt", "worm"},
		{"Hello.exe.txt", ""},
		{"xHello.exe", ""},
		{"photo.pif", "malware_carrier"},
		{"xy.scr", "worm"},
		{"xyz.scr", ""},
		{"", ""},
	} {
		e, ok := ioc.MatchName(tc.name)
		if got := string(e.Risk); ok != (tc.want != "") || got != tc.want {
			t.Errorf("MatchName(%q) = %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
	if DefaultIOC().Len() != 4 {
		t.Errorf("default list has %d entries, want 4", DefaultIOC().Len())
	}
}

func mustIOC(t *testing.T, s string) *IOC {
	t.Helper()
	i, err := ParseIOC("test", strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func TestParseIOCErrors(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"md5:abc worm x", "test:1: md5 value"},
		{"# c\n\nsha1:" + strings.Repeat("g", 40) + " worm", "test:3: sha1 value"},
		{"sha256:" + strings.Repeat("a", 64) + " virus", "test:1: risk \"virus\""},
		{"crc32:12345678 worm", "test:1: type \"crc32\""},
		{"md5:" + strings.Repeat("a", 32), "test:1: want"},
		{"Hello.exe worm", "test:1: indicator"},
		{"name:a/b.exe worm", "test:1: name"},
		{"name:[a.exe worm", "test:1: name \"[a.exe\": bad glob"},
		{"\n\n" + strings.Repeat("x", maxIOCLine+10), "test:3:"},
	} {
		_, err := ParseIOC("test", strings.NewReader(tc.in))
		if err == nil || !errors.Is(err, ErrIOC) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseIOC(%.40q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestLoadIOC(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.txt")
	m, _, _ := eicarHashes()
	if err := os.WriteFile(p, []byte("# mine\nmd5:"+m+" worm  my  description \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	i, err := LoadIOC(p)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := i.MatchHash(m, "", "")
	if !ok || e.Risk != event.RiskWorm || e.Description != "my  description" || e.Line != 2 || e.Source != p {
		t.Errorf("entry %+v, %v", e, ok)
	}
	// The later list wins for the same digest.
	if e, _ := DefaultIOC().Merge(i).MatchHash(m, "", ""); e.Risk != event.RiskWorm {
		t.Errorf("merge: %+v", e)
	}
	if _, err := LoadIOC(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, ErrIOC) {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzParseIOC(f *testing.F) {
	f.Add(defaultIOC)                                  // the shipped list
	f.Add("name:*.[ch]x worm glob\nmd5:00 worm short") // a glob, then a bad digest
	f.Add("sha1:" + strings.Repeat("A", 40) + " malware_carrier \xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		i, err := ParseIOC("fuzz", strings.NewReader(s))
		if err != nil {
			if !errors.Is(err, ErrIOC) {
				t.Fatalf("error does not wrap ErrIOC: %v", err)
			}
			return
		}
		i.MatchName(s)
		i.MatchHash(s, s, s)
	})
}
