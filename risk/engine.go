package risk

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/internal/magic"
)

// ErrConfig is returned by New for an unusable Config.
var ErrConfig = errors.New("risk: bad engine config")

// Defaults of Config.
const (
	DefaultWindow          = 60 * time.Second
	DefaultVolumeThreshold = 50_000_000 // bytes (50 MB)
)

// Bounds of the engine's state.
const (
	maxSeenPerFlow = 1024    // dedupe keys kept per flow; beyond, further alerts of that flow are suppressed
	maxCells       = 1 << 18 // matrix cells; beyond, new cells are counted in matrix_overflow only
	maxEvidence    = 256     // bytes of evidence kept per finding
)

// Config configures an Engine. Zero fields take their defaults.
type Config struct {
	Policy          *Policy        // nil: alert on every finding
	IOC             *IOC           // nil: DefaultIOC()
	Phrases         *Phrases       // nil: DefaultPhrases()
	HomeNet         []netip.Prefix // our networks; empty: trust each record's peerwatch.local
	Window          time.Duration  // bandwidth window; 0: DefaultWindow
	VolumeThreshold int64          // bytes per host, service and window; 0: DefaultVolumeThreshold
}

// Engine weighs output records against the catalogue and the policy and
// returns alert records; it also fills the threat matrix. Its methods are
// safe for concurrent use.
type Engine struct {
	policy    *Policy
	ioc       *IOC
	phrases   *Phrases
	home      []netip.Prefix
	window    time.Duration
	threshold int64

	mu       sync.Mutex
	flows    map[uint64]map[seenKey]struct{}
	cells    map[cellKey]*Cell
	counters map[string]int64
	raised   []raised // Observe's findings, reused under mu
}

type seenKey struct {
	rule ruleIdx
	file string // "" for per-flow rules; the file name for per-file ones
}

type cellKey struct {
	host             netip.Addr
	service, product string
	risk             event.Risk
}

// New returns an Engine for cfg.
func New(cfg Config) (*Engine, error) {
	if cfg.Window < 0 || cfg.VolumeThreshold < 0 {
		return nil, fmt.Errorf("%w: negative window or volume threshold", ErrConfig)
	}
	e := &Engine{policy: cfg.Policy, ioc: cfg.IOC, phrases: cfg.Phrases, home: cfg.HomeNet,
		window: cfg.Window, threshold: cfg.VolumeThreshold,
		flows: map[uint64]map[seenKey]struct{}{}, cells: map[cellKey]*Cell{}, counters: map[string]int64{}}
	if e.ioc == nil {
		e.ioc = DefaultIOC()
	}
	if e.phrases == nil {
		e.phrases = DefaultPhrases()
	}
	if e.window == 0 {
		e.window = DefaultWindow
	}
	if e.threshold == 0 {
		e.threshold = DefaultVolumeThreshold
	}
	return e, nil
}

// Window returns the length of the bandwidth windows Volume expects.
func (e *Engine) Window() time.Duration { return e.window }

// VolumeThreshold returns the bytes per host, service and window at which
// Volume raises a finding.
func (e *Engine) VolumeThreshold() int64 { return e.threshold }

// raised is one finding of one record with its dedupe scope.
type raised struct {
	rule    ruleIdx
	f       Finding
	file    string // per-file dedupe key ("" : per flow)
	perFlow bool   // counted once per flow (a property of the flow, not of each record)
	always  bool   // never deduplicated (fileinfo: each record is one file)
}

