//go:build !purego

package filter

import "golang.org/x/sys/cpu"

// scanAsm: scrubMasks64 is the AVX-512BW routine (scan_amd64.s).
var scanAsm = cpu.X86.HasAVX512BW

//go:noescape
func scrubMasks64(p *byte) (digit, at, hwf, u, colon, slash, w uint64)
