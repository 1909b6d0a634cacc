// Package http is the HTTP/1.x carrier analyzer: it recognises HTTP on any
// port, writes one record per request/response transaction, and hands the
// stream back to the classifier when HTTP stops being HTTP (a CONNECT tunnel
// or a 101 Switching Protocols upgrade).
//
// HTTP is a carrier (category "carrier"): an http record is never an IM/P2P
// claim by itself. The protocols that ride on HTTP (Gnutella and KaZaA
// downloads, the Yahoo and MSN HTTP gateways) have their own analyzers,
// which share its prefixes and run first (this Spec has a high Priority
// value); they parse HTTP with internal/httpwire, never with this package,
// because proto packages do not import each other. Proxied streams reach
// them through Session.Reclassify: after a 2xx answer to CONNECT, or a 101
// answer, the analyzer passes the offsets of the first byte after the
// request (originator) and after the response head (responder), and the
// classifier looks at what follows as a new flow payload.
//
// Requests and responses are paired in order (pipelining, RFC 9112 §9.3).
// Bodies are followed by Content-Length, chunked coding or the connection
// close (RFC 9112 §6.3); responses to HEAD and 1xx, 204 and 304 responses
// have none. Body bytes are counted, not kept. Interim 1xx responses other
// than 101 are skipped. After a CONNECT or an Upgrade request the analyzer
// consumes nothing more of the originator's stream until the answer, so the
// tunnelled bytes stay in the engine's buffer for the reclassification.
//
// The MSN Messenger HTTP gateway is the exception to "bodies are counted":
// requests to /gateway.dll (or with Content-Type application/x-msn-messenger)
// carry MSNP, and their bodies are handed to Session.Embed("msnp", key), keyed
// by the gateway's SessionID, so the many connections of one gateway session
// feed one MSNP session (gateway.go; pidgin 2.7.0 httpconn.c). Each such
// connection also gets one tunnel event of kind "http_tunnel".
//
// References: RFC 9110 (HTTP semantics), RFC 9112 (HTTP/1.1), RFC 4918
// (WebDAV methods); record fields follow Suricata's "http" EVE object
// (hostname, url, http_method, protocol, status, http_user_agent,
// http_content_type, length).
package http
