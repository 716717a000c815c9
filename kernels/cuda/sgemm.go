//go:build cuda

package cuda

import "github.com/humanllm/humanllm/kernels"

// storedDims returns the stored rows and columns of a matrix whose op(X)
// is r×c.
func storedDims(t kernels.Transpose, r, c int) (rows, cols int) {
	if t == kernels.Trans {
		return c, r
	}
	return r, c
}

// scaleC does C = beta·C on the host for the products with nothing to
// multiply (alpha == 0 or k == 0), as the reference BLAS does: beta == 0
// writes zeros without reading C. Nothing would be gained on the GPU.
func scaleC(beta float32, c []float32, m, n, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// Sgemm implements kernels.Sgemmer with cublasSgemm (or cublasGemmEx on
// TF32 tensor cores with Options.TF32). A and B are copied to dense device
// matrices, C too unless beta is 0; only C's m×n elements are copied back.
func (impl *Implementation) Sgemm(tA, tB kernels.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kernels.CheckSgemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(beta, c, m, n, ldc)
		return
	}
	impl.SgemmStridedBatched(tA, tB, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1)
}

// SgemmStridedBatched implements kernels.SgemmStridedBatcher with
// cublasSgemmStridedBatched (or cublasGemmStridedBatchedEx with TF32).
// Each matrix is copied to a dense device matrix; a stride of 0 uploads A
// or B once and hands cuBLAS a stride of 0.
func (impl *Implementation) SgemmStridedBatched(tA, tB kernels.Transpose, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int, batch int) {
	kernels.CheckSgemmStridedBatched(tA, tB, m, n, k, len(a), lda, strideA, len(b), ldb, strideB, len(c), ldc, strideC, batch)
	if batch == 0 || m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		for i := range batch {
			scaleC(beta, c[i*strideC:], m, n, ldc)
		}
		return
	}
	for _, v := range []int{m, n, k, lda, ldb, ldc, batch} {
		i32(v)
	}
	s := impl.begin(impl.bf16) // bf16 converts operands with a kernel
	defer s.end()
	d := impl.drv
	ra, ca := storedDims(tA, m, k)
	rb, cb := storedDims(tB, k, n)
	upload := func(x []float32, rows, cols, ld, stride int) (p uintptr, dstride int) {
		one := rows * cols
		if stride == 0 || batch == 1 {
			p = s.alloc(one)
			d.htod2D(p, x, rows, cols, ld)
			return p, 0
		}
		p = s.alloc(batch * one)
		if ld == cols && stride == one {
			d.htod(p, x[:batch*one])
			return p, one
		}
		for i := range batch {
			d.htod2D(p+uintptr(4*i*one), x[i*stride:], rows, cols, ld)
		}
		return p, one
	}
	pa, sa := upload(a, ra, ca, lda, strideA)
	pb, sb := upload(b, rb, cb, ldb, strideB)
	one := m * n
	pc := s.alloc(batch * one)
	if beta == 0 {
		// C is not read (cuBLAS does not read C when beta is 0); zeroed
		// anyway so that stale arena contents can never reach it.
		d.memset32(pc, 0, batch*one)
	} else {
		if batch == 1 || (ldc == n && strideC == one) {
			d.htod2D(pc, c, batch*m, n, ldc)
		} else {
			for i := range batch {
				d.htod2D(pc+uintptr(4*i*one), c[i*strideC:], m, n, ldc)
			}
		}
	}
	s.gemm(gemm{
		tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: pa, b: pb, c: pc, lda: ca, ldb: cb, ldc: n,
		sA: sa, sB: sb, sC: one, batch: batch,
		batched: batch > 1,
	})
	if batch == 1 || (ldc == n && strideC == one) {
		d.dtoh2D(c, pc, batch*m, n, ldc)
		return
	}
	for i := range batch {
		d.dtoh2D(c[i*strideC:], pc+uintptr(4*i*one), m, n, ldc)
	}
}
