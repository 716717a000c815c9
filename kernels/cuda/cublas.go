//go:build cuda

package cuda

import (
	"fmt"
	"unsafe"

	"github.com/humanllm/humanllm/kernels"
)

// cuBLAS (libcublas.so), through purego. Functions return a
// cublasStatus_t, 0 on success.

const (
	cublasOpN = 0
	cublasOpT = 1

	cudaR32F  = 0  // cudaDataType CUDA_R_32F
	cudaR16BF = 14 // cudaDataType CUDA_R_16BF

	cublasCompute32F         = 68 // fp32 inputs, fp32 arithmetic
	cublasCompute32FFastTF32 = 77 // inputs rounded to TF32 on tensor cores, fp32 accumulation

	cublasGemmDefault = -1
)

type cublasAPI struct {
	lib library

	cublasCreate, cublasDestroy, cublasGetVersion, cublasSgemm,
	cublasSgemmStridedBatched, cublasGemmEx, cublasGemmStridedBatchedEx uintptr
}

// cublasNames: CUDA 13 and 12 ship libcublas.so.13 and .12, CUDA 11
// libcublas.so.11.
var cublasNames = []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"}

func loadCUBLAS(dirs []string) (*cublasAPI, error) {
	lib, err := openLibrary("cuBLAS (libcublas, in the CUDA toolkit or the pip wheel nvidia-cublas-cu12)", cublasNames, dirs)
	if err != nil {
		return nil, err
	}
	c := &cublasAPI{lib: lib}
	err = lib.symbols(map[string]*uintptr{
		"cublasCreate_v2":            &c.cublasCreate,
		"cublasDestroy_v2":           &c.cublasDestroy,
		"cublasGetVersion_v2":        &c.cublasGetVersion,
		"cublasSgemm_v2":             &c.cublasSgemm,
		"cublasSgemmStridedBatched":  &c.cublasSgemmStridedBatched,
		"cublasGemmEx":               &c.cublasGemmEx,
		"cublasGemmStridedBatchedEx": &c.cublasGemmStridedBatchedEx,
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

var cublasStatus = map[int]string{
	1: "CUBLAS_STATUS_NOT_INITIALIZED", 3: "CUBLAS_STATUS_ALLOC_FAILED", 7: "CUBLAS_STATUS_INVALID_VALUE",
	8: "CUBLAS_STATUS_ARCH_MISMATCH", 11: "CUBLAS_STATUS_MAPPING_ERROR", 13: "CUBLAS_STATUS_EXECUTION_FAILED",
	14: "CUBLAS_STATUS_INTERNAL_ERROR", 15: "CUBLAS_STATUS_NOT_SUPPORTED", 16: "CUBLAS_STATUS_LICENSE_ERROR",
}

func (c *cublasAPI) check(what string, r int) error {
	if r == 0 {
		return nil
	}
	name := cublasStatus[r]
	if name == "" {
		name = "unknown cuBLAS status"
	}
	return fmt.Errorf("cuda: %s: %s (%d)", what, name, r)
}

func (c *cublasAPI) must(what string, r int) {
	if err := c.check(what, r); err != nil {
		panic(err)
	}
}

func cublasOp(t kernels.Transpose) uintptr {
	if t == kernels.Trans {
		return cublasOpT
	}
	return cublasOpN
}

// gemm is one (possibly batched) product in cuBLAS's column-major terms.
// A row-major matrix X with leading dimension ld is the column-major Xᵀ
// with the same ld, so the row-major C = op(A)·op(B) is computed as the
// column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: cuBLAS gets B first, A second, with
// m and n swapped and each operand's own transpose flag.
type gemm struct {
	tA, tB            kernels.Transpose
	m, n, k           int
	alpha, beta       float32
	a, b, c           uintptr // device pointers
	lda, ldb, ldc     int     // device leading dimensions
	sA, sB, sC, batch int     // strides in elements (batched only)
	tf32              bool
	bf16              bool // a and b hold bfloat16 (session.gemm converts them)
	batched           bool
	handle            uintptr
}

func (c *cublasAPI) run(g gemm) {
	alpha, beta := g.alpha, g.beta
	opA, opB := cublasOp(g.tA), cublasOp(g.tB)
	m, n, k := uintptr(g.n), uintptr(g.m), uintptr(g.k)
	algo := int32(cublasGemmDefault)
	ualgo := uintptr(uint32(algo))
	var r int
	// alpha and beta are host pointers (cuBLAS's default pointer mode),
	// converted in the call expressions so that call's uintptrescapes
	// moves them to the heap and keeps them alive.
	switch {
	case g.bf16 && !g.batched:
		r = call(c.cublasGemmEx, g.handle, opB, opA, m, n, k, uintptr(unsafe.Pointer(&alpha)),
			g.b, cudaR16BF, uintptr(g.ldb), g.a, cudaR16BF, uintptr(g.lda), uintptr(unsafe.Pointer(&beta)),
			g.c, cudaR32F, uintptr(g.ldc), cublasCompute32F, ualgo)
	case g.bf16:
		r = call(c.cublasGemmStridedBatchedEx, g.handle, opB, opA, m, n, k, uintptr(unsafe.Pointer(&alpha)),
			g.b, cudaR16BF, uintptr(g.ldb), uintptr(g.sB), g.a, cudaR16BF, uintptr(g.lda), uintptr(g.sA),
			uintptr(unsafe.Pointer(&beta)), g.c, cudaR32F, uintptr(g.ldc), uintptr(g.sC), uintptr(g.batch),
			cublasCompute32F, ualgo)
	case !g.tf32 && !g.batched:
		r = call(c.cublasSgemm, g.handle, opB, opA, m, n, k, uintptr(unsafe.Pointer(&alpha)),
			g.b, uintptr(g.ldb), g.a, uintptr(g.lda), uintptr(unsafe.Pointer(&beta)), g.c, uintptr(g.ldc))
	case !g.tf32:
		r = call(c.cublasSgemmStridedBatched, g.handle, opB, opA, m, n, k, uintptr(unsafe.Pointer(&alpha)),
			g.b, uintptr(g.ldb), uintptr(g.sB), g.a, uintptr(g.lda), uintptr(g.sA), uintptr(unsafe.Pointer(&beta)),
			g.c, uintptr(g.ldc), uintptr(g.sC), uintptr(g.batch))
	case !g.batched:
		r = call(c.cublasGemmEx, g.handle, opB, opA, m, n, k, uintptr(unsafe.Pointer(&alpha)),
			g.b, cudaR32F, uintptr(g.ldb), g.a, cudaR32F, uintptr(g.lda), uintptr(unsafe.Pointer(&beta)),
			g.c, cudaR32F, uintptr(g.ldc), cublasCompute32FFastTF32, ualgo)
	default:
		r = call(c.cublasGemmStridedBatchedEx, g.handle, opB, opA, m, n, k, uintptr(unsafe.Pointer(&alpha)),
			g.b, cudaR32F, uintptr(g.ldb), uintptr(g.sB), g.a, cudaR32F, uintptr(g.lda), uintptr(g.sA),
			uintptr(unsafe.Pointer(&beta)), g.c, cudaR32F, uintptr(g.ldc), uintptr(g.sC), uintptr(g.batch),
			cublasCompute32FFastTF32, ualgo)
	}
	c.must("cuBLAS GEMM", r)
}

// span is the number of elements from the first to the last one a
// (batched) operand stored as rows×cols with leading dimension ld and
// batch stride stride reads.
func span(rows, cols, ld, stride, batch int) int {
	n := (rows-1)*ld + cols
	if batch > 1 {
		n += (batch - 1) * stride
	}
	return n
}

// gemm runs g in the Implementation's precision. With Options.BF16, A and
// B are first rounded to bfloat16 copies in the arena (f32_to_bf16, the
// whole span each operand reads, so leading dimensions and strides carry
// over) and cuBLAS multiplies them on tensor cores with fp32 accumulation
// into the fp32 C: the usual mixed-precision GEMM, with fp32 weights,
// activations and gradients everywhere else.
func (s session) gemm(g gemm) {
	impl := s.impl
	g.handle, g.tf32 = impl.handle, impl.tf32
	if impl.bf16 {
		ra, ca := storedDims(g.tA, g.m, g.k)
		rb, cb := storedDims(g.tB, g.k, g.n)
		g.a = s.toBF16(g.a, span(ra, ca, g.lda, g.sA, g.batch))
		g.b = s.toBF16(g.b, span(rb, cb, g.ldb, g.sB, g.batch))
		g.bf16 = true
	}
	impl.blas.run(g)
}

// toBF16 returns a bfloat16 copy of the n floats at p, in the arena.
func (s session) toBF16(p uintptr, n int) uintptr {
	out := s.alloc((n + 1) / 2)
	s.launch("f32_to_bf16", elemGrid(n), 1, elemThreads, 0, out, p, int64(n))
	return out
}
