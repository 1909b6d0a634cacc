// Package depcheck holds the test that enforces the layering of DESIGN §2
// and STYLE.md: which packages may import which (Tailscale's deptest idea).
package depcheck
