// Package wire provides Cursor, a bounds-checked reader over a byte slice for
// parsing binary wire formats.
//
// Protocol parsers in proto/* read fixed-layout headers (FLAP, YMSG, eD2k,
// FastTrack) with it instead of indexing slices by hand. A Cursor never
// panics and never allocates: a read past the end returns zero values and
// makes the Cursor fail for good (a sticky error), so a parser can do a run
// of reads and check OK once at the end, as encoding/binary users do with
// bufio but without the interface calls.
package wire
