//go:build cuda

package cuda

import (
	"unsafe"

	"github.com/humanllm/humanllm/kernels"
)

// ResidentSgemmer returns a benchmark-only kernels.Sgemmer: its Sgemm runs
// the same cuBLAS call as Implementation.Sgemm on device buffers of the
// call's shape that stay allocated between calls, without copying A, B or
// C between host and device, and waits for the GPU. It measures cuBLAS
// itself, the throughput a device-resident step would see; the host slices
// are only checked, never read or written, so C holds no result.
func (impl *Implementation) ResidentSgemmer() kernels.Sgemmer { return resident{impl} }

type resident struct{ impl *Implementation }

func (r resident) Sgemm(tA, tB kernels.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kernels.CheckSgemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 || k == 0 {
		return
	}
	impl := r.impl
	s := impl.begin(impl.bf16)
	defer s.end()
	ra, ca := storedDims(tA, m, k)
	rb, cb := storedDims(tB, k, n)
	need := []int{ra * ca, rb * cb, m * n}
	if len(impl.resident) != 3 || impl.resident[0].size < need[0] || impl.resident[1].size < need[1] || impl.resident[2].size < need[2] {
		for _, b := range impl.resident {
			call(impl.drv.cuMemFree, b.ptr)
		}
		impl.resident = impl.resident[:0]
		for _, n := range need {
			var p uintptr
			impl.drv.must("cuMemAlloc", call(impl.drv.cuMemAlloc, uintptr(unsafe.Pointer(&p)), uintptr(4*n)))
			impl.drv.memset32(p, 0, n)
			impl.resident = append(impl.resident, arenaBlock{p, n})
		}
	}
	s.gemm(gemm{
		tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: impl.resident[0].ptr, b: impl.resident[1].ptr, c: impl.resident[2].ptr, lda: ca, ldb: cb, ldc: n,
		batch: 1,
	})
	impl.drv.must("cuCtxSynchronize", call(impl.drv.cuCtxSynchronize))
}
