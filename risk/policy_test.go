package risk

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/event"
)

var testHome = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fc00::/7")}

func TestExamplePolicy(t *testing.T) {
	path := filepath.Join("..", "examples", "policy.yaml")
	p, err := LoadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Default != Alert || len(p.Rules) != 6 {
		t.Fatalf("default %q, %d rules", p.Default, len(p.Rules))
	}
	r := p.Rules[0]
	if r.Name != "helpdesk remote support" || r.Action != Allow || r.Line != 18 ||
		len(r.Features) != 2 || r.Src[0] != netip.MustParsePrefix("10.20.0.0/16") {
		t.Errorf("rule 1: %+v", r)
	}
	if p.Rules[1].MinSeverity != Critical || p.Rules[2].Src[0] != netip.MustParsePrefix("10.0.0.0/8") {
		t.Errorf("rules 2-3: %+v %+v", p.Rules[1], p.Rules[2])
	}
	var b bytes.Buffer
	if err := p.Explain(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`1. "helpdesk remote support" (line 18) allow findings where service is "msn", and feature is "app_sharing" or "remote_assistance"`,
		`severity is critical or worse`, "Otherwise (default): alert on"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Explain lacks %q:\n%s", want, b.String())
		}
	}
}

func TestBadPolicies(t *testing.T) {
	for _, tc := range []struct {
		file, want string
	}{
		{"unknown_key.yaml", `unknown_key.yaml:7: unknown key "protocol" in match`},
		{"bad_action.yaml", `bad_action.yaml:3: action "drop": want allow, alert or block`},
		{"bad_cidr.yaml", `bad_cidr.yaml:5: src "300.1.2.0/24": not a CIDR prefix`},
		{"bad_severity.yaml", `bad_severity.yaml:4: severity "urgent"`},
		{"bad_risk.yaml", `bad_risk.yaml:7: risk "ransomware": not a risk column`},
		{"wrong_type.yaml", `wrong_type.yaml:3: rules: want a list of rules, got a mapping`},
		{"wrong_type_match.yaml", `wrong_type_match.yaml:4: users: want a value or a list of values, got a mapping`},
		{"bad_default.yaml", `bad_default.yaml:2: action "deny"`},
		{"unknown_top.yaml", `unknown_top.yaml:2: unknown key "home_net"`},
		{"missing_action.yaml", `missing_action.yaml:2: rule: missing action`},
		{"bad_feature.yaml", `bad_feature.yaml:4: feature "telepathy"`},
		{"duplicate_key.yaml", `duplicate_key.yaml:3: rule: duplicate key "action"`},
		{"plural_twice.yaml", `plural_twice.yaml:5: match: "services" repeats services`},
		{"syntax.yaml", `syntax.yaml:3: yaml: `},
		{"alias.yaml", `alias.yaml:3: rule: anchors and aliases are not supported`},
		{"bad_service.yaml", `bad_service.yaml:4: service "MSN Messenger"`},
	} {
		path := filepath.Join("testdata", "policy", tc.file)
		_, err := LoadPolicy(path)
		var pe *PolicyError
		if err == nil || !errors.Is(err, ErrPolicy) || !errors.As(err, &pe) || !strings.HasSuffix(path, pe.File) {
			t.Errorf("%s: error %v, want a *PolicyError", tc.file, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), filepath.Join("testdata", "policy", tc.want)) {
			t.Errorf("%s: %v\n want %s", tc.file, err, tc.want)
		}
	}
}

