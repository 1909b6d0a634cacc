package sqlite

import (
	"context"
	"fmt"
	"time"
)

// worstLevels numbers the matrix's severities as risk.Severity does.
var worstLevels = map[string]int64{"low": 1, "medium": 2, "high": 3, "critical": 4}

// writeMatrix replaces the run's risk_matrix rows with the cells of a
// peerwatch_stats object's "risk_matrix" list (see pipeline and
// risk.Cell); objects without one leave the table alone. Cells that are
// not shaped as expected are skipped.
func (s *Store) writeMatrix(ctx context.Context, pw map[string]any) error {
	cells, ok := pw["risk_matrix"].([]any)
	if !ok {
		return nil
	}
	if _, err := s.conn.ExecContext(ctx, `DELETE FROM risk_matrix WHERE run_id = ?`, s.runID); err != nil {
		return fmt.Errorf("sqlite: store risk_matrix: %w", err)
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
		tm := func(k string) any {
			t, err := time.Parse("2006-01-02T15:04:05.000000-0700", str(k))
			if err != nil {
				return nil
			}
			return t.UnixMicro()
		}
		home, _ := m["home"].(bool)
		if _, err := s.conn.ExecContext(ctx, `INSERT INTO risk_matrix (run_id, host, home, service, product, risk,
			count, alerts, worst, first_us, last_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			s.runID, str("host"), home, str("service"), str("product"), str("risk"),
			num("count"), num("alerts"), worstLevels[str("worst")], tm("first"), tm("last")); err != nil {
			return fmt.Errorf("sqlite: store risk_matrix: %w", err)
		}
	}
	return nil
}
