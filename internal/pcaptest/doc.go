// Package pcaptest runs captures through the whole pipeline in-process for
// tests, and builds synthetic captures byte for byte (for protocols with no
// public capture: say so in the package's testdata/SOURCES.md).
package pcaptest
