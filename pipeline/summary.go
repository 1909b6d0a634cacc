package pipeline

import (
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/peerwatch/peerwatch/decode"
	"github.com/peerwatch/peerwatch/event"
)

// FileSummary describes one input file.
type FileSummary struct {
	Name    string
	Format  string
	Packets uint64
	Error   string // empty: read to its end
}

// ProtoSummary counts one protocol's flows.
type ProtoSummary struct {
	Flows uint64
	Bytes uint64
	Hosts int // distinct addresses on either side
	hosts map[netip.Addr]struct{}
}

// Summary is what a run saw, for the terminal summary and the stats record.
type Summary struct {
	mu          sync.Mutex
	Packets     uint64 // records read from the capture files
	Bytes       uint64 // wire bytes of those packets
	Reasons     [decode.NumReasons]uint64
	Links       map[decode.LinkType]uint64 // unsupported link types seen
	Files       []FileSummary
	FileErrors  []string
	Interrupted bool
	Rewinds     uint64 // times capture time went back for good (new epoch)

	Flows       uint64
	FlowReasons map[string]uint64
	Records     map[string]uint64 // by event_type
	Protocols   map[string]*ProtoSummary
	Services    map[string]*ProtoSummary
	Elapsed     time.Duration

	Engine map[string]uint64 // engine counters: classified, unknown, expectations, gaps...
}

func newSummary() *Summary {
	return &Summary{Links: map[decode.LinkType]uint64{}, FlowReasons: map[string]uint64{},
		Records: map[string]uint64{}, Protocols: map[string]*ProtoSummary{}, Services: map[string]*ProtoSummary{},
		Engine: map[string]uint64{}}
}

func (s *Summary) noteLink(l decode.LinkType) { s.Links[l]++ }

func addProto(m map[string]*ProtoSummary, name string, r *event.Record) {
	ps := m[name]
	if ps == nil {
		ps = &ProtoSummary{hosts: map[netip.Addr]struct{}{}}
		m[name] = ps
	}
	ps.Flows++
	ps.Bytes += r.Flow.BytesToServer + r.Flow.BytesToClient
	if len(ps.hosts) < 1<<16 {
		ps.hosts[r.Src.Addr()] = struct{}{}
		ps.hosts[r.Dst.Addr()] = struct{}{}
	}
}

// observe counts records on their way to the sinks (writer goroutine).
func (s *Summary) observe(recs []event.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range recs {
		r := &recs[i]
		s.Records[r.Type]++
		if r.Type != event.TypeFlow || r.Flow == nil || (r.PW != nil && r.PW.Interim) {
			continue
		}
		s.Flows++
		s.FlowReasons[r.Flow.Reason]++
		if r.AppProto != "" {
			addProto(s.Protocols, r.AppProto, r)
		}
		if r.AppProtoOrig != "" && r.AppProtoOrig != r.AppProto {
			// A tunnel counts too: its flows carry another protocol.
			addProto(s.Protocols, r.AppProtoOrig, r)
		}
		if r.PW != nil && r.PW.Service != "" {
			addProto(s.Services, r.PW.Service, r)
		}
	}
}

func (s *Summary) finish(r *run, dec *decode.Decoder, elapsed time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Elapsed = elapsed
	for _, m := range []map[string]*ProtoSummary{s.Protocols, s.Services} {
		for _, ps := range m {
			ps.Hosts = len(ps.hosts)
		}
	}
	for _, w := range r.workers {
		st := w.st
		s.Engine["classified"] += st.classified
		s.Engine["unclassified"] += st.unknown
		s.Engine["analyzer_detached"] += st.detached
		s.Engine["analyzer_violations"] += st.violations
		s.Engine["analyzer_buffer_limit"] += st.bufferLimit
		s.Engine["gaps_to_analyzers"] += st.gapsToAnalyzers
		s.Engine["reclassified"] += st.reclassified
		s.Engine["expected_flows"] += st.expectedFlows
		ts := w.table.Stats()
		s.Engine["flows_evicted"] += ts.Evicted
		as := w.asm.Stats()
		s.Engine["stream_gaps"] += as.Gaps
		s.Engine["stream_gap_bytes"] += as.GapBytes
		s.Engine["stream_overlaps"] += as.Overlaps
		s.Engine["stream_buffer_limit"] += as.BufferLimit
	}
	es := r.expect.Stats()
	s.Engine["expectations_added"] = es.Added
	s.Engine["expectations_matched"] = es.Matched
	s.Engine["expectations_dropped"] = es.DroppedFull + es.DroppedQuota
	ds := dec.Stats()
	s.Engine["ipv4_bad_checksum"] = ds.BadIPv4Checksum
	s.Engine["fragments_reassembled"] = ds.Frags.Reassembled
}

