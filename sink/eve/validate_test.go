package eve

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

func TestValidateFixtures(t *testing.T) {
	for _, f := range fixtures() {
		t.Run(f.name, func(t *testing.T) {
			line := Append(nil, &f.rec)
			if err := Validate(line); err != nil {
				t.Errorf("%v\n%s", err, line)
			}
			if err := Validate(append(line, '\n')); err != nil {
				t.Errorf("with newline: %v", err)
			}
		})
	}
}

// TestValidateGolden validates every line of the golden file, so that
// an -update cannot accept output the schema rejects.
func TestValidateGolden(t *testing.T) {
	f, err := os.Open("testdata/records.golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		if err := Validate(sc.Bytes()); err != nil {
			t.Errorf("line %d: %v", n, err)
		}
	}
	if err := sc.Err(); err != nil || n == 0 {
		t.Fatalf("read %d lines: %v", n, err)
	}
}

// mutate decodes a fixture line, applies fn to it and encodes it again.
func mutate(t *testing.T, name string, fn func(m map[string]any)) []byte {
	t.Helper()
	for _, f := range fixtures() {
		if f.name != name {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(Append(nil, &f.rec), &m); err != nil {
			t.Fatal(err)
		}
		fn(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatalf("no fixture %q", name)
	return nil
}

func obj(m map[string]any, k string) map[string]any { return m[k].(map[string]any) }

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		fn      func(m map[string]any)
		raw     string // used instead of fixture when set
	}{
		{name: "flow_id as a string", fixture: "flow", fn: func(m map[string]any) { m["flow_id"] = "17" }},
		{name: "timestamp without fraction", fixture: "flow", fn: func(m map[string]any) { m["timestamp"] = "2004-03-05T14:22:07Z" }},
		{name: "pkts_toserver as a string", fixture: "flow", fn: func(m map[string]any) { obj(m, "flow")["pkts_toserver"] = "12" }},
		{name: "unknown key in flow", fixture: "flow", fn: func(m map[string]any) { obj(m, "flow")["service"] = "aim" }},
		{name: "flow record without flow", fixture: "flow", fn: func(m map[string]any) { delete(m, "flow") }},
		{name: "no event_type", fixture: "flow", fn: func(m map[string]any) { delete(m, "event_type") }},
		{name: "vlan of strings", fixture: "flow", fn: func(m map[string]any) { m["vlan"] = []string{"10"} }},
		{name: "unknown top-level scalar", fixture: "flow", fn: func(m map[string]any) { m["sensor"] = "x" }},
		{name: "app object on a flow record", fixture: "flow", fn: func(m map[string]any) { m["oscar"] = map[string]any{"event": "login"} }},
		{name: "unknown peerwatch key", fixture: "flow", fn: func(m map[string]any) { obj(m, "peerwatch")["score"] = 3 }},
		{name: "confidence not in vocabulary", fixture: "flow", fn: func(m map[string]any) { obj(m, "peerwatch")["confidence"] = "high" }},
		{name: "evidence not in vocabulary", fixture: "flow", fn: func(m map[string]any) { obj(m, "peerwatch")["evidence"] = []string{"guess"} }},
		{name: "anomaly code as string", fixture: "anomaly", fn: func(m map[string]any) { obj(m, "anomaly")["code"] = "1" }},
		{name: "fileinfo size as string", fixture: "fileinfo", fn: func(m map[string]any) { obj(m, "fileinfo")["size"] = "1" }},
		{name: "alert metadata not arrays", fixture: "alert", fn: func(m map[string]any) {
			obj(obj(m, "alert"), "metadata")["signature_severity"] = "Critical"
		}},
		{name: "credential class not in vocabulary", fixture: "alert", fn: func(m map[string]any) {
			obj(obj(m, "peerwatch"), "credential")["class"] = "weak"
		}},
		{name: "outcome not in vocabulary", fixture: "alert", fn: func(m map[string]any) {
			obj(obj(m, "peerwatch"), "login")["outcome"] = "ok"
		}},
		{name: "app object without event", fixture: "app_oscar", fn: func(m map[string]any) { delete(obj(m, "oscar"), "event") }},
		{name: "app event not a kind", fixture: "app_oscar", fn: func(m map[string]any) { obj(m, "oscar")["event"] = "hello" }},
		{name: "protocol record without its object", fixture: "app_oscar", fn: func(m map[string]any) { m["msnp"] = m["oscar"]; delete(m, "oscar") }},
		{name: "second app object", fixture: "app_oscar", fn: func(m map[string]any) { m["msnp"] = map[string]any{"event": "login"} }},
		{name: "app object not an object", fixture: "app_oscar", fn: func(m map[string]any) { m["oscar"] = "login" }},
		{name: "shared name with a non-Suricata field", fixture: "app_http", fn: func(m map[string]any) { obj(m, "http")["method"] = "GET" }},
		{name: "shared name without event", fixture: "app_http", fn: func(m map[string]any) { delete(obj(m, "http"), "event") }},
		{name: "unknown Suricata stats counter", fixture: "stats", fn: func(m map[string]any) { obj(m, "stats")["oscar"] = 1 }},
		{name: "negative peerwatch counter", fixture: "peerwatch_stats", fn: func(m map[string]any) { obj(m, "peerwatch_stats")["evictions"] = -1 }},
		{name: "string peerwatch counter", fixture: "peerwatch_stats", fn: func(m map[string]any) { obj(m, "peerwatch_stats")["evictions"] = "0" }},
		{name: "peerwatch_stats record without object", fixture: "peerwatch_stats", fn: func(m map[string]any) { delete(m, "peerwatch_stats") }},
		{name: "two lines", raw: "{\"timestamp\":\"2004-03-05T14:22:07.123456+0000\",\"event_type\":\"stats\",\"stats\":{}}\n{}"},
		{name: "not JSON", raw: `{"timestamp":`},
		{name: "not an object", raw: `[1]`},
		{name: "trailing data", raw: `{"timestamp":"2004-03-05T14:22:07.123456+0000","event_type":"stats","stats":{}} x`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := []byte(tt.raw)
			if tt.raw == "" {
				line = mutate(t, tt.fixture, tt.fn)
			}
			err := Validate(line)
			t.Log(err)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Validate = %v, want ErrInvalid\n%s", err, line)
			}
		})
	}
}

