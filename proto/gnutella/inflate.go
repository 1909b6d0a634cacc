package gnutella

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
)

// Inflate bounds (protocols.gnutella.inflate_max and inflate_ratio).
const (
	defInflateMax   = 16 << 20 // inflated bytes per flow direction
	defInflateRatio = 100      // inflated bytes per compressed byte, cumulated
	// ratioSlack lets a short, very compressible start pass the ratio test.
	ratioSlack = 64 << 10
	// maxPending bounds the compressed bytes held while waiting for a sync
	// flush: servents flush after every batch of descriptors.
	maxPending = 64 << 10
	dictSize   = 32 << 10
)

// syncFlush ends every flushed deflate segment: an empty stored block.
var syncFlush = []byte{0x00, 0x00, 0xFF, 0xFF}

// inflater decompresses one direction's "Content-Encoding: deflate" stream
// (zlib, RFC 1950/1951) as it arrives. Go's flate reader cannot resume once
// its input runs dry, so bytes are held until a sync-flush marker and each
// flushed segment is inflated by a reader reset with the last 32 KiB of
// output as its dictionary: the segment starts on a block boundary and its
// back-references reach at most 32 KiB back.
type inflater struct {
	pending []byte
	dict    []byte
	out     []byte
	fr      io.ReadCloser
	rd      bytes.Reader
	header  bool // the zlib header was dealt with
	in      int64
	total   int64
	max     int64
	ratio   int64
}

func newInflater(max, ratio int64) *inflater {
	return &inflater{max: max, ratio: ratio}
}

// feed adds compressed bytes and returns the bytes inflated from every
// complete flushed segment (valid until the next call). ErrInflateMax means
// a bound was reached; ErrInflate a broken stream. Either is final.
func (z *inflater) feed(data []byte) ([]byte, error) {
	z.pending = append(z.pending, data...)
	if !z.header {
		if len(z.pending) < 2 {
			return nil, nil
		}
		cmf, flg := z.pending[0], z.pending[1]
		if cmf&0x0f == 8 && cmf>>4 <= 7 && (uint16(cmf)<<8|uint16(flg))%31 == 0 {
			if flg&0x20 != 0 {
				return nil, fmt.Errorf("%w: preset dictionary", ErrInflate)
			}
			z.pending = z.pending[2:]
			z.in += 2
		}
		z.header = true
	}
	end := bytes.LastIndex(z.pending, syncFlush)
	if end < 0 {
		if len(z.pending) > maxPending {
			return nil, fmt.Errorf("%w: no sync flush in %d bytes", ErrInflate, maxPending)
		}
		return nil, nil
	}
	seg := z.pending[:end+len(syncFlush)]
	z.rd.Reset(seg)
	if z.fr == nil {
		z.fr = flate.NewReaderDict(&z.rd, z.dict)
	} else if err := z.fr.(flate.Resetter).Reset(&z.rd, z.dict); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInflate, err)
	}
	budget := z.max - z.total
	z.out = z.out[:0]
	var rerr error
	for {
		if len(z.out) == cap(z.out) {
			z.out = append(z.out, 0)[:len(z.out)]
		}
		room := z.out[len(z.out):cap(z.out)]
		if int64(len(z.out)+len(room)) > budget+1 {
			room = room[:max(budget+1-int64(len(z.out)), 0)]
		}
		n, err := z.fr.Read(room)
		z.out = z.out[:len(z.out)+n]
		if int64(len(z.out)) > budget {
			rerr = ErrInflateMax
			break
		}
		if err != nil {
			if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%w: %w", ErrInflate, err)
			}
			break
		}
	}
	z.in += int64(len(seg))
	z.total += int64(len(z.out))
	z.pending = z.pending[:copy(z.pending, z.pending[len(seg):])]
	if rerr == nil && z.total > z.ratio*z.in+ratioSlack {
		rerr = ErrInflateMax
	}
	if rerr != nil {
		return nil, rerr
	}
	z.remember(z.out)
	return z.out, nil
}

// remember keeps the last dictSize bytes of output as the next dictionary.
func (z *inflater) remember(p []byte) {
	if len(p) >= dictSize {
		z.dict = append(z.dict[:0], p[len(p)-dictSize:]...)
		return
	}
	if over := len(z.dict) + len(p) - dictSize; over > 0 {
		z.dict = z.dict[:copy(z.dict, z.dict[over:])]
	}
	z.dict = append(z.dict, p...)
}
