package httpwire

// methods are the request methods IsMethod knows: RFC 9110 §9, PATCH
// (RFC 5789) and the WebDAV ones (RFC 4918 §9, SEARCH from RFC 5323,
// REPORT from RFC 3253).
var methods = [...]string{
	"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT",
}

// Methods returns the methods IsMethod knows, in a new slice.
func Methods() []string {
	out := make([]string, len(methods))
	copy(out, methods[:])
	return out
}

// IsMethod reports whether b starts with a known method followed by a
// space, the way a request line starts. Case matters: methods are
// case-sensitive (RFC 9110 §9.1).
func IsMethod(b []byte) bool { return MethodLen(b) > 0 }

// MethodLen returns the length of the known method that b starts with, if
// a space follows it, else 0.
func MethodLen(b []byte) int {
	for _, m := range methods {
		if len(b) > len(m) && b[len(m)] == ' ' && string(b[:len(m)]) == m {
			return len(m)
		}
	}
	return 0
}
