package main

import (
	"os"

	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/risk"
)

// riskEngine builds the risk stage from the configuration: the policy file
// (home_net in it means the run's home networks) and the operator's IOC
// list on top of the built-in one. Nil when the stage is off.
func riskEngine(cfg config.Config) (*risk.Engine, error) {
	if !cfg.Risk.Enabled {
		return nil, nil
	}
	home, err := cfg.Prefixes()
	if err != nil {
		return nil, err
	}
	rc := risk.Config{HomeNet: home, Window: cfg.Risk.Window, VolumeThreshold: cfg.Risk.VolumeBytes}
	if cfg.Risk.Policy != "" {
		b, err := os.ReadFile(cfg.Risk.Policy)
		if err != nil {
			return nil, err
		}
		if rc.Policy, err = risk.ParsePolicy(cfg.Risk.Policy, b, home); err != nil {
			return nil, err
		}
	}
	if cfg.Risk.IOC != "" {
		ioc, err := risk.LoadIOC(cfg.Risk.IOC)
		if err != nil {
			return nil, err
		}
		rc.IOC = risk.DefaultIOC().Merge(ioc)
	}
	return risk.New(rc)
}
