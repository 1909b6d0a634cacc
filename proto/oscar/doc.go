// Package oscar analyzes AIM and ICQ over OSCAR: FLAP frames carrying SNACs
// and TLVs, on any port.
//
// Detection is the strict first-frame test of aim-oscar.md §1.4 in either
// direction: '*', channel 1, a length from 4 to 2048, the version 00000001
// and a TLV list that fills the frame (the server's 10-byte hello passes,
// an IMAP "* OK" does not); a flow picked up mid-stream needs two
// consecutive SNAC frames. A flow is confirmed once a SNAC parses. The
// product is decided from evidence, never from the port: a numeric UIN, an
// ICQ client id string, SNAC family 0x15 or channel-4 messages mean ICQ; a
// screen name with letters means AIM.
//
// Events: login (XOR, MD5 and cookie sign-ons, the login server's answer
// with its error code), credential (the XOR-roasted password, recovered in
// memory and stored only with --reveal-credentials; the MD5 challenge and
// response; the BOS cookie), message (ICBM channels 1 and 4, HTML stripped,
// text only with --capture-content), presence (buddy arrival and departure,
// typing, away), direct (rendezvous proposals with the addresses they
// disclose, accepts, cancels; an expectation labels the announced peer
// connection), exploit (the January 2002 game-request overflow), logout.
// The BOS and service redirects register expectations so the next
// connection carries the user's name.
//
// Sources: ../../../shared/specs/aim-oscar.md and icq.md (from gaim 0.56,
// pidgin 2.7.0 libpurple/protocols/oscar, dsniff decode_aim.c, nDPI oscar.c).
// rendezvous.go, caps.go and exploit.go parse the channel-2 rendezvous block,
// the capability table and the exploit rule.
package oscar
