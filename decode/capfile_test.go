package decode_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/peerwatch/peerwatch/decode"
)

// This file is a minimal pcap and pcapng reader for tests only: decode
// imports nothing from the module, so its tests cannot use capture/pcapfile.

// errCapFormat reports a capture file this reader does not understand.
var errCapFormat = errors.New("decode test: unsupported capture file")

// capFrame is one frame of a capture file.
type capFrame struct {
	link    decode.LinkType
	data    []byte
	wireLen int
	ts      time.Time
}

// readCapture reads every frame of a pcap or pcapng file into memory.
func readCapture(path string) ([]capFrame, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 24 {
		return nil, errCapFormat
	}
	if binary.LittleEndian.Uint32(b) == 0x0a0d0d0a {
		return readPcapng(b)
	}
	return readPcap(b)
}

func readPcap(b []byte) ([]capFrame, error) {
	var bo binary.ByteOrder
	nano := false
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
		bo = binary.LittleEndian
	case 0xa1b23c4d:
		bo, nano = binary.LittleEndian, true
	case 0xd4c3b2a1:
		bo = binary.BigEndian
	case 0x4d3cb2a1:
		bo, nano = binary.BigEndian, true
	default:
		return nil, errCapFormat
	}
	link := decode.LinkType(bo.Uint32(b[20:]) & 0xffff)
	var out []capFrame
	for off := 24; off+16 <= len(b); {
		sec, frac := bo.Uint32(b[off:]), bo.Uint32(b[off+4:])
		incl, orig := int(bo.Uint32(b[off+8:])), int(bo.Uint32(b[off+12:]))
		off += 16
		if incl < 0 || off+incl > len(b) {
			return out, fmt.Errorf("%w: record past end", errCapFormat)
		}
		if !nano {
			frac *= 1000
		}
		out = append(out, capFrame{link, b[off : off+incl], orig, time.Unix(int64(sec), int64(frac))})
		off += incl
	}
	return out, nil
}

func readPcapng(b []byte) ([]capFrame, error) {
	var bo binary.ByteOrder = binary.LittleEndian
	type iface struct {
		link decode.LinkType
		unit int64 // nanoseconds per tick
	}
	var ifs []iface
	var out []capFrame
	for off := 0; off+12 <= len(b); {
		typ := binary.LittleEndian.Uint32(b[off:])
		if typ == 0x0a0d0d0a {
			switch binary.LittleEndian.Uint32(b[off+8:]) {
			case 0x1a2b3c4d:
				bo = binary.LittleEndian
			case 0x4d3c2b1a:
				bo = binary.BigEndian
			default:
				return out, errCapFormat
			}
			ifs = ifs[:0]
		} else {
			typ = bo.Uint32(b[off:])
		}
		n := int(bo.Uint32(b[off+4:]))
		if n < 12 || n%4 != 0 || off+n > len(b) {
			return out, fmt.Errorf("%w: bad block length", errCapFormat)
		}
		body := b[off+8 : off+n-4]
		off += n
		switch typ {
		case 1: // interface description: link(2), reserved(2), snaplen(4), options
			if len(body) < 8 {
				return out, errCapFormat
			}
			ifc := iface{link: decode.LinkType(bo.Uint16(body)), unit: 1000}
			for o := body[8:]; len(o) >= 4; {
				code, l := bo.Uint16(o), int(bo.Uint16(o[2:]))
				if 4+l > len(o) {
					break
				}
				if code == 0 {
					break
				}
				if code == 9 && l == 1 { // if_tsresol
					v := o[4]
					if v&0x80 == 0 {
						u := int64(1e9)
						for i := 0; i < int(v); i++ {
							u /= 10
						}
						ifc.unit = max(u, 1)
					}
				}
				o = o[4+(l+3)&^3:]
			}
			ifs = append(ifs, ifc)
		case 6, 2: // enhanced packet, obsolete packet
			if len(body) < 20 {
				return out, errCapFormat
			}
			var id int
			if typ == 6 {
				id = int(bo.Uint32(body))
			} else {
				id = int(bo.Uint16(body))
			}
			if id >= len(ifs) {
				return out, fmt.Errorf("%w: unknown interface", errCapFormat)
			}
			t := int64(bo.Uint32(body[4:]))<<32 | int64(bo.Uint32(body[8:]))
			incl, orig := int(bo.Uint32(body[12:])), int(bo.Uint32(body[16:]))
			if incl < 0 || 20+incl > len(body) {
				return out, fmt.Errorf("%w: packet past block", errCapFormat)
			}
			out = append(out, capFrame{ifs[id].link, body[20 : 20+incl], orig, time.Unix(0, t*ifs[id].unit)})
		case 3: // simple packet: original length, data; snaplen of interface 0
			if len(body) < 4 || len(ifs) == 0 {
				return out, errCapFormat
			}
			orig := int(bo.Uint32(body))
			incl := min(orig, len(body)-4)
			out = append(out, capFrame{ifs[0].link, body[4 : 4+incl], orig, time.Time{}})
		}
	}
	return out, nil
}
