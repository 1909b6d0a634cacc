package msnftp

import (
	"errors"
	"strconv"
	"strings"
)

// Errors of the wire parsers; each is a protocol violation that detaches
// the analyzer.
var (
	// ErrLineTooLong: no line end within maxLine bytes.
	ErrLineTooLong = errors.New("msnftp: command line too long")
	// ErrCommand: a line that is not "CMD[ args]" with CMD three upper-case
	// letters, or that holds control bytes.
	ErrCommand = errors.New("msnftp: malformed command line")
	// ErrArgs: a known command with missing or malformed arguments.
	ErrArgs = errors.New("msnftp: bad command arguments")
	// ErrBlockFlag: a block header whose first byte is neither 0 nor 1.
	ErrBlockFlag = errors.New("msnftp: bad block flag")
)

// maxLine bounds a command line, CR LF included. The longest real one is
// USR with a passport (at most 129 bytes in MSNP) and a decimal cookie.
const maxLine = 512

// maxArgs bounds the words kept after the command name.
const maxArgs = 4

// line is one command line: "CMD arg arg...\r\n" (msnp.md §4.1; a bare LF
// is accepted too).
type line struct {
	cmd    string   // three upper-case letters
	args   []string // the words after cmd, at most maxArgs
	length int      // bytes of the line including its end
}

// parseLine reads the command line at the start of b. ok is false when the
// line is incomplete (no line end yet and fewer than maxLine bytes).
func parseLine(b []byte) (l line, ok bool, err error) {
	end := -1
	for i := 0; i < len(b) && i < maxLine; i++ {
		if b[i] == '\n' {
			end = i
			break
		}
	}
	if end < 0 {
		if len(b) >= maxLine {
			return line{}, false, ErrLineTooLong
		}
		// Reject an impossible start early: a line begins with a command.
		if err := checkCommand(b[:min(len(b), 4)], false); err != nil {
			return line{}, false, err
		}
		return line{}, false, nil
	}
	text := b[:end]
	if n := len(text); n > 0 && text[n-1] == '\r' {
		text = text[:n-1]
	}
	if err := checkCommand(text, true); err != nil {
		return line{}, false, err
	}
	for _, c := range text {
		if c < ' ' || c == 0x7f {
			return line{}, false, ErrCommand
		}
	}
	l = line{cmd: string(text[:3]), length: end + 1}
	for _, w := range strings.Fields(string(text[3:])) {
		if len(l.args) == maxArgs {
			break
		}
		l.args = append(l.args, w)
	}
	return l, true, nil
}

// checkCommand checks that text starts with three upper-case letters and a
// space or (when complete) the end of the line; an incomplete text is
// checked as far as it goes, where a CR may still end the line.
func checkCommand(text []byte, complete bool) error {
	if complete && len(text) < 3 {
		return ErrCommand
	}
	for i := 0; i < len(text) && i < 4; i++ {
		c := text[i]
		if i < 3 && (c < 'A' || c > 'Z') {
			return ErrCommand
		}
		if i == 3 && c != ' ' && (complete || c != '\r') {
			return ErrCommand
		}
	}
	return nil
}

// parseUint reads a decimal argument of at most 19 digits (no sign, no
// leading '+'), bounded by max.
func parseUint(s string, max uint64) (uint64, error) {
	if s == "" || len(s) > 19 || s[0] < '0' || s[0] > '9' {
		return 0, ErrArgs
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > max {
		return 0, ErrArgs
	}
	return v, nil
}

// Block framing (msnp.md §4.1): a 3-byte header, flag(1) then length(2)
// little-endian, then length bytes of the file.
const (
	blockHeader = 3
	// maxBlock is the largest payload clients send (2048 bytes with the
	// header); longer blocks are possible on the wire and only reported.
	maxBlock = 2045
	// flagData and flagCancel are the values of the flag byte.
	flagData   = 0x00
	flagCancel = 0x01
)

// block is one block header.
type block struct {
	cancel bool // flag 1: the sender gives up
	length int  // payload bytes that follow, 0..65535
}

// parseBlock reads the block header at the start of b. ok is false when
// fewer than blockHeader bytes are there.
func parseBlock(b []byte) (blk block, ok bool, err error) {
	if len(b) > 0 && b[0] != flagData && b[0] != flagCancel {
		return block{}, false, ErrBlockFlag
	}
	if len(b) < blockHeader {
		return block{}, false, nil
	}
	return block{cancel: b[0] == flagCancel, length: int(b[1]) | int(b[2])<<8}, true, nil
}
