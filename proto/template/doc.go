// Package template is a tiny real protocol kept as the model to copy when
// adding one: registration, detection, pure wire parsing, per-flow state,
// events, tests, a capture and a golden file.
//
// The protocol is peerwatch's own and exists only for this purpose. Every
// message, in either direction, is a header line and a body:
//
//	TPL/1 <VERB> <length>\r\n<length bytes of body>
//
// VERB is HELLO (body: the user name, from the originator), OK or NO (the
// responder's answer to HELLO), MSG (body: text), OFFER (body: "ip:port
// name", a file offered on a direct connection, like an AIM rendezvous) or
// BYE (empty body).
// Lengths are decimal, at most 65535.
//
// Detected: the "TPL/1 " prefix in either direction, confirmed by a probe of
// the whole header line. Events: login (with its outcome), message, direct
// (the offer's address: an IP disclosure) and logout. An OFFER registers an
// expectation, so the connection it announces is labelled, on any port,
// before its first payload byte.
//
// To make a new protocol: copy this folder, rename the package and the
// Spec, replace msg.go with the wire format from ../../../shared/specs, keep
// detect.go bounded and allocation-free, and regenerate proto/all with
// go generate ./proto/all.
package template
