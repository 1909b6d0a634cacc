package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"time"
)

// FlowRow is one row of the flows table, summarised.
type FlowRow struct {
	FlowID       uint64
	Start, End   time.Time // zero if unknown
	Src, Dst     netip.AddrPort
	Proto        string
	AppProto     string
	AppProtoOrig string
	Service      string
	Product      string
	Confidence   string
	LocalSide    string // "src", "dest", "both" or "none"
	Pkts, Bytes  uint64 // both directions
}

// ProtocolRow is one row of the protocols aggregate.
type ProtocolRow struct {
	AppProto, Service string // "" when unknown
	Flows             uint64 // final flow records seen
	FlowsStored       uint64 // of which stored in flows
	Pkts, Bytes       uint64
	Hosts             uint64 // distinct home_net hosts
	Events, Alerts    uint64
	First, Last       time.Time
}

// HostRow is one row of the host_protocols aggregate.
type HostRow struct {
	Host                     netip.Addr // in home_net
	AppProto, Service        string
	Flows, Pkts              uint64
	BytesSent, BytesReceived uint64
	First, Last              time.Time
	Peers                    uint64 // distinct other ends
	PeersCapped              bool   // Peers is a lower bound
}

// Flows returns up to limit stored flows of the store's run, in flow_id
// order.
func (s *Store) Flows(limit int) ([]FlowRow, error) {
	if s.closed {
		return nil, ErrClosed
	}
	rows, err := s.conn.QueryContext(context.Background(), `SELECT flow_id, start_us, end_us,
		src_ip, src_port, dst_ip, dst_port, proto, app_proto, app_proto_orig, service, product,
		confidence, local_side, pkts_toserver + pkts_toclient, bytes_toserver + bytes_toclient
		FROM flows WHERE run_id = ? ORDER BY flow_id LIMIT ?`, s.runID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: query flows: %w", err)
	}
	defer rows.Close()
	var out []FlowRow
	for rows.Next() {
		var f FlowRow
		var start, end sql.NullInt64
		var sip, dip string
		var sport, dport uint16
		if err := rows.Scan(&f.FlowID, &start, &end, &sip, &sport, &dip, &dport, &f.Proto,
			&f.AppProto, &f.AppProtoOrig, &f.Service, &f.Product, &f.Confidence, &f.LocalSide,
			&f.Pkts, &f.Bytes); err != nil {
			return nil, fmt.Errorf("sqlite: query flows: %w", err)
		}
		f.Start, f.End = fromMicros(start), fromMicros(end)
		f.Src, f.Dst = endpoint(sip, sport), endpoint(dip, dport)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: query flows: %w", err)
	}
	return out, nil
}

// Protocols returns the protocols aggregate of the store's run, most bytes
// first. It is empty until the writer has closed.
func (s *Store) Protocols() ([]ProtocolRow, error) {
	if s.closed {
		return nil, ErrClosed
	}
	rows, err := s.conn.QueryContext(context.Background(), `SELECT app_proto, service, flows,
		flows_stored, pkts, bytes, hosts, events, alerts, first_us, last_us
		FROM protocols WHERE run_id = ? ORDER BY bytes DESC, app_proto, service`, s.runID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: query protocols: %w", err)
	}
	defer rows.Close()
	var out []ProtocolRow
	for rows.Next() {
		var p ProtocolRow
		var first, last sql.NullInt64
		if err := rows.Scan(&p.AppProto, &p.Service, &p.Flows, &p.FlowsStored, &p.Pkts, &p.Bytes,
			&p.Hosts, &p.Events, &p.Alerts, &first, &last); err != nil {
			return nil, fmt.Errorf("sqlite: query protocols: %w", err)
		}
		p.First, p.Last = fromMicros(first), fromMicros(last)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: query protocols: %w", err)
	}
	return out, nil
}

// Hosts returns the host_protocols aggregate of the store's run, by host
// then protocol. It is empty until the writer has closed.
func (s *Store) Hosts() ([]HostRow, error) {
	if s.closed {
		return nil, ErrClosed
	}
	rows, err := s.conn.QueryContext(context.Background(), `SELECT host, app_proto, service,
		flows, pkts, bytes_sent, bytes_received, first_us, last_us, peers, peers_capped
		FROM host_protocols WHERE run_id = ? ORDER BY host, app_proto, service`, s.runID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: query hosts: %w", err)
	}
	defer rows.Close()
	var out []HostRow
	for rows.Next() {
		var h HostRow
		var host string
		var first, last sql.NullInt64
		if err := rows.Scan(&host, &h.AppProto, &h.Service, &h.Flows, &h.Pkts, &h.BytesSent,
			&h.BytesReceived, &first, &last, &h.Peers, &h.PeersCapped); err != nil {
			return nil, fmt.Errorf("sqlite: query hosts: %w", err)
		}
		// The column is written from a netip.Addr; a bad value stays zero.
		h.Host, _ = netip.ParseAddr(host)
		h.First, h.Last = fromMicros(first), fromMicros(last)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: query hosts: %w", err)
	}
	return out, nil
}

// fromMicros is the inverse of micros, in UTC.
func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// endpoint rebuilds an address and port; an empty or bad address gives the
// zero AddrPort.
func endpoint(ip string, port uint16) netip.AddrPort {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a, port)
}
