package main

import (
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/risk"
)

type policyCmd struct {
	Check policyCheckCmd `cmd:"" help:"Validate a policy file and explain what each rule does."`
}

type policyCheckCmd struct {
	File    string   `arg:"" type:"path" help:"Policy file (YAML)."`
	HomeNet []string `name:"home-net" help:"Networks that home_net stands for (default: RFC 1918 and ULA)."`
}

func (policyCheckCmd) Help() string {
	return "Exits 2 with file:line: reason if the policy is invalid.\n\nExamples:\n" +
		"  peerwatch policy check examples/policy.yaml\n" +
		"  peerwatch policy check --home-net 192.0.2.0/24 policy.yaml"
}

func (c policyCheckCmd) Run() error {
	cfg := config.Default()
	if len(c.HomeNet) > 0 {
		cfg.HomeNet = c.HomeNet
	}
	home, err := cfg.Prefixes()
	if err != nil {
		return &exitErr{exitInput, err}
	}
	data, err := readPolicy(c.File)
	if err != nil {
		return &exitErr{exitInput, err}
	}
	p, err := risk.ParsePolicy(c.File, data, home)
	if err != nil {
		return &exitErr{exitInput, err}
	}
	fmt.Printf("%s: valid, %d rules, home_net %s\n", c.File, len(p.Rules), prefixList(home))
	return p.Explain(os.Stdout)
}

func readPolicy(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, risk.MaxPolicySize+1))
}

func prefixList(ps []netip.Prefix) string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += ","
		}
		s += p.String()
	}
	return s
}
