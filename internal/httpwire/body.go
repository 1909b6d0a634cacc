package httpwire

// Bounds of the chunked decoder. They are fixed rather than part of Limits
// because no legitimate sender comes near them.
const (
	maxChunkLine    = 4 << 10  // bytes in a chunk-size line with its extensions
	maxTrailerBytes = 16 << 10 // bytes in the trailer section after the last chunk
)

type bodyMode uint8

const (
	modeLength bodyMode = iota
	modeChunked
	modeClose
)

type chunkState uint8

const (
	csSize    chunkState = iota // hex digits of a chunk size
	csSizeWS                    // whitespace after the size (BWS before ';' or the line end)
	csExt                       // chunk extensions, up to LF
	csSizeCR                    // CR seen at the end of a size line
	csData                      // chunk data
	csDataCR                    // expecting CR (or a bare LF) after chunk data
	csDataLF                    // expecting LF after chunk data
	csTrailer                   // trailer field lines, up to an empty one
	csDone
)

// Body decodes one message body as its bytes arrive. Create it with NewBody
// from a head's Framing. A Body accepts its input split anywhere and keeps
// no reference to it.
type Body struct {
	mode      bodyMode
	state     chunkState
	done      bool
	err       error
	remaining int64 // modeLength: bytes left; modeChunked: bytes left in the current chunk
	size      int64 // the chunk size being read
	digits    int   // hex digits of size read so far
	lineLen   int   // bytes of the current size line or trailer line (CR excluded for trailers)
	trailer   int   // bytes of the trailer section so far
	decoded   int64
}

// NewBody returns a decoder for a body of length bytes (ignored unless both
// flags are false), of chunked coding, or that runs until the connection
// closes. If chunked and closeDelimited are both set, chunked wins. A
// Content-Length body of length <= 0 is done at once.
func NewBody(length int64, chunked bool, closeDelimited bool) Body {
	switch {
	case chunked:
		return Body{mode: modeChunked}
	case closeDelimited:
		return Body{mode: modeClose}
	}
	if length < 0 {
		length = 0
	}
	return Body{mode: modeLength, remaining: length, done: length == 0}
}

// Done reports whether the body ended. A close-delimited body never ends by
// itself: its end is the end of the connection.
func (b *Body) Done() bool { return b.done }

// Decoded returns the body bytes seen so far, after removing the chunked
// framing (gaps skipped with Skip included).
func (b *Body) Decoded() int64 { return b.decoded }

// Feed consumes body bytes from data and passes the decoded content to out
// (if not nil), in order, in one or more calls; the slices passed to out
// alias data and are valid only during the call. It returns how many bytes
// of data belong to the body and whether the body ended. While the body has
// not ended, n == len(data); once it ends, data[n:] is the next message.
// Errors (ErrBadChunk, ErrChunkLineTooLong) are sticky.
func (b *Body) Feed(data []byte, out func([]byte)) (n int, done bool, err error) {
	if b.err != nil {
		return 0, false, b.err
	}
	if b.done {
		return 0, true, nil
	}
	switch b.mode {
	case modeClose:
		b.emit(data, out)
		return len(data), false, nil
	case modeLength:
		k := len(data)
		if int64(k) > b.remaining {
			k = int(b.remaining)
		}
		b.emit(data[:k], out)
		b.remaining -= int64(k)
		b.done = b.remaining == 0
		return k, b.done, nil
	}
	n, err = b.feedChunked(data, out)
	if err != nil {
		b.err = err
		return n, false, err
	}
	return n, b.done, nil
}

func (b *Body) emit(p []byte, out func([]byte)) {
	if len(p) == 0 {
		return
	}
	b.decoded += int64(len(p))
	if out != nil {
		out(p)
	}
}

// feedChunked runs the chunked-coding state machine (RFC 9112 §7.1):
// chunk-size [BWS] *(";" ext) CRLF data CRLF ... "0" CRLF *(field CRLF) CRLF.
func (b *Body) feedChunked(data []byte, out func([]byte)) (int, error) {
	i := 0
	for i < len(data) && !b.done {
		if b.state == csData {
			k := len(data) - i
			if int64(k) > b.remaining {
				k = int(b.remaining)
			}
			b.emit(data[i:i+k], out)
			b.remaining -= int64(k)
			i += k
			if b.remaining == 0 {
				b.state = csDataCR
			}
			continue
		}
		c := data[i]
		i++
		switch b.state {
		case csSize, csSizeWS, csExt, csSizeCR:
			b.lineLen++
			if b.lineLen > maxChunkLine {
				return i, ErrChunkLineTooLong
			}
			if err := b.sizeByte(c); err != nil {
				return i, err
			}
		case csDataCR:
			switch c {
			case '\r':
				b.state = csDataLF
			case '\n':
				b.state = csSize
			default:
				return i, ErrBadChunk
			}
		case csDataLF:
			if c != '\n' {
				return i, ErrBadChunk
			}
			b.state = csSize
		case csTrailer:
			b.trailer++
			if b.trailer > maxTrailerBytes {
				return i, ErrChunkLineTooLong
			}
			switch c {
			case '\n':
				if b.lineLen == 0 {
					b.state, b.done = csDone, true
				}
				b.lineLen = 0
			case '\r':
			default:
				b.lineLen++
			}
		}
	}
	return i, nil
}

// sizeByte handles one byte of a chunk-size line.
func (b *Body) sizeByte(c byte) error {
	switch b.state {
	case csSize:
		if v, ok := Unhex(c); ok {
			// Reject sizes that would not fit an int64 (RFC 9112 §7.1
			// requires overflow to be treated as an error).
			if b.size > (1<<63-1)>>4 {
				return ErrBadChunk
			}
			b.size = b.size<<4 | int64(v)
			b.digits++
			return nil
		}
		if b.digits == 0 {
			return ErrBadChunk // no digits: empty, negative or junk size
		}
		switch c {
		case ' ', '\t':
			b.state = csSizeWS
		case ';':
			b.state = csExt
		case '\r':
			b.state = csSizeCR
		case '\n':
			b.endSizeLine()
		default:
			return ErrBadChunk
		}
	case csSizeWS:
		switch c {
		case ' ', '\t':
		case ';':
			b.state = csExt
		case '\r':
			b.state = csSizeCR
		case '\n':
			b.endSizeLine()
		default:
			return ErrBadChunk
		}
	case csExt:
		if c == '\n' {
			b.endSizeLine()
		}
	case csSizeCR:
		if c != '\n' {
			return ErrBadChunk
		}
		b.endSizeLine()
	}
	return nil
}

func (b *Body) endSizeLine() {
	b.lineLen, b.digits = 0, 0
	if b.size == 0 {
		b.state = csTrailer
		return
	}
	b.remaining, b.size = b.size, 0
	b.state = csData
}

// Skip accounts for size body bytes that were lost (a capture gap) and
// reports whether decoding can go on: true for a close-delimited body, and
// for a Content-Length body or chunk data that still has at least size
// bytes to come. On false the Body is unchanged and the caller should
// abandon the message.
func (b *Body) Skip(size int64) bool {
	if b.err != nil || b.done || size < 0 {
		return false
	}
	switch {
	case b.mode == modeClose:
	case b.mode == modeLength && size <= b.remaining:
		b.remaining -= size
		b.done = b.remaining == 0
	case b.mode == modeChunked && b.state == csData && size <= b.remaining:
		b.remaining -= size
		if b.remaining == 0 {
			b.state = csDataCR
		}
	default:
		return false
	}
	b.decoded += size
	return true
}
