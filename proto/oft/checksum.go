package oft

// checksum computes the AOL file checksum OFT headers carry at offset 40.
//
// The algorithm, as libpurple's oft.c describes it: a 16-bit running value
// starts at 0xFFFF; every byte is subtracted from it, shifted left by 8 at
// even file offsets and unshifted at odd ones; a subtraction that wraps
// takes one more away (an end-around borrow); the value is folded to 16
// bits (low half plus high half, twice) after every 1024 bytes, as
// libpurple reads the file in 1024-byte chunks, and at the end; the result
// is that value shifted into the high half of the 32-bit field. In modular
// terms it is 0xFFFF minus the byte sum, modulo 0xFFFF.
type checksum struct {
	sum uint32
	off int64
}

// checksumChunk is the read size after which libpurple folds the value.
const checksumChunk = 1024

// newChecksum returns the checksum of the empty file.
func newChecksum() checksum { return checksum{sum: 0xFFFF} }

// write adds the next bytes of the file.
func (c *checksum) write(p []byte) {
	for _, b := range p {
		v := uint32(b)
		if c.off&1 == 0 {
			v <<= 8
		}
		old := c.sum
		c.sum -= v
		if c.sum > old {
			c.sum--
		}
		c.off++
		if c.off%checksumChunk == 0 {
			c.sum = fold(c.sum)
		}
	}
}

// value returns the checksum as the header field holds it.
func (c *checksum) value() uint32 { return fold(c.sum) << 16 }

// fold reduces a running value to 16 bits.
func fold(s uint32) uint32 {
	s = s&0xFFFF + s>>16
	return s&0xFFFF + s>>16
}

// sameChecksum compares two header checksum fields. Zero has two 16-bit
// forms in this arithmetic (0x0000 and 0xFFFF), so the comparison is modulo
// 0xFFFF.
func sameChecksum(a, b uint32) bool {
	return (a>>16)%0xFFFF == (b>>16)%0xFFFF
}
