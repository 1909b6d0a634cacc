package msnftp

import (
	"bytes"
	"fmt"
	"math"
	"strconv"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// byeSuccess is the BYE code of a complete transfer (msnp.md §4.1; gaim
// 0.75 ft.c sends it when every byte arrived).
const byeSuccess = 16777989

// maxSize bounds the FIL size we accept: 2^53, far past any 2002 file.
const maxSize = 1 << 53

// conn is the per-flow state of one MSNFTP connection.
type conn struct {
	s       *analyzer.Session
	feature event.Feature
	users   event.Users
	name    string // file name from the invitation; "" without one

	wantCookie string // AuthCookie of the invitation; valid iff hasCookie
	hasCookie  bool
	wantSize   int64 // Application-FileSize; valid iff hasSize
	hasSize    bool

	user     string // passport from USR
	loggedIn bool   // login success reported

	sender  flow.Dir // the direction that sent FIL; valid iff offered
	offered bool
	size    int64 // FIL size; valid iff offered

	file     *analyzer.File // open between TFR (or the first block) and the end of the bytes
	opened   bool           // the file was opened (it is opened once)
	left     int64          // file bytes still to come
	moved    int64          // file bytes seen or lost in gaps
	blockArg int            // payload bytes left in the current block
	final    bool           // the outcome (BYE, CCL, cancel block) was reported

	skip    [2]bool // a gap hit a command line: drop bytes up to the next line end
	ignored [2]bool // the direction is past its end (cancel) or lost its framing
	said    map[string]bool
}

func newConn(s *analyzer.Session) analyzer.Conn {
	c := &conn{s: s, feature: event.FileTransfer}
	if x := s.Expected(); x != nil {
		if x.Feature != "" {
			c.feature = x.Feature
		}
		c.users, c.name = x.Users, x.FileName
		if v, ok := x.Data["auth_cookie"].(string); ok {
			c.wantCookie, c.hasCookie = v, true
		}
		switch v := x.Data["size"].(type) {
		case int64:
			c.wantSize, c.hasSize = v, true
		case int:
			c.wantSize, c.hasSize = int64(v), true
		}
	}
	return c
}

// Feed parses command lines in both directions and, in the direction that
// sent FIL, the data blocks after it.
func (c *conn) Feed(dir flow.Dir, data []byte) (int, error) {
	n := 0
	for n < len(data) {
		if c.ignored[dir] {
			return len(data), nil
		}
		rest := data[n:]
		if c.skip[dir] {
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				return len(data), nil
			}
			n += i + 1
			c.skip[dir] = false
			continue
		}
		if c.offered && dir == c.sender {
			k, err := c.blocks(dir, rest)
			n += k
			if err != nil || k == 0 {
				return n, err
			}
			continue
		}
		l, ok, err := parseLine(rest)
		if err != nil {
			return n, err
		}
		if !ok {
			return n, nil
		}
		n += l.length
		if err := c.handle(dir, &l); err != nil {
			return n, err
		}
	}
	return n, nil
}

// blocks consumes block headers and payload from the sender's data and
// returns the bytes consumed (0: an incomplete header).
func (c *conn) blocks(dir flow.Dir, data []byte) (int, error) {
	if c.blockArg > 0 {
		k := min(len(data), c.blockArg)
		c.payload(data[:k])
		c.blockArg -= k
		return k, nil
	}
	b, ok, err := parseBlock(data)
	if err != nil || !ok {
		return 0, err
	}
	if b.cancel {
		c.outcome(dir, event.Cancelled, map[string]any{"cancelled_by": "sender"})
		c.ignored[dir] = true
		return blockHeader, nil
	}
	if b.length > maxBlock {
		c.once("msnftp_block_length", fmt.Sprintf("block of %d bytes (clients send at most %d)", b.length, maxBlock))
	}
	c.open()
	c.blockArg = b.length
	return blockHeader, nil
}

// payload hands block bytes to the file; bytes past the announced size
// are reported, not hashed.
func (c *conn) payload(p []byte) {
	if c.file != nil {
		k := int(min(int64(len(p)), c.left))
		c.file.Write(p[:k])
		c.left -= int64(k)
		c.moved += int64(k)
		p = p[k:]
		if c.left == 0 {
			c.close(analyzer.FileClosed)
		}
	}
	if len(p) > 0 && c.left == 0 {
		c.once("msnftp_excess_data", fmt.Sprintf("more bytes than the %d announced by FIL", c.size))
	}
}

// handle acts on one command line.
func (c *conn) handle(dir flow.Dir, l *line) error {
	switch l.cmd {
	case "VER":
		c.s.Confirm()
		if len(l.args) == 0 || l.args[0] != "MSNFTP" {
			c.once("msnftp_version", fmt.Sprintf("VER %q", l.args))
		}
	case "USR":
		if len(l.args) < 2 {
			return fmt.Errorf("%w: USR needs a passport and a cookie", ErrArgs)
		}
		c.s.Confirm()
		c.login(dir, l.args[0], l.args[1])
	case "FIL":
		if len(l.args) < 1 {
			return fmt.Errorf("%w: FIL needs a size", ErrArgs)
		}
		size, err := parseUint(l.args[0], maxSize)
		if err != nil {
			return fmt.Errorf("%w: FIL %q", err, l.args[0])
		}
		c.s.Confirm()
		c.offer(dir, int64(size))
	case "TFR":
		c.s.Confirm()
		if c.offered && dir != c.sender {
			c.open()
		}
	case "BYE":
		code := int64(-1)
		if len(l.args) > 0 {
			v, err := parseUint(l.args[0], math.MaxUint32)
			if err != nil {
				return fmt.Errorf("%w: BYE %q", err, l.args[0])
			}
			code = int64(v)
		}
		c.s.Confirm()
		out := event.Failure
		if code == byeSuccess {
			out = event.Success
		}
		var fields map[string]any
		if code >= 0 {
			fields = map[string]any{"bye_code": code}
		}
		c.outcome(dir, out, fields)
	case "CCL":
		c.s.Confirm()
		c.outcome(dir, event.Cancelled, map[string]any{"cancelled_by": "receiver"})
	default:
		c.once("msnftp_unknown_command", l.cmd)
	}
	return nil
}

