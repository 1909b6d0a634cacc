package report

import (
	"errors"
	"time"

	"github.com/peerwatch/peerwatch/event"
)

// SchemaID names the JSON form of a Report; it changes only when a field
// changes meaning or disappears (README.md documents the fields).
const SchemaID = "peerwatch.report/1"

// Errors returned by this package.
var (
	ErrNoDatabase = errors.New("report: no database")
	ErrSchema     = errors.New("report: database is not a peerwatch database this build can read")
	ErrNoRun      = errors.New("report: database holds no run")
	ErrFormat     = errors.New("report: unknown format")
)

// Options tune Load.
type Options struct {
	RunID   int64 // run to report; 0: the latest
	Top     int   // findings listed in full; 0: 20
	MaxRows int   // rows kept per list (files, credentials, evasions, hosts); 0: 1000
}

// Report is everything a report shows, built by Load. Lists are sorted
// deterministically; times are capture times in UTC.
type Report struct {
	Schema      string       `json:"schema"`
	Run         Run          `json:"run"`
	Matrix      Matrix       `json:"matrix"`
	Hosts       []Host       `json:"hosts"`
	Findings    []Finding    `json:"findings"`
	Files       []File       `json:"files"`
	Credentials []Credential `json:"credentials"`
	Evasions    []Evasion    `json:"evasions"`
	Protocols   []Protocol   `json:"protocols"`
	Activity    []Bucket     `json:"activity"`
	// Notes say what the report could not show and why (a table missing
	// from an older database, a list cut at MaxRows).
	Notes []string `json:"notes"`
}

// Run describes the analyze run the report covers.
type Run struct {
	ID       int64     `json:"id"`
	Version  string    `json:"version"`
	Inputs   []string  `json:"inputs"`
	HomeNet  []string  `json:"home_net"`
	First    time.Time `json:"first,omitzero"` // earliest capture time
	Last     time.Time `json:"last,omitzero"`
	Finished bool      `json:"finished"` // the writer closed the database
	Flows    int64     `json:"flows"`    // final flow records seen
	Events   int64     `json:"events"`
	Alerts   int64     `json:"alerts"`
	Files    int64     `json:"files"`
}

// Cell is one measured cell of the threat matrix.
type Cell struct {
	Count  int64     `json:"count"`  // findings, whatever the policy said
	Alerts int64     `json:"alerts"` // of which written as alerts
	Worst  string    `json:"worst"`  // "low", "medium", "high" or "critical"
	First  time.Time `json:"first,omitzero"`
	Last   time.Time `json:"last,omitzero"`
}

// Matrix is the measured threat matrix per application, beside the paper's.
type Matrix struct {
	// Source is where the cells come from: "risk_matrix" (every finding,
	// including those the policy allowed), "alerts" (an older database
	// without that table: alerts only) or "none".
	Source  string       `json:"source"`
	Columns []event.Risk `json:"columns"` // event.Risks
	Apps    []AppRow     `json:"apps"`
	Paper   []PaperRow   `json:"paper"` // the 2002 rows of the clients in Apps
}

// AppRow is the matrix row of one application over every host.
type AppRow struct {
	Service string              `json:"service"`
	Product string              `json:"product"`
	Paper   string              `json:"paper_client,omitempty"` // the paper's client name, if it has a row
	Cells   map[event.Risk]Cell `json:"cells"`                  // seen columns only
	// Beyond lists columns measured here that the paper did not mark;
	// Unseen the paper's columns not measured in this capture.
	Beyond []event.Risk `json:"beyond_paper"`
	Unseen []event.Risk `json:"unseen"`
}

// Host is one home_net host that used IM or P2P or raised a finding, with
// its rank, its row of the matrix and its inventory.
type Host struct {
	Addr  string              `json:"addr"`
	Rank  int                 `json:"rank"`  // 1 is the riskiest
	Score int64               `json:"score"` // Σ over its (application, risk) cells of 1/3/9/27 for low/medium/high/critical
	Worst string              `json:"worst,omitempty"`
	Cells map[event.Risk]Cell `json:"cells"`
	Apps  []App               `json:"apps"`
}

// App is what one host did with one application.
type App struct {
	Service  string    `json:"service"`
	Product  string    `json:"product"`
	Category string    `json:"category"`
	Clients  []string  `json:"clients"` // client strings from logins
	Users    []string  `json:"users"`   // local user names
	Ports    []string  `json:"ports"`   // "out tcp/5190" (server port used), "in tcp/1214" (port served)
	Proxies  []string  `json:"proxies"` // "socks 203.0.113.5:1081 -> messenger.hotmail.com:1863"
	Flows    int64     `json:"flows"`
	Bytes    int64     `json:"bytes"`
	First    time.Time `json:"first,omitzero"`
	Last     time.Time `json:"last,omitzero"`
}

