// Package toc analyzes AIM's TOC protocol: the text interface to AOL
// Instant Messenger used by TiK, TAC, gaim's toc plugin and other
// third-party clients.
//
// A TOC client opens a TCP connection, sends "FLAPON\r\n\r\n" and then
// speaks SFLAP: 6-byte frames ('*', type, sequence, length) of type 1
// (signon: FLAP version 1 and, from the client, TLV 1 with the screen
// name), 2 (data: one text command or server message), 4 (signoff) and 5
// (keepalive). Client commands are space-separated words with
// double-quoted, backslash-escaped arguments ("toc_signon <host> <port>
// <user> <roasted password> <language> <version>", "toc_send_im <user>
// <message> [auto]", ...); server messages are colon-separated
// ("SIGN_ON:<version>", "IM_IN:<user>:<T|F>:<message>",
// "UPDATE_BUDDY:...", "ERROR:<code>", "RVOUS_PROPOSE:...").
//
// The sign-on password is "roasted": "0x" and the hex of each byte XORed
// with "Tic/Toc", repeating, so a passive observer recovers it. The
// analyzer reports it as a reversible credential (the secret itself only
// with --reveal-credentials). RVOUS_PROPOSE discloses the proposing peer's
// rendezvous, own and server-verified IP addresses and its listening port;
// the analyzer reports a direct event and, for file transfer and direct IM,
// expects the peer connection.
//
// Sources: the TOC1.0 PROTOCOL document (gaim 0.56, src/protocols/toc),
// the roasting and SFLAP notes in ../../../shared/specs/aim-oscar.md §2.3,
// §2.4, §4.1 and §9, and the TOC sign-on error codes (98x) as the TOC
// documentation lists them.
package toc
