// Package icqv5 detects and parses ICQ protocol version 5 over UDP, the
// client-server protocol of ICQ 99a/99b/2000a and third-party clients of
// 2002 (icqlib, micq) talking to icq.mirabilis.com:4000.
//
// Client packets are scrambled with a key that travels in the packet
// itself (the checkcode at offset 0x14 and the packet length), so a passive
// observer decrypts them without any secret. The login command then shows
// the password in clear (credential class plaintext), and the server's
// user-online packets disclose every contact's IP address and direct
// connection port. The analyzer reports logins and their outcome, the
// password (masked and fingerprinted by default), messages sent through
// the server, presence changes and the disclosed addresses, and it expects
// the ICQ peer-to-peer TCP connections (proto/icqdc) at those addresses.
//
// Detection is a strict per-datagram probe: version 5, zero field,
// plausible UIN, a known command after decryption and a checkcode that
// matches the packet's content (client packets); server packets are
// unscrambled and are accepted as the first packet of a flow only from
// port 4000.
//
// Sources: ../../../shared/specs/icq.md §3 (from Wireshark
// epan/dissectors/packet-icq.c and icqlib udp.c as shipped with gaim 0.56);
// the checkcode formula is icqlib's icq_UDPCalculateCheckCode.
package icqv5
