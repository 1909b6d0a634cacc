// Package config holds peerwatch's typed configuration: defaults, the YAML
// file (unknown keys are errors) and Validate. Command-line flags override
// the file; the pipeline reads only this struct.
package config
