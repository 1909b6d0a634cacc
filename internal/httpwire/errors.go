package httpwire

import (
	"errors"
	"fmt"
)

// Errors. Every error the parsers return matches ErrMalformed or
// ErrTooLarge with errors.Is; the specific errors say what was wrong.
var (
	// ErrMalformed means the bytes are not valid HTTP/1.x.
	ErrMalformed = errors.New("httpwire: malformed message")
	// ErrTooLarge means a limit was reached before the element ended.
	ErrTooLarge = errors.New("httpwire: message too large")

	// ErrBadRequestLine means the request line is not method SP target SP version.
	ErrBadRequestLine = fmt.Errorf("%w: bad request line", ErrMalformed)
	// ErrBadStatusLine means the status line is not version SP 3DIGIT [SP reason].
	ErrBadStatusLine = fmt.Errorf("%w: bad status line", ErrMalformed)
	// ErrBadHeader means a header field line is not name ":" value.
	ErrBadHeader = fmt.Errorf("%w: bad header field", ErrMalformed)
	// ErrBadContentLength means a Content-Length is not a decimal number or
	// disagrees with another one.
	ErrBadContentLength = fmt.Errorf("%w: bad content-length", ErrMalformed)
	// ErrBadTransferEncoding means a request's Transfer-Encoding does not
	// end in chunked, so its body length cannot be known (RFC 9112 §6.3).
	ErrBadTransferEncoding = fmt.Errorf("%w: bad transfer-encoding", ErrMalformed)
	// ErrBadChunk means a chunk size line or the CRLF after chunk data is
	// malformed, including a negative or overflowing size.
	ErrBadChunk = fmt.Errorf("%w: bad chunk", ErrMalformed)

	// ErrLineTooLong means a start line or header line exceeds Limits.MaxLine.
	ErrLineTooLong = fmt.Errorf("%w: line longer than limit", ErrTooLarge)
	// ErrTooManyHeaders means a head has more than Limits.MaxHeaders fields.
	ErrTooManyHeaders = fmt.Errorf("%w: too many header fields", ErrTooLarge)
	// ErrHeadTooLarge means a head exceeds Limits.MaxHeaderBytes.
	ErrHeadTooLarge = fmt.Errorf("%w: head longer than limit", ErrTooLarge)
	// ErrChunkLineTooLong means a chunk size line (with extensions) or a
	// trailer section exceeds its fixed bound.
	ErrChunkLineTooLong = fmt.Errorf("%w: chunk line or trailer longer than limit", ErrTooLarge)
)
