package enforce

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/risk"
)

// block is what the policy blocks of one service.
type block struct {
	service  string
	whole    bool                   // every countermeasure of the service
	features map[event.Feature]bool // else these features' countermeasures
	why      string                 // the policy rule responsible
	src, dst []netip.Prefix         // the rule's networks, if any
}

// plan decides, per service, what the policy blocks, and returns notes on
// the parts a firewall cannot express. A finding takes the first matching
// rule, so a rule that allows a whole service stops later blocks of it.
func plan(p *risk.Policy, services []string) ([]block, []string) {
	var out []block
	var notes []string
	where := func(r risk.PolicyRule) string {
		s := "rule " + r.Name
		if r.Line > 0 {
			s += fmt.Sprintf(" (%s:%d)", p.File, r.Line)
		}
		return s
	}
	noted := map[int]bool{}
	for _, svc := range services {
		b := block{service: svc, features: map[event.Feature]bool{}}
		decided := false
		for i, r := range p.Rules {
			if !matchesService(r, svc) {
				continue
			}
			feats := slices.Clone(r.Features)
			expressible := len(r.Users) == 0 && r.MinSeverity == 0
			for _, k := range r.Risks {
				f, ok := riskFeatures[k]
				if !ok {
					expressible = false
				}
				feats = append(feats, f...)
			}
			narrow := len(feats) > 0 || len(r.Risks) > 0 || !expressible
			if r.Action != risk.Block {
				if !narrow && len(r.Src) == 0 && len(r.Dst) == 0 {
					decided = true
					break
				}
				continue
			}
			if !expressible {
				if !noted[i] {
					notes = append(notes, where(r)+": its user, severity or risk conditions cannot be expressed at the firewall, inline enforcement (peerwatch enforce) applies it")
					noted[i] = true
				}
				continue
			}
			if !narrow {
				b.whole, b.why, b.src, b.dst = true, where(r), r.Src, r.Dst
				decided = true
				break
			}
			for _, f := range feats {
				b.features[f] = true
			}
			if b.why == "" {
				b.why, b.src, b.dst = where(r), r.Src, r.Dst
			}
		}
		if !decided && p.Default == risk.Block {
			b.whole, b.why = true, "policy default block"
			if p.File != "" {
				b.why += " (" + p.File + ")"
			}
		}
		if b.whole || len(b.features) > 0 {
			out = append(out, b)
		}
	}
	return out, notes
}

