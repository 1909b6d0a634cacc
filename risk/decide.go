package risk

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
)

// Decide returns the action for finding f and the rule that chose it: the
// first rule whose every non-empty match field matches, else the default
// (with a nil rule). A nil Policy alerts on everything.
func (p *Policy) Decide(f Finding) (Action, *PolicyRule) {
	if p == nil {
		return Alert, nil
	}
	for i := range p.Rules {
		if r := &p.Rules[i]; r.matches(&f) {
			return r.Action, r
		}
	}
	if p.Default == "" {
		return Alert, nil
	}
	return p.Default, nil
}

func (r *PolicyRule) matches(f *Finding) bool {
	if len(r.Services) > 0 && !slices.Contains(r.Services, f.Service) {
		return false
	}
	if len(r.Products) > 0 && !containsFold(r.Products, f.Product) {
		return false
	}
	if len(r.Features) > 0 && !slices.Contains(r.Features, f.Feature) {
		return false
	}
	if len(r.Risks) > 0 && !slices.Contains(r.Risks, f.Risk) {
		return false
	}
	if r.MinSeverity != 0 && f.Severity < r.MinSeverity {
		return false
	}
	if len(r.Src) > 0 && !inPrefixes(r.Src, f.Src) {
		return false
	}
	if len(r.Dst) > 0 && !inPrefixes(r.Dst, f.Dst) {
		return false
	}
	if len(r.Users) > 0 {
		ok := false
		for _, u := range f.Users {
			if containsFold(r.Users, u) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func containsFold(list []string, s string) bool {
	if s == "" {
		return false
	}
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// inPrefixes reports whether a is in any of ps (an IPv4-mapped IPv6
// address counts as its IPv4 address).
func inPrefixes(ps []netip.Prefix, a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Explain writes, in words, what each rule of p does and what happens to
// findings no rule matches (for `peerwatch policy check`).
func (p *Policy) Explain(w io.Writer) error {
	if p == nil {
		_, err := fmt.Fprintln(w, "no policy: every finding is an alert")
		return err
	}
	var b strings.Builder
	for i, r := range p.Rules {
		fmt.Fprintf(&b, "%d. ", i+1)
		if r.Name != "" {
			fmt.Fprintf(&b, "%q ", r.Name)
		}
		if r.Line > 0 {
			fmt.Fprintf(&b, "(line %d) ", r.Line)
		}
		verb, note := actionWords(r.Action)
		b.WriteString(verb)
		conds := r.conditions()
		if len(conds) == 0 {
			b.WriteString(" every finding not matched above")
		} else {
			b.WriteString(" findings where " + strings.Join(conds, ", and "))
		}
		b.WriteString(" (" + note + ").\n")
	}
	def := p.Default
	if def == "" {
		def = Alert
	}
	verb, note := actionWords(def)
	fmt.Fprintf(&b, "Otherwise (default): %s the finding (%s).\n", verb, note)
	_, err := io.WriteString(w, b.String())
	return err
}

// actionWords returns the verb of an action and what it means.
func actionWords(a Action) (verb, note string) {
	switch a {
	case Allow:
		return "allow", "counted in the matrix, no alert"
	case Block:
		return "block", "inline: the flow is dropped; offline: an alert with would_block"
	}
	return "alert on", "an alert with action allowed"
}

// conditions describes the rule's match fields.
func (r *PolicyRule) conditions() []string {
	var c []string
	words := func(what string, vals []string) {
		if len(vals) > 0 {
			c = append(c, what+" is "+orList(vals))
		}
	}
	words("service", r.Services)
	words("product", r.Products)
	words("feature", toStrings(r.Features))
	words("risk", toStrings(r.Risks))
	if r.MinSeverity != 0 {
		c = append(c, "severity is "+r.MinSeverity.String()+" or worse")
	}
	nets := func(what string, ps []netip.Prefix) {
		if len(ps) > 0 {
			s := make([]string, len(ps))
			for i, p := range ps {
				s[i] = p.String()
			}
			c = append(c, what+" is in "+orList(s))
		}
	}
	nets("source", r.Src)
	nets("destination", r.Dst)
	words("user (any case)", r.Users)
	return c
}

func toStrings[T ~string](v []T) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = string(s)
	}
	return out
}

func orList(v []string) string {
	q := make([]string, len(v))
	for i, s := range v {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
