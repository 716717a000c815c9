package cpu

import "github.com/humanllm/humanllm/kernels"

var _ kernels.Linearer = Implementation{}

// SgemmBias computes C = op(A)·op(B) + (R + bias); see kernels.Linearer.
// The initial C = R + bias is written block by block by the thread that
// then computes that block (at its first k slab, just before the
// micro-kernels read it back from cache), so it costs no pass of its own
// over C and is as parallel as the product.
func (impl Implementation) SgemmBias(tA, tB kernels.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, bias, r []float32, ldr int, c []float32, ldc int) {
	kernels.CheckSgemmBias(tA, tB, m, n, k, len(a), lda, len(b), ldb, bias, r, ldr, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	g := &gemmArgs{tA: tA, tB: tB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb, beta: 1, c: c, ldc: ldc, batch: 1, variant: impl.variant(),
		init: &cInit{bias: bias, r: r, ldr: ldr, addTo: impl.ops().addTo}}
	if bias == nil && r == nil && k > 0 {
		g.init, g.beta = nil, 0 // a plain product
	}
	if k == 0 {
		g.init.rows(c, ldc, 0, m, 0, n)
		return
	}
	runGemm(g)
}

// cInit is the initial value of C for SgemmBias: R + bias.
type cInit struct {
	bias, r []float32
	ldr     int
	addTo   func(dst, src []float32)
}

// rows writes R + bias into C[i0:i1, j0:j1].
func (ci *cInit) rows(c []float32, ldc, i0, i1, j0, j1 int) {
	for i := i0; i < i1; i++ {
		row := c[i*ldc+j0 : i*ldc+j1]
		switch {
		case ci.r != nil:
			copy(row, ci.r[i*ci.ldr+j0:i*ci.ldr+j1])
			if ci.bias != nil {
				ci.addTo(row, ci.bias[j0:j1])
			}
		case ci.bias != nil:
			copy(row, ci.bias[j0:j1])
		default:
			clear(row)
		}
	}
}

// BiasGrad accumulates the column sums of dy into db in the order of
// kernels.Linearer: threads sum blocks of rows, each streaming its
// contiguous rows into a partial row, then split the columns to add the
// partials up in block order.
func (impl Implementation) BiasGrad(db, dy []float32, rows, n int) {
	kernels.CheckBiasGrad(db, dy, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	add := impl.ops().addTo
	const blk = kernels.BiasGradBlock
	nb := (rows + blk - 1) / blk
	buf := getScratch(nb * n)
	t := *buf
	parFor(nb, rows*n, func(_ *workspace, k int) {
		tk := t[k*n : (k+1)*n]
		r0 := k * blk
		copy(tk, dy[r0*n:(r0+1)*n])
		for i := r0 + 1; i < min(rows, r0+blk); i++ {
			add(tk, dy[i*n:(i+1)*n])
		}
	})
	parRange(n, 16, 2*nb*n, func(lo, hi int) {
		s := t[lo:hi]
		for k := 1; k < nb; k++ {
			add(s, t[k*n+lo:k*n+hi])
		}
		add(db[lo:hi], s)
	})
	putScratch(buf)
}
