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

var _ kernels.GELULinearer = Implementation{}

// SgemmBiasGELU computes U = op(A)·op(B) + bias and C = GELU(U); see
// kernels.GELULinearer. The GELU of each block of U is taken by the
// thread that computed the block, after its last k slab, while it is in
// cache.
func (impl Implementation) SgemmBiasGELU(tA, tB kernels.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, bias, u []float32, ldu int, c []float32, ldc int) {
	kernels.CheckSgemmGELU(tA, tB, m, n, k, len(a), lda, len(b), ldb, bias, u, ldu, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	g := &gemmArgs{tA: tA, tB: tB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb, beta: 1, c: u, ldc: ldu, batch: 1, variant: impl.variant(),
		init: &cInit{bias: bias, addTo: impl.ops().addTo}, epi: &cEpi{act: impl.geluRow(), out: c, ldo: ldc}}
	impl.runEpi(g)
}

// SgemmGELUBackward computes C = GELU'(U) ⊙ op(A)·op(B); see
// kernels.GELULinearer. As in SgemmBiasGELU, each block of the product is
// multiplied by the derivative right after its last k slab.
func (impl Implementation) SgemmGELUBackward(tA, tB kernels.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, u []float32, ldu int, c []float32, ldc int) {
	kernels.CheckSgemmGELU(tA, tB, m, n, k, len(a), lda, len(b), ldb, nil, u, ldu, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	g := &gemmArgs{tA: tA, tB: tB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, batch: 1, variant: impl.variant(),
		epi: &cEpi{actBwd: impl.geluBwdRow(), u: u, ldu: ldu}}
	impl.runEpi(g)
}

// runEpi runs a product with an epilogue (and perhaps an initial C).
func (impl Implementation) runEpi(g *gemmArgs) {
	if g.init != nil && g.init.bias == nil && g.init.r == nil {
		g.init, g.beta = nil, 0
	}
	if g.k == 0 { // no k slab: C is its initial value (or 0), then the epilogue
		if g.init != nil {
			g.init.rows(g.c, g.ldc, 0, g.m, 0, g.n)
		} else {
			scaleC(g.m, g.n, 0, g.c, g.ldc)
		}
		g.epi.rows(g.c, g.ldc, 0, g.m, 0, g.n)
		return
	}
	runGemm(g)
}

// cEpi is the epilogue of a product, applied to each block of C after its
// last k slab: out = act(C), or C = actBwd(dy = C, x = u).
type cEpi struct {
	act    func(y, x []float32)
	out    []float32
	ldo    int
	actBwd func(dx, dy, x []float32)
	u      []float32
	ldu    int
}

// rows applies the epilogue to C[i0:i1, j0:j1].
func (e *cEpi) rows(c []float32, ldc, i0, i1, j0, j1 int) {
	for i := i0; i < i1; i++ {
		row := c[i*ldc+j0 : i*ldc+j1]
		if e.act != nil {
			e.act(e.out[i*e.ldo+j0:i*e.ldo+j1], row)
		} else {
			e.actBwd(row, row, e.u[i*e.ldu+j0:i*e.ldu+j1])
		}
	}
}