// Observe weighs one output record and returns the alert records to
// write right after it (nil when none). It is called once per record, in
// per-flow order; records of kind message must still carry their text.
// Alert and stats records are ignored.
func (e *Engine) Observe(rec *event.Record) []event.Record {
	if rec == nil || rec.PW == nil || rec.FlowID == 0 || rec.Type == event.TypeAlert {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	rs := e.evaluate(rec, e.raised[:0])
	defer func() {
		clear(rs)
		e.raised = rs[:0]
	}()
	if len(rs) == 0 {
		return nil
	}
	host, home := e.hostOf(rec.Src.Addr(), rec.Dst.Addr(), rec.PW.Local)
	var out []event.Record
	for i := range rs {
		r := &rs[i]
		fresh := r.always || e.first(rec.FlowID, seenKey{r.rule, r.file})
		if r.perFlow && !fresh {
			continue
		}
		cell := e.cell(host, home, rec.PW.Service, rec.PW.Product, r.f.Risk)
		e.count(cell, r, rec.Time)
		if !fresh {
			e.counters["deduplicated"]++
			continue
		}
		if a, ok := e.alert(rec, r, cell); ok {
			out = append(out, a)
		}
	}
	return out
}

// first reports whether k is new for the flow, and remembers it.
func (e *Engine) first(flow uint64, k seenKey) bool {
	seen := e.flows[flow]
	if seen == nil {
		seen = map[seenKey]struct{}{}
		e.flows[flow] = seen
	}
	if _, ok := seen[k]; ok {
		return false
	}
	if len(seen) >= maxSeenPerFlow {
		e.counters["dedupe_full"]++
		return false
	}
	seen[k] = struct{}{}
	return true
}

// FlowEnd frees the state of a flow; call it after the flow's final record.
func (e *Engine) FlowEnd(flowID uint64) {
	e.mu.Lock()
	delete(e.flows, flowID)
	e.mu.Unlock()
}

// Volume weighs one local host's bytes of one service in one tumbling
// window starting at window. At or over the threshold it returns a
// bandwidth_volume alert (unless the policy allows it) with no flow:
// FlowID 0, Seq 0, Time = window, Src = host:0, Dst the zero AddrPort,
// Proto "". Every call at or over the threshold counts in the matrix.
func (e *Engine) Volume(host netip.Addr, service string, window time.Time, bytes int64) []event.Record {
	if bytes < e.threshold || !host.IsValid() {
		return nil
	}
	f := finding(rVolume)
	f.Service, f.Src = service, host
	f.Evidence = fmt.Sprintf("%d bytes in %s from %s", bytes, e.window, window.UTC().Format(time.RFC3339))
	home := len(e.home) == 0 || inPrefixes(e.home, host)
	local := "src"
	if !home {
		local = "none"
	}
	rec := event.Record{Type: event.TypeAlert, Time: window, Src: netip.AddrPortFrom(host, 0),
		PW: &event.Peerwatch{Service: service, Local: local}}
	r := raised{rule: rVolume, f: f, always: true}
	e.mu.Lock()
	defer e.mu.Unlock()
	cell := e.cell(host.Unmap(), home, service, "", f.Risk)
	e.count(cell, &r, window)
	a, ok := e.alert(&rec, &r, cell)
	if !ok {
		return nil
	}
	a.Alert.Metadata["bytes"] = []string{strconv.FormatInt(bytes, 10)}
	a.Alert.Metadata["window_seconds"] = []string{strconv.FormatInt(int64(e.window/time.Second), 10)}
	return []event.Record{a}
}

// hostOf picks the matrix host: the home_net end, the source when both
// or neither are (with no HomeNet configured, peerwatch.local decides).
func (e *Engine) hostOf(src, dst netip.Addr, local string) (netip.Addr, bool) {
	src, dst = src.Unmap(), dst.Unmap()
	if len(e.home) == 0 {
		switch local {
		case "dest":
			return dst, true
		case "src", "both":
			return src, true
		}
		return src, false
	}
	sh, dh := inPrefixes(e.home, src), inPrefixes(e.home, dst)
	if dh && !sh {
		return dst, true
	}
	return src, sh
}

// cell returns the matrix cell, or nil once the matrix is full.
func (e *Engine) cell(host netip.Addr, home bool, service, product string, risk event.Risk) *Cell {
	k := cellKey{host, service, product, risk}
	c := e.cells[k]
	if c == nil {
		if len(e.cells) >= maxCells {
			e.counters["matrix_overflow"]++
			return nil
		}
		c = &Cell{Host: host, Home: home, Service: service, Product: product, Risk: risk}
		e.cells[k] = c
	}
	return c
}

func (e *Engine) count(c *Cell, r *raised, t time.Time) {
	e.counters["findings"]++
	e.counters["finding."+catalogue[r.rule].ID]++
	if c == nil {
		return
	}
	c.Count++
	if r.f.Severity > c.Worst {
		c.Worst = r.f.Severity
	}
	if c.First.IsZero() || t.Before(c.First) {
		c.First = t
	}
	if t.After(c.Last) {
		c.Last = t
	}
}

// alert applies the policy to a fresh finding and builds its alert record.
func (e *Engine) alert(rec *event.Record, r *raised, c *Cell) (event.Record, bool) {
	act, pr := e.policy.Decide(r.f)
	if act == Allow {
		e.counters["allowed"]++
		return event.Record{}, false
	}
	e.counters["alerts"]++
	if c != nil {
		c.Alerts++
	}
	rule := &catalogue[r.rule]
	a := event.Record{Type: event.TypeAlert, Time: rec.Time, FlowID: rec.FlowID, Seq: rec.Seq,
		PcapCnt: rec.PcapCnt, PcapFile: rec.PcapFile, Src: rec.Src, Dst: rec.Dst, Proto: rec.Proto,
		VLAN: slices.Clone(rec.VLAN), AppProto: rec.AppProto, AppProtoOrig: rec.AppProtoOrig, CommunityID: rec.CommunityID}
	md := map[string][]string{
		"rule_id":            {rule.ID},
		"risk":               {string(rule.Risk)},
		"signature_severity": {r.f.Severity.String()},
		"actor":              {string(rule.Actor)},
	}
	put := func(k, v string) {
		if v != "" {
			md[k] = []string{v}
		}
	}
	put("service", rec.PW.Service)
	put("protocol", rec.AppProto)
	put("product", rec.PW.Product)
	put("evidence", r.f.Evidence)
	if len(r.f.Users) > 0 {
		md["users"] = slices.Clone(r.f.Users)
	}
	if pr != nil {
		name := pr.Name
		if name == "" {
			name = "line " + strconv.Itoa(pr.Line)
		}
		put("policy_rule", name)
	}
	a.Alert = &event.AlertRec{Action: "allowed", GID: GID, SignatureID: rule.SID, Rev: rule.Rev,
		Signature: rule.Title, Category: Category(rule.Risk), Severity: r.f.Severity.EVE(), Metadata: md}
	pw := &event.Peerwatch{Kind: rec.PW.Kind, Service: rec.PW.Service, Product: rec.PW.Product,
		Feature: rec.PW.Feature, Local: rec.PW.Local, FileType: rec.PW.FileType}
	if rec.PW.Users != nil {
		u := *rec.PW.Users
		pw.Users = &u
	}
	if act == Block {
		// Offline, a block is reported; inline enforcement is a later issue.
		pw.WouldBlock = true
		e.counters["would_block"]++
	}
	a.PW = pw
	return a, true
}

// Matrix returns every matrix cell, sorted by host, service, product and
// risk column order.
func (e *Engine) Matrix() []Cell {
	e.mu.Lock()
	out := make([]Cell, 0, len(e.cells))
	for _, c := range e.cells {
		out = append(out, *c)
	}
	e.mu.Unlock()
	col := map[event.Risk]int{}
	for i, r := range event.Risks {
		col[r] = i
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if c := a.Host.Compare(b.Host); c != 0 {
			return c < 0
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		if a.Product != b.Product {
			return a.Product < b.Product
		}
		return col[a.Risk] < col[b.Risk]
	})
	return out
}

// Counters returns the engine's counters for the stats record: findings
// (total), finding.<rule_id>, alerts, allowed (policy allow),
// would_block, deduplicated, dedupe_full and matrix_overflow.
func (e *Engine) Counters() map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int64, len(e.counters))
	for k, v := range e.counters {
		out[k] = v
	}
	return out
}

