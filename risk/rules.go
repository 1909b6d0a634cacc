package risk

import "github.com/peerwatch/peerwatch/event"

// Actor says which end of a session a rule holds accountable, as nDPI's
// risk table does: the client, the server, or either.
type Actor string

// Actors.
const (
	Client Actor = "client"
	Server Actor = "server"
	Both   Actor = "both"
)

// GID is the EVE alert.gid of every peerwatch rule.
const GID = 1

// SID bounds: every rule's signature id lies in [MinSID, MaxSID].
const (
	MinSID = 9100000
	MaxSID = 9199999
)

// Rule is one entry of the risk catalogue. ID and SID never change once
// released; Rev grows when a rule's meaning is refined.
type Rule struct {
	ID       string     // stable snake_case id, EVE alert.metadata rule_id
	SID      int        // EVE alert.signature_id, in [MinSID, MaxSID]
	Rev      int        // EVE alert.rev
	Title    string     // EVE alert.signature
	Severity Severity   // default severity of its findings
	Risk     event.Risk // the threat matrix column
	Actor    Actor      // who is accountable
	Raises   string     // which records raise it, for `peerwatch rules`
}

// ruleIdx names a catalogue entry for the engine; the table below is
// indexed by it so that a missing entry fails to compile.
type ruleIdx uint8

const (
	rUnencrypted ruleIdx = iota
	rFileOffered
	rFileMoved
	rExploitGame
	rExploitFont
	rExploitOther
	rLongField
	rAppSharing
	rRemoteAssist
	rWormHash
	rWormName
	rSpyware
	rCard
	rRequest
	rLure
	rMediaMoved
	rMediaOffered
	rVolume
	rMalwareHash
	rMalwareName
	rExecMoved
	rScriptMoved
	rExtMismatch
	rExecOffered
	rCredPlain
	rCredReversible
	rCredEquivalent
	rCredCrackable
	rCredToken
	rDirect
	rOtherPort
	rProxy
	rHTTPTunnel
	rP2P
	rIM
	numRules
)