// Finding is one alert with its evidence.
type Finding struct {
	Time        time.Time  `json:"time"`
	FlowID      uint64     `json:"flow_id"`
	SignatureID int        `json:"signature_id"`
	Rev         int        `json:"rev"`
	Signature   string     `json:"signature"`
	Category    string     `json:"category"`
	Severity    string     `json:"severity"` // low … critical
	Action      string     `json:"action"`   // EVE alert.action
	WouldBlock  bool       `json:"would_block"`
	Risk        event.Risk `json:"risk"`
	Service     string     `json:"service"`
	Product     string     `json:"product"`
	Host        string     `json:"host"` // the home_net end ("" if neither)
	Src         string     `json:"src"`
	Dst         string     `json:"dst"`
	UserLocal   string     `json:"user_local"`
	UserPeer    string     `json:"user_peer"`
	Flow        *FlowBrief `json:"flow,omitempty"`
	Files       []string   `json:"files"` // "name (type, sha256 …)" moved on the same flow
}

// FlowBrief is the flow a finding happened on.
type FlowBrief struct {
	Proto        string    `json:"proto"`
	AppProto     string    `json:"app_proto"`
	AppProtoOrig string    `json:"app_proto_orig"`
	Start        time.Time `json:"start,omitzero"`
	End          time.Time `json:"end,omitzero"`
	Bytes        int64     `json:"bytes"`
	Evasion      string    `json:"evasion"`
}

// File is one file seen moving (a fileinfo record).
type File struct {
	Time    time.Time `json:"time"`
	FlowID  uint64    `json:"flow_id"`
	Host    string    `json:"host"`
	Service string    `json:"service"`
	Name    string    `json:"name"`
	Size    int64     `json:"size"`
	State   string    `json:"state"`
	Type    string    `json:"type"` // event.FileTypes
	Magic   string    `json:"magic"`
	MD5     string    `json:"md5"`
	SHA1    string    `json:"sha1"`
	SHA256  string    `json:"sha256"`
	Src     string    `json:"src"`
	Dst     string    `json:"dst"`
}

// Credential is one secret seen on the wire, as stored: masked, with its
// class and fingerprint. The secret itself is never reported, even when
// analyze stored it (--reveal-credentials).
type Credential struct {
	Time        time.Time `json:"time"`
	FlowID      uint64    `json:"flow_id"`
	Host        string    `json:"host"`
	Service     string    `json:"service"`
	User        string    `json:"user"`
	Class       string    `json:"class"` // event.CredClasses
	What        string    `json:"what"`
	LengthClass string    `json:"length_class"`
	Masked      string    `json:"masked"`
	Fingerprint string    `json:"fingerprint"`
}

// Evasion is an IM/P2P flow that port blocking would not have stopped.
type Evasion struct {
	FlowID  uint64 `json:"flow_id"`
	Host    string `json:"host"`
	Service string `json:"service"`
	How     string `json:"how"` // other_port, proxy or http_tunnel
	Src     string `json:"src"`
	Dst     string `json:"dst"`
	Proxy   string `json:"proxy"` // "kind addr -> target" when proxied
}

// Protocol is one protocol's share of the run.
type Protocol struct {
	AppProto string `json:"app_proto"`
	Service  string `json:"service"`
	Flows    int64  `json:"flows"`
	Bytes    int64  `json:"bytes"`
	Hosts    int64  `json:"hosts"`
	Events   int64  `json:"events"`
	Alerts   int64  `json:"alerts"`
}

// Bucket is one slice of capture time for the activity chart.
type Bucket struct {
	Start  time.Time `json:"start"`
	Flows  int64     `json:"flows"`  // IM/P2P/carrier flows starting in it
	Events int64     `json:"events"` // app-layer records
	Alerts int64     `json:"alerts"`
}

// severityNames are the names of risk.Severity 1..4.
var severityNames = [...]string{"", "low", "medium", "high", "critical"}

// sevName names a risk.Severity value; out of range gives "".
func sevName(v int64) string {
	if v < 1 || v > 4 {
		return ""
	}
	return severityNames[v]
}

// sevRank is the inverse of sevName (0 for unknown).
func sevRank(s string) int {
	for i, n := range severityNames {
		if i > 0 && n == s {
			return i
		}
	}
	return 0
}
