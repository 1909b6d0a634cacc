// Package decode parses link-layer frames down to the innermost TCP or UDP
// segment without allocating.
//
// It sits between capture (which yields frames and their link type) and flow
// (which keys on the innermost 5-tuple plus VLAN ids). It understands the link
// types of the capture files peerwatch reads, VLAN tags, IPv4 with options,
// IPv6 with extension headers, and the tunnels that hide a flow's real
// endpoints: IP-in-IP, GRE, VXLAN, MPLS and PPPoE. IPv4 and IPv6 fragments are
// reassembled here, before sharding, because only the first fragment carries
// ports.
//
// The package imports nothing else from the module, so every later stage can
// use its types.
package decode
