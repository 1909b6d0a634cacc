//go:build !race

package eve

const raceEnabled = false
