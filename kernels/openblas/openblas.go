//go:build openblas && cgo

package openblas

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>

// Declared by OpenBLAS's cblas.h; repeated here in case a distribution's
// header lacks them.
extern char* openblas_get_corename(void);
extern char* openblas_get_config(void);
extern void openblas_set_num_threads(int);
*/
import "C"

import (
	"unsafe"

	"github.com/humanllm/humanllm/kernels"
)

// Available reports whether this build calls OpenBLAS.
const Available = true

// Implementation calls cblas_sgemm (row-major).
type Implementation struct{}

var _ kernels.Float32 = Implementation{}

// New returns the OpenBLAS Sgemm.
func New() (Implementation, error) { return Implementation{}, nil }

// CoreName is the kernel OpenBLAS selected (e.g. "Cooperlake", "Haswell";
// OPENBLAS_CORETYPE overrides it).
func CoreName() string { return C.GoString(C.openblas_get_corename()) }

// Config is OpenBLAS's build configuration string.
func Config() string { return C.GoString(C.openblas_get_config()) }

// SetThreads sets OpenBLAS's thread count.
func SetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }

func trans(t kernels.Transpose) C.enum_CBLAS_TRANSPOSE {
	if t == kernels.Trans {
		return C.CblasTrans
	}
	return C.CblasNoTrans
}

func ptr(s []float32) *C.float {
	if len(s) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&s[0]))
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C with cblas_sgemm.
func (Implementation) Sgemm(tA, tB kernels.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kernels.CheckSgemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	C.cblas_sgemm(C.CblasRowMajor, trans(tA), trans(tB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), ptr(a), C.blasint(lda), ptr(b), C.blasint(ldb), C.float(beta), ptr(c), C.blasint(ldc))
}

// SgemmStridedBatched loops over cblas_sgemm.
func (impl Implementation) SgemmStridedBatched(tA, tB kernels.Transpose, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int, batch int) {
	kernels.CheckSgemmStridedBatched(tA, tB, m, n, k, len(a), lda, strideA, len(b), ldb, strideB, len(c), ldc, strideC, batch)
	for i := range batch {
		impl.Sgemm(tA, tB, m, n, k, alpha, a[i*strideA:], lda, b[i*strideB:], ldb, beta, c[i*strideC:], ldc)
	}
}
