package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/sink/eve"
	"github.com/peerwatch/peerwatch/sink/sqlite"
)

// ErrOutputExists is returned by OpenOutput when the output directory
// already holds a run's results and Force is not set.
var ErrOutputExists = errors.New("pipeline: output directory already holds results")

// OutputOptions describe the run for the output files.
type OutputOptions struct {
	Force   bool     // replace earlier results
	Args    string   // the command line, for the runs table
	Version string   // peerwatch's version
	Files   []string // the input files
}

// OpenOutput prepares cfg.Output.Dir and opens the offline sinks it names:
// eve.json and peerwatch.db. It refuses to mix two runs' results.
func OpenOutput(cfg config.Config, o OutputOptions) ([]Sink, error) {
	dir := cfg.Output.Dir
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	evePath, dbPath := filepath.Join(dir, "eve.json"), filepath.Join(dir, "peerwatch.db")
	if !o.Force {
		for _, p := range []string{evePath, dbPath} {
			if _, err := os.Stat(p); err == nil {
				return nil, fmt.Errorf("%w: %s (%s); use --force to overwrite or choose another --output", ErrOutputExists, dir, filepath.Base(p))
			}
		}
	}
	for _, p := range []string{evePath, dbPath, dbPath + "-wal", dbPath + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	var sinks []Sink
	// The SQLite json column is the EVE line: with both sinks on, SQLite
	// copies the lines the EVE writer just encoded.
	var cached func([]byte, *event.Record) []byte
	if cfg.Output.EVE {
		w, err := eve.Create(evePath)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, w)
		cached = w.Encoder()
	}
	if cfg.Output.SQLite {
		home, err := cfg.Prefixes()
		if err != nil {
			return nil, err
		}
		open := func(encode func([]byte, *event.Record) []byte) (Sink, error) {
			return sqlite.Open(dbPath, sqlite.Options{AllFlows: cfg.Output.AllFlows, HomeNet: home, Encode: encode,
				CommitRecords: 32768, CommitInterval: 2 * time.Second,
				// The database is an output of this run, re-created from
				// the capture: no fsync (about a second of waiting on x45).
				NoSync: true,
				Run:    sqlite.RunInfo{Started: time.Now(), Args: o.Args, Version: o.Version, Files: o.Files}})
		}
		var st Sink
		if cfg.Workers == 1 {
			encode := cached
			if encode == nil {
				encode = eve.Append
			}
			st, err = open(encode)
		} else {
			// Several workers: the database is written beside them (async.go).
			st, err = newAsyncSink(cached, open)
		}
		if err != nil {
			for _, s := range sinks {
				s.Close()
			}
			return nil, err
		}
		sinks = append(sinks, st)
	}
	return sinks, nil
}
