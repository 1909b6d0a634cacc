package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/peerwatch/peerwatch/event"
)

// TestRiskMatrix: the peerwatch_stats record's risk_matrix becomes
// risk_matrix rows; a later one replaces them; malformed cells are skipped.
func TestRiskMatrix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	w, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cell := func(risk, worst string, n int64) map[string]any {
		return map[string]any{"host": "10.0.0.5", "home": true, "service": "aim", "product": "AIM", "risk": risk,
			"count": n, "alerts": n - 1, "worst": worst, "first": "2024-01-01T00:00:00.000000+0000", "last": "2024-01-01T00:01:00.000000+0000"}
	}
	stats := func(cells ...any) event.Record {
		return event.Record{Type: event.TypePeerwatchStats, Stats: &event.StatsRec{Peerwatch: map[string]any{"risk_matrix": cells}}}
	}
	writeAll(t, w, []event.Record{stats(cell("im_use", "low", 1))}, 10)
	writeAll(t, w, []event.Record{stats(cell("credential_exposure", "high", 3), cell("unencrypted", "medium", 2), "not a cell")}, 10)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := count(t, s, `SELECT count(*) FROM risk_matrix`); n != 2 {
		t.Errorf("rows %d, want 2 (the later record replaces the earlier)", n)
	}
	if n := count(t, s, `SELECT worst FROM risk_matrix WHERE risk = 'credential_exposure' AND count = 3 AND alerts = 2 AND home = 1 AND host = '10.0.0.5'`); n != 3 {
		t.Errorf("worst %d, want 3 (high)", n)
	}
	if n := count(t, s, `SELECT last_us - first_us FROM risk_matrix WHERE risk = 'unencrypted'`); n != 60_000_000 {
		t.Errorf("times: span %d µs", n)
	}
}
