package httpwire

import "testing"

func TestPathUnescape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a%20b.mp3", "a b.mp3"},
		{"%41%62", "Ab"},
		{"100%", "100%"},
		{"%4", "%4"},
		{"%zz%2", "%zz%2"},
		{"a+b", "a+b"},
		{"%e9t%C3%A9", "\xe9t\xc3\xa9"},
		{"", ""},
	} {
		if got := string(PathUnescape([]byte(tc.in))); got != tc.want {
			t.Errorf("PathUnescape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzPathUnescape(f *testing.F) {
	f.Add([]byte("a%20b%"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if out := PathUnescape(b); len(out) > len(b) {
			t.Fatalf("grew: %d > %d", len(out), len(b))
		}
	})
}
