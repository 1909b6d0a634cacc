package analyzer

import (
	"bufio"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math"
	"os"
	"path/filepath"
	"slices"
	"unicode/utf8"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/internal/magic"
)

// FileState is how a transfer ended.
type FileState uint8

// File states (EVE fileinfo.state).
const (
	FileClosed    FileState = iota // all announced bytes passed
	FileTruncated                  // the flow ended or a gap hit before the end
	FileError                      // the protocol reported a failure
)

// String returns the EVE spelling: "CLOSED", "TRUNCATED" or "ERROR" (also
// for values outside the list).
func (s FileState) String() string {
	switch s {
	case FileClosed:
		return "CLOSED"
	case FileTruncated:
		return "TRUNCATED"
	}
	return "ERROR"
}

// MaxFileName bounds the bytes of a file name kept by a File. A longer name
// keeps its first and last MaxFileName/2 bytes around "…", so the extension
// an attacker would hide at the end survives.
const MaxFileName = 1024

// ErrExtract wraps every failure to store an extracted file (see File.Err).
var ErrExtract = errors.New("analyzer: file extraction failed")

// File is one file moving through a flow. An analyzer gets it from
// Session.File, calls Write with the file's bytes in order (Gap for bytes the
// capture lost) and Close once at the end; the engine gets it through
// Host.FileDone and writes the fileinfo record.
//
// Memory is bounded whatever the file size: the three digests' state and
// the first magic.HeadSize bytes. Hashes are only meaningful for a complete
// byte sequence, so after a gap they are no longer computed and the record
// omits them (gaps: true), as Suricata does.
//
// With Options.ExtractDir set, the bytes also go to a temporary file in
// that directory (".peerwatch-*.part", created 0600), renamed at Close to
// the lower-case hex SHA-256 of the content. The transferred name never
// reaches the file system. A file is not stored (the partial file is
// removed, Stored is false) when it outgrows Options.ExtractMax, when it has
// a gap (its hash would be unknown), or on any I/O error (see Err).
//
// Every File must be closed (the analyzer does so at the latest when its
// flow ends): an open File holds a temporary file while extracting.
//
// A File is used by the goroutine that owns its flow only.
type File struct {
	host      Host
	name      string
	announced int64
	feature   event.Feature

	md5, sha1, sha256 hash.Hash
	head              [magic.HeadSize]byte
	headN             int
	size              int64 // bytes written
	gapBytes          int64 // bytes announced missing by Gap, saturating
	gaps              bool
	closed            bool
	state             FileState

	// Fixed by Close.
	md5Sum    [md5.Size]byte
	sha1Sum   [sha1.Size]byte
	sha256Sum [sha256.Size]byte
	desc, typ string

	// Extraction: out is non-nil while bytes are being stored, through buf
	// so that small writes do not each cost a system call.
	dir    string
	max    int64
	out    *os.File
	buf    *bufio.Writer
	stored bool
	err    error
}

// extractBuffer is the write buffer of each file being extracted, in bytes.
const extractBuffer = 32 << 10

// File starts tracking a transfer of a file called name (as the protocol
// sent it) of announced size bytes (-1 or any negative: unknown), for
// feature f. It never returns nil.
func (s *Session) File(name string, size int64, f event.Feature) *File {
	if size < 0 {
		size = -1
	}
	fl := &File{
		host:      s.host,
		name:      boundName(name),
		announced: size,
		feature:   f,
		md5:       md5.New(),
		sha1:      sha1.New(),
		sha256:    sha256.New(),
	}
	o := s.host.Options()
	if o.ExtractDir == "" {
		return fl
	}
	fl.dir, fl.max = o.ExtractDir, o.ExtractMax
	if fl.max > 0 && size > fl.max {
		return fl // announced over the cap: never start
	}
	out, err := os.CreateTemp(fl.dir, ".peerwatch-*.part")
	if err != nil {
		fl.err = fmt.Errorf("%w: %w", ErrExtract, err)
		return fl
	}
	fl.out, fl.buf = out, bufio.NewWriterSize(out, extractBuffer)
	return fl
}

// boundName shortens names over MaxFileName bytes to their first and last
// MaxFileName/2 bytes, cut at UTF-8 character starts.
func boundName(name string) string {
	if len(name) <= MaxFileName {
		return name
	}
	h, t := MaxFileName/2, len(name)-MaxFileName/2
	for h > 0 && !utf8.RuneStart(name[h]) {
		h--
	}
	for t < len(name) && !utf8.RuneStart(name[t]) {
		t++
	}
	return name[:h] + "…" + name[t:]
}

// Write adds the next bytes of the file. It is ignored after Close. It
// does not allocate, and does not keep p.
func (f *File) Write(p []byte) {
	if f.closed || len(p) == 0 {
		return
	}
	if !f.gaps {
		f.md5.Write(p)
		f.sha1.Write(p)
		f.sha256.Write(p)
		if f.headN < len(f.head) {
			f.headN += copy(f.head[f.headN:], p)
		}
	}
	f.size += int64(len(p))
	if f.out == nil {
		return
	}
	if f.max > 0 && f.size > f.max {
		f.abandon(nil)
		return
	}
	if _, err := f.buf.Write(p); err != nil {
		f.abandon(err)
	}
}