// The risk catalogue: one table. Raises documents the trigger; engine.go implements it.
var catalogue = [numRules]Rule{
	rUnencrypted:    {"unencrypted_session", 9100001, 1, "PEERWATCH IM/P2P protocol in clear text", Low, event.RiskUnencrypted, Both, "first record of a flow an IM/P2P analyzer parses in clear (peerwatch.category im, p2p or chat; app_proto not tls); once per flow"},
	rFileOffered:    {"file_offered", 9100010, 1, "PEERWATCH file offered over IM/P2P", Low, event.RiskFileTransfer, Client, "file event with a file name, feature other than search; once per flow and name"},
	rFileMoved:      {"file_moved", 9100011, 1, "PEERWATCH file moved over IM/P2P", Medium, event.RiskFileTransfer, Both, "fileinfo record (any analyzer); once per file"},
	rExploitGame:    {"exploit_aim_game_overflow", 9100020, 1, "PEERWATCH AIM game-request buffer overflow attempt (w00w00, Jan 2002)", Critical, event.RiskExploit, Both, "exploit event from oscar (oversized or binary Games/Add-ins service data) or toc (exploit=aim_game_overflow)"},
	rExploitFont:    {"exploit_msn_font_overflow", 9100021, 1, "PEERWATCH MSN Messenger font-name overflow attempt (CVE-2002-1698)", Critical, event.RiskExploit, Both, "exploit event from msnp with cve=CVE-2002-1698 (X-MMS-IM-Format FN= over font_name_max)"},
	rExploitOther:   {"exploit_pattern", 9100022, 1, "PEERWATCH known IM/P2P exploit pattern", High, event.RiskExploit, Both, "any other exploit event"},
	rLongField:      {"exploit_ymsg_long_field", 9100023, 1, "PEERWATCH Yahoo! Messenger oversized field (overflow pattern)", Medium, event.RiskExploit, Both, "anomaly ymsg_long_field (a YMSG field value over the parser's bound)"},
	rAppSharing:     {"remote_app_sharing", 9100030, 1, "PEERWATCH IM application sharing session", High, event.RiskRemoteControl, Both, "event with feature app_sharing"},
	rRemoteAssist:   {"remote_assistance", 9100031, 1, "PEERWATCH IM remote assistance session", High, event.RiskRemoteControl, Both, "event with feature remote_assistance"},
	rWormHash:       {"ioc_worm_hash", 9100040, 1, "PEERWATCH known worm file moved (hash match)", Critical, event.RiskWorm, Both, "fileinfo whose MD5, SHA-1 or SHA-256 is a worm entry of the IOC list"},
	rWormName:       {"ioc_worm_name", 9100041, 1, "PEERWATCH known worm file name", High, event.RiskWorm, Both, "fileinfo or file event whose file name matches a worm name entry of the IOC list (e.g. Hello.exe)"},
	rSpyware:        {"spyware_bundled_client", 9100050, 1, "PEERWATCH P2P client bundled with spyware", Medium, event.RiskSpyware, Client, "record with fields bundled_spyware=true (FastTrack/KaZaA clients); once per flow"},
	rCard:           {"card_number_in_message", 9100060, 1, "PEERWATCH payment card number in a message", High, event.RiskSocialEngineering, Both, "message text with a Luhn-valid number of a known card IIN range and length"},
	rRequest:        {"credential_request_phrase", 9100061, 1, "PEERWATCH message asks for a password, account or card details", Medium, event.RiskSocialEngineering, Both, "message text with a phrase of category password, account or card"},
	rLure:           {"staff_impersonation_lure", 9100062, 1, "PEERWATCH message poses as service staff and asks for credentials", Critical, event.RiskSocialEngineering, Both, "message text with a staff phrase (\"AOL staff\", \"MSN support\") and a request phrase"},
	rMediaMoved:     {"media_file_moved", 9100070, 1, "PEERWATCH audio or video file moved over IM/P2P", Low, event.RiskCopyrightBandwidth, Both, "fileinfo with file_type audio or video; once per file"},
	rMediaOffered:   {"media_file_offered", 9100071, 1, "PEERWATCH audio or video file offered over IM/P2P", Low, event.RiskCopyrightBandwidth, Client, "file event whose name has an audio or video extension; once per flow and name"},
	rVolume:         {"bandwidth_volume", 9100072, 1, "PEERWATCH IM/P2P volume over threshold", Medium, event.RiskCopyrightBandwidth, Client, "Engine.Volume: a local host's bytes of one service in one window at or over the threshold"},
	rMalwareHash:    {"ioc_malware_hash", 9100080, 1, "PEERWATCH known malicious file moved (hash match)", Critical, event.RiskMalwareCarrier, Both, "fileinfo whose MD5, SHA-1 or SHA-256 is a malware_carrier entry of the IOC list (e.g. EICAR)"},
	rMalwareName:    {"ioc_malware_name", 9100081, 1, "PEERWATCH known malicious file name", High, event.RiskMalwareCarrier, Both, "fileinfo or file event whose name matches a malware_carrier name entry of the IOC list"},
	rExecMoved:      {"executable_moved", 9100082, 1, "PEERWATCH executable moved over IM/P2P", High, event.RiskMalwareCarrier, Both, "fileinfo with file_type executable whose name does not hide it"},
	rScriptMoved:    {"script_moved", 9100083, 1, "PEERWATCH script moved over IM/P2P", Medium, event.RiskMalwareCarrier, Both, "fileinfo with file_type script whose name does not hide it"},
	rExtMismatch:    {"extension_mismatch", 9100084, 1, "PEERWATCH file content contradicts its extension", Critical, event.RiskMalwareCarrier, Both, "fileinfo whose content class contradicts its name (internal/magic.Mismatch: a .jpg that is an executable)"},
	rExecOffered:    {"executable_offered", 9100085, 1, "PEERWATCH executable or script offered over IM/P2P", Medium, event.RiskMalwareCarrier, Client, "file event whose name has an executable or script extension; once per flow and name"},
	rCredPlain:      {"credential_plaintext", 9100090, 1, "PEERWATCH IM/P2P password sent in clear text", Critical, event.RiskCredentialExposure, Client, "credential event of class plaintext"},
	rCredReversible: {"credential_reversible", 9100091, 1, "PEERWATCH IM/P2P password sent with a reversible encoding", Critical, event.RiskCredentialExposure, Client, "credential event of class reversible (AIM XOR, TOC roast, ICQ v5)"},
	rCredEquivalent: {"credential_password_equivalent", 9100092, 1, "PEERWATCH IM/P2P password equivalent on the wire", High, event.RiskCredentialExposure, Client, "credential event of class password_equivalent"},
	rCredCrackable:  {"credential_offline_crackable", 9100093, 1, "PEERWATCH IM/P2P challenge-response open to offline cracking", Medium, event.RiskCredentialExposure, Client, "credential event of class offline_crackable"},
	rCredToken:      {"credential_session_token", 9100094, 1, "PEERWATCH IM/P2P session token on the wire", Medium, event.RiskCredentialExposure, Both, "credential event of class session_token"},
	rDirect:         {"ip_address_disclosed", 9100100, 1, "PEERWATCH peer connection discloses IP addresses", Low, event.RiskIPDisclosure, Both, "direct event listing at least one address"},
	rOtherPort:      {"evasion_other_port", 9100110, 1, "PEERWATCH IM/P2P service on a non-standard port", Medium, event.RiskEvasion, Client, "flow record with peerwatch.evasion other_port"},
	rProxy:          {"evasion_proxy", 9100111, 1, "PEERWATCH IM/P2P service through a proxy", Medium, event.RiskEvasion, Client, "flow record with peerwatch.evasion proxy"},
	rHTTPTunnel:     {"evasion_http_tunnel", 9100112, 1, "PEERWATCH IM/P2P service tunnelled in HTTP", Medium, event.RiskEvasion, Client, "flow record with peerwatch.evasion http_tunnel"},
	rP2P:            {"p2p_use", 9100120, 1, "PEERWATCH P2P file-sharing use", Low, event.RiskP2PUse, Client, "first record of a flow whose service is P2P (category p2p or a known P2P service); once per flow"},
	rIM:             {"im_use", 9100121, 1, "PEERWATCH instant messaging use", Low, event.RiskIMUse, Client, "first record of a flow whose service is IM (category im or chat, or a known IM service); once per flow"},
}

// Rules returns the catalogue in table order. The slice is a copy; the
// caller may keep or change it.
func Rules() []Rule {
	out := make([]Rule, len(catalogue))
	copy(out, catalogue[:])
	return out
}

// RuleByID returns the catalogue entry with the given id.
func RuleByID(id string) (Rule, bool) {
	for _, r := range catalogue {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}
