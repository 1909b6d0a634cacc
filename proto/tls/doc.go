// Package tls is the TLS carrier analyzer. It recognises a TLS (or SSL 3.0)
// handshake from the first ClientHello record, follows the handshake in
// both directions and reports it once per flow as a "detected" event with
// Suricata's tls field names: the server name (SNI), ALPN, the versions and
// cipher, and the server certificate's names when the handshake shows it
// (TLS 1.2 and earlier). Encrypted IM is still seen as IM: a server name
// (or, without one, a certificate name) that the host name list maps to an
// IM or P2P service labels the flow with that service, confidence
// "hostname" and evidence "sni". After ChangeCipherSpec, and for TLS 1.3
// after the ServerHello, records are skipped by their length and never
// parsed, so a long encrypted flow costs a header read per record.
//
// TLS is a carrier: a flow it parses is never an IM/P2P claim by itself.
//
// Sources: RFC 8446 (TLS 1.3: record layer §5, handshake §4,
// supported_versions §4.2.1, alerts §6), RFC 5246 (TLS 1.2: Certificate
// §7.4.2, record expansion §6.2.3), RFC 6066 §3 (server_name), RFC 7301
// (ALPN), RFC 8701 (GREASE); Suricata's EVE tls object
// (sink/eve/schema/suricata-schema.json) for the field names and the
// version and certificate string formats.
package tls
