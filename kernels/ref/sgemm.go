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

var _ kernels.Linearer = Implementation{}

// SgemmBias computes C = op(A)·op(B) + (R + bias); see kernels.Linearer.
func (Implementation) SgemmBias(tA, tB kernels.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, bias, r []float32, ldr int, c []float32, ldc int) {
	kernels.CheckSgemmBias(tA, tB, m, n, k, len(a), lda, len(b), ldb, bias, r, ldr, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	for i := range m {
		for j := range n {
			var x float32
			switch {
			case r != nil && bias != nil:
				x = r[i*ldr+j] + bias[j]
			case r != nil:
				x = r[i*ldr+j]
			case bias != nil:
				x = bias[j]
			}
			c[i*ldc+j] = x
		}
	}
	sgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, 1, c, ldc)
}

// BiasGrad accumulates the column sums of dy into db; see kernels.Linearer.
func (Implementation) BiasGrad(db, dy []float32, rows, n int) {
	kernels.CheckBiasGrad(db, dy, rows, n)
	if rows == 0 {
		return
	}
	for j := range n {
		var s float32
		for b0 := 0; b0 < rows; b0 += kernels.BiasGradBlock {
			t := dy[b0*n+j]
			for i := b0 + 1; i < min(rows, b0+kernels.BiasGradBlock); i++ {
				t += dy[i*n+j]
			}
			if b0 == 0 {
				s = t
			} else {
				s += t
			}
		}
		db[j] += s
	}
}

var _ kernels.GELULinearer = Implementation{}

// SgemmBiasGELU computes U = op(A)·op(B) + bias and C = GELU(U); see
// kernels.GELULinearer.
func (impl Implementation) SgemmBiasGELU(tA, tB kernels.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, bias, u []float32, ldu int, c []float32, ldc int) {
	kernels.CheckSgemmGELU(tA, tB, m, n, k, len(a), lda, len(b), ldb, bias, u, ldu, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	impl.SgemmBias(tA, tB, m, n, k, a, lda, b, ldb, bias, nil, 0, u, ldu)
	for i := range m {
		impl.GELU(c[i*ldc:i*ldc+n], u[i*ldu:i*ldu+n], n)
	}
}

// SgemmGELUBackward computes C = GELU'(U) ⊙ op(A)·op(B); see
// kernels.GELULinearer.
func (impl Implementation) SgemmGELUBackward(tA, tB kernels.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, u []float32, ldu int, c []float32, ldc int) {
	kernels.CheckSgemmGELU(tA, tB, m, n, k, len(a), lda, len(b), ldb, nil, u, ldu, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	sgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		impl.GELUBackward(row, row, u[i*ldu:i*ldu+n], n)
	}
}
