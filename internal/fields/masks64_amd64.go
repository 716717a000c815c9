//go:build !purego

package fields

import "golang.org/x/sys/cpu"

// HaveMasks64 reports whether the text scanners' AVX-512BW routines are
// used (Masks64 here, masks64_amd64.s; the scrub's in tasks/filter): the
// one switch, set from the CPU's features; callers then scan 64 bytes a
// step.
var HaveMasks64 = cpu.X86.HasAVX512BW

//go:noescape
func masks64(p *byte) (space, ws, high uint64)
