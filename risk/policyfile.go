package risk

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/event"
)

// ErrPolicy is wrapped by every policy file error (a *PolicyError).
var ErrPolicy = errors.New("risk: bad policy")

// MaxPolicySize bounds the bytes of a policy file.
const MaxPolicySize = 1 << 20

// PolicyError is a policy file problem: the file, the 1-based line (0 when
// the whole file is at fault) and the reason. It prints as
// "file:line: reason", as compilers do, and wraps ErrPolicy.
type PolicyError struct {
	File   string
	Line   int
	Reason string
}

// Error returns "file:line: reason".
func (e *PolicyError) Error() string {
	if e.Line <= 0 {
		return e.File + ": " + e.Reason
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Reason
}

// Unwrap returns ErrPolicy.
func (e *PolicyError) Unwrap() error { return ErrPolicy }

// HomeNetword is the word that stands for the home networks in a policy's
// src and dst lists.
const HomeNetword = "home_net"

// LoadPolicy reads the policy file at path, with home_net meaning the
// default home networks (config.Default: RFC 1918 and ULA). Use
// ParsePolicy to give other ones.
func LoadPolicy(path string) (*Policy, error) {
	def := config.Default()
	home, err := def.Prefixes()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPolicy, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxPolicySize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPolicy, err)
	}
	return ParsePolicy(path, data, home)
}

// yamlLine finds the line number in yaml.v3's syntax error messages.
var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// ParsePolicy parses a policy file (format in risk/README.md). name is
// used in errors; home is what the word home_net in src and dst lists
// stands for (it is an error to use the word when home is empty). Every
// error is a *PolicyError naming the line.
func ParsePolicy(name string, data []byte, home []netip.Prefix) (*Policy, error) {
	p := &Policy{File: name, Default: Alert}
	if len(data) > MaxPolicySize {
		return nil, &PolicyError{File: name, Reason: fmt.Sprintf("larger than %d bytes", MaxPolicySize)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			return nil, &PolicyError{File: name, Line: n, Reason: "yaml: " + m[2]}
		}
		return nil, &PolicyError{File: name, Reason: "yaml: " + msg}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return p, nil // an empty file: alert on everything
	}
	pp := policyParser{file: name, home: home}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return p, nil
	}
	if err := pp.mapping(root, "policy", func(key string, k, v *yaml.Node) error {
		switch key {
		case "default":
			a, err := pp.action(v)
			p.Default = a
			return err
		case "rules":
			if v.Kind != yaml.SequenceNode {
				return pp.errf(v, "rules: want a list of rules, got %s", kindName(v))
			}
			for _, rn := range v.Content {
				r, err := pp.rule(rn)
				if err != nil {
					return err
				}
				p.Rules = append(p.Rules, r)
			}
			return nil
		}
		return pp.errf(k, "unknown key %q (want default, rules)", clip(key))
	}); err != nil {
		return nil, err
	}
	return p, nil
}

type policyParser struct {
	file string
	home []netip.Prefix
}

func (pp *policyParser) errf(n *yaml.Node, format string, a ...any) error {
	return &PolicyError{File: pp.file, Line: n.Line, Reason: fmt.Sprintf(format, a...)}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return "a scalar"
	}
	return "a document"
}

// mapping calls f for each key of mapping node n, rejecting duplicate keys
// and non-string keys; what names the mapping in messages.
func (pp *policyParser) mapping(n *yaml.Node, what string, f func(key string, k, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return pp.errf(n, "%s: want a mapping, got %s", what, kindName(n))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
			return pp.errf(k, "%s: keys must be names", what)
		}
		if seen[k.Value] {
			return pp.errf(k, "%s: duplicate key %q", what, clip(k.Value))
		}
		seen[k.Value] = true
		if v.Kind == yaml.AliasNode || v.Anchor != "" {
			return pp.errf(v, "%s: anchors and aliases are not supported", what)
		}
		if err := f(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

// str returns the string value of scalar node n.
func (pp *policyParser) str(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", pp.errf(n, "%s: want a string, got %s", what, kindName(n))
	}
	if n.Value == "" {
		return "", pp.errf(n, "%s: empty value", what)
	}
	return n.Value, nil
}

// list returns the values of a scalar or a list of scalars, each with its
// node for messages.
func (pp *policyParser) list(n *yaml.Node, what string) ([]*yaml.Node, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		_, err := pp.str(n, what)
		return []*yaml.Node{n}, err
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nil, pp.errf(n, "%s: empty list", what)
		}
		for _, c := range n.Content {
			if _, err := pp.str(c, what); err != nil {
				return nil, err
			}
		}
		return n.Content, nil
	}
	return nil, pp.errf(n, "%s: want a value or a list of values, got %s", what, kindName(n))
}

