package decode

// maxLinkSlots is how many distinct unsupported link types Stats counts
// one by one; the rest share LinkOther.
const maxLinkSlots = 8

// LinkCount is the number of frames seen of one unsupported link type.
type LinkCount struct {
	Link  LinkType
	Count uint64
}

// FragStats counts IP fragment handling. Dropped counters count fragments,
// including those already stored for a datagram that is dropped whole.
type FragStats struct {
	Received    uint64 // fragments seen (IPv4 and IPv6)
	Reassembled uint64 // datagrams completed and decoded
	Timeout     uint64 // fragments dropped because their datagram outlived FragTimeout
	Memory      uint64 // fragments dropped to keep held data under FragMemory
	Datagrams   uint64 // fragments dropped because FragMaxDatagrams datagrams were held
	Overlap     uint64 // fragments dropped because a fragment overlapped another (whole datagram)
	Duplicate   uint64 // exact duplicates of a stored fragment, ignored
	Bogus       uint64 // fragments with impossible offsets or lengths, or a conflicting end
	Truncated   uint64 // fragments cut short by the capture's snaplen
}

// TunnelStats counts the encapsulation layers removed, by kind.
type TunnelStats struct {
	IPinIP uint64 // IPv4 or IPv6 directly inside IPv4 or IPv6 (protocols 4 and 41)
	GRE    uint64 // GRE versions 0 and 1, ERSPAN included
	VXLAN  uint64 // VXLAN on UDP port 4789
	MPLS   uint64 // MPLS label stacks
	PPPoE  uint64 // PPPoE sessions
}

// Stats are a Decoder's counters since it was created.
type Stats struct {
	// Reasons counts the result of every Decode call, indexed by Reason.
	Reasons [NumReasons]uint64
	// UnsupportedLinks counts frames of link types Decode does not handle,
	// for the first few distinct types seen; unused slots have Count 0.
	UnsupportedLinks [maxLinkSlots]LinkCount
	// LinkOther counts unsupported frames whose link type found no free slot.
	LinkOther uint64
	// BadIPv4Checksum counts IPv4 headers whose checksum does not verify.
	BadIPv4Checksum uint64
	// Frags counts fragment handling.
	Frags FragStats
	// Tunnels counts removed encapsulations by kind.
	Tunnels TunnelStats
}

// countLink records a frame of an unsupported link type without allocating.
func (s *Stats) countLink(l LinkType) {
	for i := range s.UnsupportedLinks {
		c := &s.UnsupportedLinks[i]
		if c.Count == 0 {
			c.Link = l
		}
		if c.Link == l {
			c.Count++
			return
		}
	}
	s.LinkOther++
}