// login reports USR: the receiver's passport and the invitation's auth
// cookie, which is a session token (it lets whoever holds it fetch the
// file), and checks it against the invitation.
func (c *conn) login(dir flow.Dir, user, cookie string) {
	c.user = user
	if c.users == (event.Users{}) {
		c.users.Local = user // the originator's, as Users documents
	}
	c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Feature: c.feature, Users: c.users,
		Login: &event.LoginInfo{User: user, Outcome: event.Pending}})
	c.s.Emit(event.Event{Kind: event.Credential, Dir: dir, Feature: c.feature, Users: c.users,
		Credential: c.s.Secret(event.SessionToken, user, "auth_cookie", cookie)})
	if c.hasCookie && cookie != c.wantCookie {
		c.once("msnftp_cookie_mismatch", fmt.Sprintf("USR cookie of %d bytes differs from the invitation's AuthCookie", len(cookie)))
	}
}

// offer handles FIL: the sender accepted the cookie and announces the size.
func (c *conn) offer(dir flow.Dir, size int64) {
	if c.offered {
		c.once("msnftp_repeated_fil", "a second FIL line")
		return
	}
	c.sender, c.offered, c.size = dir, true, size
	if c.user != "" && !c.loggedIn {
		c.loggedIn = true
		c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Feature: c.feature, Users: c.users,
			Login: &event.LoginInfo{User: c.user, Outcome: event.Success}})
	}
	if c.hasSize && size != c.wantSize {
		c.once("msnftp_size_mismatch", fmt.Sprintf("FIL %d, invitation %d", size, c.wantSize))
	}
	c.s.Emit(event.Event{Kind: event.File, Dir: dir, Feature: c.feature, Users: c.users,
		File: &event.FileInfo{Name: c.fileName(), Size: size, Outcome: event.Offered}})
}

// fileName is the invitation's Application-File, or a name made from the
// flow id when no invitation was seen.
func (c *conn) fileName() string {
	if c.name != "" {
		return c.name
	}
	return "msnftp-" + strconv.FormatUint(c.s.Flow().ID, 10)
}

// open starts the file once the transfer begins (TFR or the first data
// block, whichever the capture shows first).
func (c *conn) open() {
	if c.opened || !c.offered {
		return
	}
	c.opened = true
	c.file = c.s.File(c.fileName(), c.size, c.feature)
	c.left = c.size
	if c.left == 0 {
		c.close(analyzer.FileClosed)
	}
}

// close ends the open file, if any.
func (c *conn) close(state analyzer.FileState) {
	if c.file != nil {
		c.file.Close(state)
		c.file = nil
	}
}

// outcome reports how the transfer ended (once) and closes the file. A
// file still short at a success is closed and the engine marks it
// TRUNCATED; at a failure it is an ERROR.
func (c *conn) outcome(dir flow.Dir, out event.Outcome, fields map[string]any) {
	switch {
	case out == event.Success:
		c.close(analyzer.FileClosed)
	case out == event.Cancelled:
		c.close(analyzer.FileTruncated)
	default:
		c.close(analyzer.FileError)
	}
	if c.final || !c.offered {
		return
	}
	c.final = true
	c.s.Emit(event.Event{Kind: event.File, Dir: dir, Feature: c.feature, Users: c.users, Fields: fields,
		File: &event.FileInfo{Name: c.fileName(), Size: c.moved, Outcome: out}})
}

// once reports an anomaly the first time it happens on the flow.
func (c *conn) once(name, detail string) {
	if c.said[name] {
		return
	}
	if c.said == nil {
		c.said = map[string]bool{}
	}
	c.said[name] = true
	c.s.Anomaly(name, detail)
}

// Gap handles bytes the capture lost. Inside a block's payload the file
// gets the gap and the framing holds; past it the block headers are lost,
// so the file is closed TRUNCATED and the direction ignored. In a command
// direction the rest of the broken line is dropped.
func (c *conn) Gap(dir flow.Dir, size int) {
	if c.offered && dir == c.sender {
		if size <= c.blockArg {
			c.blockArg -= size
			if c.file != nil {
				k := min(int64(size), c.left)
				c.file.Gap(int(k))
				c.left -= k
				c.moved += k
				if c.left == 0 {
					c.close(analyzer.FileClosed)
				}
			}
			return
		}
		if c.file != nil {
			c.file.Gap(int(min(c.left, math.MaxInt32)))
			c.close(analyzer.FileTruncated)
		}
		c.ignored[dir] = true
		c.once("msnftp_gap", "bytes missing across a block header: the rest of the transfer is skipped")
		return
	}
	c.skip[dir] = true
	c.once("msnftp_gap", "bytes missing in a command direction: resuming at the next line")
}

// End closes a file cut short by the end of the flow.
func (c *conn) End(flow.EndReason) {
	c.close(analyzer.FileTruncated)
}