// batch collects the findings of one record.
type batch struct {
	base Finding
	out  []raised
}

// add appends a finding of rule r; file is its per-file dedupe key.
func (b *batch) add(r ruleIdx, evidence, file string) *raised {
	f := b.base
	c := &catalogue[r]
	f.RuleID, f.Risk, f.Severity = c.ID, c.Risk, c.Severity
	f.Evidence = bound(evidence)
	b.out = append(b.out, raised{rule: r, f: f, file: file})
	return &b.out[len(b.out)-1]
}

// evaluate lists the rules rec raises. It reads rec only.
func (e *Engine) evaluate(rec *event.Record, buf []raised) []raised {
	pw := rec.PW
	b := &batch{base: Finding{Service: pw.Service, Product: pw.Product, Feature: pw.Feature,
		Src: rec.Src.Addr().Unmap(), Dst: rec.Dst.Addr().Unmap(), Users: users(pw)}, out: buf}
	perFlow := func(r ruleIdx, evidence string) { b.add(r, evidence, "").perFlow = true }

	// Flow-level facts: which service, in clear or not, how it got through.
	if pw.Service != "" && rec.Type != event.TypeAnomaly {
		switch serviceClass(pw) {
		case event.CatP2P:
			perFlow(rP2P, "")
		case event.CatIM:
			perFlow(rIM, "")
		}
		if (pw.Category == event.CatIM || pw.Category == event.CatP2P || pw.Category == event.CatChat) &&
			rec.AppProto != "tls" && rec.AppProtoOrig != "tls" {
			perFlow(rUnencrypted, "app_proto "+rec.AppProto)
		}
	}
	if rec.Flow != nil {
		switch pw.Evasion {
		case event.OtherPort:
			perFlow(rOtherPort, "port "+strconv.Itoa(int(rec.Dst.Port())))
		case event.ViaProxy:
			ev := "proxy"
			if pw.Proxy != nil {
				ev = pw.Proxy.Kind + " " + pw.Proxy.Addr
			}
			perFlow(rProxy, ev)
		case event.HTTPTunnel:
			perFlow(rHTTPTunnel, "app_proto "+rec.AppProto)
		}
	}
	if rec.App != nil {
		if v, ok := rec.App.Fields["bundled_spyware"].(bool); ok && v {
			perFlow(rSpyware, "bundled_spyware")
		}
	}
	if rec.Anomaly != nil && rec.Anomaly.Event == "ymsg_long_field" {
		b.add(rLongField, "anomaly ymsg_long_field", "")
	}
	if rec.Type != event.TypeFlow && rec.Type != event.TypeAnomaly {
		switch pw.Feature {
		case event.AppSharing:
			b.add(rAppSharing, "feature app_sharing", "")
		case event.RemoteAssistance:
			b.add(rRemoteAssist, "feature remote_assistance", "")
		}
	}
	if rec.Type == event.TypeFileinfo {
		if rec.File != nil {
			e.fileRules(b, rec.File, pw.FileType)
		}
		return b.out
	}
	switch pw.Kind {
	case event.Exploit:
		b.add(exploitRule(rec), exploitEvidence(rec), "")
	case event.Credential:
		if c := pw.Credential; c != nil {
			if r, ok := credRules[c.Class]; ok {
				b.add(r, credEvidence(c), "")
			}
		}
	case event.Direct:
		if d := pw.Direct; d != nil && len(d.Addrs) > 0 {
			b.add(rDirect, addrEvidence(d.Addrs), "")
		}
	case event.File:
		if f := pw.File; f != nil && f.Name != "" && pw.Feature != event.SearchFeature {
			name := bound(f.Name)
			ev := "file " + quoteName(name)
			b.add(rFileOffered, ev, name)
			switch magic.ExtClass(f.Name) {
			case magic.Executable, magic.Script:
				b.add(rExecOffered, ev, name)
			case magic.Audio, magic.Video:
				b.add(rMediaOffered, ev, name)
			}
			if ent, ok := e.ioc.MatchName(f.Name); ok {
				b.add(iocRule(ent, false), ev+" "+iocEvidence(ent), name)
			}
		}
	case event.Message:
		if m := pw.Message; m != nil && m.Text != "" {
			e.contentRules(b, m.Text)
		}
	}
	return b.out
}

