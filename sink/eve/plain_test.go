package eve

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

// TestAppendValueMatchesJSON checks the direct encoding of plain values
// against encoding/json, byte for byte.
func TestAppendValueMatchesJSON(t *testing.T) {
	type named string
	tests := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"string", "a<b>&\"c\"\\\n\u2028\xff"},
		{"bool", true},
		{"ints", []any{int(-1), int8(-8), int16(-16), int32(-32), int64(math.MinInt64)}},
		{"uints", []any{uint(1), uint8(8), uint16(16), uint32(32), uint64(math.MaxUint64)}},
		{"strings", []string{"x", "", "<"}},
		{"nil strings", []string(nil)},
		{"nil map", map[string]any(nil)},
		{"nil slice", []any(nil)},
		{"nil maps", []map[string]any(nil)},
		{"string map", map[string]string{"b": "2", "a": "1", "<": ">"}},
		{"nested", map[string]any{"z": 1, "answers": []map[string]any{{"rrname": "x", "ttl": uint32(5)}, {"rdata": []string{"1.2.3.4"}}},
			"a": []any{"x", 2.5, named("n"), map[string]any{"k": false}}, "f": 1e21, "s": struct{ A int }{3}}},
		{"empty", map[string]any{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := appendValue([]byte("prefix"), tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "prefix"+string(want) {
				t.Errorf("got  %s\nwant prefix%s", got, want)
			}
		})
	}
}

// TestAppendValueNestedError checks that a value encoding/json refuses,
// deep inside a plain map, turns the whole value into null, as
// encoding/json's own failure does.
func TestAppendValueNestedError(t *testing.T) {
	v := map[string]any{"a": "x", "b": []any{1, math.NaN()}}
	got, err := appendValue([]byte("k:"), v)
	if !errors.Is(err, ErrValue) {
		t.Errorf("err = %v, want ErrValue", err)
	}
	if string(got) != "k:null" {
		t.Errorf("got %s, want k:null", got)
	}
}
