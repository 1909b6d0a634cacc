package eve

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/peerwatch/peerwatch/event"
)

// Errors returned by Writer.Write when a record cannot be encoded.
var (
	// ErrObject means a record lacks the object its Type names (a "flow"
	// record with a nil Flow, a protocol record with a nil App).
	ErrObject = errors.New("eve: record lacks the object its type names")
	// ErrValue means a value in a protocol's Fields or the stats maps
	// cannot be marshalled to JSON (a NaN, a channel).
	ErrValue = errors.New("eve: value cannot be encoded as JSON")
	// ErrType means a record has an empty Type.
	ErrType = errors.New("eve: record has no event type")
)

// TimeLayout is the EVE timestamp format: UTC, microseconds, numeric zone.
const TimeLayout = "2006-01-02T15:04:05.000000+0000"

// Append encodes r as one EVE JSON line, without the trailing newline, and
// appends it to dst. It is the encoder of Writer and of golden files alike.
// A value that cannot be marshalled is written as null (Writer.Write reports
// it as ErrValue instead), and a record that lacks the object its Type names
// is written without it (Writer.Write reports ErrObject).
func Append(dst []byte, r *event.Record) []byte {
	dst, _ = encode(dst, r)
	return dst
}

// encode is Append that also reports what it could not encode. The first
// error is returned; encoding carries on so that the line stays valid JSON.
func encode(dst []byte, r *event.Record) ([]byte, error) {
	var err error
	if r.Type == "" {
		err = ErrType
	}
	dst = append(dst, `{"timestamp":`...)
	dst = appendTime(dst, r.Time)
	if r.FlowID != 0 {
		dst = append(dst, `,"flow_id":`...)
		dst = strconv.AppendUint(dst, r.FlowID, 10)
	}
	if r.PcapCnt != 0 {
		dst = append(dst, `,"pcap_cnt":`...)
		dst = strconv.AppendUint(dst, r.PcapCnt, 10)
	}
	if r.PcapFile != "" {
		dst = append(dst, `,"pcap_filename":`...)
		dst = appendString(dst, r.PcapFile)
	}
	dst = append(dst, `,"event_type":`...)
	dst = appendString(dst, r.Type)
	if len(r.VLAN) > 0 {
		dst = append(dst, `,"vlan":[`...)
		for i, v := range r.VLAN {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendUint(dst, uint64(v), 10)
		}
		dst = append(dst, ']')
	}
	dst = appendEndpoint(dst, `,"src_ip":`, `,"src_port":`, r.Src)
	dst = appendEndpoint(dst, `,"dest_ip":`, `,"dest_port":`, r.Dst)
	if r.Proto != "" {
		dst = append(dst, `,"proto":`...)
		dst = appendString(dst, r.Proto)
	}
	if r.AppProto != "" {
		dst = append(dst, `,"app_proto":`...)
		dst = appendString(dst, r.AppProto)
	}
	if r.AppProtoOrig != "" {
		dst = append(dst, `,"app_proto_orig":`...)
		dst = appendString(dst, r.AppProtoOrig)
	}
	if r.CommunityID != "" {
		dst = append(dst, `,"community_id":`...)
		dst = appendString(dst, r.CommunityID)
	}

	var oerr error
	switch r.Type {
	case event.TypeFlow:
		if r.Flow == nil {
			oerr = ErrObject
			break
		}
		dst = appendFlow(dst, r.Flow)
	case event.TypeAnomaly:
		if r.Anomaly == nil {
			oerr = ErrObject
			break
		}
		dst = appendAnomaly(dst, r.Anomaly)
	case event.TypeFileinfo:
		if r.File == nil {
			oerr = ErrObject
			break
		}
		dst = appendFile(dst, r.File)
	case event.TypeAlert:
		if r.Alert == nil {
			oerr = ErrObject
			break
		}
		dst = appendAlert(dst, r.Alert)
	case event.TypeStats:
		if r.Stats == nil {
			oerr = ErrObject
			break
		}
		dst, oerr = appendStats(dst, r.Stats)
	case event.TypePeerwatchStats:
		if r.Stats == nil {
			oerr = ErrObject
			break
		}
		dst = append(dst, `,"peerwatch_stats":`...)
		if r.Stats.Peerwatch == nil {
			dst = append(dst, "{}"...)
			break
		}
		dst, oerr = appendValue(dst, r.Stats.Peerwatch)
	default:
		if r.App == nil {
			if r.Type != "" {
				oerr = ErrObject
			}
			break
		}
		dst, oerr = appendApp(dst, r.Type, r.App)
	}
	if oerr != nil && err == nil {
		err = fmt.Errorf("%w (event_type %q)", oerr, r.Type)
	}
	if r.PW != nil {
		dst = append(dst, `,"peerwatch":`...)
		dst = appendPeerwatch(dst, r.PW)
	}
	dst = append(dst, '}')
	return dst, err
}

