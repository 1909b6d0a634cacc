package sqlite

import (
	"net/netip"
	"time"

	"github.com/peerwatch/peerwatch/event"
)

// Bounds on the in-memory aggregates. Hosts come from home_net, so their
// number is bounded by the networks watched, but a home_net of a /8 under a
// scan could still grow without limit; past these bounds new groups are
// counted in runs.aggregates_dropped and peers stop being collected (the
// group's peers_capped is set and peers is a lower bound).
const (
	maxGroups        = 1 << 20 // host_protocols groups
	maxProtocols     = 1 << 16 // protocols groups
	maxPeersPerGroup = 1 << 16 // distinct peers remembered per host group
)

// defaultHomeNet is RFC 1918 plus IPv6 unique local addresses (RFC 4193).
var defaultHomeNet = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("fc00::/7"),
}

// Values of the local_side columns, the same words as peerwatch.local.
const (
	sideSrc  = "src"
	sideDest = "dest"
	sideBoth = "both"
	sideNone = "none"
)

// homeNet answers whether an address is one of our hosts.
type homeNet []netip.Prefix

// contains reports whether a (IPv4-mapped IPv6 taken as IPv4) is in the
// home networks.
func (h homeNet) contains(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range h {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// side says which ends of a src→dst record are in the home networks.
func (h homeNet) side(src, dst netip.AddrPort) string {
	s, d := h.contains(src.Addr()), h.contains(dst.Addr())
	switch {
	case s && d:
		return sideBoth
	case s:
		return sideSrc
	case d:
		return sideDest
	}
	return sideNone
}

// protoKey groups by the two protocol labels; empty strings mean unknown.
type protoKey struct {
	appProto, service string
}

// hostKey groups by a home_net host and the protocol labels.
type hostKey struct {
	host netip.Addr
	protoKey
}

// hostAgg is one host_protocols row in the making.
type hostAgg struct {
	flows, pkts, sent, received uint64
	first, last                 time.Time
	peers                       map[netip.Addr]struct{}
	capped                      bool
}

// protoAgg is one protocols row in the making.
type protoAgg struct {
	flows, stored, pkts, bytes, events, alerts uint64
	first, last                                time.Time
}

// aggregates accumulates both tables over a run; Close writes them.
type aggregates struct {
	home    homeNet
	hosts   map[hostKey]*hostAgg
	protos  map[protoKey]*protoAgg
	dropped uint64
}

func newAggregates(home []netip.Prefix) *aggregates {
	if len(home) == 0 {
		home = defaultHomeNet
	}
	h := make(homeNet, 0, len(home))
	for _, p := range home {
		// Addresses are matched unmapped, so an IPv4-mapped prefix
		// (::ffff:10.0.0.0/104) becomes its IPv4 form.
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		if p.IsValid() {
			h = append(h, p.Masked())
		}
	}
	return &aggregates{
		home:   h,
		hosts:  make(map[hostKey]*hostAgg),
		protos: make(map[protoKey]*protoAgg),
	}
}

// widen extends [first, last] to cover t; zero times are ignored.
func widen(first, last *time.Time, t time.Time) {
	if t.IsZero() {
		return
	}
	if first.IsZero() || t.Before(*first) {
		*first = t
	}
	if last.IsZero() || t.After(*last) {
		*last = t
	}
}

// proto returns the protocols group for k, or nil past maxProtocols.
func (a *aggregates) proto(k protoKey) *protoAgg {
	p := a.protos[k]
	if p == nil {
		if len(a.protos) >= maxProtocols {
			a.dropped++
			return nil
		}
		p = &protoAgg{}
		a.protos[k] = p
	}
	return p
}

// flow counts a final flow record. Src is the originator: a host on the src
// side sent the bytes to the server, one on the dest side those to the
// client. A flow between two home hosts counts for both; a flow with no home
// end counts only in protocols, so remote servers never appear as hosts. A
// flow from a host to itself counts once.
func (a *aggregates) flow(r *event.Record, k protoKey, stored bool) {
	f := r.Flow
	start, end := f.Start, f.End
	if start.IsZero() {
		start = r.Time
	}
	if end.IsZero() {
		end = r.Time
	}
	pkts := f.PktsToServer + f.PktsToClient
	if p := a.proto(k); p != nil {
		p.flows++
		if stored {
			p.stored++
		}
		p.pkts += pkts
		p.bytes += f.BytesToServer + f.BytesToClient
		widen(&p.first, &p.last, start)
		widen(&p.first, &p.last, end)
	}
	if a.home.contains(r.Src.Addr()) {
		a.host(hostKey{r.Src.Addr().Unmap(), k}, r.Dst.Addr().Unmap(), pkts, f.BytesToServer, f.BytesToClient, start, end)
	}
	if a.home.contains(r.Dst.Addr()) && r.Dst.Addr().Unmap() != r.Src.Addr().Unmap() {
		a.host(hostKey{r.Dst.Addr().Unmap(), k}, r.Src.Addr().Unmap(), pkts, f.BytesToClient, f.BytesToServer, start, end)
	}
}

// host adds one flow to a host group.
func (a *aggregates) host(k hostKey, peer netip.Addr, pkts, sent, received uint64, start, end time.Time) {
	h := a.hosts[k]
	if h == nil {
		if len(a.hosts) >= maxGroups {
			a.dropped++
			return
		}
		h = &hostAgg{peers: make(map[netip.Addr]struct{})}
		a.hosts[k] = h
	}
	h.flows++
	h.pkts += pkts
	h.sent += sent
	h.received += received
	widen(&h.first, &h.last, start)
	widen(&h.first, &h.last, end)
	if _, ok := h.peers[peer]; !ok {
		if len(h.peers) >= maxPeersPerGroup {
			h.capped = true
		} else {
			h.peers[peer] = struct{}{}
		}
	}
}

// event counts an app-layer, anomaly, fileinfo or alert record.
func (a *aggregates) event(r *event.Record, k protoKey) {
	p := a.proto(k)
	if p == nil {
		return
	}
	if r.Alert != nil {
		p.alerts++
	} else {
		p.events++
	}
	widen(&p.first, &p.last, r.Time)
}

// hostCounts returns, per protocol key, how many home hosts used it.
func (a *aggregates) hostCounts() map[protoKey]uint64 {
	n := make(map[protoKey]uint64, len(a.protos))
	for k := range a.hosts {
		n[k.protoKey]++
	}
	return n
}
