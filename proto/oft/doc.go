// Package oft analyzes AIM/ICQ OFT ("OSCAR File Transfer") peer
// connections: the direct TCP connection a Send File or Get File rendezvous
// announces, on which the sender offers a file with a 256-byte (or longer)
// "OFT2" header, the receiver accepts, the raw file bytes follow and the
// receiver confirms with a "done" header.
//
// The analyzer parses every header (type, cookie, file counts, sizes, the
// AOL checksum and the file name in its announced encoding), hands the raw
// bytes to the engine's File (MD5, SHA-1, SHA-256, magic type, fileinfo
// record with state CLOSED or TRUNCATED), recomputes the AOL checksum of the
// bytes and reports a mismatch with the announced one as anomaly
// oft_checksum_mismatch. Several files in one connection are followed one
// after the other. A flow announced by an OSCAR rendezvous (Session.Expected)
// carries the feature, the two screen names, the file name and the
// rendezvous cookie, which is checked against the header's; without one the
// flow is recognised by its first bytes ("OFT2"/"OFT3" and a sane header
// length and type).
//
// Sources: ../../../shared/specs/aim-oscar.md §4 and §5.2 (header layout
// after libpurple's peer.h struct _OftFrame and oft.c; the checksum
// algorithm as libpurple computes it, re-implemented here from its
// description); nDPI's oscar dissector for the first-bytes test.
package oft
