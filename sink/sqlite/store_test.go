package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/peerwatch/peerwatch/event"
)

var base = time.Date(2004, 3, 1, 12, 0, 0, 0, time.UTC)

// ap parses an address and port.
func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// flowRec builds a final flow record.
func flowRec(id uint64, src, dst, appProto, service string, toServer, toClient uint64) event.Record {
	r := event.Record{
		Type: event.TypeFlow, Time: base.Add(time.Duration(id) * time.Second), FlowID: id,
		Src: ap(src), Dst: ap(dst), Proto: "TCP", AppProto: appProto,
		Flow: &event.FlowRec{
			PktsToServer: 2, PktsToClient: 1, BytesToServer: toServer, BytesToClient: toClient,
			Start: base.Add(time.Duration(id) * time.Second), End: base.Add(time.Duration(id+10) * time.Second),
			Age: 10, State: "closed", Reason: "timeout",
		},
	}
	if service != "" {
		r.PW = &event.Peerwatch{Service: service, Product: strings.ToUpper(service), Category: event.CatIM,
			Confidence: "confirmed", Evidence: []string{"prefix", "parse"}}
	}
	return r
}

// corpus is a synthetic run: flows flows of which every third is unknown
// (no app_proto, no service), every third a carrier (http, no service) and
// every third IM (oscar/aim) with five records before its flow record: a
// login, an anomaly, a fileinfo, an alert and a message. Then the two stats
// records.
type corpus struct {
	recs                                []event.Record
	flows, known, events, alerts, files int
	unknownFlows                        int
}

func makeCorpus(flows int) corpus {
	var c corpus
	homes := []string{"10.0.0.1", "10.0.0.2", "[fd00::1]", "192.168.1.9"}
	remotes := []string{"203.0.113.5", "198.51.100.7", "[2001:db8::5]"}
	for i := 1; i <= flows; i++ {
		id := uint64(i * 10)
		h, r := homes[i%len(homes)], remotes[i%len(remotes)]
		if strings.HasPrefix(h, "[") != strings.HasPrefix(r, "[") {
			r = map[bool]string{true: "[2001:db8::9]", false: "203.0.113.9"}[strings.HasPrefix(h, "[")]
		}
		src, dst := h+":40000", r+":5190"
		c.flows++
		switch i % 3 {
		case 0:
			c.recs = append(c.recs, flowRec(id, src, dst, "", "", 100, 200))
			c.unknownFlows++
		case 1:
			c.recs = append(c.recs, flowRec(id, src, r+":80", "http", "", 300, 4000))
			c.known++
		case 2:
			env := event.Record{Time: base.Add(time.Duration(i) * time.Second), FlowID: id, Src: ap(src), Dst: ap(dst),
				Proto: "TCP", AppProto: "oscar"}
			pw := func(k event.Kind) *event.Peerwatch {
				return &event.Peerwatch{Kind: k, Service: "aim", Product: "AIM", Users: &event.Users{Local: fmt.Sprint("user", i), Peer: "buddy"}}
			}
			login := env
			login.Type, login.Seq, login.PW = "oscar", 1, pw(event.Login)
			login.App = &event.App{Event: event.Login, Fields: map[string]any{"screen_name": fmt.Sprint("user", i), "client": "AIM 5.9"}}
			anom := env
			anom.Type, anom.Seq, anom.PW = event.TypeAnomaly, 2, &event.Peerwatch{Service: "aim", Detail: "short"}
			anom.Anomaly = &event.AnomalyRec{Type: "applayer", Event: "oscar_bad_flap_channel", AppProto: "oscar"}
			file := env
			file.Type, file.Seq, file.PW = event.TypeFileinfo, 3, &event.Peerwatch{Kind: event.File, Service: "aim", FileType: "executable"}
			file.File = &event.FileRec{Filename: "a.exe", Size: 1024, State: "CLOSED", SHA256: fmt.Sprintf("%064x", i)}
			alert := env
			alert.Type, alert.Seq, alert.PW = event.TypeAlert, 4, pw(event.Credential)
			alert.Alert = &event.AlertRec{Action: "allowed", GID: 1, SignatureID: 9100001, Rev: 1,
				Signature: "PEERWATCH AIM plaintext password", Category: "Credential", Severity: 1,
				Metadata: map[string][]string{"protocol": {"oscar"}}}
			msg := env
			msg.Type, msg.Seq, msg.PW = "oscar", 5, pw(event.Message)
			msg.App = &event.App{Event: event.Message, Fields: map[string]any{"length": 12}}
			c.recs = append(c.recs, login, anom, file, alert, msg, flowRec(id, src, dst, "oscar", "aim", 1000, 2000))
			c.known++
			c.events += 5
			c.alerts++
			c.files++
		}
	}
	c.recs = append(c.recs,
		event.Record{Type: event.TypeStats, Time: base.Add(time.Hour), Stats: &event.StatsRec{Uptime: 42, Suricata: map[string]any{"decoder": map[string]any{"pkts": 1234}}}},
		event.Record{Type: event.TypePeerwatchStats, Time: base.Add(time.Hour), Stats: &event.StatsRec{Peerwatch: map[string]any{"oscar": map[string]any{"flows": 7}}}},
	)
	return c
}

