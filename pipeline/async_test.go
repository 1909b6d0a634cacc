package pipeline_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
	"github.com/peerwatch/peerwatch/pipeline"
	"github.com/peerwatch/peerwatch/risk"

	_ "modernc.org/sqlite"
)

// TestAsyncSQLite writes every capture of the repository through the real
// output sinks with 1 worker (SQLite in the writer goroutine) and with 4
// (SQLite in its own goroutine, fed the EVE lines the writer copied): the
// databases hold the same rows, json columns included.
func TestAsyncSQLite(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(pcaptest.Root(), "proto", "*", "testdata", "*.pcap*"))
	demo, _ := filepath.Glob(filepath.Join(pcaptest.Root(), "testdata", "*.pcap*"))
	files = append(demo, files...)
	if len(files) < 20 {
		t.Fatalf("only %d captures found", len(files))
	}
	dump := func(workers int) map[string]string {
		cfg := config.Default()
		cfg.Workers = workers
		cfg.Output.Dir = t.TempDir()
		sinks, err := pipeline.OpenOutput(cfg, pipeline.OutputOptions{Files: files})
		if err != nil {
			t.Fatal(err)
		}
		rk, err := risk.New(risk.Config{})
		if err != nil {
			t.Fatal(err)
		}
		// Some repository captures are damaged on purpose: the run reports
		// them and carries on.
		_, _ = pipeline.Run(context.Background(), pipeline.Options{Config: cfg, Files: files, Sinks: sinks, Risk: rk})
		db, err := sql.Open("sqlite", filepath.Join(cfg.Output.Dir, "peerwatch.db")+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		out := map[string]string{}
		for name, q := range map[string]string{
			"events": `SELECT flow_id, seq, event_type, kind, service, src_ip, local_side, json FROM events ORDER BY flow_id, seq, json`,
			"flows": `SELECT flow_id, src_ip, dst_port, app_proto, service, confidence, evidence, pkts_toserver,
				bytes_toclient, alerted, local_side, evasion FROM flows ORDER BY flow_id, interim`,
			"alerts":   `SELECT flow_id, signature_id, signature, metadata, service FROM alerts ORDER BY flow_id, signature_id`,
			"files":    `SELECT flow_id, filename, size, sha256, file_type FROM files ORDER BY flow_id, tx_id, sha256`,
			"matrix":   `SELECT host, service, product, risk, count, alerts, worst FROM risk_matrix ORDER BY 1, 2, 3, 4`,
			"protocol": `SELECT app_proto, service, flows, flows_stored, pkts, bytes, events, alerts FROM protocols ORDER BY 1, 2`,
		} {
			rows, err := db.Query(q)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			cols, _ := rows.Columns()
			var b strings.Builder
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			n := 0
			for rows.Next() {
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				for _, v := range vals {
					b.WriteString(strings.ReplaceAll(toString(v), "\n", " "))
					b.WriteByte('|')
				}
				b.WriteByte('\n')
				n++
			}
			rows.Close()
			out[name] = b.String()
			if n == 0 && name != "files" {
				t.Errorf("%d workers: table %s is empty: the comparison proves nothing", workers, name)
			}
		}
		return out
	}
	one, four := dump(1), dump(4)
	for name := range one {
		if one[name] != four[name] {
			a, b := strings.Split(one[name], "\n"), strings.Split(four[name], "\n")
			for i := 0; i < len(a) && i < len(b); i++ {
				if a[i] != b[i] {
					t.Fatalf("%s row %d differs:\n1 worker:  %s\n4 workers: %s", name, i, a[i], b[i])
				}
			}
			t.Fatalf("%s: %d rows with 1 worker, %d with 4", name, len(a), len(b))
		}
	}
	t.Logf("%d events rows identical", strings.Count(one["events"], "\n"))
}

func toString(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}
