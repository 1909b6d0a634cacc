//go:build race

package eve

// raceEnabled is set under -race, where sync.Pool drops items at random and
// allocation counts of pooled paths mean nothing.
const raceEnabled = true
