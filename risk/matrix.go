package risk

import (
	"net/netip"
	"time"

	"github.com/peerwatch/peerwatch/event"
)

// Cell is one cell of the measured threat matrix: how often one host's use
// of one application raised one risk, and how bad it got.
type Cell struct {
	Host    netip.Addr // the home_net end of the findings (the source when neither end is local)
	Home    bool       // Host is in home_net: only these are ranked in reports
	Service string     // peerwatch.service
	Product string     // peerwatch.product ("" when unknown)
	Risk    event.Risk
	Count   int64    // findings, whatever the policy said
	Alerts  int64    // findings written as alerts (policy alert or block)
	Worst   Severity // the most severe finding
	First   time.Time
	Last    time.Time
}
