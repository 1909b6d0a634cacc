package sqlite

import (
	"fmt"
	"time"
)

// worstLevels numbers the matrix's severities as risk.Severity does.
var worstLevels = map[string]int64{"low": 1, "medium": 2, "high": 3, "critical": 4}

// writeMatrix replaces the run's risk_matrix rows with the cells of a
// peerwatch_stats object's "risk_matrix" list (see pipeline and
// risk.Cell); objects without one leave the table alone. Cells that are
// not shaped as expected are skipped.
func (s *Store) writeMatrix(pw map[string]any) error {
	cells, ok := pw["risk_matrix"].([]any)
	if !ok {
		return nil
	}
	if err := s.delMatrix.exec(vInt(s.runID)); err != nil {
		return fmt.Errorf("%w (store risk_matrix)", err)
	}
	for _, c := range cells {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		str := func(k string) string { v, _ := m[k].(string); return v }
		num := func(k string) int64 {
			switch v := m[k].(type) {
			case int64:
				return v
			case int:
				return int64(v)
			case float64:
				return int64(v)
			}
			return 0
		}
		tm := func(k string) value {
			t, err := time.Parse("2006-01-02T15:04:05.000000-0700", str(k))
			return vNullable(t.UnixMicro(), err == nil)
		}
		home, _ := m["home"].(bool)
		if err := s.insMatrix.exec(vInt(s.runID), vText(str("host")), vBool(home), vText(str("service")),
			vText(str("product")), vText(str("risk")), vInt(num("count")), vInt(num("alerts")),
			vInt(worstLevels[str("worst")]), tm("first"), tm("last")); err != nil {
			return fmt.Errorf("%w (store risk_matrix)", err)
		}
	}
	return nil
}
