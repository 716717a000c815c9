package ref

import "github.com/humanllm/humanllm/kernels"

// Implementation is the reference implementation. The zero value is ready to
// use.
type Implementation struct{}

var _ kernels.Float32 = Implementation{}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C; see package kernels.
func (Implementation) Sgemm(tA, tB kernels.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kernels.CheckSgemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmStridedBatched runs Sgemm on each batch entry in turn; see package
// kernels.
func (Implementation) SgemmStridedBatched(tA, tB kernels.Transpose, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int, batch int) {
	kernels.CheckSgemmStridedBatched(tA, tB, m, n, k, len(a), lda, strideA, len(b), ldb, strideB, len(c), ldc, strideC, batch)
	if m == 0 || n == 0 {
		return
	}
	for i := range batch {
		var ai, bi []float32
		if k > 0 && alpha != 0 {
			ai, bi = a[i*strideA:], b[i*strideB:]
		}
		sgemm(tA, tB, m, n, k, alpha, ai, lda, bi, ldb, beta, c[i*strideC:], ldc)
	}
}

// sgemm is the unchecked triple loop.
func sgemm(tA, tB kernels.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := range m {
		for j := range n {
			var cij float32
			if beta != 0 {
				cij = beta * c[i*ldc+j]
			}
			if alpha == 0 || k == 0 {
				c[i*ldc+j] = cij
				continue
			}
			var sum float32
			for p := range k {
				sum += at(tA, a, lda, i, p) * at(tB, b, ldb, p, j)
			}
			c[i*ldc+j] = alpha*sum + cij
		}
	}
}

// at returns element (i, j) of op(X) for X stored row-major with leading
// dimension ld.
func at(t kernels.Transpose, x []float32, ld, i, j int) float32 {
	if t == kernels.Trans {
		return x[j*ld+i]
	}
	return x[i*ld+j]
}
