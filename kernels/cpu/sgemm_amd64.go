//go:build !purego

package cpu

//go:generate sh -c "cd _asm && go run . -out .."

import "golang.org/x/sys/cpu"

// Set once from the CPU's features, like crypto/sha256's useAVX2.
var (
	useAVX512 = cpu.X86.HasAVX512F
	useAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
)

//go:noescape
func sgemmKernelAVX512(k int, a, b, c []float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmKernelAVX2(k int, a, b, c []float32, ldc int, alpha, beta float32)

// fmaPeakAVX512 runs n iterations of 12 independent zmm FMAs (384 flops).
//
//go:noescape
func fmaPeakAVX512(n int)

// fmaPeakAVX2 runs n iterations of 12 independent ymm FMAs (192 flops).
//
//go:noescape
func fmaPeakAVX2(n int)

// Packing loops (pack_amd64.s): dst[p*R+r] = src[r*ld+p] (gather) or
// src[p*ld+r] (copy) for p < k, r < R.

//go:noescape
func packGather6(dst, src []float32, ld, k int)

//go:noescape
func packCopy6(dst, src []float32, ld, k int)

//go:noescape
func packGather14(dst, src []float32, ld, k int)

//go:noescape
func packCopy14(dst, src []float32, ld, k int)

//go:noescape
func packGather16(dst, src []float32, ld, k int)

//go:noescape
func packCopy16(dst, src []float32, ld, k int)

//go:noescape
func packGather32(dst, src []float32, ld, k int)

//go:noescape
func packCopy32(dst, src []float32, ld, k int)

// packCopyWideR packs n slivers of R at once, row by row:
// dst[t*R*k+p*R+r] = src[p*ld+t*R+r] for t < n, p < k, r < R.

//go:noescape
func packCopyWide14(dst, src []float32, ld, k, n int)

//go:noescape
func packCopyWide32(dst, src []float32, ld, k, n int)

// asmVariants returns the assembly variants this CPU supports, best first.
func asmVariants() []*variant {
	var asm []*variant
	if useAVX512 {
		asm = append(asm, &variant{name: AVX512, mr: 14, nr: 32, mc: 14 * 8, kc: 512, nc: 3072, kernel: sgemmKernelAVX512,
			packers: packers{gatherA: packGather14, copyA: packCopy14, gatherB: packGather32, copyB: packCopy32,
				copyAWide: packCopyWide14, copyBWide: packCopyWide32}})
	}
	if useAVX2 {
		asm = append(asm, &variant{name: AVX2, mr: 6, nr: 16, mc: 6 * 40, kc: 256, nc: 3072, kernel: sgemmKernelAVX2,
			packers: packers{gatherA: packGather6, copyA: packCopy6, gatherB: packGather16, copyB: packCopy16}})
	}
	return asm
}
