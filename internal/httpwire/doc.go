// Package httpwire parses HTTP/1.x message heads and bodies from byte slices
// that may be incomplete, within fixed bounds.
//
// It is the shared HTTP layer of the analyzers that ride on HTTP: the http
// carrier itself, the Yahoo and MSN HTTP gateways, Gnutella and KaZaA
// downloads and the proxy analyzers. Those analyzers receive reassembled TCP
// data in pieces, so every parser here answers "need more bytes" (n == 0,
// err == nil) until the message head is complete, and the body decoder
// (Body) is a byte-level state machine that accepts input in any split.
//
// Design trade-offs:
//
//   - Heads are parsed again from their first byte on every call until they
//     are complete. Heads are bounded (Limits.MaxHeaderBytes), so the
//     repeated work is bounded too, and the parser keeps no state between
//     calls.
//   - Parsed names and values alias the input; header fields go into a
//     caller-provided slice, so a caller that reuses one slice parses with
//     no allocation.
//   - Line endings may be CRLF or a bare LF (RFC 9112 §2.2 allows the
//     latter). A bare CR elsewhere is malformed.
//   - Obsolete line folding (a field line that starts with SP or HT,
//     RFC 9112 §5.2) is accepted and joined without copying: the previous
//     field's Value is extended to the end of the continuation line, so it
//     then contains the raw CRLF and leading whitespace. Callers that
//     compare such values should normalise them. A folded Content-Length is
//     malformed; a folded Transfer-Encoding is not taken as chunked.
//   - Whitespace between a field name and its colon is malformed for both
//     requests and responses (RFC 9112 §5.1), as is a Content-Length that
//     is not a decimal number or that disagrees with another
//     Content-Length field.
//
// References: RFC 9110 (semantics), RFC 9112 (HTTP/1.1 message syntax),
// RFC 4918 (WebDAV methods).
package httpwire
