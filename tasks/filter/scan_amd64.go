//go:build !purego

package filter

// scrubMasks64 is the AVX-512BW routine (scan_amd64.s); nextCandidate
// calls it when fields.HaveMasks64, the one switch of the text scanners'
// assembly.
//
//go:noescape
func scrubMasks64(p *byte) (digit, at, hwf, u, colon, slash, w uint64)
