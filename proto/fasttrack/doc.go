// Package fasttrack detects KaZaA and the other FastTrack clients of 2002
// (Grokster, iMesh, MusicCity Morpheus; giFT-FastTrack later) on any port.
//
// It registers two analyzers. "fasttrack" parses what FastTrack sends in
// the clear and is confirmed by it:
//
//   - the HTTP side (user to user, default port 1214): downloads by hash
//     (GET /.hash=<40 hex>) and by index (GET /<n>/<name>), the push line
//     "GIVE <id>" after which the roles are reversed, and every X-Kazaa
//     header: X-Kazaa-Username (a self-asserted identity: a login event),
//     X-Kazaa-Network (the product), X-Kazaa-IP and X-Kazaa-SupernodeIP (the
//     sender's and its supernode's addresses: a direct event), X-KazaaTag
//     metadata, X-Kazaa-XferId/XferUid. Response bodies go to Session.File,
//     so the transferred bytes are hashed and typed by magic number. Heads
//     and bodies are parsed with internal/httpwire. Only HTTP with a KaZaA
//     marker is claimed; any other HTTP stays with the http carrier.
//   - UDP supernode discovery: the 0x27 ping and 0x28 pong that carry the
//     network name in clear, and the 0x29 reply (no name; with its flag,
//     the sender's address), parsed strictly.
//
// "fasttrack_session" recognises the encrypted user-to-supernode session:
// exactly 12 bytes from the client before the server answers with 8, then
// high-entropy data (Shannon entropy of the first 64 bytes after the
// openings). That is weak evidence, so the analyzer only calls
// Session.Tentative: the engine labels the flow kazaa when another flow of
// the same hosts shows FastTrack by its payload (evidence "corroboration")
// and otherwise writes it unclassified. The port hint 1214 only adds the
// "port" evidence.
//
// Every event carries "bundled_spyware": true: every FastTrack client
// bundled spyware (the paper's threat matrix, KaZaA row).
//
// Sources: giFT-FastTrack's PROTOCOL (Tom Hargreaves, 2004) and
// src/fst_udp_discover.c, nDPI's removed fasttrack.c, as summarised byte by
// byte in ../shared/specs/fasttrack.md. No public FastTrack capture exists:
// the tests build synthetic captures from that description.
package fasttrack
