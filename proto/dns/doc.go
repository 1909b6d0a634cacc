// Package dns is the DNS carrier analyzer: it parses DNS and mDNS messages
// over UDP and TCP (RFC 1035 §4, with the 2-byte length prefix of §4.2.2
// over TCP; RFC 6762 for mDNS) and writes one record per response in the
// shape of Suricata's EVE DNS version 3 object (type, id, flags, rcode,
// queries, answers).
//
// DNS carries no IM or P2P payload itself, but its names say which service
// a host is about to talk to. When a question name, or a CNAME target
// reached from it, is in the host name list (internal/hostnames: the
// operator's list or the embedded one), the DNS flow is labelled with that
// service (confidence hostname, evidence dns), and every A or AAAA address
// the answer gives for the name registers a hostname expectation: later
// connections to that address, on any port, start labelled with the
// service until the record's TTL (at most an hour) runs out. Such a label
// never overrides what a payload parser decides, since CDN and cloud
// addresses are shared by many services.
//
// DNS has no magic bytes, so detection is a strict heuristic probe run
// after every other protocol's: a plausible header, names that parse
// (labels up to 63 bytes, names up to 255, compression pointers only
// backwards and at most 10 per name), assigned types and classes, and
// sections that end exactly where the message does.
//
// Sources: RFC 1035 (message format), RFC 3597 (TYPEn), RFC 6762 (mDNS),
// IANA's DNS parameters registry, Suricata's EVE DNS format (the schema
// in sink/eve/schema).
package dns