// Gap records that n bytes of the file were lost by the capture. The file
// is marked gaps, its hashes are dropped and it will not be stored. The
// missing bytes count towards the announced size when Close decides
// between CLOSED and TRUNCATED, but not towards Record's Size. n <= 0 and
// calls after Close are ignored.
func (f *File) Gap(n int) {
	if f.closed || n <= 0 {
		return
	}
	f.gaps = true
	if f.gapBytes > math.MaxInt64-int64(n) {
		f.gapBytes = math.MaxInt64
	} else {
		f.gapBytes += int64(n)
	}
	if f.out != nil {
		f.abandon(nil)
	}
}

// Close ends the transfer with state: FileClosed becomes FileTruncated when
// fewer bytes (seen plus lost in gaps) passed than were announced, and
// values outside the list are FileError. It fixes the digests and type,
// finishes extraction and calls the host's FileDone exactly once; later
// calls do nothing.
func (f *File) Close(state FileState) {
	if f.closed {
		return
	}
	f.closed = true
	if state > FileError {
		state = FileError
	}
	if state == FileClosed && f.announced >= 0 && sat(f.size, f.gapBytes) < f.announced {
		state = FileTruncated
	}
	f.state = state
	if !f.gaps {
		f.md5.Sum(f.md5Sum[:0])
		f.sha1.Sum(f.sha1Sum[:0])
		f.sha256.Sum(f.sha256Sum[:0])
	}
	f.desc, f.typ = f.detect()
	if f.out != nil {
		f.store()
	}
	f.host.FileDone(f)
}

// sat adds two non-negative counts without overflow.
func sat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// detect names the content from the head. A gap before the first byte
// leaves nothing known about the start of the file.
func (f *File) detect() (desc, typ string) {
	if f.headN == 0 && f.gaps {
		return "", magic.Other
	}
	return magic.Detect(f.head[:f.headN])
}

// store renames the finished temporary file to the content's SHA-256.
func (f *File) store() {
	tmp := f.out.Name()
	err := f.buf.Flush()
	if cerr := f.out.Close(); err == nil {
		err = cerr
	}
	f.out, f.buf = nil, nil
	if err != nil {
		os.Remove(tmp)
		f.fail(err)
		return
	}
	dst := filepath.Join(f.dir, hex.EncodeToString(f.sha256Sum[:]))
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		f.fail(err)
		return
	}
	f.stored = true
}

// abandon stops extraction and removes the partial file; err (nil for a
// deliberate stop: cap or gap) is kept for Err.
func (f *File) abandon(err error) {
	tmp := f.out.Name()
	f.out.Close()
	f.out, f.buf = nil, nil
	os.Remove(tmp)
	if err != nil {
		f.fail(err)
	}
}

// fail keeps the first extraction error.
func (f *File) fail(err error) {
	if f.err == nil {
		f.err = fmt.Errorf("%w: %w", ErrExtract, err)
	}
}

// Closed reports whether Close was called.
func (f *File) Closed() bool { return f.closed }

// Name returns the file name as the protocol sent it (bounded by
// MaxFileName). It is attacker-controlled text.
func (f *File) Name() string { return f.name }

// Announced returns the size the protocol announced, in bytes; -1 if
// unknown.
func (f *File) Announced() int64 { return f.announced }

// Feature returns the feature the transfer belongs to.
func (f *File) Feature() event.Feature { return f.feature }

// Type returns the content class (peerwatch.file_type: executable,
// script, archive, document, audio, video, image or other). Before Close it
// reflects the bytes written so far.
func (f *File) Type() string {
	if f.closed {
		return f.typ
	}
	_, t := f.detect()
	return t
}

// Mismatch reports whether the file name's extension contradicts the
// content (a ".jpg" that is an executable), by the rules of package
// internal/magic.
func (f *File) Mismatch() bool { return magic.Mismatch(f.name, f.Type()) }

// SHA1 returns a copy of the raw SHA-1 digest of the content, for checks
// against hashes the protocol announced (Gnutella urn:sha1). It is nil
// before Close and when the file had a gap.
func (f *File) SHA1() []byte {
	if !f.closed || f.gaps {
		return nil
	}
	return slices.Clone(f.sha1Sum[:])
}

// Err returns why extraction failed (wrapping ErrExtract), or nil. A file
// deliberately not stored (over the cap, gap, extraction off) has no error.
func (f *File) Err() error { return f.err }

// Record returns the fileinfo object. Size is the bytes actually seen; the
// hashes (lower-case hex) are empty when the file had a gap; Magic is empty
// when a gap hid the file's start. Before Close, State is empty and the
// hashes and magic describe the bytes so far.
func (f *File) Record() event.FileRec {
	r := event.FileRec{
		Filename: f.name,
		Size:     f.size,
		Stored:   f.stored,
		Gaps:     f.gaps,
	}
	if f.closed {
		r.State = f.state.String()
		r.Magic = f.desc
		if !f.gaps {
			r.MD5 = hex.EncodeToString(f.md5Sum[:])
			r.SHA1 = hex.EncodeToString(f.sha1Sum[:])
			r.SHA256 = hex.EncodeToString(f.sha256Sum[:])
		}
		return r
	}
	r.Magic, _ = f.detect()
	if !f.gaps {
		r.MD5 = hex.EncodeToString(f.md5.Sum(nil))
		r.SHA1 = hex.EncodeToString(f.sha1.Sum(nil))
		r.SHA256 = hex.EncodeToString(f.sha256.Sum(nil))
	}
	return r
}
