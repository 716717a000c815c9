//go:build !amd64 || purego

package filter

// scanAsm: no assembly in this build; nextCandidate reads eight bytes at
// a time.
const scanAsm = false

func scrubMasks64(p *byte) (digit, at, hwf, u, colon, slash, w uint64) {
	return scrubMasks64Go(p)
}