// writeAll writes recs in batches of n.
func writeAll(t testing.TB, s *Store, recs []event.Record, n int) {
	t.Helper()
	for len(recs) > 0 {
		k := min(n, len(recs))
		if err := s.Write(recs[:k]); err != nil {
			t.Fatal(err)
		}
		recs = recs[k:]
	}
}

// count runs a SELECT count(*) or other single-integer query.
func count(t testing.TB, s *Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.conn.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestStore(t *testing.T) {
	c := makeCorpus(300)
	for _, tc := range []struct {
		name     string
		allFlows bool
		flows    int
	}{
		{"default", false, c.known},
		{"all_flows", true, c.flows},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "peerwatch.db")
			w, err := Open(path, Options{AllFlows: tc.allFlows, Run: RunInfo{Started: base, Args: "analyze x.pcap", Version: "test", Files: []string{"x.pcap"}}})
			if err != nil {
				t.Fatal(err)
			}
			writeAll(t, w, c.recs, 64)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			s, err := OpenReadOnly(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for _, x := range []struct {
				q    string
				want int
			}{
				{`SELECT count(*) FROM runs`, 1},
				{`SELECT count(*) FROM flows`, tc.flows},
				{`SELECT count(*) FROM flows WHERE app_proto = '' AND service = ''`, tc.flows - c.known},
				{`SELECT count(*) FROM events`, c.events},
				{`SELECT count(*) FROM events WHERE event_type = 'oscar'`, 2 * c.alerts},
				{`SELECT count(*) FROM events WHERE kind = 'anomaly'`, c.alerts},
				{`SELECT count(*) FROM alerts`, c.alerts},
				{`SELECT count(*) FROM alerts a JOIN events e USING (event_id) WHERE e.event_type = 'alert'`, c.alerts},
				{`SELECT count(*) FROM files f JOIN events e USING (event_id) WHERE e.kind = 'file' AND f.file_type = 'executable'`, c.files},
				{`SELECT records FROM runs`, len(c.recs)},
				{`SELECT flows_seen FROM runs`, c.flows},
				{`SELECT flows_stored FROM runs`, tc.flows},
				{`SELECT events FROM runs`, c.events},
				{`SELECT alerts FROM runs`, c.alerts},
				{`SELECT files FROM runs`, c.files},
				{`SELECT uptime FROM runs`, 42},
				{`SELECT stats ->> '$.decoder.pkts' FROM runs`, 1234},
				{`SELECT peerwatch_stats ->> '$.oscar.flows' FROM runs`, 7},
				{`SELECT started_us FROM runs`, int(base.UnixMicro())},
				{`SELECT ended_us IS NOT NULL FROM runs`, 1},
				{`SELECT sum(flows) FROM protocols`, c.flows},
				{`SELECT sum(flows_stored) FROM protocols`, tc.flows},
				{`SELECT sum(events + alerts) FROM protocols`, c.events},
				{`SELECT count(*) FROM events WHERE json ->> '$.event_type' = event_type AND json ->> '$.flow_id' = flow_id`, c.events},
				{`SELECT count(*) FROM events WHERE json ->> '$.oscar.screen_name' = user_local`, c.alerts},
				{`SELECT count(*) FROM flows WHERE evidence = 'prefix,parse' AND service = 'aim'`, c.alerts},
				{`PRAGMA user_version`, SchemaVersion},
			} {
				if got := count(t, s, x.q); got != x.want {
					t.Errorf("%s = %d, want %d", x.q, got, x.want)
				}
			}
			// WAL while writing (TestLeaveWAL), a rollback journal once
			// finished: one file for the readers.
			var mode string
			if err := s.conn.QueryRowContext(context.Background(), `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "delete" {
				t.Errorf("journal_mode = %q, %v; want delete", mode, err)
			}
			for _, q := range indexes {
				name := regexp.MustCompile(`EXISTS (\w+) ON`).FindStringSubmatch(q)[1]
				if count(t, s, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, name) != 1 {
					t.Errorf("index %s missing", name)
				}
			}
			fl, err := s.Flows(1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(fl) != tc.flows {
				t.Fatalf("Flows: %d rows, want %d", len(fl), tc.flows)
			}
			// Flow 20 is the oscar flow from fd00::1 (i=2) to 2001:db8::5.
			want := FlowRow{FlowID: 20, Start: base.Add(20 * time.Second), End: base.Add(30 * time.Second),
				Src: ap("[fd00::1]:40000"), Dst: ap("[2001:db8::5]:5190"), Proto: "TCP", AppProto: "oscar",
				Service: "aim", Product: "AIM", Confidence: "confirmed", LocalSide: sideSrc, Pkts: 3, Bytes: 3000}
			i := slices.IndexFunc(fl, func(f FlowRow) bool { return f.FlowID == 20 })
			if i < 0 {
				t.Fatal("flow 20 not stored")
			}
			if d := cmp.Diff(want, fl[i], cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); d != "" {
				t.Errorf("flow 20 (-want +got):\n%s", d)
			}
		})
	}
}

// TestAggregates checks which side of a flow is our host.
func TestAggregates(t *testing.T) {
	recs := []event.Record{
		flowRec(1, "10.0.0.1:1000", "203.0.113.5:5190", "oscar", "aim", 100, 1000),     // outbound
		flowRec(2, "203.0.113.5:6000", "10.0.0.1:6881", "bittorrent", "", 50, 7000),    // inbound: host is dst
		flowRec(3, "10.0.0.1:1001", "10.0.0.2:5190", "oscar", "aim", 10, 20),           // home to home: both
		flowRec(4, "203.0.113.5:1", "198.51.100.1:2", "oscar", "aim", 5, 5),            // no home end
		flowRec(5, "10.0.0.1:1002", "198.51.100.1:5190", "oscar", "aim", 100, 1000),    // second peer
		flowRec(6, "[::ffff:10.0.0.1]:1003", "203.0.113.5:5190", "oscar", "aim", 1, 1), // mapped: same host, same peer
		flowRec(7, "8.8.8.8:53", "9.9.9.9:53", "", "", 1, 1),                           // unknown, remote only
	}
	interim := flowRec(1, "10.0.0.1:1000", "203.0.113.5:5190", "oscar", "aim", 1, 1)
	interim.PW.Interim = true
	recs = append([]event.Record{interim}, recs...) // counted once, by its final record

	at := func(s int64) time.Time { return base.Add(time.Duration(s) * time.Second) }
	wantHosts := []HostRow{
		{Host: netip.MustParseAddr("10.0.0.1"), AppProto: "bittorrent", Flows: 1, Pkts: 3, BytesSent: 7000, BytesReceived: 50, First: at(2), Last: at(12), Peers: 1},
		{Host: netip.MustParseAddr("10.0.0.1"), AppProto: "oscar", Service: "aim", Flows: 4, Pkts: 12, BytesSent: 211, BytesReceived: 2021, First: at(1), Last: at(16), Peers: 3},
		{Host: netip.MustParseAddr("10.0.0.2"), AppProto: "oscar", Service: "aim", Flows: 1, Pkts: 3, BytesSent: 20, BytesReceived: 10, First: at(3), Last: at(13), Peers: 1},
	}
	wantProtos := []ProtocolRow{
		{AppProto: "bittorrent", Flows: 1, FlowsStored: 1, Pkts: 3, Bytes: 7050, Hosts: 1, First: at(2), Last: at(12)},
		{AppProto: "oscar", Service: "aim", Flows: 5, FlowsStored: 5, Pkts: 15, Bytes: 2242, Hosts: 2, First: at(1), Last: at(16)},
		{Flows: 1, Pkts: 3, Bytes: 2, First: at(7), Last: at(17)},
	}
	path := filepath.Join(t.TempDir(), "a.db")
	w, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, recs, 3)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hosts, err := s.Hosts()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(wantHosts, hosts, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
		t.Errorf("hosts (-want +got):\n%s", d)
	}
	protos, err := s.Protocols()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(wantProtos, protos); d != "" {
		t.Errorf("protocols (-want +got):\n%s", d)
	}
	for _, x := range []struct {
		q    string
		want int
	}{
		{`SELECT count(*) FROM flows`, 6},
		{`SELECT count(*) FROM flows WHERE flow_id = 1 AND interim = 0 AND bytes_toclient = 1000`, 1},
		{`SELECT count(*) FROM flows WHERE local_side = 'dest'`, 1},
		{`SELECT count(*) FROM flows WHERE local_side = 'both'`, 1},
		{`SELECT count(*) FROM flows WHERE local_side = 'none'`, 1},
		{`SELECT count(*) FROM host_protocols WHERE host IN ('203.0.113.5', '198.51.100.1', '8.8.8.8', '9.9.9.9')`, 0},
	} {
		if got := count(t, s, x.q); got != x.want {
			t.Errorf("%s = %d, want %d", x.q, got, x.want)
		}
	}
}

// TestHomeNet checks that Options.HomeNet replaces the default.
func TestHomeNet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		home  []netip.Prefix
		hosts []string
	}{
		{"default", nil, []string{"10.0.0.1", "192.168.5.5", "fd00::7"}},
		{"custom", []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}, []string{"203.0.113.5"}},
		{"mapped_prefix", []netip.Prefix{netip.MustParsePrefix("::ffff:192.168.0.0/112")}, []string{"192.168.5.5"}},
		{"unmasked_v6", []netip.Prefix{netip.MustParsePrefix("fd00::1/8")}, []string{"fd00::7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "h.db")
			w, err := Open(path, Options{HomeNet: tc.home})
			if err != nil {
				t.Fatal(err)
			}
			writeAll(t, w, []event.Record{
				flowRec(1, "10.0.0.1:1", "203.0.113.5:2", "irc", "", 1, 1),
				flowRec(2, "192.168.5.5:1", "8.8.8.8:2", "irc", "", 1, 1),
				flowRec(3, "[fd00::7]:1", "[2001:db8::1]:2", "irc", "", 1, 1),
			}, 10)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			s, err := OpenReadOnly(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			hosts, err := s.Hosts()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range hosts {
				got = append(got, h.Host.String())
			}
			slices.Sort(got)
			if d := cmp.Diff(tc.hosts, got); d != "" {
				t.Errorf("hosts (-want +got):\n%s", d)
			}
		})
	}
}

// TestInterim checks that interim flow records leave one row, the last.
func TestInterim(t *testing.T) {
	mk := func(bytes uint64, interim bool) event.Record {
		r := flowRec(7, "10.0.0.1:1", "203.0.113.5:2", "ymsg", "yahoo", bytes, bytes)
		r.PW.Interim = interim
		return r
	}
	for _, tc := range []struct {
		name    string
		batches [][]event.Record
		want    int // bytes_toserver of the one row
	}{
		{"final_only", [][]event.Record{{mk(30, false)}}, 30},
		{"same_batch", [][]event.Record{{mk(10, true), mk(20, true), mk(30, false)}}, 30},
		{"across_batches", [][]event.Record{{mk(10, true)}, {mk(20, true)}, {mk(30, false)}}, 30},
		{"interim_only", [][]event.Record{{mk(10, true)}, {mk(20, true)}}, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Open(filepath.Join(t.TempDir(), "i.db"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			for _, b := range tc.batches {
				if err := w.Write(b); err != nil {
					t.Fatal(err)
				}
			}
			if n := count(t, w, `SELECT count(*) FROM flows`); n != 1 {
				t.Fatalf("%d flow rows, want 1", n)
			}
			if n := count(t, w, `SELECT bytes_toserver FROM flows`); n != tc.want {
				t.Errorf("bytes_toserver = %d, want %d", n, tc.want)
			}
			if len(w.interim) > 1 {
				t.Errorf("interim map holds %d entries", len(w.interim))
			}
		})
	}
}

// TestMigrate opens a version 1 database and brings it to SchemaVersion.
func TestMigrate(t *testing.T) {
	if SchemaVersion != len(migrations) {
		t.Fatalf("SchemaVersion %d, %d migrations", SchemaVersion, len(migrations))
	}
	path := filepath.Join(t.TempDir(), "m.db")
	old, err := open(path, Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if v := count(t, old, `PRAGMA user_version`); v != 1 {
		t.Fatalf("user_version = %d, want 1", v)
	}
	if n := count(t, old, `SELECT count(*) FROM sqlite_master WHERE name = 'host_protocols'`); n != 0 {
		t.Fatal("version 1 already has host_protocols")
	}
	if _, err := old.conn.ExecContext(context.Background(), `INSERT INTO runs (started_us, version, args, inputs, home_net, all_flows) VALUES (1, 'old', '', '[]', '', 0)`); err != nil {
		t.Fatal(err)
	}
	old.release()
	if _, err := OpenReadOnly(path); !errors.Is(err, ErrSchemaVersion) {
		t.Errorf("OpenReadOnly(version 1) = %v, want ErrSchemaVersion", err)
	}

	w, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, makeCorpus(10).recs, 100)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.RunID() != 2 {
		t.Errorf("RunID = %d, want 2", s.RunID())
	}
	for q, want := range map[string]int{
		`PRAGMA user_version`:                                  SchemaVersion,
		`SELECT count(*) FROM runs`:                            2,
		`SELECT aggregates_dropped FROM runs WHERE run_id = 1`: 0,
		`SELECT count(*) FROM host_protocols WHERE run_id = 2`: 10, // every (host, protocol) of makeCorpus(10) differs
	} {
		if got := count(t, s, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
	s.Close()

	// A database from a newer build is refused, not damaged.
	db, err := open(path, Options{}, SchemaVersion)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.conn.ExecContext(context.Background(), `PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	db.release()
	if _, err := Open(path, Options{}); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("Open(version 99) = %v, want ErrNewerSchema", err)
	}
}

// TestReadWhileWriting reads committed batches while the writer is open.
func TestReadWhileWriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	c := makeCorpus(60)
	w, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	half := len(c.recs) / 2
	writeAll(t, w, c.recs[:half], 10)
	r, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n1 := count(t, r, `SELECT count(*) FROM events`) + count(t, r, `SELECT count(*) FROM flows`)
	writeAll(t, w, c.recs[half:], 10)
	n2 := count(t, r, `SELECT count(*) FROM events`) + count(t, r, `SELECT count(*) FROM flows`)
	if n1 == 0 || n2 <= n1 || n2 != c.events+c.known {
		t.Errorf("reader saw %d then %d rows, want >0, growing, then %d", n1, n2, c.events+c.known)
	}
	if v := count(t, w, `PRAGMA synchronous`); v != 1 {
		t.Errorf("writer synchronous = %d, want 1 (NORMAL)", v)
	}
	if err := r.Write(c.recs[:1]); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only Write = %v, want ErrReadOnly", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if err := w.Write(c.recs[:1]); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	if p, err := r.Protocols(); err != nil || len(p) == 0 {
		t.Errorf("Protocols after writer closed = %d rows, %v", len(p), err)
	}
}

