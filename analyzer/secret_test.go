package analyzer

import (
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/event"
)

func TestSecret(t *testing.T) {
	r := NewRecorder()
	s := r.Session(&Spec{Name: "x"})
	ci := s.Secret(event.Reversible, "alice", "password", "s3cret99")
	if ci.LengthClass != "5-8" || ci.Length != 0 || ci.Masked != "********" || ci.Secret != "" || ci.Fingerprint == "" ||
		strings.Contains(ci.Fingerprint, "s3cret") {
		t.Errorf("password: %+v", ci)
	}
	if again := s.Secret(event.Plaintext, "bob", "password", "s3cret99"); again.Fingerprint != ci.Fingerprint {
		t.Error("the same password on two accounts has different fingerprints: reuse would not show")
	}
	tok := s.Secret(event.SessionToken, "alice", "cookie", strings.Repeat("\x01", 256))
	if tok.Length != 256 || tok.LengthClass != "" || tok.Masked != "" {
		t.Errorf("token: %+v", tok)
	}
	r.Opts.RevealCredentials = true
	if got := s.Secret(event.Plaintext, "", "password", "pa\x00ss\\é").Secret; got != `pa\x00ss\x5cé` {
		t.Errorf("revealed = %q", got)
	}
	for n, want := range map[int]string{0: "1-4", 4: "1-4", 5: "5-8", 12: "9-12", 16: "13-16", 17: "17+"} {
		if got := LengthClass(n); got != want {
			t.Errorf("LengthClass(%d) = %q", n, got)
		}
	}
}