func TestParsePolicyEdges(t *testing.T) {
	for _, tc := range []struct {
		in   string
		home []netip.Prefix
		want string // "" : valid
	}{
		{"", nil, ""},
		{"# only a comment\n", nil, ""},
		{"~\n", nil, ""},
		{"default: allow\n", nil, ""},
		{"rules: []\n", nil, ""},
		{"rules:\n  - action: alert\n    match: {src: home_net}\n", nil, "x:3: src: home_net used but no home networks"},
		{"rules:\n  - action: alert\n    match: {dst: [home_net, 192.0.2.1, '2001:db8::/32']}\n", testHome, ""},
		{"rules:\n  - action: alert\n    match: {users: []}\n", nil, "x:3: users: empty list"},
		{"rules:\n  - action: alert\n    name: ''\n", nil, "x:3: name: empty value"},
		{"rules:\n  - action: alert\n    match: {product: ~}\n", nil, "x:3: product: want a string, got nothing"},
		{"- a\n", nil, "x:1: policy: want a mapping, got a list"},
		{"rules:\n  - 5\n", nil, "x:2: rule: want a mapping, got a scalar"},
		{"1: x\n", nil, "x:1: policy: keys must be names"},
		{strings.Repeat("#", MaxPolicySize+1), nil, "x: larger than"},
	} {
		p, err := ParsePolicy("x", []byte(tc.in), tc.home)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%.40q: %v", tc.in, err)
		case tc.want == "" && p.Default == "":
			t.Errorf("%.40q: no default", tc.in)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%.40q: %v, want %q", tc.in, err, tc.want)
		}
	}
	if _, err := LoadPolicy(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, ErrPolicy) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestDecide(t *testing.T) {
	src := `default: allow
rules:
  - {name: r1, action: block, match: {services: [kazaa, gnutella]}}
  - {name: r2, action: alert, match: {risk: credential_exposure, severity: high, src: home_net}}
  - {name: r3, action: block, match: {product: "aim", feature: file_transfer}}
  - {name: r4, action: alert, match: {users: [Alice], dst: 192.0.2.0/24}}
  - {name: r5, action: allow, match: {risk: im_use}}
  - {name: r6, action: alert, match: {severity: critical}}
`
	p, err := ParsePolicy("t.yaml", []byte(src), testHome)
	if err != nil {
		t.Fatal(err)
	}
	home, away := netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("198.51.100.7")
	for _, tc := range []struct {
		name string
		f    Finding
		act  Action
		rule string
	}{
		{"service", Finding{Service: "kazaa", Risk: event.RiskP2PUse, Severity: Low}, Block, "r1"},
		{"cred high local", Finding{Risk: event.RiskCredentialExposure, Severity: Critical, Src: home}, Alert, "r2"},
		{"cred high remote src", Finding{Risk: event.RiskCredentialExposure, Severity: Critical, Src: away}, Alert, "r6"},
		{"cred medium", Finding{Risk: event.RiskCredentialExposure, Severity: Medium, Src: home}, Allow, ""},
		{"product any case", Finding{Product: "AIM", Feature: event.FileTransfer}, Block, "r3"},
		{"product other feature", Finding{Product: "AIM", Feature: event.DirectIM}, Allow, ""},
		{"user any case", Finding{Users: []string{"bob", "ALICE"}, Dst: netip.MustParseAddr("192.0.2.9")}, Alert, "r4"},
		{"user wrong net", Finding{Users: []string{"alice"}, Dst: away}, Allow, ""},
		{"mapped v4", Finding{Risk: event.RiskCredentialExposure, Severity: High, Src: netip.MustParseAddr("::ffff:10.0.0.1")}, Alert, "r2"},
		{"first wins", Finding{Service: "gnutella", Risk: event.RiskIMUse, Severity: Critical}, Block, "r1"},
		{"default", Finding{Risk: event.RiskEvasion, Severity: Medium}, Allow, ""},
	} {
		act, r := p.Decide(tc.f)
		name := ""
		if r != nil {
			name = r.Name
		}
		if act != tc.act || name != tc.rule {
			t.Errorf("%s: %s by %q, want %s by %q", tc.name, act, name, tc.act, tc.rule)
		}
	}
	var nilPolicy *Policy
	if act, r := nilPolicy.Decide(Finding{}); act != Alert || r != nil {
		t.Errorf("nil policy: %s %v", act, r)
	}
}

func FuzzParsePolicy(f *testing.F) {
	for _, name := range []string{"unknown_key.yaml", "bad_cidr.yaml", "wrong_type.yaml", "alias.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "policy", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	b, err := os.ReadFile(filepath.Join("..", "examples", "policy.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy("fuzz", data, testHome)
		if err != nil {
			var pe *PolicyError
			if !errors.As(err, &pe) || !errors.Is(err, ErrPolicy) {
				t.Fatalf("error is not a *PolicyError: %v", err)
			}
			return
		}
		var w bytes.Buffer
		if err := p.Explain(&w); err != nil {
			t.Fatal(err)
		}
		p.Decide(Finding{Service: "aim", Src: netip.MustParseAddr("10.0.0.1")})
	})
}
