package tls

import (
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/flow"
)

// maxProbeHello bounds the hello the probe follows across records: real
// ClientHellos are under 2 KiB (a few KiB with post-quantum key shares).
const maxProbeHello = 16 << 10

// probeBytes is the signature's MaxBytes: a maxProbeHello hello fragmented
// into many records still fits.
const probeBytes = maxProbeHello + 4096

// probe checks that a direction starts with a TLS handshake record carrying
// a ClientHello (originator) or a ServerHello (responder, only when the
// originator sent nothing: a capture that missed the client), and that the
// hello's fields are consistent with its length, following the hello across
// records. It allocates nothing.
func probe(in *classify.Input) classify.Result {
	want := hsClientHello
	if in.Dir == flow.Resp {
		if len(in.Other) > 0 {
			return classify.NoMatch
		}
		want = hsServerHello
	}
	c := cursor{d: in.Data}
	if r := c.start(); r != classify.Match {
		return r
	}
	typ, ok := c.u8()
	if !ok {
		return c.res
	}
	hsLen, ok := c.u24()
	if !ok {
		return c.res
	}
	if typ != want || hsLen > maxProbeHello {
		return classify.NoMatch
	}
	c.limit = hsLen
	if want == hsClientHello {
		return c.clientHello()
	}
	return c.serverHello()
}

// cursor reads handshake bytes across TLS records without copying: each
// record header it crosses must be a handshake record of the same version.
type cursor struct {
	d     []byte
	off   int // next byte of d
	end   int // end of the current record's body in d
	ver   [2]byte
	limit int // handshake bytes left in the message (after the header)
	inMsg bool
	res   classify.Result // the answer when a read fails
}

// start validates the first record header.
func (c *cursor) start() classify.Result {
	if len(c.d) < 5 {
		return classify.NeedMore
	}
	if c.d[0] != recHandshake || c.d[1] != 3 || c.d[2] > 3 {
		return classify.NoMatch
	}
	n := int(c.d[3])<<8 | int(c.d[4])
	if n < 4 || n > maxRecord {
		return classify.NoMatch
	}
	c.ver = [2]byte{c.d[1], c.d[2]}
	c.off, c.end = 5, 5+n
	return classify.Match
}

// next returns the next handshake byte.
func (c *cursor) next() (byte, bool) {
	if c.inMsg {
		if c.limit == 0 {
			c.res = classify.NoMatch // the message ends before its fields
			return 0, false
		}
		c.limit--
	}
	for c.off == c.end {
		// The record is done: the message continues in the next one.
		if len(c.d)-c.off < 5 {
			c.res = classify.NeedMore
			return 0, false
		}
		h := c.d[c.off : c.off+5]
		n := int(h[3])<<8 | int(h[4])
		if h[0] != recHandshake || h[1] != c.ver[0] || h[2] != c.ver[1] || n == 0 || n > maxRecord {
			c.res = classify.NoMatch
			return 0, false
		}
		c.off += 5
		c.end = c.off + n
	}
	if c.off == len(c.d) {
		c.res = classify.NeedMore
		return 0, false
	}
	b := c.d[c.off]
	c.off++
	return b, true
}

func (c *cursor) u8() (int, bool) {
	b, ok := c.next()
	return int(b), ok
}

func (c *cursor) u16() (int, bool) {
	a, ok := c.next()
	if !ok {
		return 0, false
	}
	b, ok := c.next()
	return int(a)<<8 | int(b), ok
}

func (c *cursor) u24() (int, bool) {
	a, ok := c.u8()
	if !ok {
		return 0, false
	}
	b, ok := c.u16()
	return a<<16 | b, ok
}

func (c *cursor) skip(n int) bool {
	for ; n > 0; n-- {
		if _, ok := c.next(); !ok {
			return false
		}
	}
	return true
}

// helloStart checks legacy_version, skips the random and returns the
// session id length.
func (c *cursor) helloStart() (int, bool) {
	c.inMsg = true
	v, ok := c.u16()
	if !ok {
		return 0, false
	}
	if v>>8 != 3 || v&0xff > 3 {
		c.res = classify.NoMatch
		return 0, false
	}
	if !c.skip(32) {
		return 0, false
	}
	sid, ok := c.u8()
	if !ok {
		return 0, false
	}
	if sid > 32 {
		c.res = classify.NoMatch
		return 0, false
	}
	return sid, c.skip(sid)
}

// clientHello checks a ClientHello body: suites, compression methods and,
// if present, that the extensions exactly fill the message.
func (c *cursor) clientHello() classify.Result {
	if _, ok := c.helloStart(); !ok {
		return c.res
	}
	cs, ok := c.u16()
	if !ok {
		return c.res
	}
	if cs < 2 || cs%2 != 0 {
		return classify.NoMatch
	}
	if !c.skip(cs) {
		return c.res
	}
	comp, ok := c.u8()
	if !ok {
		return c.res
	}
	if comp == 0 || !c.skip(comp) {
		if comp == 0 {
			return classify.NoMatch
		}
		return c.res
	}
	return c.extensions()
}

// serverHello checks a ServerHello body.
func (c *cursor) serverHello() classify.Result {
	if _, ok := c.helloStart(); !ok {
		return c.res
	}
	if !c.skip(3) { // cipher suite, compression method
		return c.res
	}
	return c.extensions()
}

// extensions checks that the extension block, if any, exactly fills the
// rest of the message and that every extension fits in it.
func (c *cursor) extensions() classify.Result {
	if c.limit == 0 {
		return classify.Match
	}
	n, ok := c.u16()
	if !ok {
		return c.res
	}
	if n != c.limit {
		return classify.NoMatch
	}
	for c.limit > 0 {
		if c.limit < 4 {
			return classify.NoMatch
		}
		if !c.skip(2) {
			return c.res
		}
		l, ok := c.u16()
		if !ok {
			return c.res
		}
		if l > c.limit {
			return classify.NoMatch
		}
		if !c.skip(l) {
			return c.res
		}
	}
	return classify.Match
}
