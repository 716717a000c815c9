//go:build !purego

package fields

import "golang.org/x/sys/cpu"

// HaveMasks64 reports whether Masks64 is the AVX-512BW routine
// (masks64_amd64.s); callers then scan 64 bytes a step.
var HaveMasks64 = cpu.X86.HasAVX512BW

//go:noescape
func masks64(p *byte) (space, ws, high uint64)
