package risk

import "github.com/peerwatch/peerwatch/event"

// severityNames are the spellings of the severities in policies, metadata
// and `peerwatch rules`.
var severityNames = [...]string{Low: "low", Medium: "medium", High: "high", Critical: "critical"}

// String returns "low", "medium", "high" or "critical", or "" for the zero
// value and values outside the list.
func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return ""
}

// ParseSeverity returns the Severity spelt s ("low" … "critical").
func ParseSeverity(s string) (Severity, bool) {
	for i, n := range severityNames {
		if n != "" && n == s {
			return Severity(i), true
		}
	}
	return 0, false
}

// EVE returns the EVE alert.severity of s (DESIGN §5): 1 for Critical and
// High, 2 for Medium, 3 for Low and anything else.
func (s Severity) EVE() int {
	switch s {
	case Critical, High:
		return 1
	case Medium:
		return 2
	}
	return 3
}

// categories are the EVE alert.category of each risk column, taken from
// Suricata's classification.config descriptions so that SIEM mappings
// written for Suricata apply.
var categories = map[event.Risk]string{
	event.RiskExploit:           "Attempted User Privilege Gain",
	event.RiskWorm:              "A Network Trojan was detected",
	event.RiskMalwareCarrier:    "A Network Trojan was detected",
	event.RiskSpyware:           "Possibly Unwanted Program Detected",
	event.RiskSocialEngineering: "Possible Social Engineering Attempted",
	event.RiskRemoteControl:     "Potential Corporate Privacy Violation",
}

// Category returns the EVE alert.category of findings in column r.
func Category(r event.Risk) string {
	if c, ok := categories[r]; ok {
		return c
	}
	return "Potential Corporate Privacy Violation"
}

// knownRisk reports whether r is a column of event.Risks.
func knownRisk(r event.Risk) bool {
	for _, k := range event.Risks {
		if k == r {
			return true
		}
	}
	return false
}
