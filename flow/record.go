package flow

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/peerwatch/peerwatch/decode"
)

// Protocols that CommunityID leaves out. Community ID hashes the ICMP type
// and code, which a flow does not keep, so ICMP flows get no ID; it hashes
// SCTP's ports like TCP's, but a flow keeps ports only for TCP and UDP, so
// SCTP flows get none either.
const (
	protoICMP   decode.IPProto = 1
	protoICMPv6 decode.IPProto = 58
	protoSCTP   decode.IPProto = 132
)

// communityIDLen is the length of a v1 Community ID: "1:" and the base64
// text of a 20-byte SHA1 digest.
const communityIDLen = 2 + 28

// CommunityID returns the Community ID v1 of flow f with seed 0, as Suricata
// writes it in EVE community_id, for example "1:LQU9qZlK+B5F3KDmev6m5PMibrg=".
// It returns "" for ICMP and SCTP flows (the ID needs the ICMP type and code
// or the SCTP ports, which a flow does not keep) and for flows without valid
// addresses, as the spec allows for flows a monitor does not support.
func CommunityID(f *Flow) string {
	if f.Proto == protoSCTP {
		return ""
	}
	var buf [communityIDLen]byte
	return string(appendCommunityID(buf[:0], f.Orig, f.Resp, f.Proto, 0))
}

// AppendCommunityID appends the Community ID of f (as CommunityID returns it)
// to dst and returns the extended slice; it does not allocate when dst has
// room for 30 more bytes.
func AppendCommunityID(dst []byte, f *Flow) []byte {
	if f.Proto == protoSCTP {
		return dst
	}
	return appendCommunityID(dst, f.Orig, f.Resp, f.Proto, 0)
}

// appendCommunityID implements Community ID v1
// (https://github.com/corelight/community-id-spec): SHA1 over
// seed(2) . saddr . daddr . proto(1) . 0(1) . sport(2) . dport(2), all
// big-endian, with the endpoints swapped if needed so that the numerically
// smaller IP:port comes first (ports decide when the addresses are equal);
// ports are left out for protocols without them; the result is "1:" followed
// by the standard base64 of the digest.
func appendCommunityID(dst []byte, src, dstEP netip.AddrPort, proto decode.IPProto, seed uint16) []byte {
	sa, da := src.Addr(), dstEP.Addr()
	if proto == protoICMP || proto == protoICMPv6 || !sa.IsValid() || !da.IsValid() || sa.Is4() != da.Is4() {
		return dst
	}
	// Within one family Compare orders addresses by their bytes, then ports:
	// the spec's rule.
	if dstEP.Compare(src) < 0 {
		src, dstEP = dstEP, src
		sa, da = da, sa
	}
	var in [2 + 16 + 16 + 1 + 1 + 2 + 2]byte
	binary.BigEndian.PutUint16(in[:2], seed)
	n := 2
	if sa.Is4() {
		a, b := sa.As4(), da.As4()
		n += copy(in[n:], a[:])
		n += copy(in[n:], b[:])
	} else {
		a, b := sa.As16(), da.As16()
		n += copy(in[n:], a[:])
		n += copy(in[n:], b[:])
	}
	in[n] = byte(proto)
	in[n+1] = 0 // padding to a 32-bit boundary
	n += 2
	if hasPorts(proto) || proto == protoSCTP {
		binary.BigEndian.PutUint16(in[n:], src.Port())
		binary.BigEndian.PutUint16(in[n+2:], dstEP.Port())
		n += 4
	}
	sum := sha1.Sum(in[:n])
	dst = append(dst, '1', ':')
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// Age returns the time from the flow's first packet to its last, as EVE
// flow.age reports it (in whole seconds).
func (f *Flow) Age() time.Duration { return f.Last.Sub(f.First) }
