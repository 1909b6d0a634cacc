// Package ymsg analyzes Yahoo! Messenger's binary protocol, YMSG, over TCP
// on any port (the pager port 5050, and 80, 23 or 25 where firewalls forced
// it).
//
// A YMSG PDU is a 20-byte header ("YMSG", version, vendor id, payload
// length, service, status, session id; big-endian) followed by key/value
// items separated by C0 80. Detection needs the magic at the start of a
// direction and a payload of decimal keys between separators; the probe
// walks consecutive PDUs by their lengths. header.go and fields.go parse
// the wire format without state; conn.go turns PDUs into events.
//
// Events: login (the v6 LOGON of early 2002 with its md5crypt field, the
// 0x57/0x54 challenge-response, the server's answer with the session id
// or an error code), credential (the md5crypt field is password-equivalent
// because its salt is constant; the two challenge responses are
// offline-crackable; the Y and T web cookies of the buddy list are session
// tokens — each stored only with --reveal-credentials), message (instant,
// offline, conference and chat-room messages; text only with
// --capture-content, colour escapes and font tags removed, UTF-8 when field
// 97 says so, else Latin-1), presence (buddy status, away, typing,
// conference and chat-room joins and invitations, games, voice and webcam
// invitations), file (0x46 offers: name, size, download URL), logout.
// The Yahoo HTTP forms (login URLs, file upload) are the ymsg_http analyzer
// of the same package (http*.go).
//
// Sources: ../../../shared/specs/ymsg.md, from gaim 0.56 and 0.75
// src/protocols/yahoo (yahoo.c, yahoo.h, crypt.c, yahoo_filexfer.c) and
// nDPI's former yahoo.c; login error codes from gaim 0.75
// yahoo_process_authresp.
package ymsg
