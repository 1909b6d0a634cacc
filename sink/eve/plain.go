package eve

import (
	"fmt"
	"math"
	"strconv"
)

// The plain values are those protocols put in their Fields and the engine
// in its stats maps. Each is written here byte for byte as encoding/json
// writes it (TestAppendValueMatchesJSON, FuzzAppendPlain); any other value
// goes through encoding/json.

// appendPlain writes v if it is one of the plain types, reporting whether
// it was; a value inside a map or slice that is not plain goes through
// encoding/json. The error (ErrValue) is that of a value encoding/json
// refuses: a NaN or an infinity, here or nested.
func appendPlain(dst []byte, v any) ([]byte, bool, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), true, nil
	case string:
		return appendString(dst, x), true, nil
	case bool:
		return appendBool(dst, x), true, nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), true, nil
	case int64:
		return strconv.AppendInt(dst, x, 10), true, nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), true, nil
	case int16:
		return strconv.AppendInt(dst, int64(x), 10), true, nil
	case int8:
		return strconv.AppendInt(dst, int64(x), 10), true, nil
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10), true, nil
	case uint64:
		return strconv.AppendUint(dst, x, 10), true, nil
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10), true, nil
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10), true, nil
	case uint8:
		return strconv.AppendUint(dst, uint64(x), 10), true, nil
	case float64:
		dst, err = appendFloat(dst, x, 64)
		return dst, true, err
	case float32:
		dst, err = appendFloat(dst, float64(x), 32)
		return dst, true, err
	case []string:
		return appendList(dst, x, appendString), true, nil
	case []int:
		return appendList(dst, x, appendInt), true, nil
	case []int64:
		return appendList(dst, x, appendInt), true, nil
	case []int32:
		return appendList(dst, x, appendInt), true, nil
	case []uint64:
		return appendList(dst, x, appendUint), true, nil
	case []uint32:
		return appendList(dst, x, appendUint), true, nil
	case []uint16:
		return appendList(dst, x, appendUint), true, nil
	// []uint8 is []byte, which encoding/json writes in base64: not plain.
	case map[string]string:
		return appendObject(dst, x, appendString), true, nil
	case map[string]int:
		return appendObject(dst, x, appendInt), true, nil
	case map[string]int64:
		return appendObject(dst, x, appendInt), true, nil
	case map[string]uint64:
		return appendObject(dst, x, appendUint), true, nil
	case map[string]uint32:
		return appendObject(dst, x, appendUint), true, nil
	case map[string]bool:
		return appendObject(dst, x, appendBool), true, nil
	case map[string][]string:
		return appendObject(dst, x, appendStringList), true, nil
	case []map[string]string:
		return appendList(dst, x, appendStringObject), true, nil
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), true, nil
		}
		dst = append(dst, '{')
		var kb [keyBufLen]string
		for i, k := range sortedKeys(kb[:0], x) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			var verr error
			if dst, verr = appendNested(dst, x[k]); verr != nil && err == nil {
				err = verr
			}
		}
		return append(dst, '}'), true, err
	case []any:
		if x == nil {
			return append(dst, "null"...), true, nil
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var verr error
			if dst, verr = appendNested(dst, e); verr != nil && err == nil {
				err = verr
			}
		}
		return append(dst, ']'), true, err
	case []map[string]any:
		if x == nil {
			return append(dst, "null"...), true, nil
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var verr error
			if dst, _, verr = appendPlain(dst, e); verr != nil && err == nil {
				err = verr
			}
		}
		return append(dst, ']'), true, err
	}
	return dst, false, nil
}

// appendFallback writes a value that is not plain. It is appendJSON; tests
// replace it to prove which values never reach encoding/json.
var appendFallback = appendJSON

// appendNested writes a value inside a plain map or slice.
func appendNested(dst []byte, v any) ([]byte, error) {
	dst, ok, err := appendPlain(dst, v)
	if ok {
		return dst, err
	}
	return appendFallback(dst, v)
}

// appendFloat writes f as encoding/json does: the shortest decimal that
// reads back as the same float of the given bits (32 or 64), in %f form
// unless its magnitude is below 1e-6 or at least 1e21, then in %e form with
// a two-digit negative exponent cut to one ("1e-07" becomes "1e-7"). The
// cut-offs are compared in the float's own precision. NaN and the
// infinities have no JSON form: null and ErrValue.
func appendFloat(dst []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...), fmt.Errorf("%w: json: unsupported value: %s",
			ErrValue, strconv.FormatFloat(f, 'g', -1, bits))
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		if n := len(dst); n-start >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

// appendList writes xs as an array of elem's values; nil is null.
func appendList[T any](dst []byte, xs []T, elem func([]byte, T) []byte) []byte {
	if xs == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, x := range xs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = elem(dst, x)
	}
	return append(dst, ']')
}

// appendObject writes m as an object of elem's values, keys sorted; nil is
// null.
func appendObject[V any](dst []byte, m map[string]V, elem func([]byte, V) []byte) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '{')
	var kb [keyBufLen]string
	for i, k := range sortedKeys(kb[:0], m) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = elem(dst, m[k])
	}
	return append(dst, '}')
}

// AppendStringLists appends m exactly as encoding/json marshals it: keys
// sorted, a nil map or list as null. The SQLite sink writes alert metadata
// with it.
func AppendStringLists(dst []byte, m map[string][]string) []byte {
	return appendObject(dst, m, appendStringList)
}

// Element writers for appendList and appendObject.
func appendInt[T int | int64 | int32](dst []byte, x T) []byte {
	return strconv.AppendInt(dst, int64(x), 10)
}

func appendUint[T uint64 | uint32 | uint16](dst []byte, x T) []byte {
	return strconv.AppendUint(dst, uint64(x), 10)
}

func appendStringList(dst []byte, ss []string) []byte { return appendList(dst, ss, appendString) }

func appendStringObject(dst []byte, m map[string]string) []byte {
	return appendObject(dst, m, appendString)
}
