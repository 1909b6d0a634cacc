package risk

import (
	"net/netip"

	"github.com/peerwatch/peerwatch/event"
)

// Action is what a policy rule does with a finding it matches.
type Action string

// Policy actions.
const (
	Allow Action = "allow" // no alert; still counted in the inventory and the matrix
	Alert Action = "alert" // an EVE alert with action "allowed"
	Block Action = "block" // inline: the flow is dropped; offline: an alert with would_block
)

// Policy is the operator's ordered list of rules: the first rule that
// matches a finding decides its action; Default applies when none does.
type Policy struct {
	File    string // where it was loaded from, for messages
	Default Action // "alert" unless the file says otherwise
	Rules   []PolicyRule
}

// PolicyRule is one entry of a policy. Empty match fields match anything;
// a list matches if any of its values does; all non-empty fields must match.
type PolicyRule struct {
	Line        int    // line of the rule in the policy file (1-based); 0 if built in code
	Name        string // optional label, shown in alerts and explanations
	Action      Action
	Services    []string        // peerwatch.service values: aim, icq, msn, yahoo, gnutella, kazaa, ...
	Products    []string        // peerwatch.product values, compared case-insensitively
	Features    []event.Feature // event features
	Risks       []event.Risk    // risk columns
	MinSeverity Severity        // 0: any; else findings at least this severe (Critical > High > Medium > Low)
	Src, Dst    []netip.Prefix  // networks of the record's source and destination address
	Users       []string        // user names (local or peer), compared case-insensitively
}