// TestSchemaVocabulary checks the enums of peerwatch.schema.json against
// event/vocab.go and package flow, the only places names are defined.
func TestSchemaVocabulary(t *testing.T) {
	b, err := os.ReadFile("schema/peerwatch.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Defs map[string]struct {
			Enum []string `json:"enum"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	strs := func(vs ...[]string) []string { return slices.Concat(vs...) }
	conv := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	var confidences []string
	for c := flow.Confidence(0); c.String() != "unknown"; c++ {
		confidences = append(confidences, c.String())
	}
	var evidence []string
	for i := 0; i < 16; i++ {
		evidence = append(evidence, flow.Evidence(1<<i).Names()...)
	}
	tests := []struct {
		def  string
		want []string
	}{
		{"kind", conv(len(event.Kinds), func(i int) string { return string(event.Kinds[i]) })},
		{"feature", conv(len(event.Features), func(i int) string { return string(event.Features[i]) })},
		{"category", conv(len(event.Categories), func(i int) string { return string(event.Categories[i]) })},
		{"outcome", conv(len(event.Outcomes), func(i int) string { return string(event.Outcomes[i]) })},
		{"cred_class", conv(len(event.CredClasses), func(i int) string { return string(event.CredClasses[i]) })},
		{"confidence", strs(confidences)},
		{"evidence", strs(evidence)},
	}
	for _, tt := range tests {
		got := doc.Defs[tt.def].Enum
		if !slices.Equal(got, tt.want) {
			t.Errorf("$defs/%s enum = %v, want %v (from event/vocab.go or package flow)", tt.def, got, tt.want)
		}
	}
}

// TestSchemaCopyCurrent checks the bundled Suricata schema is the shared one
// when the shared tree is present.
func TestSchemaCopyCurrent(t *testing.T) {
	shared, err := os.ReadFile("../../../shared/eve/suricata-schema.json")
	if err != nil {
		t.Skip("../shared/eve absent: nothing to compare the bundled copy with")
	}
	ours, err := os.ReadFile("schema/suricata-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(shared) != string(ours) {
		t.Errorf("schema/suricata-schema.json differs from ../shared/eve/suricata-schema.json; copy it and update SOURCES.md")
	}
}

// TestExtendKeepsSuricata checks the combined schema only adds to
// Suricata's: every property keeps its definition, or gains only "event".
func TestExtendKeepsSuricata(t *testing.T) {
	suri, err := readSchema("schema/suricata-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	combined, _, err := extend(suri)
	if err != nil {
		t.Fatal(err)
	}
	sp := suri["properties"].(map[string]any)
	cp := combined["properties"].(map[string]any)
	for name, p := range sp {
		before, _ := json.Marshal(p)
		c := cp[name]
		if m, ok := c.(map[string]any); ok {
			if props, ok := m["properties"].(map[string]any); ok && props["event"] != nil && !strings.Contains(string(before), `"event":`) {
				m2 := make(map[string]any, len(m))
				for k, v := range m {
					m2[k] = v
				}
				p2 := make(map[string]any, len(props))
				for k, v := range props {
					if k != "event" {
						p2[k] = v
					}
				}
				m2["properties"] = p2
				c = m2
			}
		}
		after, _ := json.Marshal(c)
		if string(before) != string(after) {
			t.Errorf("property %q changed beyond an added event key", name)
		}
	}
	for _, name := range []string{"alert", "anomaly", "fileinfo", "flow", "stats"} {
		a, _ := json.Marshal(sp[name])
		b, _ := json.Marshal(cp[name])
		if string(a) != string(b) {
			t.Errorf("engine object %q changed", name)
		}
	}
	if _, ok := suri["allOf"]; ok {
		t.Errorf("extend modified its input")
	}
}
