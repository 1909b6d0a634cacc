package enforce

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/peerwatch/peerwatch/event"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Errors returned by this package.
var (
	ErrNoDatabase = errors.New("enforce: no database")
	ErrSchema     = errors.New("enforce: not a peerwatch database")
	ErrFormat     = errors.New("enforce: unknown format (want nftables, iptables or ip6tables)")
	ErrPolicy     = errors.New("enforce: no policy")
)

// maxServers bounds the learnt addresses kept (the first by service and
// address); a larger set is cut and a comment says so.
const maxServers = 4096

// DefaultHomeNet is the home_net used without a database: RFC 1918 and
// unique local IPv6 addresses.
var DefaultHomeNet = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("fc00::/7"),
}

// Server is a remote address a home host reached an IM/P2P service at.
type Server struct {
	Service string
	Addr    netip.Addr
	Proto   string // "tcp" or "udp"
	Port    uint16
	// Whole is true when the flow spoke the service's own protocol
	// directly (not through a carrier such as HTTP): the address is the
	// service's and is blocked on every port. Otherwise only this port of
	// it is blocked.
	Whole bool
	Names []string // host names seen for the address (DNS answers, HTTP Host, TLS SNI); comments only
	Flows int
}

// Evasion is a flow that port blocking would not have stopped.
type Evasion struct {
	FlowID  uint64
	Service string
	How     string // other_port, proxy or http_tunnel
	Src     netip.AddrPort
	Dst     netip.AddrPort
	Proxy   string // "kind addr -> target" when proxied
}

// Seen is what an analysed capture teaches the countermeasures.
type Seen struct {
	HomeNet   []netip.Prefix
	Servers   []Server  // sorted by service, address, protocol, port
	Evasions  []Evasion // in flow order
	Truncated bool      // more than maxServers servers were seen
	Source    string    // the database path

	hasEvasion bool // the database records peerwatch.evasion (flows.evasion)
}

// LoadSeen reads the latest run of a peerwatch database: its home_net,
// the servers and supernodes home hosts reached, and the evasions. The
// database is opened read-only and no name is resolved.
func LoadSeen(ctx context.Context, dbPath string) (*Seen, error) {
	if _, err := os.Stat(dbPath); dbPath == "" || err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNoDatabase, dbPath)
	}
	abs, err := filepath.Abs(dbPath)
	if err != nil {
		return nil, fmt.Errorf("enforce: %w", err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: "mode=ro&_pragma=busy_timeout(10000)"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("enforce: open %s: %w", dbPath, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	s := &Seen{Source: dbPath}
	var run sql.NullInt64
	var home sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT run_id, home_net FROM runs ORDER BY run_id DESC LIMIT 1`).Scan(&run, &home); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrSchema, dbPath, err)
	}
	for _, p := range strings.Split(home.String, ",") {
		if pp, err := netip.ParsePrefix(strings.TrimSpace(p)); err == nil {
			s.HomeNet = append(s.HomeNet, pp.Masked())
		}
	}
	if len(s.HomeNet) == 0 {
		s.HomeNet = DefaultHomeNet
	}
	var hasEvasion int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('flows') WHERE name = 'evasion'`).Scan(&hasEvasion); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSchema, err)
	}
	evCol := `''`
	s.hasEvasion = hasEvasion > 0
	if hasEvasion > 0 {
		evCol = `evasion`
	}
	type key struct {
		service string
		addr    netip.Addr
		proto   string
		port    uint16
		whole   bool
	}
	servers := map[key]*Server{}
	rows, err := db.QueryContext(ctx, `SELECT flow_id, src_ip, src_port, dst_ip, dst_port, proto, app_proto, app_proto_orig,
		service, category, proxy_kind, proxy_addr, proxy_target, `+evCol+`
		FROM flows WHERE run_id = ? AND service != '' ORDER BY flow_id`, run.Int64)
	if err != nil {
		return nil, fmt.Errorf("enforce: query flows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uint64
		var sip, dip, proto, appProto, orig, service, category, pkind, paddr, ptarget, evasion string
		var sport, dport uint16
		if err := rows.Scan(&id, &sip, &sport, &dip, &dport, &proto, &appProto, &orig, &service, &category,
			&pkind, &paddr, &ptarget, &evasion); err != nil {
			return nil, fmt.Errorf("enforce: query flows: %w", err)
		}
		src, _ := netip.ParseAddr(sip)
		dst, _ := netip.ParseAddr(dip)
		src, dst = src.Unmap(), dst.Unmap()
		if hasEvasion == 0 {
			switch {
			case pkind != "":
				evasion = event.ViaProxy
			case orig == "http" || strings.HasSuffix(appProto, "_http") || (category == string(event.CatCarrier) && appProto == "http"):
				evasion = event.HTTPTunnel
			}
		}
		if evasion == event.OtherPort || evasion == event.ViaProxy || evasion == event.HTTPTunnel {
			proxy := ""
			if pkind != "" {
				proxy = strings.TrimSpace(pkind + " " + paddr + " -> " + ptarget)
			}
			if len(s.Evasions) < maxServers {
				s.Evasions = append(s.Evasions, Evasion{id, service, evasion, netip.AddrPortFrom(src, sport),
					netip.AddrPortFrom(dst, dport), proxy})
			}
		}
		// Only servers a home host reached directly are learnt: a proxy is
		// not the service's, and a peer that connected in is no server.
		if pkind != "" || !contains(s.HomeNet, src) || !dst.IsValid() || contains(s.HomeNet, dst) {
			continue
		}
		k := key{service, dst, strings.ToLower(proto), dport, category != string(event.CatCarrier)}
		if k.whole {
			k.proto, k.port = "", 0
		}
		sv := servers[k]
		if sv == nil {
			if len(servers) >= maxServers {
				s.Truncated = true
				continue
			}
			sv = &Server{Service: service, Addr: dst, Proto: k.proto, Port: k.port, Whole: k.whole}
			servers[k] = sv
		}
		sv.Flows++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("enforce: query flows: %w", err)
	}
	names, err := hostNames(ctx, db, run.Int64)
	if err != nil {
		return nil, err
	}
	for _, sv := range servers {
		sv.Names = names[sv.Addr]
		s.Servers = append(s.Servers, *sv)
	}
	slices.SortFunc(s.Servers, func(a, b Server) int {
		if c := strings.Compare(a.Service, b.Service); c != 0 {
			return c
		}
		if c := a.Addr.Compare(b.Addr); c != 0 {
			return c
		}
		if c := strings.Compare(a.Proto, b.Proto); c != 0 {
			return c
		}
		return int(a.Port) - int(b.Port)
	})
	return s, nil
}

