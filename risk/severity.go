package risk

// Severity ranks a finding. EVE's alert.severity maps Critical and High to
// 1, Medium to 2 and Low to 3 (DESIGN §5).
type Severity uint8

// Severities, from least to most severe; the zero value means "unset".
const (
	Low Severity = iota + 1
	Medium
	High
	Critical
)
