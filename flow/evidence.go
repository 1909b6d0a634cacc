package flow

// EvidenceByName returns the evidence bit called name (as Names spells
// it), or 0 for an unknown name.
func EvidenceByName(name string) Evidence {
	for i, n := range evidenceNames {
		if n == name {
			return 1 << i
		}
	}
	return 0
}
