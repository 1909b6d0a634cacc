package report

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// openDB opens an existing peerwatch database read-only. It checks for the
// tables every version has and leaves optional ones to the callers.
func openDB(ctx context.Context, path string) (*sql.DB, error) {
	if path == "" {
		return nil, ErrNoDatabase
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoDatabase, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: "mode=ro&_pragma=busy_timeout(10000)"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("report: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	for _, t := range []string{"runs", "flows", "events", "alerts", "files"} {
		ok, err := hasTable(ctx, db, t)
		if err == nil && !ok {
			err = fmt.Errorf("%w: %s has no table %s", ErrSchema, path, t)
		}
		if err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// hasTable reports whether the database has a table called name.
func hasTable(ctx context.Context, db *sql.DB, name string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrSchema, err)
	}
	return n > 0, nil
}

// hasColumn reports whether table has a column called col.
func hasColumn(ctx context.Context, db *sql.DB, table, col string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, table, col).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("report: %w", err)
	}
	return n > 0, nil
}

// micros turns a *_us column into a UTC time; NULL gives the zero time.
func micros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// homeNet is the run's home_net.
type homeNet []netip.Prefix

// parseHome reads runs.home_net (comma-separated prefixes); bad entries
// are skipped.
func parseHome(s string) homeNet {
	var h homeNet
	for _, p := range strings.Split(s, ",") {
		if pp, err := netip.ParsePrefix(strings.TrimSpace(p)); err == nil {
			h = append(h, pp.Masked())
		}
	}
	return h
}

// contains reports whether the address text a is in home_net.
func (h homeNet) contains(a string) bool {
	ip, err := netip.ParseAddr(a)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range h {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// hostPort formats an address and port, bracketing IPv6.
func hostPort(ip string, port int64) string {
	if ip == "" {
		return ""
	}
	if strings.Contains(ip, ":") {
		return fmt.Sprintf("[%s]:%d", ip, port)
	}
	return fmt.Sprintf("%s:%d", ip, port)
}
