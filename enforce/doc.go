// Package enforce turns the operator's policy into firewall rules: the
// countermeasures part of DESIGN §8. Countermeasures writes an nftables
// ruleset (one table, inet peerwatch) or an iptables-restore file that
// blocks, for every service the policy blocks, the ports and hosts the
// April 2002 ISS paper names for that client (Catalogue) plus the server
// addresses learnt from an analysed capture (LoadSeen), each rule
// commented with why.
//
// Port blocking is the paper's weakest answer, and the analysed traffic
// usually proves it: clients move to other ports, go through SOCKS and HTTP
// proxies and tunnel in HTTP. Warning says so, citing the evasions seen.
// Nothing here resolves a name: a host name is only ever a comment beside
// an address that was seen in the traffic, and no rule blocks port 80 or
// 443 without an address.
package enforce