// matchesService reports whether a rule can match findings of svc.
func matchesService(r risk.PolicyRule, svc string) bool {
	if len(r.Services) > 0 && !slices.Contains(r.Services, svc) {
		return false
	}
	if len(r.Products) > 0 {
		ok := false
		for _, p := range r.Products {
			for _, q := range products[svc] {
				ok = ok || strings.EqualFold(p, q)
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// rule is one generated firewall rule before rendering.
type rule struct {
	family  int // 4 or 6
	out     bool
	local   []netip.Prefix // home side (source when out)
	remote  []netip.Prefix // other side; nil: any
	ports   []PortRange    // one protocol
	addrs   []netip.Addr   // remote addresses (whole-address block) when ports is nil
	comment string
}

// Countermeasures renders the firewall rules that implement p's blocks in
// format "nftables", "iptables" or "ip6tables" (both iptables formats are
// iptables-restore input). seen may be nil (no capture analysed: the
// paper's ports only, home_net RFC 1918 + ULA). The output starts with
// comments that explain the rules and Warning's text.
func Countermeasures(p *risk.Policy, seen *Seen, format string) ([]byte, error) {
	if p == nil {
		return nil, ErrPolicy
	}
	if seen == nil {
		seen = &Seen{HomeNet: DefaultHomeNet}
	}
	services := []string{}
	for _, c := range Catalogue {
		if !slices.Contains(services, c.Service) {
			services = append(services, c.Service)
		}
	}
	for _, s := range seen.Servers {
		if !slices.Contains(services, s.Service) {
			services = append(services, s.Service)
		}
	}
	blocks, notes := plan(p, services)
	var buf bytes.Buffer
	head := func(prefix string) {
		fmt.Fprintf(&buf, "%speerwatch countermeasures (%s)\n", prefix, format)
		if p.File != "" {
			fmt.Fprintf(&buf, "%spolicy: %s\n", prefix, commentText(p.File, 200))
		}
		if seen.Source != "" {
			fmt.Fprintf(&buf, "%saddresses learnt from: %s (no name was resolved; names are comments)\n", prefix, commentText(seen.Source, 200))
		}
		fmt.Fprintf(&buf, "%shome_net: %s\n", prefix, prefixText(seen.HomeNet))
		for _, n := range notes {
			fmt.Fprintf(&buf, "%snote: %s\n", prefix, commentText(n, 400))
		}
		if len(blocks) == 0 {
			fmt.Fprintf(&buf, "%sthe policy blocks no service: no rule is generated\n", prefix)
		}
		for _, line := range strings.Split(strings.TrimRight(Warning(seen), "\n"), "\n") {
			fmt.Fprintf(&buf, "%s%s\n", prefix, line)
		}
	}
	switch format {
	case "nftables":
		head("# ")
		writeNft(&buf, blocks, seen)
	case "iptables", "ip6tables":
		head("# ")
		fam := 4
		if format == "ip6tables" {
			fam = 6
		}
		writeIptables(&buf, blocks, seen, fam)
	default:
		return nil, fmt.Errorf("%w: %q", ErrFormat, format)
	}
	return buf.Bytes(), nil
}

// rules expands the blocks into rules; a rule that matches exactly what
// an earlier one of the same service does (AIM's 4443 serves two
// features) is left out.
func rules(blocks []block, seen *Seen) []rule {
	var d dedup
	return d.run(blocks, seen)
}

// dedup collects rules without repeats.
type dedup struct {
	rules []rule
	keys  map[string]bool
}

// add appends r unless an equal match of the same service was added.
func (d *dedup) add(service string, r rule) {
	k := fmt.Sprint(service, r.family, r.out, r.local, r.remote, r.ports, r.addrs)
	if d.keys[k] {
		return
	}
	d.keys[k] = true
	d.rules = append(d.rules, r)
}

// run expands the blocks.
func (d *dedup) run(blocks []block, seen *Seen) []rule {
	d.keys = map[string]bool{}
	for _, b := range blocks {
		for _, c := range Catalogue {
			if c.Service != b.service || !(b.whole || b.features[c.Feature] && c.Feature != "") {
				continue
			}
			why := fmt.Sprintf("%s - %s: %s (%s)", b.why, b.service, c.Why, c.Source)
			byProto := map[string][]PortRange{}
			for _, pr := range c.Ports {
				byProto[pr.Proto] = append(byProto[pr.Proto], pr)
			}
			for _, proto := range []string{"tcp", "udp"} {
				prs := byProto[proto]
				if len(prs) == 0 {
					continue
				}
				for _, fam := range []int{4, 6} {
					local := family(orPrefixes(b.src, seen.HomeNet), fam)
					remote := family(b.dst, fam)
					if len(local) == 0 || (len(b.dst) > 0 && len(remote) == 0) {
						continue
					}
					d.add(b.service, rule{family: fam, out: true, local: local, remote: remote, ports: prs, comment: why})
					if len(b.src) == 0 && len(b.dst) == 0 { // servents and direct connections listen at home
						d.add(b.service, rule{family: fam, local: local, ports: prs, comment: "incoming: " + why})
					}
				}
			}
		}
		if !b.whole {
			continue
		}
		for _, sv := range seen.Servers {
			if sv.Service != b.service {
				continue
			}
			fam := 4
			if sv.Addr.Is6() {
				fam = 6
			}
			local := family(orPrefixes(b.src, seen.HomeNet), fam)
			if len(local) == 0 {
				continue
			}
			what := fmt.Sprintf("%s server seen in %d flow(s)", b.service, sv.Flows)
			if len(sv.Names) > 0 {
				what += " as " + strings.Join(sv.Names, ", ")
			}
			r := rule{family: fam, out: true, local: local, addrs: []netip.Addr{sv.Addr}, comment: b.why + " - " + what}
			if !sv.Whole {
				r.ports = []PortRange{{sv.Proto, sv.Port, sv.Port}}
				r.comment = b.why + " - only this port: " + what + " over a carrier protocol"
			}
			d.add(b.service, r)
		}
	}
	return d.rules
}

// Warning explains what port blocking cannot stop, citing the evasions
// seen in the analysed traffic. Each line is safe to print and to write
// behind a '#'.
func Warning(seen *Seen) string {
	var b strings.Builder
	b.WriteString("WARNING: port and address blocking cannot stop:\n")
	b.WriteString("- clients moved to another port (AIM and Gnutella run on any port), including 80 and 443, which these rules never block,\n")
	b.WriteString("- SOCKS and HTTP proxies, which all six 2002 clients support: the firewall sees only the proxy,\n")
	b.WriteString("- HTTP tunnelling (MSN gateway, Yahoo and ICQ/AIM over HTTP) and P2P transfers over HTTP,\n")
	b.WriteString("- servers and supernodes not seen in the analysed traffic (learnt addresses go stale).\n")
	b.WriteString("Inline enforcement (peerwatch enforce) classifies flows by content and stops these.\n")
	if seen == nil || len(seen.Evasions) == 0 {
		if seen != nil && seen.Source != "" {
			b.WriteString("The analysed traffic showed no evasion.\n")
		}
		return b.String()
	}
	count := map[string]int{}
	for _, e := range seen.Evasions {
		count[e.How]++
	}
	fmt.Fprintf(&b, "The analysed traffic proves it: %d flow(s) would have passed (other_port %d, proxy %d, http_tunnel %d):\n",
		len(seen.Evasions), count[event.OtherPort], count[event.ViaProxy], count[event.HTTPTunnel])
	for i, e := range seen.Evasions {
		if i == 20 {
			fmt.Fprintf(&b, "- ... %d more\n", len(seen.Evasions)-20)
			break
		}
		line := fmt.Sprintf("- flow %d %s %s: %s -> %s", e.FlowID, e.Service, e.How, e.Src, e.Dst)
		if e.Proxy != "" {
			line += " via " + e.Proxy
		}
		b.WriteString(commentText(line, 200) + "\n")
	}
	return b.String()
}

// family keeps the prefixes of one IP version.
func family(ps []netip.Prefix, fam int) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range ps {
		if p.Addr().Is4() == (fam == 4) {
			out = append(out, p)
		}
	}
	return out
}

// orPrefixes is a unless it is empty, then b.
func orPrefixes(a, b []netip.Prefix) []netip.Prefix {
	if len(a) > 0 {
		return a
	}
	return b
}

// prefixText joins prefixes with ", ".
func prefixText(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// portText writes ranges as "a, b-c" (nft) or "a,b:c" (iptables).
func portText(prs []PortRange, sep, dash string) string {
	s := make([]string, len(prs))
	for i, p := range prs {
		s[i] = fmt.Sprint(p.From)
		if p.To != p.From {
			s[i] += dash + fmt.Sprint(p.To)
		}
	}
	return strings.Join(s, sep)
}
