package event

import (
	"net/netip"
	"time"
)

// Record is one output record: one line of eve.json, one row set in SQLite.
// Type is the EVE event_type; exactly the pointer matching Type is set
// (App for protocol records, whose Type is the protocol's name).
type Record struct {
	Type     string
	Time     time.Time
	FlowID   uint64 // 0: no flow (stats)
	Seq      uint32 // order within the flow, for sorting and golden files
	PcapCnt  uint64 // capture index of the packet that caused it; 0 if none
	PcapFile string
	Src, Dst netip.AddrPort // originator and responder, or as the record's direction says
	Proto    string         // "TCP" or "UDP"
	VLAN     []uint16
	// AppProto is the innermost wire protocol parsed; AppProtoOrig the carrier
	// it came through after a protocol change.
	AppProto, AppProtoOrig string
	CommunityID            string

	PW *Peerwatch // the peerwatch object

	App     *App
	Flow    *FlowRec
	Anomaly *AnomalyRec
	File    *FileRec
	Alert   *AlertRec
	Stats   *StatsRec
}

// Peerwatch is the "peerwatch" object: everything peerwatch adds to a
// Suricata record.
type Peerwatch struct {
	Kind        Kind            `json:"kind,omitempty"`
	Service     string          `json:"service,omitempty"`
	Product     string          `json:"product,omitempty"`
	Category    Category        `json:"category,omitempty"`
	Feature     Feature         `json:"feature,omitempty"`
	Users       *Users          `json:"users,omitempty"`
	Confidence  string          `json:"confidence,omitempty"`
	Evidence    []string        `json:"evidence,omitempty"`
	Proxy       *Proxy          `json:"proxy,omitempty"`
	FileType    string          `json:"file_type,omitempty"`
	WouldBlock  bool            `json:"would_block,omitempty"`
	Detail      string          `json:"detail,omitempty"`  // anomaly detail
	Interim     bool            `json:"interim,omitempty"` // a flow record written at the active timeout
	Login       *LoginInfo      `json:"login,omitempty"`
	Message     *MessageInfo    `json:"message,omitempty"`
	File        *FileInfo       `json:"file,omitempty"`
	Credential  *CredentialInfo `json:"credential,omitempty"`
	Direct      *DirectInfo     `json:"direct,omitempty"`
	Tunnel      *TunnelInfo     `json:"tunnel,omitempty"`
	Search      *SearchInfo     `json:"search,omitempty"`
	Expectation string          `json:"expectation,omitempty"` // why an expected flow was announced
	Local       string          `json:"local,omitempty"`       // "src", "dest", "both" or "none": which side is in home_net
	Evasion     string          `json:"evasion,omitempty"`     // how an IM/P2P flow got through: one of Evasions
	// CorroboratedBy lists flows whose payload showed the service that
	// this flow's own bytes only suggested (Session.Tentative).
	CorroboratedBy []uint64 `json:"corroborated_by,omitempty"`
	// Tentative marks, inside the process only, a record of a flow whose
	// service waits for corroboration; it is never written.
	Tentative bool `json:"-"`
}

// Proxy describes the tunnel a flow's inner protocol came through.
type Proxy struct {
	Kind   string `json:"kind"`
	Addr   string `json:"addr"`
	Target string `json:"target,omitempty"`
}

// App is a protocol record: "event_type":"oscar","oscar":{"event":...,Fields}.
type App struct {
	Event  Kind
	Fields map[string]any
}

// FlowRec is Suricata's "flow" object.
type FlowRec struct {
	PktsToServer, PktsToClient   uint64
	BytesToServer, BytesToClient uint64
	Start, End                   time.Time
	Age                          int64 // seconds
	State                        string
	Reason                       string
	Alerted                      bool
}

// AnomalyRec is Suricata's "anomaly" object (type "applayer" or "decode"/"stream").
type AnomalyRec struct {
	Type     string // "applayer", "stream", "decode"
	Event    string // "<proto>_<what>" or a stream event name
	Layer    string
	AppProto string
}

// FileRec is Suricata's "fileinfo" object.
type FileRec struct {
	Filename string
	Size     int64
	State    string // CLOSED, TRUNCATED, ERROR
	Stored   bool
	Gaps     bool
	MD5      string
	SHA1     string
	SHA256   string
	Magic    string
	TxID     int
}

// AlertRec is Suricata's "alert" object.
type AlertRec struct {
	Action      string // "allowed" or "blocked"
	GID         int
	SignatureID int
	Rev         int
	Signature   string
	Category    string
	Severity    int
	Metadata    map[string][]string
}

// StatsRec is the final "stats" record and the "peerwatch_stats" record.
// Suricata's stats fields that apply are in Suricata; peerwatch's own
// counters (per protocol, skip reasons, evictions) in Peerwatch.
type StatsRec struct {
	Uptime    int64
	Suricata  map[string]any // written as the "stats" object
	Peerwatch map[string]any // written as the "peerwatch_stats" object
}
