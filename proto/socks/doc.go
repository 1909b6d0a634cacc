// Package socks analyzes SOCKS proxy handshakes: SOCKS4 and SOCKS4a (the
// NEC protocol documents "SOCKS: A protocol for TCP proxy across firewalls"
// and "SOCKS 4A: A Simple Extension to SOCKS 4 Protocol"), SOCKS5 (RFC 1928)
// and its username/password authentication (RFC 1929).
//
// It reports one tunnel event per connection (the SOCKS version, command,
// target host or address and port, the proxy's answer, the SOCKS5
// authentication method and the SOCKS4 USERID) and a plaintext credential
// for RFC 1929 passwords. After a granted CONNECT it hands the rest of the
// stream back to the classifier (analyzer.Session.Reclassify), so the
// tunnelled protocol is analyzed as if the connection were direct and its
// records carry the proxy and the target.
//
// Detection follows the false-positive notes of the shared proxy spec
// (proxies.md §5): the signatures are short, so a flow is claimed only when
// the client's request and the proxy's reply both have the right shape.
package socks