// TestOpenErrors checks failures that must not create or damage files.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenReadOnly(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("OpenReadOnly of a missing file succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("OpenReadOnly created the file")
	}
	if _, err := Open(filepath.Join(dir, "no", "such", "dir.db"), Options{}); err == nil {
		t.Error("Open in a missing directory succeeded")
	}
	// A '?' in the name is part of the file name, not a query.
	odd := filepath.Join(dir, "a?mode=ro#x.db")
	w, err := Open(odd, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(odd); err != nil {
		t.Errorf("odd name: %v", err)
	}
}

// TestEncode checks the json column with the caller's encoder and with the
// fallback.
func TestEncode(t *testing.T) {
	rec := makeCorpus(2).recs[1] // the oscar login of flow 20
	bad := rec
	bad.App = &event.App{Event: event.Login, Fields: map[string]any{"x": math.NaN()}}
	bad.Seq = 9
	for _, tc := range []struct {
		name   string
		encode func([]byte, *event.Record) []byte
		rec    event.Record
		want   *regexp.Regexp
	}{
		{"caller", func(dst []byte, r *event.Record) []byte { return fmt.Appendf(dst, `{"seq":%d}`, r.Seq) }, rec, regexp.MustCompile(`^\{"seq":1\}$`)},
		{"fallback", nil, rec, regexp.MustCompile(`^\{"app_proto":"oscar","dest_ip":"2001:db8::5","dest_port":5190,"event_type":"oscar","flow_id":20,"oscar":\{"client":"AIM 5.9","event":"login","screen_name":"user2"\},"peerwatch":\{"kind":"login","service":"aim","product":"AIM","users":\{"local":"user2","peer":"buddy"\}\},"proto":"TCP","src_ip":"fd00::1","src_port":40000,"timestamp":"2004-03-01T12:00:02.000000\+0000"\}$`)},
		{"fallback_bad_field", nil, bad, regexp.MustCompile(`"oscar":\{"encode_error":"json: unsupported value: NaN"\}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Open(filepath.Join(t.TempDir(), "e.db"), Options{Encode: tc.encode})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if err := w.Write([]event.Record{tc.rec}); err != nil {
				t.Fatal(err)
			}
			var got string
			if err := w.conn.QueryRowContext(context.Background(), `SELECT json FROM events`).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if !tc.want.MatchString(got) {
				t.Errorf("json = %s\nwant match %s", got, tc.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("json column is not JSON: %s", got)
			}
		})
	}
}

// TestLargeWrite checks that a Write longer than maxTx is split and whole.
func TestLargeWrite(t *testing.T) {
	n := maxTx + 100
	recs := make([]event.Record, n)
	for i := range recs {
		recs[i] = flowRec(uint64(i+1), "10.0.0.1:1", "203.0.113.5:2", "", "", 1, 1)
	}
	w, err := Open(filepath.Join(t.TempDir(), "l.db"), Options{AllFlows: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if got := count(t, w, `SELECT count(*) FROM flows`); got != n {
		t.Errorf("%d flows, want %d", got, n)
	}
}

// TestSchemaDoc checks that SCHEMA.md documents every table and column.
func TestSchemaDoc(t *testing.T) {
	doc, err := os.ReadFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	w, err := Open(filepath.Join(t.TempDir(), "d.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// Sections are "### table" headings followed by a column table.
	sections := map[string]string{}
	parts := regexp.MustCompile(`(?m)^### `).Split(string(doc), -1)
	for _, p := range parts[1:] {
		name, body, _ := strings.Cut(p, "\n")
		sections[strings.Trim(strings.TrimSpace(name), "`")] = body
	}
	rows, err := w.conn.QueryContext(context.Background(), `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		n++
		body, ok := sections[table]
		if !ok {
			t.Errorf("SCHEMA.md has no section for table %s", table)
			continue
		}
		if !strings.Contains(body, "| `"+col+"` |") {
			t.Errorf("SCHEMA.md does not document %s.%s", table, col)
		}
	}
	if n < 50 {
		t.Errorf("only %d columns found", n)
	}
}

// BenchmarkWrite writes a mixed batch (a third unknown flows, a third
// carrier flows, a third IM flows with five events each) per iteration.
// "fallback" encodes the json column with encodeJSON; "caller" with a
// trivial Options.Encode, which isolates the database cost from the JSON
// cost as when the pipeline passes the EVE encoder.
func BenchmarkWrite(b *testing.B) {
	recs := makeCorpus(600).recs // 1602 records, a batch as the pipeline sends
	for _, bc := range []struct {
		name   string
		encode func([]byte, *event.Record) []byte
	}{
		{"fallback", nil},
		{"caller", func(dst []byte, r *event.Record) []byte { return append(dst, `{"event_type":"x"}`...) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w, err := Open(filepath.Join(b.TempDir(), "b.db"), Options{Encode: bc.encode})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := w.Write(recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(b.N*len(recs))/float64(b.N), "records/op")
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// TestAppendMetadata checks the alerts.metadata text against json.Marshal,
// which wrote it before: nil and empty maps, nil and empty lists, keys
// that sort, texts that need escaping.
func TestAppendMetadata(t *testing.T) {
	for _, m := range []map[string][]string{
		nil,
		{},
		{"b": {"x"}, "a": {"1", "2"}, "A": {}},
		{"nil": nil, "k": {"v"}},
		{"esc": {"<script>&\"\\\u2028\x01", "é", "\xff"}},
	} {
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if m == nil {
			want = []byte("{}") // the column is NOT NULL: an alert without metadata has {}
		}
		if got := appendMetadata(nil, m); string(got) != string(want) {
			t.Errorf("%v: got %s, want %s", m, got, want)
		}
	}
}
