package report

import "github.com/peerwatch/peerwatch/event"

// PaperRow is one client row of the 2002 threat matrix.
type PaperRow struct {
	Client  string       `json:"client"`  // the paper's name for the client
	Service string       `json:"service"` // the peerwatch.service it corresponds to
	Risks   []event.Risk `json:"risks"`   // the columns the paper marks with an X, in column order
}

// PaperColumn names one column of the 2002 matrix and the risk column it
// maps to.
type PaperColumn struct {
	Title string     // the paper's heading
	Risk  event.Risk // peerwatch's column
}

// PaperColumns are the nine columns of the 2002 matrix, in the paper's
// order, with the mapping given in ../shared/specs/threat-matrix-2002.md.
// peerwatch's extra columns (credential_exposure, ip_disclosure, evasion,
// p2p_use, im_use) are discussed in the paper's text but not tabulated.
var PaperColumns = []PaperColumn{
	{"Unencrypted", event.RiskUnencrypted},
	{"File Transfer", event.RiskFileTransfer},
	{"Known Buffer Overflows", event.RiskExploit},
	{"Remote Control", event.RiskRemoteControl},
	{"Known Worms", event.RiskWorm},
	{"Spyware", event.RiskSpyware},
	{"Social Engineering", event.RiskSocialEngineering},
	{"Misuse of Bandwidth/Copyright Issues", event.RiskCopyrightBandwidth},
	{"Targeted by known viruses", event.RiskMalwareCarrier},
}

// Paper is the threat matrix of Internet Security Systems, "Risk Exposure
// Through Instant Messaging and Peer-to-Peer (P2P) Networks", April 2002,
// appendix "Threat matrix (as of April 1, 2002)", as transcribed in
// ../shared/specs/threat-matrix-2002.md (a test checks the two agree).
// Services are peerwatch's names for the clients.
var Paper = []PaperRow{
	{"AIM", "aim", []event.Risk{event.RiskUnencrypted, event.RiskFileTransfer, event.RiskExploit,
		event.RiskSocialEngineering, event.RiskCopyrightBandwidth, event.RiskMalwareCarrier}},
	{".NET Messenger", "msn", []event.Risk{event.RiskUnencrypted, event.RiskFileTransfer, event.RiskRemoteControl,
		event.RiskWorm, event.RiskSocialEngineering, event.RiskCopyrightBandwidth, event.RiskMalwareCarrier}},
	{"Yahoo! Messenger", "yahoo", []event.Risk{event.RiskUnencrypted, event.RiskFileTransfer,
		event.RiskSocialEngineering, event.RiskCopyrightBandwidth}},
	{"ICQ", "icq", []event.Risk{event.RiskUnencrypted, event.RiskFileTransfer, event.RiskExploit,
		event.RiskSocialEngineering, event.RiskCopyrightBandwidth}},
	{"KaZaA", "kazaa", []event.Risk{event.RiskUnencrypted, event.RiskFileTransfer, event.RiskSpyware,
		event.RiskCopyrightBandwidth, event.RiskMalwareCarrier}},
	{"Gnutella", "gnutella", []event.Risk{event.RiskUnencrypted, event.RiskFileTransfer,
		event.RiskCopyrightBandwidth, event.RiskMalwareCarrier}},
}

// paperFor returns the paper's row for a service, or nil.
func paperFor(service string) *PaperRow {
	for i := range Paper {
		if Paper[i].Service == service {
			return &Paper[i]
		}
	}
	return nil
}

// has reports whether the row marks risk r.
func (p *PaperRow) has(r event.Risk) bool {
	if p == nil {
		return false
	}
	for _, x := range p.Risks {
		if x == r {
			return true
		}
	}
	return false
}
