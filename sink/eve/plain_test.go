package eve

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
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
		{"int slices", []any{[]int{-1, 0, math.MaxInt}, []int64{math.MinInt64}, []int32{-32, 32}, []int{}}},
		{"uint slices", []any{[]uint64{math.MaxUint64, 0}, []uint32{32}, []uint16{443, 65535}, []uint16{}}},
		{"nil int slices", []any{[]int(nil), []int64(nil), []int32(nil), []uint64(nil), []uint32(nil), []uint16(nil)}},
		{"bytes stay base64", []any{[]byte("hi<"), []uint8(nil), []byte{}}},
		{"int maps", map[string]any{"i": map[string]int{"b": -2, "a": 1, "<&>": 3}, "i64": map[string]int64{"x": math.MinInt64},
			"u64": map[string]uint64{"z": math.MaxUint64, "y": 0}, "u32": map[string]uint32{"": 32}, "e": map[string]int{}}},
		{"nil int maps", []any{map[string]int(nil), map[string]int64(nil), map[string]uint64(nil), map[string]uint32(nil),
			map[string]bool(nil), map[string][]string(nil), []map[string]string(nil)}},
		{"bool map", map[string]bool{"b": true, "a": false, "\u2028\xff": true}},
		{"strings map", map[string][]string{"a": {"x", "<"}, "n": nil, "e": {}}},
		{"string maps", []map[string]string{{"rrname": "a.example", "type": "A"}, nil, {}}},
		{"floats", []any{0.0, math.Copysign(0, -1), 1.0, -1.5, 1e-6, 9.99e-7, 1e20, 1e21, 123456789.125, 5e-324,
			math.MaxFloat64, float32(0.1), float32(1e-7), float32(3.4e38), float32(-1e21), float32(16777216)}},
		{"many keys", func() map[string]any {
			m := map[string]any{}
			for i := range 40 {
				m[strconv.Itoa(i*7919%1000)] = i
			}
			return m
		}()},
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

// checkFloat fails t unless appendFloat writes f as encoding/json writes a
// float of that many bits, or fails as it does.
func checkFloat(t *testing.T, f float64, bits int) {
	t.Helper()
	var v any = f
	if bits == 32 {
		v = float32(f)
		f = float64(float32(f))
	}
	want, jerr := json.Marshal(v)
	got, err := appendFloat([]byte("x"), f, bits)
	if jerr != nil {
		if !errors.Is(err, ErrValue) || string(got) != "xnull" {
			t.Fatalf("%v (%d bits): got %s, %v; want null and ErrValue (%v)", f, bits, got, err, jerr)
		}
		if want := "eve: value cannot be encoded as JSON: " + jerr.Error(); err.Error() != want {
			t.Fatalf("%v (%d bits): error %q, want %q", f, bits, err, want)
		}
		return
	}
	if err != nil || string(got) != "x"+string(want) {
		t.Fatalf("%v (%d bits): got %s (%v), want x%s", f, bits, got, err, want)
	}
}

// TestAppendFloatMatchesJSON compares appendFloat with encoding/json on the
// format thresholds, their neighbours, special values and random bit
// patterns, as float64 and as float32.
func TestAppendFloatMatchesJSON(t *testing.T) {
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1.0 / 3, 100, 1e6, 1e20, 1e21, 1e-6, 1e-7, 1e-5,
		1e-10, 1e-100, 1e100, 1e308, 5e-324, math.SmallestNonzeroFloat64, math.MaxFloat64,
		math.MaxFloat32, math.SmallestNonzeroFloat32, 123456789012345678, 0.000001234, 12345678901234567890123.0,
		math.NaN(), math.Inf(1), math.Inf(-1)}
	for _, edge := range []float64{1e-6, 1e21, float64(float32(1e-6)), float64(float32(1e21))} {
		lo, hi := edge, edge
		for range 3 {
			lo, hi = math.Nextafter(lo, 0), math.Nextafter(hi, math.Inf(1))
			vals = append(vals, lo, hi)
		}
		f32 := float32(edge)
		vals = append(vals, float64(math.Nextafter32(f32, 0)), float64(math.Nextafter32(f32, float32(math.Inf(1)))))
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		vals = append(vals, math.Float64frombits(r.Uint64()), float64(math.Float32frombits(r.Uint32())),
			r.NormFloat64()*math.Pow(10, float64(r.IntN(60)-30)))
	}
	for _, f := range vals {
		for _, bits := range []int{64, 32} {
			for _, sign := range []float64{1, -1} {
				checkFloat(t, sign*f, bits)
			}
		}
	}
}

// FuzzAppendFloat compares appendFloat with encoding/json for any bits.
func FuzzAppendFloat(f *testing.F) {
	for _, v := range []float64{0, 1e21, 1e-7, 0.1, math.NaN(), math.Inf(-1)} {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, u uint64) {
		checkFloat(t, math.Float64frombits(u), 64)
		checkFloat(t, float64(math.Float32frombits(uint32(u))), 32)
	})
}

// TestAppendValueFloatError checks that a NaN in a map, which encoding/json
// used to refuse for us, still turns the whole value into null with
// ErrValue.
func TestAppendValueFloatError(t *testing.T) {
	for _, v := range []any{math.NaN(), float32(math.Inf(1)), map[string]any{"a": 1.5, "b": math.Inf(-1)},
		[]map[string]any{{"x": 1}, {"y": math.NaN()}}} {
		got, err := appendValue([]byte("k:"), v)
		if !errors.Is(err, ErrValue) || string(got) != "k:null" {
			t.Errorf("%v: got %s, %v; want k:null and ErrValue", v, got, err)
		}
	}
}

// TestPlainNeverFallsBack checks that the plain types, nested as protocols
// and the stats maps nest them, are written without encoding/json.
func TestPlainNeverFallsBack(t *testing.T) {
	old := appendFallback
	defer func() { appendFallback = old }()
	appendFallback = func(dst []byte, v any) ([]byte, error) {
		t.Errorf("%T went through encoding/json", v)
		return old(dst, v)
	}
	v := map[string]any{"s": "x", "b": true, "i": 1, "i8": int8(1), "i16": int16(1), "i32": int32(1), "i64": int64(1),
		"u": uint(1), "u8": uint8(1), "u16": uint16(1), "u32": uint32(1), "u64": uint64(1), "f": 1.5, "f32": float32(1.5),
		"ss": []string{"a"}, "is": []int{1}, "i64s": []int64{1}, "i32s": []int32{1}, "u64s": []uint64{1},
		"u32s": []uint32{1}, "u16s": []uint16{1}, "ms": map[string]string{"a": "b"}, "mi": map[string]int{"a": 1},
		"mi64": map[string]int64{"a": 1}, "mu64": map[string]uint64{"a": 1}, "mu32": map[string]uint32{"a": 1},
		"mb": map[string]bool{"a": true}, "mss": map[string][]string{"a": {"b"}}, "sms": []map[string]string{{"a": "b"}},
		"any": []any{nil, map[string]any{"x": []map[string]any{{"y": 1}}}}}
	for _, f := range fixtures() {
		if f.rec.App != nil {
			v[f.name] = f.rec.App.Fields
		}
		if f.rec.Stats != nil {
			v[f.name+"_s"] = f.rec.Stats.Suricata
			v[f.name+"_p"] = f.rec.Stats.Peerwatch
		}
	}
	got, err := appendValue(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
