// Package pcapfile reads capture files: classic pcap and pcapng, each either
// plain or gzip-compressed. It is the offline capture.Source that
// `peerwatch analyze` feeds into decode.
//
// The format is decided by the first bytes of the stream, never by the file
// name: 1f 8b starts a gzip stream that is decompressed transparently, and the
// decompressed stream must start with a pcap magic (microsecond, nanosecond or
// Kuznetsov's modified pcap, either byte order) or a pcapng Section Header
// Block.
//
// pcap files of every 2.x minor version are accepted. Minor versions below 4
// come from old libpcap releases that wrote the captured and on-the-wire
// lengths in swapped fields; where a record's captured length exceeds its
// wire length in such a file, the two are swapped back, which is the only
// reading under which the record makes sense. The FCS bits kept in the upper
// bits of the link-type field are ignored.
//
// pcapng files may hold several sections with different byte orders; the
// interfaces (link type, snapshot length, if_tsresol, if_tsoffset) belong to
// the section that declares them. Enhanced, Simple and obsolete Packet Blocks
// yield frames; every other block is skipped by its length. Block framing is
// checked: the total length is a multiple of 4, at least 12, and repeated at
// the end of the block.
//
// Frames are never copied by the package. Open, and NewReader over any
// io.Reader, read the stream through a fixed 1 MiB buffer, larger than
// MaxPacket, and return each frame as a slice of that buffer. Memory-mapping
// the file was measured slower than these buffered reads on our machines (the
// faults on 4 KiB pages cost more than the kernel's copy) and makes the whole
// file count in the process's resident set size, so the reader streams.
//
// Every byte of input is treated as hostile. A frame longer than MaxPacket or
// a block longer than MaxBlock is rejected with ErrTooLarge before anything is
// read for it, and no buffer grows with the input. In steady state ReadPacket
// allocates nothing.
//
// Errors other than io.EOF are *Error values that name the file and the
// offset, in the uncompressed stream, of the record or block at fault, and
// wrap one of ErrNotCapture, ErrEmpty, ErrTruncated, ErrCorrupt or
// ErrTooLarge. A file whose last record is cut short ends with ErrTruncated,
// never with io.EOF.
//
// References: the pcap format as described in draft-ietf-opsawg-pcap and the
// tcpdump.org pcap-savefile(5) page; pcapng as described in
// draft-ietf-opsawg-pcapng (block types 1, 2, 3, 6 and 0x0A0D0D0A); the
// Kuznetsov record layout (8 extra bytes: ifindex, protocol, packet type,
// padding) as documented by Wireshark's libpcap file notes.
package pcapfile
