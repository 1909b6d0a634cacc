package event

// Kind is the kind of an app-layer event (the "event" field of the
// protocol's object, and peerwatch.kind).
type Kind string

// Event kinds (DESIGN §5).
const (
	Detected   Kind = "detected"   // a flow was identified as a protocol
	Login      Kind = "login"      // a sign-on attempt, with its outcome
	Logout     Kind = "logout"     // a sign-off
	Message    Kind = "message"    // a chat or IM message (metadata; text only on request)
	Presence   Kind = "presence"   // status, typing, away
	File       Kind = "file"       // a file offer, transfer or search hit
	Credential Kind = "credential" // a secret visible on the wire
	Direct     Kind = "direct"     // a peer connection offered or seen, with the addresses it exposes
	Tunnel     Kind = "tunnel"     // a proxy and its target
	Search     Kind = "search"     // a search request
	Exploit    Kind = "exploit"    // a known exploit pattern
	Anomaly    Kind = "anomaly"    // a protocol oddity
)

// Kinds lists every Kind, for documentation checks.
var Kinds = []Kind{Detected, Login, Logout, Message, Presence, File, Credential, Direct, Tunnel, Search, Exploit, Anomaly}

// Feature is what a session does beyond chat (closed list, DESIGN §5).
type Feature string

// Features.
const (
	FileTransfer     Feature = "file_transfer"
	GetFile          Feature = "get_file"
	DirectIM         Feature = "direct_im"
	IMImage          Feature = "im_image"
	Voice            Feature = "voice"
	Video            Feature = "video"
	Webcam           Feature = "webcam"
	AppSharing       Feature = "app_sharing"
	RemoteAssistance Feature = "remote_assistance"
	Whiteboard       Feature = "whiteboard"
	Games            Feature = "games"
	AddIns           Feature = "add_ins"
	BuddyList        Feature = "buddy_list"
	ServerRelay      Feature = "server_relay"
	Conference       Feature = "conference"
	ChatRoom         Feature = "chat_room"
	SearchFeature    Feature = "search"
	Push             Feature = "push"
)

// Features lists every Feature.
var Features = []Feature{FileTransfer, GetFile, DirectIM, IMImage, Voice, Video, Webcam, AppSharing,
	RemoteAssistance, Whiteboard, Games, AddIns, BuddyList, ServerRelay, Conference, ChatRoom, SearchFeature, Push}

// CredClass says how exposed a secret is (DESIGN §5).
type CredClass string

// Credential classes, most exposed first.
const (
	Plaintext          CredClass = "plaintext"           // sent as is
	Reversible         CredClass = "reversible"          // recoverable without a secret (AIM XOR, TOC roast)
	PasswordEquivalent CredClass = "password_equivalent" // replaying it logs in
	OfflineCrackable   CredClass = "offline_crackable"   // challenge and hash crossed the wire
	SessionToken       CredClass = "session_token"       // cookies, tickets
)

// CredClasses lists every CredClass.
var CredClasses = []CredClass{Plaintext, Reversible, PasswordEquivalent, OfflineCrackable, SessionToken}

// Outcome is the result of a login, transfer, invitation or proxy request.
type Outcome string

// Outcomes.
const (
	Success       Outcome = "success"
	Failure       Outcome = "failure"
	WrongPassword Outcome = "wrong_password"
	RateLimited   Outcome = "rate_limited"
	Refused       Outcome = "refused"
	Offered       Outcome = "offered"
	Accepted      Outcome = "accepted"
	Cancelled     Outcome = "cancelled"
	Pending       Outcome = "pending"
)

// Outcomes lists every Outcome.
var Outcomes = []Outcome{Success, Failure, WrongPassword, RateLimited, Refused, Offered, Accepted, Cancelled, Pending}

// Category is a protocol's family in the registry.
type Category string

// Categories. Carriers (http, tls, dns, socks, httpproxy) are never IM/P2P
// claims by themselves.
const (
	CatIM      Category = "im"
	CatP2P     Category = "p2p"
	CatChat    Category = "chat"
	CatTunnel  Category = "tunnel"
	CatCarrier Category = "carrier"
	CatTest    Category = "test" // the template protocol
)

// Categories lists every Category.
var Categories = []Category{CatIM, CatP2P, CatChat, CatTunnel, CatCarrier, CatTest}

// EVE event_type values written by the engine; protocol records use the
// protocol's name.
const (
	TypeFlow           = "flow"
	TypeAnomaly        = "anomaly"
	TypeFileinfo       = "fileinfo"
	TypeAlert          = "alert"
	TypeStats          = "stats"
	TypePeerwatchStats = "peerwatch_stats"
)

// Confidence level and evidence names come from package flow
// (flow.Confidence.String, flow.Evidence.Names): "none", "port", "hostname",
// "pattern", "probe", "expected", "confirmed"; "port", "prefix", "probe",
// "parse", "expectation", "sni", "dns", "corroboration".

// FileTypes are the values of peerwatch.file_type: the class of a file's
// content by magic number (internal/magic decides; a test keeps the two
// lists equal).
var FileTypes = []string{"executable", "script", "archive", "document", "audio", "video", "image", "other"}

// How an IM/P2P flow reached its service (peerwatch.evasion on flow
// records), the evasion column of the threat matrix.
const (
	UsualPort  = "usual_port"  // the protocol's registered port
	OtherPort  = "other_port"  // any other port: port blocking would miss it
	ViaProxy   = "proxy"       // through a SOCKS or HTTP proxy
	HTTPTunnel = "http_tunnel" // carried in HTTP requests and responses
)

// Evasions lists every peerwatch.evasion value.
var Evasions = []string{UsualPort, OtherPort, ViaProxy, HTTPTunnel}

// Risk is a column of the threat matrix (DESIGN §6): what a finding says
// is at stake. The paper's 2002 columns come first, then peerwatch's.
type Risk string

// Risk columns. risk/rules.go maps events to them.
const (
	RiskUnencrypted        Risk = "unencrypted"
	RiskFileTransfer       Risk = "file_transfer"
	RiskExploit            Risk = "exploit"        // known buffer overflows
	RiskRemoteControl      Risk = "remote_control" // application sharing, remote assistance
	RiskWorm               Risk = "worm"           // known-bad file hashes and names
	RiskSpyware            Risk = "spyware"
	RiskSocialEngineering  Risk = "social_engineering" // requests for passwords or card numbers
	RiskCopyrightBandwidth Risk = "copyright_bandwidth"
	RiskMalwareCarrier     Risk = "malware_carrier" // executables and scripts moved
	RiskCredentialExposure Risk = "credential_exposure"
	RiskIPDisclosure       Risk = "ip_disclosure" // direct connections
	RiskEvasion            Risk = "evasion"       // non-standard port, proxy, HTTP tunnelling
	RiskP2PUse             Risk = "p2p_use"
	RiskIMUse              Risk = "im_use"
)

// Risks lists every Risk in the matrix's column order.
var Risks = []Risk{RiskUnencrypted, RiskFileTransfer, RiskExploit, RiskRemoteControl, RiskWorm, RiskSpyware,
	RiskSocialEngineering, RiskCopyrightBandwidth, RiskMalwareCarrier, RiskCredentialExposure, RiskIPDisclosure,
	RiskEvasion, RiskP2PUse, RiskIMUse}
