package template

import (
	"bytes"
	"net/netip"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// conn is the per-flow state.
type conn struct {
	s    *analyzer.Session
	user string         // from HELLO
	file *analyzer.File // set on a direct connection an OFFER announced
	lost [2]bool        // a direction lost bytes: messages cannot resync
}

func newConn(s *analyzer.Session) analyzer.Conn {
	c := &conn{s: s}
	if x := s.Expected(); x != nil && x.Feature == event.FileTransfer {
		// The announced connection carries the file's raw bytes.
		c.user = x.Users.Local
		c.file = s.File(x.FileName, -1, event.FileTransfer)
	}
	return c
}

// Feed parses whole messages and leaves a partial one for the next call.
// On an announced file connection it hands every byte to the file.
func (c *conn) Feed(dir flow.Dir, data []byte) (int, error) {
	if c.file != nil {
		c.s.Confirm()
		c.file.Write(data)
		return len(data), nil
	}
	if c.lost[dir] {
		return len(data), nil
	}
	n := 0
	for {
		h, ok, err := parseHeader(data[n:])
		if err != nil {
			return n, err
		}
		if !ok || len(data[n:]) < h.size+h.length {
			return n, nil
		}
		body := data[n+h.size : n+h.size+h.length]
		c.s.Confirm()
		c.handle(dir, h.verb, h.name(), body)
		n += h.size + h.length
	}
}

// handle turns one message into events. Like Suricata's template, the
// protocol object names the verb as "request" (originator) or "response".
func (c *conn) handle(dir flow.Dir, v verb, name string, body []byte) {
	fields := map[string]any{"request": name}
	if dir == flow.Resp {
		fields = map[string]any{"response": name}
	}
	switch v {
	case verbHello:
		c.user = string(body)
		c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Users: event.Users{Local: c.user}, Fields: fields,
			Login: &event.LoginInfo{User: c.user, Outcome: event.Pending}})
	case verbOK, verbNo:
		out := event.Success
		if v == verbNo {
			out = event.Refused
		}
		c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Users: event.Users{Local: c.user}, Fields: fields,
			Login: &event.LoginInfo{User: c.user, Outcome: out}})
	case verbMsg:
		m := &event.MessageInfo{Length: len(body), Charset: "utf-8"}
		if dir == flow.Orig {
			m.From = c.user
		} else {
			m.To = []string{c.user}
		}
		// Kept in memory for the content rules; the engine writes it only
		// with --capture-content.
		m.Text = string(body)
		c.s.Emit(event.Event{Kind: event.Message, Dir: dir, Users: event.Users{Local: c.user}, Message: m, Fields: fields})
	case verbOffer:
		c.offer(dir, body, fields)
	case verbBye:
		c.s.Emit(event.Event{Kind: event.Logout, Dir: dir, Users: event.Users{Local: c.user}, Fields: fields,
			Login: &event.LoginInfo{User: c.user}})
	}
}

// offer handles "ip:port name": a direct connection announced by the sender.
func (c *conn) offer(dir flow.Dir, body []byte, fields map[string]any) {
	sp := bytes.IndexByte(body, ' ')
	if sp < 0 {
		c.s.Anomaly("template_bad_offer", "no file name")
		return
	}
	ap, err := netip.ParseAddrPort(string(body[:sp]))
	if err != nil {
		c.s.Anomaly("template_bad_offer", "bad address")
		return
	}
	name := string(body[sp+1:])
	users := event.Users{Local: c.user}
	c.s.Emit(event.Event{Kind: event.Direct, Dir: dir, Feature: event.FileTransfer, Users: users, Fields: fields,
		Direct: &event.DirectInfo{Addrs: []netip.AddrPort{ap}, Outcome: event.Offered},
		File:   &event.FileInfo{Name: name, Outcome: event.Offered}})
	c.s.Expect(analyzer.Expectation{Addrs: []netip.AddrPort{ap}, Proto: "template", Feature: event.FileTransfer,
		Users: users, FileName: name, Reason: "template_offer"})
}

// Gap marks a file that lost bytes; a message stream cannot find the next
// header again, so that direction is ignored from here on.
func (c *conn) Gap(dir flow.Dir, size int) {
	if c.file != nil {
		c.file.Gap(size)
		return
	}
	c.lost[dir] = true
	c.s.Anomaly("template_gap", "bytes missing: messages of this direction are skipped")
}

// End closes the file of a direct connection.
func (c *conn) End(why flow.EndReason) {
	if c.file == nil {
		return
	}
	// Without an announced size, a transfer is whole when the connection
	// closed cleanly (FIN both ways, no RST).
	f := c.s.Flow()
	state := analyzer.FileTruncated
	if f.SawFIN[flow.Orig] && f.SawFIN[flow.Resp] && !f.SawRST {
		state = analyzer.FileClosed
	}
	c.file.Close(state)
}