func (pp *policyParser) action(n *yaml.Node) (Action, error) {
	s, err := pp.str(n, "action")
	if err != nil {
		return "", err
	}
	switch a := Action(s); a {
	case Allow, Alert, Block:
		return a, nil
	}
	return "", pp.errf(n, "action %q: want allow, alert or block", clip(s))
}

func (pp *policyParser) rule(n *yaml.Node) (PolicyRule, error) {
	r := PolicyRule{Line: n.Line}
	err := pp.mapping(n, "rule", func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "name":
			r.Name, err = pp.str(v, "name")
		case "action":
			r.Action, err = pp.action(v)
		case "match":
			err = pp.match(v, &r)
		default:
			err = pp.errf(k, "unknown key %q in rule (want name, action, match)", clip(key))
		}
		return err
	})
	if err == nil && r.Action == "" {
		err = pp.errf(n, "rule: missing action (allow, alert or block)")
	}
	return r, err
}

// matchKeys maps the keys of a match to the field they fill; singular
// and plural spellings are the same field.
var matchKeys = map[string]string{
	"service": "services", "services": "services", "product": "products", "products": "products",
	"feature": "features", "features": "features", "risk": "risks", "risks": "risks",
	"severity": "severity", "src": "src", "dst": "dst", "user": "users", "users": "users",
}

func (pp *policyParser) match(n *yaml.Node, r *PolicyRule) error {
	filled := map[string]bool{}
	return pp.mapping(n, "match", func(key string, k, v *yaml.Node) error {
		field, ok := matchKeys[key]
		if !ok {
			return pp.errf(k, "unknown key %q in match (want service(s), product(s), feature(s), risk(s), severity, src, dst, user(s))", clip(key))
		}
		if filled[field] {
			return pp.errf(k, "match: %q repeats %s", key, field)
		}
		filled[field] = true
		if field == "severity" {
			s, err := pp.str(v, "severity")
			if err != nil {
				return err
			}
			sev, ok := ParseSeverity(s)
			if !ok {
				return pp.errf(v, "severity %q: want low, medium, high or critical", clip(s))
			}
			r.MinSeverity = sev
			return nil
		}
		vals, err := pp.list(v, key)
		if err != nil {
			return err
		}
		for _, vn := range vals {
			s := vn.Value
			switch field {
			case "services":
				if !serviceName(s) {
					return pp.errf(vn, "service %q: want a lower-case service name (aim, msn, ...)", clip(s))
				}
				r.Services = append(r.Services, s)
			case "products":
				r.Products = append(r.Products, s)
			case "users":
				r.Users = append(r.Users, s)
			case "features":
				f := event.Feature(s)
				if !slices.Contains(event.Features, f) {
					return pp.errf(vn, "feature %q: not a feature (see DESIGN §5)", clip(s))
				}
				r.Features = append(r.Features, f)
			case "risks":
				rk := event.Risk(s)
				if !knownRisk(rk) {
					return pp.errf(vn, "risk %q: not a risk column (see `peerwatch rules`)", clip(s))
				}
				r.Risks = append(r.Risks, rk)
			case "src", "dst":
				ps, err := pp.prefixes(vn, key)
				if err != nil {
					return err
				}
				if field == "src" {
					r.Src = append(r.Src, ps...)
				} else {
					r.Dst = append(r.Dst, ps...)
				}
			}
		}
		return nil
	})
}

// prefixes parses one src/dst value: a CIDR prefix, an address or home_net.
func (pp *policyParser) prefixes(n *yaml.Node, key string) ([]netip.Prefix, error) {
	s := n.Value
	if s == HomeNetword {
		if len(pp.home) == 0 {
			return nil, pp.errf(n, "%s: home_net used but no home networks are configured", key)
		}
		return pp.home, nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, pp.errf(n, "%s %q: not a CIDR prefix", key, clip(s))
		}
		return []netip.Prefix{p.Masked()}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return nil, pp.errf(n, "%s %q: want a CIDR prefix, an address or home_net", key, clip(s))
	}
	return []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}, nil
}

// serviceName reports whether s looks like a peerwatch.service value.
func serviceName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
