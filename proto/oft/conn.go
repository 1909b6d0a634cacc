package oft

import (
	"encoding/hex"
	"fmt"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// conn is the per-flow state of one OFT connection.
type conn struct {
	s       *analyzer.Session
	feature event.Feature
	users   event.Users
	cookie  string // the rendezvous cookie in hex, from the expectation; "" if none
	badCk   bool   // oft_cookie_mismatch reported

	sender  flow.Dir // the direction that sent the last prompt
	offer   header   // the last prompt
	pending bool     // a prompt waits for its ack before the bytes flow

	file   *analyzer.File // the file being received; nil between files
	left   int64          // bytes of file still to come from sender
	sum    checksum       // AOL checksum of the bytes so far
	verify bool           // every byte went through sum (no resume, no gap)
	lost   [2]bool        // a direction lost bytes outside a file: headers cannot resync
}

func newConn(s *analyzer.Session) analyzer.Conn {
	c := &conn{s: s, feature: event.FileTransfer}
	if x := s.Expected(); x != nil {
		if x.Feature != "" {
			c.feature = x.Feature
		}
		c.users = x.Users
		if v, ok := x.Data["cookie"].(string); ok {
			c.cookie = v
		}
	}
	return c
}

// Feed parses headers in both directions and, after an accepted prompt,
// hands the sender's next size bytes to the file.
func (c *conn) Feed(dir flow.Dir, data []byte) (int, error) {
	n := 0
	for n < len(data) {
		if c.file != nil && dir == c.sender {
			k := int(min(int64(len(data)-n), c.left))
			c.file.Write(data[n : n+k])
			if c.verify {
				c.sum.write(data[n : n+k])
			}
			c.left -= int64(k)
			n += k
			if c.left == 0 {
				c.finish(analyzer.FileClosed)
			}
			continue
		}
		if c.lost[dir] {
			return len(data), nil
		}
		rest := data[n:]
		if c.pending && dir == c.sender && checkStart(rest[:min(len(rest), probeBytes)]) != nil {
			// The sender sends bytes that are no header: the receiver's
			// ack was not captured, the file has started.
			c.start(0)
			continue
		}
		h, ok, err := parseHeader(rest)
		if err != nil {
			return n, err
		}
		if !ok {
			return n, nil
		}
		n += h.length
		c.handle(dir, &h)
	}
	return n, nil
}

// handle acts on one header.
func (c *conn) handle(dir flow.Dir, h *header) {
	c.s.Confirm()
	ck := hex.EncodeToString(h.cookie[:])
	if c.cookie != "" && ck != c.cookie && !c.badCk {
		c.badCk = true
		c.s.Anomaly("oft_cookie_mismatch", fmt.Sprintf("header cookie %s, rendezvous cookie %s", ck, c.cookie))
	}
	switch h.typ {
	case typePrompt, typeGetList:
		if h.typ == typeGetList && c.s.Expected() == nil {
			c.feature = event.GetFile
		}
		if c.file != nil {
			c.finish(analyzer.FileTruncated)
		}
		c.sender, c.offer, c.pending = dir, *h, true
		c.emit(dir, h, h.size, event.Offered)
	case typeAck, typeResumeAck:
		if c.pending && dir != c.sender {
			skip := int64(0)
			if h.typ == typeResumeAck {
				skip = int64(h.recvBytes)
			}
			c.start(skip)
		}
	case typeDone:
		if c.file != nil {
			c.finish(analyzer.FileTruncated)
		}
		out := event.Success
		if h.recvBytes != c.offer.size || !sameChecksum(h.recvChecksum, c.offer.checksum) {
			out = event.Failure
		}
		c.emit(dir, h, h.recvBytes, out)
	}
}

// emit reports a file offered (prompt) or received (done).
func (c *conn) emit(dir flow.Dir, h *header, size uint32, out event.Outcome) {
	name := h.name
	if name == "" {
		name = c.offer.name
	}
	sum := h.checksum
	if h.typ == typeDone {
		sum = h.recvChecksum
	}
	c.s.Emit(event.Event{Kind: event.File, Dir: dir, Feature: c.feature, Users: c.users,
		File: &event.FileInfo{Name: name, Size: int64(size), Hash: fmt.Sprintf("aol:%08x", sum), Outcome: out},
		Fields: map[string]any{
			"type":        typeName(h.typ),
			"cookie":      hex.EncodeToString(h.cookie[:]),
			"total_files": h.totalFiles,
			"files_left":  h.filesLeft,
			"total_size":  h.totalSize,
		}})
}

// start opens the offered file; skip bytes (a resumed transfer) are
// already at the receiver and never cross this connection.
func (c *conn) start(skip int64) {
	c.pending = false
	size := int64(c.offer.size)
	c.file = c.s.File(c.offer.name, size, c.feature)
	c.sum, c.verify, c.left = newChecksum(), true, size
	if skip > 0 {
		skip = min(skip, size)
		c.file.Gap(int(skip))
		c.verify = false
		c.left -= skip
	}
	if c.left == 0 {
		c.finish(analyzer.FileClosed)
	}
}

// finish closes the current file and checks its AOL checksum when every
// byte was seen.
func (c *conn) finish(state analyzer.FileState) {
	f := c.file
	c.file = nil
	f.Close(state)
	if state != analyzer.FileClosed || !c.verify || c.left != 0 {
		return
	}
	if got := c.sum.value(); !sameChecksum(got, c.offer.checksum) {
		c.s.Anomaly("oft_checksum_mismatch", fmt.Sprintf("%s: announced aol:%08x, content aol:%08x", f.Name(), c.offer.checksum, got))
	}
}

// Gap marks missing file bytes; outside a file, headers of that direction
// cannot be found again and it is ignored from here on.
func (c *conn) Gap(dir flow.Dir, size int) {
	if c.file != nil && dir == c.sender && int64(size) <= c.left {
		c.file.Gap(size)
		c.verify = false
		c.left -= int64(size)
		if c.left == 0 {
			c.finish(analyzer.FileClosed)
		}
		return
	}
	if c.file != nil && dir == c.sender {
		c.file.Gap(int(c.left))
		c.left = 0
		c.finish(analyzer.FileTruncated)
	}
	c.lost[dir] = true
	c.s.Anomaly("oft_gap", "bytes missing: headers of this direction are skipped")
}

// End closes a file cut short by the end of the flow.
func (c *conn) End(flow.EndReason) {
	if c.file != nil {
		c.finish(analyzer.FileTruncated)
	}
}