// fileRules weighs a fileinfo record. Each record is one file, so its
// findings are never deduplicated.
func (e *Engine) fileRules(b *batch, fr *event.FileRec, typ string) {
	start := len(b.out)
	ev := "file " + quoteName(bound(fr.Filename))
	if fr.SHA256 != "" {
		ev += " sha256 " + fr.SHA256
	}
	b.add(rFileMoved, ev+" type "+orDash(typ)+" state "+orDash(fr.State), "")
	if ent, ok := e.ioc.MatchHash(fr.MD5, fr.SHA1, fr.SHA256); ok {
		b.add(iocRule(ent, true), ev+" "+iocEvidence(ent), "")
	} else if ent, ok := e.ioc.MatchName(fr.Filename); ok {
		b.add(iocRule(ent, false), ev+" "+iocEvidence(ent), "")
	}
	switch {
	case magic.Mismatch(fr.Filename, typ):
		b.add(rExtMismatch, ev+" is "+typ+" named as "+orDash(magic.ExtClass(fr.Filename)), "")
	case typ == magic.Executable:
		b.add(rExecMoved, ev, "")
	case typ == magic.Script:
		b.add(rScriptMoved, ev, "")
	}
	if typ == magic.Audio || typ == magic.Video {
		b.add(rMediaMoved, ev+" type "+typ, "")
	}
	for i := start; i < len(b.out); i++ {
		b.out[i].always = true
	}
}

// contentRules runs the content rules over a message's text; only masked
// matches and phrase ids reach the findings.
func (e *Engine) contentRules(b *batch, text string) {
	c := e.phrases.Scan(text)
	if len(c.Cards) > 0 {
		b.add(rCard, "card "+strings.Join(c.Cards, " "), "")
	}
	if len(c.Requests) == 0 {
		return
	}
	req := hitList(c.Requests)
	if len(c.Staff) > 0 {
		b.add(rLure, "staff "+hitList(c.Staff)+"; request "+req, "")
		return
	}
	b.add(rRequest, "request "+req, "")
}

func hitList(h []PhraseHit) string {
	s := make([]string, len(h))
	for i, x := range h {
		s[i] = x.String()
	}
	return strings.Join(s, " ")
}

