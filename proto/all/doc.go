// Package all imports every protocol analyzer for its registration.
// all.go is generated from the directory listing of proto/ by gen.go
// (go generate ./proto/all); TestAllUpToDate fails when it is stale.
// The cross-protocol classification test lives here too: it runs every
// capture of the repository and of ../shared through the whole classifier.
package all

//go:generate go run gen.go
