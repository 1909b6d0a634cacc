// Package icqdc detects and parses ICQ direct connections: the TCP
// client-to-client ("peer") protocol that ICQ 2000/2001/2002 and
// compatible clients (licq, Trillian) use, in versions 6, 7 and 8, for
// direct messages, chat and file requests.
//
// Every packet is a little-endian length word and a body. Each side opens
// with a PEER_INIT (body byte 0xFF) that carries the peer protocol version,
// the UIN it connects to, its own UIN, its external and internal IPv4
// addresses and its listening port, so one handshake discloses both
// users' identities and the internal addressing of their networks. The
// analyzer reports those as direct events, then counts the packets that
// follow by type (acknowledgement 0x01, second handshake 0x03, message
// 0x02). From version 6 on, message bodies are scrambled with a checksum
// and a table that the specification this package follows does not give,
// so message, chat and file request types are not decoded.
//
// Detection: a probe of the whole 46- or 50-byte PEER_INIT (exact length and
// size words, plausible UINs, zero padding, 16-bit ports, known mode byte)
// at the start of either direction, on any port; connections announced by
// ICQ v5 (proto/icqv5) are labelled by expectation.
//
// Sources: ../../../shared/specs/icq.md §4; the v6/v7 PEER_INIT layout is
// licq's icqpacket.cpp (CPacketTcp_Handshake_v6/v7).
package icqdc
