//go:build !amd64 || purego

package filter

// No assembly in this build (fields.HaveMasks64 is false): scrubMasks64 is
// its plain-Go reference.
func scrubMasks64(p *byte) (digit, at, hwf, u, colon, slash, w uint64) {
	return scrubMasks64Go(p)
}