// credRules maps credential classes to their rules.
var credRules = map[event.CredClass]ruleIdx{
	event.Plaintext: rCredPlain, event.Reversible: rCredReversible, event.PasswordEquivalent: rCredEquivalent,
	event.OfflineCrackable: rCredCrackable, event.SessionToken: rCredToken,
}

func credEvidence(c *event.CredentialInfo) string {
	s := string(c.Class) + " " + orDash(c.What)
	if c.LengthClass != "" {
		s += " length_class " + c.LengthClass
	} else if c.Length > 0 {
		s += " length " + strconv.Itoa(c.Length)
	}
	if c.Masked != "" {
		s += " masked " + c.Masked
	}
	return s
}

// exploitRule tells the known exploit events apart by their fields
// (proto/oscar, proto/toc, proto/msnp READMEs).
func exploitRule(rec *event.Record) ruleIdx {
	if rec.App == nil {
		return rExploitOther
	}
	f := rec.App.Fields
	if v, _ := f["cve"].(string); v == "CVE-2002-1698" {
		return rExploitFont
	}
	if v, _ := f["exploit"].(string); v == "aim_game_overflow" {
		return rExploitGame
	}
	if _, ok := f["advisory"]; ok && (rec.AppProto == "oscar" || rec.PW.Service == "aim" || rec.PW.Service == "icq") {
		return rExploitGame
	}
	return rExploitOther
}

func exploitEvidence(rec *event.Record) string {
	if rec.App == nil {
		return "exploit event"
	}
	var parts []string
	for _, k := range []string{"cve", "exploit", "detail", "font_name_length", "service_data_length", "capability"} {
		if v, ok := rec.App.Fields[k]; ok {
			parts = append(parts, k+"="+fmt.Sprint(v))
		}
	}
	if len(parts) == 0 {
		return "exploit event"
	}
	return strings.Join(parts, " ")
}

func iocRule(ent IOCEntry, hash bool) ruleIdx {
	switch {
	case ent.Risk == event.RiskWorm && hash:
		return rWormHash
	case ent.Risk == event.RiskWorm:
		return rWormName
	case hash:
		return rMalwareHash
	}
	return rMalwareName
}

func iocEvidence(ent IOCEntry) string {
	s := "ioc " + ent.Type + ":" + ent.Value
	if ent.Description != "" {
		s += " (" + ent.Description + ")"
	}
	return s
}

func addrEvidence(a []netip.AddrPort) string {
	var s []string
	for i, ap := range a {
		if i == 4 {
			s = append(s, fmt.Sprintf("+%d more", len(a)-4))
			break
		}
		s = append(s, ap.String())
	}
	return "addrs " + strings.Join(s, " ")
}

// users lists the user names of a record without duplicates.
func users(pw *event.Peerwatch) []string {
	var u []string
	addU := func(s string) {
		if s != "" && !slices.Contains(u, s) {
			u = append(u, s)
		}
	}
	if pw.Users != nil {
		addU(pw.Users.Local)
		addU(pw.Users.Peer)
	}
	if pw.Login != nil {
		addU(pw.Login.User)
	}
	if pw.Credential != nil {
		addU(pw.Credential.User)
	}
	return u
}

// p2pServices and imServices classify services whose records carry a
// carrier or tunnel category (a TLS or DNS host name label).
var (
	p2pServices = []string{"gnutella", "kazaa", "fasttrack", "bittorrent", "edonkey", "emule", "napster", "winmx",
		"directconnect", "ares", "soulseek", "gnutella2"}
	imServices = []string{"aim", "icq", "msn", "yahoo", "xmpp", "jabber", "irc", "skype", "discord", "line", "signal",
		"slack", "teams", "telegram", "viber", "wechat", "whatsapp"}
)

// serviceClass says whether a record's service is IM (CatIM, also for
// chat) or P2P (CatP2P), or neither ("").
func serviceClass(pw *event.Peerwatch) event.Category {
	switch pw.Category {
	case event.CatP2P:
		return event.CatP2P
	case event.CatIM, event.CatChat:
		return event.CatIM
	}
	switch {
	case slices.Contains(p2pServices, pw.Service):
		return event.CatP2P
	case slices.Contains(imServices, pw.Service):
		return event.CatIM
	}
	return ""
}

// bound cuts s to maxEvidence bytes at a character start.
func bound(s string) string {
	if len(s) <= maxEvidence {
		return s
	}
	i := maxEvidence
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}

// quoteName quotes a transferred file name for evidence, escaping control
// characters (it is attacker-controlled).
func quoteName(s string) string { return strconv.Quote(s) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