// statsRecords builds the final stats and peerwatch_stats records.
func statsRecords(s *Summary, r *run, elapsed time.Duration) []event.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now().UTC()
	if len(s.Files) == 0 {
		now = time.Time{}
	}
	invalid := uint64(0)
	for i, n := range s.Reasons {
		if decode.Reason(i) == decode.Malformed || decode.Reason(i) == decode.Truncated {
			invalid += n
		}
	}
	sur := map[string]any{
		"decoder": map[string]any{"pkts": s.Packets, "bytes": s.Bytes, "invalid": invalid},
		"flow":    map[string]any{"total": s.Flows},
	}
	// Per-protocol flow counts go to peerwatch_stats: Suricata's schema
	// fixes the names under stats.app_layer to its own protocols.
	reasons := map[string]any{}
	for i, n := range s.Reasons {
		if n > 0 {
			reasons[decode.Reason(i).String()] = n
		}
	}
	links := map[string]any{}
	for l, n := range s.Links {
		links[fmt.Sprint(uint16(l))] = n
	}
	protos := map[string]any{}
	for _, k := range sortedKeys(s.Protocols) {
		p := s.Protocols[k]
		protos[k] = map[string]any{"flows": p.Flows, "bytes": p.Bytes, "hosts": p.Hosts}
	}
	services := map[string]any{}
	for _, k := range sortedKeys(s.Services) {
		p := s.Services[k]
		services[k] = map[string]any{"flows": p.Flows, "bytes": p.Bytes, "hosts": p.Hosts}
	}
	engine := map[string]any{}
	for k, v := range s.Engine {
		engine[k] = v
	}
	pw := map[string]any{
		"packets": s.Packets, "bytes": s.Bytes, "flows": s.Flows, "decode": reasons,
		"unsupported_links": links, "protocols": protos, "services": services, "engine": engine,
		"workers": r.nworkers, "files": len(s.Files), "file_errors": len(s.FileErrors), "clock_rewinds": s.Rewinds,
	}
	up := int64(elapsed / time.Second)
	return []event.Record{
		{Type: event.TypeStats, Time: now, Stats: &event.StatsRec{Uptime: up, Suricata: sur}},
		{Type: event.TypePeerwatchStats, Time: now, Stats: &event.StatsRec{Uptime: up, Peerwatch: pw}},
	}
}

// Print writes the readable summary of a run. Names from the capture are
// stripped of control characters.
func (s *Summary) Print(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(w, "packets  %d (%s)\n", s.Packets, human(s.Bytes))
	fmt.Fprintf(w, "flows    %d", s.Flows)
	if len(s.FlowReasons) > 0 {
		var parts []string
		for _, k := range sortedKeys(s.FlowReasons) {
			parts = append(parts, fmt.Sprintf("%s %d", k, s.FlowReasons[k]))
		}
		fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
	var skipped []string
	for i, n := range s.Reasons {
		if n > 0 && decode.Reason(i) != decode.OK {
			skipped = append(skipped, fmt.Sprintf("%s %d", decode.Reason(i), n))
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintf(w, "skipped  %s\n", strings.Join(skipped, ", "))
	}
	if len(s.Links) > 0 {
		var ls []string
		for l, n := range s.Links {
			ls = append(ls, fmt.Sprintf("%s: %d packets", linkName(l), n))
		}
		sort.Strings(ls)
		fmt.Fprintf(w, "unsupported link types  %s\n", strings.Join(ls, ", "))
	}
	if s.Rewinds > 0 {
		fmt.Fprintf(w, "clock    went back %d times (new epoch: flows before it ended)\n", s.Rewinds)
	}
	if n := s.Engine["flows_evicted"]; n > 0 {
		fmt.Fprintf(w, "evicted  %d flows (flow table full)\n", n)
	}
	table := func(title string, m map[string]*ProtoSummary) {
		if len(m) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%-16s %8s %12s %6s\n", title, "flows", "bytes", "hosts")
		for _, k := range sortedKeys(m) {
			p := m[k]
			fmt.Fprintf(w, "%-16s %8d %12s %6d\n", clean(k), p.Flows, human(p.Bytes), p.Hosts)
		}
	}
	table("protocol", s.Protocols)
	table("service", s.Services)
	for _, e := range s.FileErrors {
		fmt.Fprintf(w, "\nerror: %s\n", clean(e))
	}
	if s.Interrupted {
		fmt.Fprintln(w, "\ninterrupted: records up to the signal were written")
	}
}

// linkNames names link types peerwatch does not decode (pcap LINKTYPE_ registry).
var linkNames = map[decode.LinkType]string{
	6: "IEEE 802.5 Token Ring", 8: "SLIP", 10: "FDDI", 105: "IEEE 802.11", 119: "802.11 Prism",
	127: "802.11 radiotap", 138: "IP over IEEE 1394", 143: "DOCSIS", 163: "802.11 AVS", 187: "Bluetooth HCI H4",
	189: "Linux USB", 195: "IEEE 802.15.4", 201: "Bluetooth HCI H4 with pseudo-header", 215: "IEEE 802.15.4 (no FCS)",
	220: "Linux USB (mmapped)", 253: "Linux netlink", 263: "Bluetooth LE LL", 283: "IEEE 802.15.4 TAP",
}

func linkName(l decode.LinkType) string {
	if n, ok := linkNames[l]; ok {
		return fmt.Sprintf("%s (linktype %d)", n, uint16(l))
	}
	return fmt.Sprintf("linktype %d", uint16(l))
}

// clean drops control characters from attacker-controlled text.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}

func human(b uint64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}
