package enforce

import (
	"bytes"
	"fmt"
	"net/netip"
)

// writeNft writes the ruleset: the table is created, deleted and defined
// again so that loading the file twice replaces the rules. The base chains
// accept by default: the table only adds drops.
func writeNft(buf *bytes.Buffer, blocks []block, seen *Seen) {
	buf.WriteString("\ntable inet peerwatch {}\ndelete table inet peerwatch\n\ntable inet peerwatch {\n")
	buf.WriteString("\tchain countermeasures {\n")
	for _, r := range rules(blocks, seen) {
		ip := "ip"
		if r.family == 6 {
			ip = "ip6"
		}
		localDir, remoteDir := "saddr", "daddr"
		if !r.out {
			localDir, remoteDir = "daddr", "saddr"
		}
		fmt.Fprintf(buf, "\t\t%s %s %s", ip, localDir, nftSet(prefixStrings(r.local)))
		if len(r.remote) > 0 {
			fmt.Fprintf(buf, " %s %s %s", ip, remoteDir, nftSet(prefixStrings(r.remote)))
		}
		if len(r.addrs) > 0 {
			var s []string
			for _, a := range r.addrs {
				s = append(s, a.String())
			}
			fmt.Fprintf(buf, " %s %s %s", ip, remoteDir, nftSet(s))
		}
		if len(r.ports) > 0 {
			fmt.Fprintf(buf, " %s dport { %s }", r.ports[0].Proto, portText(r.ports, ", ", "-"))
		}
		fmt.Fprintf(buf, " counter drop comment \"%s\"\n", commentText(r.comment, 120))
	}
	buf.WriteString("\t}\n")
	for _, hook := range []string{"forward", "input", "output"} {
		fmt.Fprintf(buf, "\tchain %s {\n\t\ttype filter hook %s priority filter; policy accept;\n\t\tjump countermeasures\n\t}\n", hook, hook)
	}
	buf.WriteString("}\n")
}

// nftSet writes one value bare and several as an anonymous set.
func nftSet(v []string) string {
	if len(v) == 1 {
		return v[0]
	}
	s := "{ "
	for i, x := range v {
		if i > 0 {
			s += ", "
		}
		s += x
	}
	return s + " }"
}

// prefixStrings formats prefixes, a single address without its length.
func prefixStrings(ps []netip.Prefix) []string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
		if p.IsSingleIP() {
			s[i] = p.Addr().String()
		}
	}
	return s
}

// writeIptables writes an iptables-restore file for one IP version: a
// PEERWATCH chain (declaring it flushes it) jumped to from INPUT, FORWARD
// and OUTPUT. Load it with --noflush so the other rules stay.
func writeIptables(buf *bytes.Buffer, blocks []block, seen *Seen, fam int) {
	buf.WriteString("# load with: iptables-restore --noflush FILE (ip6tables-restore for the ip6tables format)\n")
	buf.WriteString("*filter\n:PEERWATCH - [0:0]\n")
	for _, r := range rules(blocks, seen) {
		if r.family != fam {
			continue
		}
		localFlag, remoteFlag := "-s", "-d"
		if !r.out {
			localFlag, remoteFlag = "-d", "-s"
		}
		remotes := prefixStrings(r.remote)
		for _, a := range r.addrs {
			remotes = append(remotes, a.String())
		}
		if len(remotes) == 0 {
			remotes = []string{""}
		}
		for _, l := range prefixStrings(r.local) {
			for _, rem := range remotes {
				fmt.Fprintf(buf, "-A PEERWATCH %s %s", localFlag, l)
				if rem != "" {
					fmt.Fprintf(buf, " %s %s", remoteFlag, rem)
				}
				if len(r.ports) > 0 {
					fmt.Fprintf(buf, " -p %s -m multiport --dports %s", r.ports[0].Proto, portText(r.ports, ",", ":"))
				}
				fmt.Fprintf(buf, " -m comment --comment \"%s\" -j DROP\n", commentText(r.comment, 250))
			}
		}
	}
	buf.WriteString("-I INPUT -j PEERWATCH\n-I FORWARD -j PEERWATCH\n-I OUTPUT -j PEERWATCH\nCOMMIT\n")
}
