// Package httpproxy analyzes HTTP proxy connections: CONNECT requests
// (RFC 9110 §9.3.6) with their target, outcome and Basic proxy credentials
// (RFC 7617; Proxy-Authorization, RFC 9110 §11.7.1), after which the
// tunnelled bytes are handed back to the classifier, and absolute-form
// requests (RFC 9112 §3.2.2) of forward proxying. Requests to the HTTP
// hosts of instant messengers (the AIM and ICQ HTTP proxy hosts, Yahoo's
// *.msg.yahoo.com, the MSN gateway) label the flow with that service, and
// bodies that start with a FLAP frame or a YMSG header are fed to the
// oscar or ymsg analyzer as an embedded session.
//
// Sources: ../shared/specs/proxies.md §3-§5 (from nDPI's removed oscar.c,
// msn.c and yahoo.c proxy patterns and pidgin's httpconn.c), RFC 9110, RFC
// 9112, RFC 7617, RFC 3986 §3.2 (authority syntax).
package httpproxy
