package main

import (
	"fmt"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

type versionCmd struct{}

func (versionCmd) Help() string { return "Example:\n  peerwatch version" }

func (versionCmd) Run() error {
	fmt.Println("peerwatch", versionString())
	return nil
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			return "devel-" + rev + dirty + " (" + bi.GoVersion + ")"
		}
		return bi.Main.Version + " (" + bi.GoVersion + ")"
	}
	return "devel"
}
