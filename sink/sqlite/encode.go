package sqlite

import (
	"encoding/json"

	"github.com/peerwatch/peerwatch/event"
)

// eveTime is the EVE timestamp layout (DESIGN §5): UTC, six decimals.
const eveTime = "2006-01-02T15:04:05.000000-0700"

// encodeJSON is the encoder used when Options.Encode is nil. It writes the
// EVE shape (envelope keys, the "peerwatch" object and the sub-object named
// after the record) with encoding/json; map keys come out sorted, so the
// text is deterministic. The pipeline normally sets Options.Encode to the
// EVE sink's encoder, which is faster and byte-identical to eve.json.
//
// A value in App.Fields or a stats map that encoding/json cannot write (a
// NaN, a channel) must not lose the record: the offending map is replaced
// by {"encode_error": "..."} and the rest is kept.
func encodeJSON(dst []byte, r *event.Record) []byte {
	m := envelope(r)
	b, err := json.Marshal(m)
	if err != nil {
		bad := map[string]any{"encode_error": err.Error()}
		switch {
		case r.App != nil:
			m[r.Type] = bad
		case r.Stats != nil:
			m["stats"], m["peerwatch_stats"] = bad, bad
		}
		if b, err = json.Marshal(m); err != nil {
			// Only the maps above hold arbitrary values; the rest is typed.
			b = []byte(`{"encode_error":` + quote(err.Error()) + `}`)
		}
	}
	return append(dst, b...)
}

// quote returns s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// envelope builds the record as a JSON object.
func envelope(r *event.Record) map[string]any {
	m := map[string]any{
		"timestamp":  r.Time.UTC().Format(eveTime),
		"event_type": r.Type,
	}
	if r.FlowID != 0 {
		m["flow_id"] = r.FlowID
	}
	if r.PcapCnt != 0 {
		m["pcap_cnt"] = r.PcapCnt
	}
	if r.PcapFile != "" {
		m["pcap_filename"] = r.PcapFile
	}
	if r.Src.IsValid() {
		m["src_ip"], m["src_port"] = r.Src.Addr().String(), r.Src.Port()
	}
	if r.Dst.IsValid() {
		m["dest_ip"], m["dest_port"] = r.Dst.Addr().String(), r.Dst.Port()
	}
	setString(m, "proto", r.Proto)
	if len(r.VLAN) > 0 {
		m["vlan"] = r.VLAN
	}
	setString(m, "app_proto", r.AppProto)
	setString(m, "app_proto_orig", r.AppProtoOrig)
	setString(m, "community_id", r.CommunityID)
	if r.PW != nil {
		m["peerwatch"] = r.PW
	}
	if r.App != nil {
		o := make(map[string]any, len(r.App.Fields)+1)
		for k, v := range r.App.Fields {
			o[k] = v
		}
		o["event"] = r.App.Event
		m[r.Type] = o
	}
	if f := r.Flow; f != nil {
		m["flow"] = map[string]any{
			"pkts_toserver": f.PktsToServer, "pkts_toclient": f.PktsToClient,
			"bytes_toserver": f.BytesToServer, "bytes_toclient": f.BytesToClient,
			"start": f.Start.UTC().Format(eveTime), "end": f.End.UTC().Format(eveTime),
			"age": f.Age, "state": f.State, "reason": f.Reason, "alerted": f.Alerted,
		}
	}
	if a := r.Anomaly; a != nil {
		o := map[string]any{"type": a.Type, "event": a.Event}
		setString(o, "layer", a.Layer)
		setString(o, "app_proto", a.AppProto)
		m["anomaly"] = o
	}
	if f := r.File; f != nil {
		o := map[string]any{
			"filename": f.Filename, "size": f.Size, "state": f.State,
			"stored": f.Stored, "gaps": f.Gaps, "tx_id": f.TxID,
		}
		setString(o, "md5", f.MD5)
		setString(o, "sha1", f.SHA1)
		setString(o, "sha256", f.SHA256)
		setString(o, "magic", f.Magic)
		m["fileinfo"] = o
	}
	if a := r.Alert; a != nil {
		o := map[string]any{
			"action": a.Action, "gid": a.GID, "signature_id": a.SignatureID,
			"rev": a.Rev, "signature": a.Signature, "category": a.Category,
			"severity": a.Severity,
		}
		if len(a.Metadata) > 0 {
			o["metadata"] = a.Metadata
		}
		m["alert"] = o
	}
	if s := r.Stats; s != nil {
		if s.Suricata != nil || r.Type == event.TypeStats {
			o := make(map[string]any, len(s.Suricata)+1)
			for k, v := range s.Suricata {
				o[k] = v
			}
			o["uptime"] = s.Uptime
			m["stats"] = o
		}
		if s.Peerwatch != nil {
			m["peerwatch_stats"] = s.Peerwatch
		}
	}
	return m
}

// setString sets m[k] = v unless v is empty.
func setString(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}
