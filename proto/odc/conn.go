package odc

import (
	"encoding/hex"
	"fmt"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// conn is the per-flow state of one Direct IM connection.
type conn struct {
	s      *analyzer.Session
	users  event.Users // from the expectation; else from the headers
	known  bool        // users came from an expectation
	sn     [2]string   // screen name each direction sent
	cookie string      // the rendezvous cookie in hex; "" if unknown
	badCk  bool        // odc_cookie_mismatch reported
	lost   [2]bool     // a direction lost bytes: frames cannot resync
}

func newConn(s *analyzer.Session) analyzer.Conn {
	c := &conn{s: s}
	if x := s.Expected(); x != nil {
		c.users, c.known = x.Users, true
		if v, ok := x.Data["cookie"].(string); ok {
			c.cookie = v
		}
	}
	return c
}

// Feed parses whole frames (header and payload) and leaves a partial one
// for the next call.
func (c *conn) Feed(dir flow.Dir, data []byte) (int, error) {
	if c.lost[dir] {
		return len(data), nil
	}
	n := 0
	for {
		h, ok, err := parseHeader(data[n:])
		if err != nil {
			return n, err
		}
		if !ok || len(data[n:]) < h.length+h.payload {
			return n, nil
		}
		c.handle(dir, &h, data[n+h.length:n+h.length+h.payload])
		n += h.length + h.payload
	}
}

// handle turns one frame into events.
func (c *conn) handle(dir flow.Dir, h *header, payload []byte) {
	c.s.Confirm()
	ck := hex.EncodeToString(h.cookie[:])
	if c.cookie != "" && ck != c.cookie && !c.badCk {
		c.badCk = true
		c.s.Anomaly("odc_cookie_mismatch", fmt.Sprintf("header cookie %s, rendezvous cookie %s", ck, c.cookie))
	}
	if h.sn != "" {
		c.sn[dir] = h.sn
		if !c.known {
			c.users = event.Users{Local: c.sn[flow.Orig], Peer: c.sn[flow.Resp]}
		}
	}
	if len(payload) == 0 {
		if h.flags&flagTypingAny != 0 {
			state := "stopped"
			switch {
			case h.flags&flagTyping != 0:
				state = "typing"
			case h.flags&flagTyped != 0:
				state = "typed"
			}
			c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Feature: event.DirectIM, Users: c.users,
				Fields: map[string]any{"typing": state, "from": h.sn}})
		}
		return
	}
	text, imgs, short := splitPayload(payload)
	m := &event.MessageInfo{From: h.sn, Length: len(text), Charset: charset(h.encoding)}
	// Kept in memory for the content rules; the engine writes it only
	// with --capture-content.
	m.Text = stripHTML(decodeText(text, h.encoding))
	fields := map[string]any{}
	if h.flags&flagAutoReply != 0 {
		fields["auto_reply"] = true
	}
	if len(imgs) > 0 {
		fields["images"] = len(imgs)
	}
	c.s.Emit(event.Event{Kind: event.Message, Dir: dir, Feature: event.DirectIM, Users: c.users, Message: m, Fields: fields})
	for _, im := range imgs {
		f := c.s.File("odc-image-"+im.id, int64(im.size), event.IMImage)
		f.Write(im.data)
		f.Close(analyzer.FileClosed)
	}
	if short {
		c.s.Anomaly("odc_short_image", "an embedded image is longer than the message")
	}
}

// charset names an encoding for the message record.
func charset(enc uint16) string {
	switch enc {
	case encASCII:
		return "us-ascii"
	case encUCS2:
		return "utf-16be"
	case encLatin1:
		return "iso-8859-1"
	}
	return fmt.Sprintf("0x%04x", enc)
}

// Gap stops the analysis of a direction: frames cannot be found again
// inside an unknown payload.
func (c *conn) Gap(dir flow.Dir, size int) {
	c.lost[dir] = true
	c.s.Anomaly("odc_gap", "bytes missing: frames of this direction are skipped")
}