// hostNames maps addresses to the names the capture gave them: DNS A and
// AAAA answers, and the hostname of HTTP or TLS records to that address.
// At most three names are kept per address.
func hostNames(ctx context.Context, db *sql.DB, run int64) (map[netip.Addr][]string, error) {
	out := map[netip.Addr][]string{}
	rows, err := db.QueryContext(ctx, `SELECT json_extract(a.value, '$.rdata'), json_extract(a.value, '$.rrname')
		FROM events e, json_each(e.json, '$.dns.answers') a
		WHERE e.run_id = ?1 AND e.event_type = 'dns' AND json_extract(a.value, '$.rrtype') IN ('A', 'AAAA')
		UNION SELECT dst_ip, json_extract(json, '$.' || event_type || '.hostname') FROM events
		WHERE run_id = ?1 AND event_type IN ('http', 'tls', 'ymsg_http') AND json_extract(json, '$.' || event_type || '.hostname') IS NOT NULL
		LIMIT 100000`, run)
	if err != nil {
		return nil, fmt.Errorf("enforce: query names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ip, name sql.NullString
		if err := rows.Scan(&ip, &name); err != nil {
			return nil, fmt.Errorf("enforce: query names: %w", err)
		}
		a, err := netip.ParseAddr(ip.String)
		n := commentText(name.String, 64)
		if err != nil || n == "" || n == ip.String {
			continue
		}
		a = a.Unmap()
		if l := out[a]; len(l) < 3 && !slices.Contains(l, n) {
			out[a] = append(l, n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("enforce: query names: %w", err)
	}
	for _, l := range out {
		slices.Sort(l)
	}
	return out, nil
}

// contains reports whether a is in one of ps.
func contains(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// commentText keeps only characters safe inside a quoted firewall comment
// or a '#' line: names come from the capture and could otherwise close
// the quote or start a new rule. The result is at most n bytes.
func commentText(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= n {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune(" .,:/()_+=@*->!", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return strings.TrimSpace(b.String())
}
