// Package gnutella analyzes Gnutella 0.4/0.6 on any port, TCP and UDP: the
// connection handshake (client software from User-Agent, ultrapeer/leaf
// role, refusals, the addresses X-Try, X-Try-Ultrapeers, Listen-IP and
// Remote-IP disclose), the descriptor stream that follows (inflated when
// "Content-Encoding: deflate" was negotiated), the HTTP transfers of the
// same network (/get/<index>/<name>, /uri-res/N2R?urn:sha1:..., GIV push
// connections) whose bytes go through analyzer.File and whose SHA-1 is
// checked against the announced urn:sha1, and the UDP side: descriptors
// in datagrams (GUESS), Gnutella2 "GND" fragments and the LimeWire Mojito
// DHT.
//
// It sits behind the classifier like every proto/* package: probe (in
// detect.go) decides, conn (conn.go, transfer.go, udp.go) turns bytes into
// events. Wire parsing (desc.go, handshake.go, giv.go, http.go) is pure.
//
// Compressed streams: compress/flate cannot resume once its input runs
// dry, so inflate.go holds compressed bytes until a sync-flush marker
// (00 00 FF FF) and inflates each flushed segment with a reader reset to
// the last 32 KiB of output as dictionary; bounded per direction by
// protocols.gnutella.inflate_max and inflate_ratio.
//
// Sources: Wireshark epan/dissectors/packet-gnutella.h (header layout and
// payload types); gtk-gnutella doc/gnutella/handshaking_0.6 and
// doc/gnutella/huge (HUGE 0.94: urn:sha1, /uri-res/N2R?,
// X-Gnutella-Content-URN), src/core/qhit.c, uploads.c, downloads.c (GIV),
// src/lib/vendors.c (vendor codes); LimeWire's Mojito message layout (as
// decoded by Wireshark's packet-mojito.c); nDPI src/lib/protocols/gnutella.c
// for the transfer markers; ../shared/specs/gnutella.md.
package gnutella
