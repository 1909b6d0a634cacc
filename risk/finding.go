package risk

import (
	"net/netip"

	"github.com/peerwatch/peerwatch/event"
)

// Finding is one rule raised by one record, before the policy decides what
// to do with it.
type Finding struct {
	RuleID   string     // catalogue id
	Risk     event.Risk // the rule's column
	Severity Severity
	Service  string // peerwatch.service
	Product  string // peerwatch.product
	Feature  event.Feature
	Src, Dst netip.Addr // the record's source and destination; Dst is invalid for volume findings
	Users    []string   // user names involved (local, peer, login or credential user), without duplicates
	Evidence string     // what matched, masked: never message text or a secret
}

// finding starts a Finding for catalogue rule r.
func finding(r ruleIdx) Finding {
	c := &catalogue[r]
	return Finding{RuleID: c.ID, Risk: c.Risk, Severity: c.Severity}
}
