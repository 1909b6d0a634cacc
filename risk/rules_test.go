package risk

import (
	"regexp"
	"testing"

	"github.com/peerwatch/peerwatch/event"
)

var snake = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

func TestCatalogue(t *testing.T) {
	ids, sids := map[string]bool{}, map[int]bool{}
	cols := map[event.Risk]int{}
	for i, r := range Rules() {
		if !snake.MatchString(r.ID) {
			t.Errorf("rule %d: id %q is not snake_case", i, r.ID)
		}
		if ids[r.ID] {
			t.Errorf("rule %d: duplicate id %q", i, r.ID)
		}
		ids[r.ID] = true
		if r.SID < MinSID || r.SID > MaxSID {
			t.Errorf("%s: sid %d outside [%d, %d]", r.ID, r.SID, MinSID, MaxSID)
		}
		if sids[r.SID] {
			t.Errorf("%s: duplicate sid %d", r.ID, r.SID)
		}
		sids[r.SID] = true
		if r.Rev < 1 || r.Title == "" || r.Raises == "" || r.Severity.String() == "" {
			t.Errorf("%s: rev, title, raises or severity missing: %+v", r.ID, r)
		}
		if r.Actor != Client && r.Actor != Server && r.Actor != Both {
			t.Errorf("%s: actor %q", r.ID, r.Actor)
		}
		if !knownRisk(r.Risk) {
			t.Errorf("%s: risk %q is not a column", r.ID, r.Risk)
		}
		cols[r.Risk]++
		if got, ok := RuleByID(r.ID); !ok || got != r {
			t.Errorf("RuleByID(%q) = %+v, %v", r.ID, got, ok)
		}
	}
	for _, c := range event.Risks {
		if cols[c] == 0 {
			t.Errorf("risk column %q has no rule", c)
		}
	}
	if _, ok := RuleByID("no_such_rule"); ok {
		t.Error("RuleByID found a rule that does not exist")
	}
}

func TestSeverity(t *testing.T) {
	for _, tc := range []struct {
		s    Severity
		name string
		eve  int
	}{{Low, "low", 3}, {Medium, "medium", 2}, {High, "high", 1}, {Critical, "critical", 1}, {0, "", 3}, {9, "", 3}} {
		if tc.s.String() != tc.name || tc.s.EVE() != tc.eve {
			t.Errorf("%d: String %q EVE %d, want %q %d", tc.s, tc.s.String(), tc.s.EVE(), tc.name, tc.eve)
		}
		if tc.name != "" {
			if got, ok := ParseSeverity(tc.name); !ok || got != tc.s {
				t.Errorf("ParseSeverity(%q) = %v, %v", tc.name, got, ok)
			}
		}
	}
	if _, ok := ParseSeverity("High"); ok {
		t.Error("ParseSeverity accepted a capitalised name")
	}
}