// appendTime writes t in UTC as a quoted EVE timestamp.
func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, TimeLayout)
	return append(dst, '"')
}

// appendEndpoint writes an address and port pair; nothing if the address is
// not set (stats records have none).
func appendEndpoint(dst []byte, ipKey, portKey string, ap netip.AddrPort) []byte {
	a := ap.Addr()
	if !a.IsValid() {
		return dst
	}
	dst = append(dst, ipKey...)
	dst = append(dst, '"')
	dst = a.AppendTo(dst) // RFC 5952 text; never needs escaping
	dst = append(dst, '"')
	dst = append(dst, portKey...)
	return strconv.AppendUint(dst, uint64(ap.Port()), 10)
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

// appendFlow writes Suricata's "flow" object.
func appendFlow(dst []byte, f *event.FlowRec) []byte {
	dst = append(dst, `,"flow":{"pkts_toserver":`...)
	dst = strconv.AppendUint(dst, f.PktsToServer, 10)
	dst = append(dst, `,"pkts_toclient":`...)
	dst = strconv.AppendUint(dst, f.PktsToClient, 10)
	dst = append(dst, `,"bytes_toserver":`...)
	dst = strconv.AppendUint(dst, f.BytesToServer, 10)
	dst = append(dst, `,"bytes_toclient":`...)
	dst = strconv.AppendUint(dst, f.BytesToClient, 10)
	dst = append(dst, `,"start":`...)
	dst = appendTime(dst, f.Start)
	dst = append(dst, `,"end":`...)
	dst = appendTime(dst, f.End)
	dst = append(dst, `,"age":`...)
	dst = strconv.AppendInt(dst, f.Age, 10)
	dst = append(dst, `,"state":`...)
	dst = appendString(dst, f.State)
	dst = append(dst, `,"reason":`...)
	dst = appendString(dst, f.Reason)
	dst = append(dst, `,"alerted":`...)
	dst = appendBool(dst, f.Alerted)
	return append(dst, '}')
}

// appendAnomaly writes Suricata's "anomaly" object.
func appendAnomaly(dst []byte, a *event.AnomalyRec) []byte {
	dst = append(dst, `,"anomaly":{"type":`...)
	dst = appendString(dst, a.Type)
	dst = append(dst, `,"event":`...)
	dst = appendString(dst, a.Event)
	if a.Layer != "" {
		dst = append(dst, `,"layer":`...)
		dst = appendString(dst, a.Layer)
	}
	if a.AppProto != "" {
		dst = append(dst, `,"app_proto":`...)
		dst = appendString(dst, a.AppProto)
	}
	return append(dst, '}')
}

// appendFile writes Suricata's "fileinfo" object.
func appendFile(dst []byte, f *event.FileRec) []byte {
	dst = append(dst, `,"fileinfo":{"filename":`...)
	dst = appendString(dst, f.Filename)
	dst = append(dst, `,"size":`...)
	dst = strconv.AppendInt(dst, f.Size, 10)
	dst = append(dst, `,"state":`...)
	dst = appendString(dst, f.State)
	dst = append(dst, `,"stored":`...)
	dst = appendBool(dst, f.Stored)
	dst = append(dst, `,"gaps":`...)
	dst = appendBool(dst, f.Gaps)
	for _, h := range [...]struct{ key, val string }{
		{`,"md5":`, f.MD5}, {`,"sha1":`, f.SHA1}, {`,"sha256":`, f.SHA256}, {`,"magic":`, f.Magic},
	} {
		if h.val != "" {
			dst = append(dst, h.key...)
			dst = appendString(dst, h.val)
		}
	}
	dst = append(dst, `,"tx_id":`...)
	dst = strconv.AppendInt(dst, int64(f.TxID), 10)
	return append(dst, '}')
}

// appendAlert writes Suricata's "alert" object.
func appendAlert(dst []byte, a *event.AlertRec) []byte {
	dst = append(dst, `,"alert":{"action":`...)
	dst = appendString(dst, a.Action)
	dst = append(dst, `,"gid":`...)
	dst = strconv.AppendInt(dst, int64(a.GID), 10)
	dst = append(dst, `,"signature_id":`...)
	dst = strconv.AppendInt(dst, int64(a.SignatureID), 10)
	dst = append(dst, `,"rev":`...)
	dst = strconv.AppendInt(dst, int64(a.Rev), 10)
	dst = append(dst, `,"signature":`...)
	dst = appendString(dst, a.Signature)
	dst = append(dst, `,"category":`...)
	dst = appendString(dst, a.Category)
	dst = append(dst, `,"severity":`...)
	dst = strconv.AppendInt(dst, int64(a.Severity), 10)
	if len(a.Metadata) > 0 {
		dst = append(dst, `,"metadata":{`...)
		var kb [keyBufLen]string
		for i, k := range sortedKeys(kb[:0], a.Metadata) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':', '[')
			for j, v := range a.Metadata[k] {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = appendString(dst, v)
			}
			dst = append(dst, ']')
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// appendStats writes Suricata's "stats" object: uptime first, then the
// Suricata counters sorted by name. A counter named "uptime" in the map
// is left out: the Uptime field is the one value.
func appendStats(dst []byte, s *event.StatsRec) ([]byte, error) {
	dst = append(dst, `,"stats":{"uptime":`...)
	dst = strconv.AppendInt(dst, s.Uptime, 10)
	var err error
	var kb [keyBufLen]string
	for _, k := range sortedKeys(kb[:0], s.Suricata) {
		if k == "uptime" {
			continue
		}
		dst = append(dst, ',')
		dst = appendString(dst, k)
		dst = append(dst, ':')
		var verr error
		dst, verr = appendValue(dst, s.Suricata[k])
		if verr != nil && err == nil {
			err = verr
		}
	}
	return append(dst, '}'), err
}

// appendApp writes a protocol's object: "event" first, then the fields
// sorted by key. A field named "event" is left out: the Kind is the one
// value.
func appendApp(dst []byte, typ string, a *event.App) ([]byte, error) {
	dst = append(dst, ',')
	dst = appendString(dst, typ)
	dst = append(dst, `:{"event":`...)
	dst = appendString(dst, string(a.Event))
	var err error
	var kb [keyBufLen]string
	for _, k := range sortedKeys(kb[:0], a.Fields) {
		if k == "event" {
			continue
		}
		dst = append(dst, ',')
		dst = appendString(dst, k)
		dst = append(dst, ':')
		var verr error
		dst, verr = appendValue(dst, a.Fields[k])
		if verr != nil && err == nil {
			err = fmt.Errorf("%w: field %q", verr, k)
		}
	}
	return append(dst, '}'), err
}

// keyBufLen is the number of map keys sorted without allocating: the
// callers pass a stack array of that size to sortedKeys.
const keyBufLen = 16

// sortedKeys appends the keys of m to buf, sorts them and returns buf.
func sortedKeys[V any](buf []string, m map[string]V) []string {
	for k := range m {
		buf = append(buf, k)
	}
	slices.Sort(buf)
	return buf
}

// jsonBuf is an io.Writer over a byte slice, the target of a pooled
// json.Encoder so that encoding a value allocates no result slice.
type jsonBuf struct{ b []byte }

func (w *jsonBuf) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

type valueEncoder struct {
	buf jsonBuf
	enc *json.Encoder
}

// maxPooledBuf bounds the buffer a pooled encoder keeps: one huge value
// must not pin its memory for the rest of the run.
const maxPooledBuf = 64 << 10

var encoders = sync.Pool{New: func() any {
	e := &valueEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	return e
}}

// appendValue marshals v as encoding/json does (struct tags, sorted map
// keys, HTML-safe escaping, like appendString). On failure it writes null.
// The plain types protocols put in their fields (strings, integers,
// floats, booleans, and maps and slices of them; see appendPlain) are
// written directly; anything else goes through encoding/json.
func appendValue(dst []byte, v any) ([]byte, error) {
	start := len(dst)
	dst, ok, err := appendPlain(dst, v)
	if ok {
		if err != nil {
			dst = append(dst[:start], "null"...)
		}
		return dst, err
	}
	return appendFallback(dst, v)
}

// appendJSON marshals v with encoding/json; on failure it writes null.
func appendJSON(dst []byte, v any) ([]byte, error) {
	e := encoders.Get().(*valueEncoder)
	e.buf.b = e.buf.b[:0]
	err := e.enc.Encode(v)
	if err == nil {
		b := e.buf.b
		if n := len(b); n > 0 && b[n-1] == '\n' {
			b = b[:n-1]
		}
		dst = append(dst, b...)
	} else {
		dst = append(dst, "null"...)
		err = fmt.Errorf("%w: %v", ErrValue, err)
	}
	if cap(e.buf.b) <= maxPooledBuf {
		encoders.Put(e)
	}
	return dst, err
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string exactly as encoding/json does:
// control characters, quotes, backslashes and the HTML-sensitive < > & are
// escaped, U+2028 and U+2029 too (they end lines in JavaScript), and
// invalid UTF-8 becomes U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
