package magic

import (
	"slices"
	"testing"

	"github.com/peerwatch/peerwatch/event"
)

// TestVocab keeps the classes equal to event.FileTypes, the list of names
// that leave the process.
func TestVocab(t *testing.T) {
	if !slices.Equal(Classes, event.FileTypes) {
		t.Fatalf("magic.Classes %v != event.FileTypes %v", Classes, event.FileTypes)
	}
}
