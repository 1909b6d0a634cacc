// Package msnftp analyzes MSNFTP, the direct TCP connection on which MSN
// Messenger (2002 clients, gaim, Kopete) moves a file after a
// text/x-msmsgsinvite "File Transfer" invitation on a switchboard session.
//
// The invitee (receiver) connects to the address and port the inviter
// announced in its ACCEPT (6891 by default, any port in practice) and the
// two exchange CR LF-terminated command lines: VER MSNFTP both ways, USR
// with the receiver's passport and the invitation's AuthCookie, FIL with
// the size from the sender, TFR from the receiver. The sender then writes
// the file in blocks, each a 3-byte header (flag 0 = data, 1 = cancel;
// little-endian 16-bit length, at most 2045 in practice) and the bytes; the
// receiver ends with BYE 16777989 (success, another code is a failure) or
// CCL (cancel).
//
// The analyzer reports the login (passport, pending, then success when FIL
// shows the cookie was accepted), the auth cookie as a session-token
// credential (never stored unless credentials are revealed), the file
// offered at FIL and its outcome at BYE, CCL or a cancel block, and hands
// the block payloads to the engine's File (MD5, SHA-1, SHA-256, magic type,
// fileinfo record). A flow announced by the MSNP analyzer
// (Session.Expected) carries the feature, both passports, the file name
// (Application-File) and Data "auth_cookie" and "size", checked against
// USR (anomaly msnftp_cookie_mismatch) and FIL (msnftp_size_mismatch);
// without one the flow is recognised by its first line "VER MSNFTP" and the
// file is named msnftp-<flow id>.
//
// Sources: ../../../shared/specs/msnp.md §4 and §4.1 (the dialogue and the
// block framing after gaim 0.75 ft.c, the success BYE code, the
// Kopete/Twisted constants); nDPI's msn dissector for the first-line test.
package msnftp
