package ggops

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/cpu"
)

// BLAS is a gorgonia BLAS (all of gonum's blas.Float32/64/Complex64/128)
// whose float32 matrix products run on a kernels.Sgemmer; everything else
// is gonum's pure-Go implementation.
//
// gorgonia's float32 paths call, through gorgonia.org/tensor's StdEng:
// Sgemm (Mul of two matrices and BatchedMatMul, forward and backward: one
// call per matrix pair, transposes as flags), Sgemv (Mul of a matrix and a
// vector, and its backward), Sger (the outer product in the backward of a
// matrix-vector Mul) and Sdot (Mul of two vectors). All four are routed to
// K.Sgemm when their vectors are contiguous (increments 1), which is
// always the case in tensor's calls; other increments and the degenerate
// sizes for which BLAS returns without touching its output go to gonum.
// Both BLAS and kernels are row-major, so arguments pass through
// unchanged; blas.ConjTrans is blas.Trans for real matrices.
type BLAS struct {
	gonum.Implementation
	K kernels.Sgemmer
}

// Use makes gorgonia (and gorgonia.org/tensor, which gorgonia.Use also
// sets) run its float32 matrix products on k; nil means cpu.Implementation{}.
// The setting is global to the process.
func Use(k kernels.Sgemmer) {
	if k == nil {
		k = cpu.Implementation{}
	}
	G.Use(BLAS{K: k})
}

// UseGonum restores gorgonia's default BLAS, gonum's.
func UseGonum() { G.Use(gonum.Implementation{}) }

func trans(t blas.Transpose) (kernels.Transpose, bool) {
	switch t {
	case blas.NoTrans:
		return kernels.NoTrans, true
	case blas.Trans, blas.ConjTrans:
		return kernels.Trans, true
	}
	return 0, false
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C on b.K.
func (b BLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, bm []float32, ldb int, beta float32, c []float32, ldc int) {
	ka, okA := trans(tA)
	kb, okB := trans(tB)
	if !okA || !okB {
		b.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc) // panics with gonum's message
		return
	}
	b.K.Sgemm(ka, kb, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc)
}

// Sgemv computes y = alpha·op(A)·x + beta·y (A m×n) as a one-column Sgemm
// on b.K.
func (b BLAS) Sgemv(tA blas.Transpose, m, n int, alpha float32, a []float32, lda int, x []float32, incX int, beta float32, y []float32, incY int) {
	ka, ok := trans(tA)
	if !ok || incX != 1 || incY != 1 || m <= 0 || n <= 0 {
		b.Implementation.Sgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	if ka == kernels.NoTrans { // y (m) = A·x (n)
		b.K.Sgemm(kernels.NoTrans, kernels.NoTrans, m, 1, n, alpha, a, lda, x, 1, beta, y, 1)
	} else { // y (n) = Aᵀ·x (m)
		b.K.Sgemm(kernels.Trans, kernels.NoTrans, n, 1, m, alpha, a, lda, x, 1, beta, y, 1)
	}
}

// Sger computes A += alpha·x·yᵀ (A m×n) as a rank-1 Sgemm on b.K.
func (b BLAS) Sger(m, n int, alpha float32, x []float32, incX int, y []float32, incY int, a []float32, lda int) {
	if incX != 1 || incY != 1 || m <= 0 || n <= 0 || alpha == 0 {
		b.Implementation.Sger(m, n, alpha, x, incX, y, incY, a, lda)
		return
	}
	b.K.Sgemm(kernels.NoTrans, kernels.NoTrans, m, n, 1, alpha, x, 1, y, n, 1, a, lda)
}

// Sdot returns xᵀy as a 1×1 Sgemm on b.K.
func (b BLAS) Sdot(n int, x []float32, incX int, y []float32, incY int) float32 {
	if incX != 1 || incY != 1 || n <= 0 {
		return b.Implementation.Sdot(n, x, incX, y, incY)
	}
	var c [1]float32
	b.K.Sgemm(kernels.NoTrans, kernels.NoTrans, 1, 1, n, 1, x, n, y, 1, 0, c[:], 1)
	return c[0]
}
