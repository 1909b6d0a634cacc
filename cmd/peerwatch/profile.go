package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
)

// startProfiles starts a CPU profile into cpu and an execution trace into
// tr (each if set) and returns the function that stops them and writes a
// heap profile into mem (if set). The trace is for blocking between
// goroutines: go tool trace -pprof=sync FILE.
func startProfiles(cpu, mem, tr string) (func(), error) {
	var cf, tf *os.File
	if tr != "" {
		f, err := os.Create(tr)
		if err != nil {
			return nil, fmt.Errorf("peerwatch: trace: %w", err)
		}
		if err := trace.Start(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("peerwatch: trace: %w", err)
		}
		tf = f
	}
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return nil, fmt.Errorf("peerwatch: cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			if tf != nil {
				trace.Stop()
				tf.Close()
			}
			return nil, fmt.Errorf("peerwatch: cpu profile: %w", err)
		}
		cf = f
	}
	return func() {
		if cf != nil {
			pprof.StopCPUProfile()
			cf.Close()
		}
		if tf != nil {
			trace.Stop()
			tf.Close()
		}
		if mem != "" {
			f, err := os.Create(mem)
			if err != nil {
				fmt.Fprintln(os.Stderr, "peerwatch: heap profile:", err)
				return
			}
			runtime.GC()
			if err := pprof.WriteHeapProfile(f); err != nil {
				fmt.Fprintln(os.Stderr, "peerwatch: heap profile:", err)
			}
			f.Close()
		}
	}, nil
}
