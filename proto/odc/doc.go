// Package odc analyzes AIM Direct IM ("ODC2", Direct Connect) peer
// connections: the TCP connection a Direct IM rendezvous announces, on
// which the two clients exchange instant messages, typing notifications
// and embedded images without passing AOL's servers.
//
// Every frame is a header (magic "ODC2", header length, type, subtype, the
// rendezvous cookie, payload length, encoding, flags and the sender's
// screen name) and a payload: the message in HTML, optionally followed by
// a <BINARY> section whose <DATA ID="n" SIZE="m"> blocks hold the raw bytes
// of images the message shows. The analyzer reports every message (sender,
// length; text with HTML removed only with --capture-content), typing
// notifications, and every embedded image as a file (hashes, magic type,
// fileinfo record). A flow announced by an OSCAR rendezvous carries the
// feature, the users and the cookie (checked against the header's);
// without one the flow is recognised by its first bytes.
//
// Sources: ../../../shared/specs/aim-oscar.md §4 and §5.1 (header layout
// after libpurple's odc.c and peer.h); nDPI's oscar dissector for the
// first-bytes test.
package odc
