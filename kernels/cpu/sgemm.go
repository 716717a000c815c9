package cpu

import (
	"unsafe"

	"github.com/humanllm/humanllm/kernels"
)

// gemmArgs are the arguments of one Sgemm (one batch entry at offset 0).
type gemmArgs struct {
	tA, tB  kernels.Transpose
	m, n, k int
	alpha   float32
	a       []float32
	lda     int
	b       []float32
	ldb     int
	beta    float32
	c       []float32
	ldc     int
	sA, sB  int // batch strides
	sC      int
	batch   int
	variant *variant
	init    *cInit // SgemmBias: C starts as R + bias (alpha 1, beta 1, batch 1)
	epi     *cEpi  // applied to each block of C after its last k slab (batch 1)
	pm, pn  int    // per-entry partition grid (parallel runs)
	mt, nt  int    // tiles along m and n
	parts   int    // batch*pm*pn
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C; see package kernels for
// the contract.
func (impl Implementation) Sgemm(tA, tB kernels.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kernels.CheckSgemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	runGemm(&gemmArgs{tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, batch: 1, variant: impl.variant()})
}

// SgemmStridedBatched runs batch Sgemm products; see package kernels. Batch
// entries are spread over the worker pool.
func (impl Implementation) SgemmStridedBatched(tA, tB kernels.Transpose, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int, batch int) {
	kernels.CheckSgemmStridedBatched(tA, tB, m, n, k, len(a), lda, strideA, len(b), ldb, strideB, len(c), ldc, strideC, batch)
	if m == 0 || n == 0 || batch == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		for i := range batch {
			scaleC(m, n, beta, c[i*strideC:], ldc)
		}
		return
	}
	run(&gemmArgs{tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
		sA: strideA, sB: strideB, sC: strideC, batch: batch, variant: impl.variant()})
}

// scaleC sets C = beta*C, writing zeros (not reading C) when beta == 0.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
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

// part computes part i of the call: batch entry i/(pm*pn), and within it
// the sub-block of C given by the grid cell i%(pm*pn).
func (g *gemmArgs) part(ws *workspace, i int) {
	cells := g.pm * g.pn
	bi, cell := i/cells, i%cells
	im, in := cell/g.pn, cell%g.pn
	v := g.variant
	m0, m1 := min(g.m, im*g.mt/g.pm*v.mr), min(g.m, (im+1)*g.mt/g.pm*v.mr)
	n0, n1 := min(g.n, in*g.nt/g.pn*v.nr), min(g.n, (in+1)*g.nt/g.pn*v.nr)
	if m0 < m1 && n0 < n1 {
		v.gemm(ws, g, bi*g.sA, bi*g.sB, bi*g.sC, m0, m1, n0, n1)
	}
}

// gemm computes rows [m0, m1) and columns [n0, n1) of C for the batch
// entry whose matrices start at a[offA:], b[offB:], c[offC:], on the
// calling goroutine.
func (v *variant) gemm(ws *workspace, g *gemmArgs, offA, offB, offC, m0, m1, n0, n1 int) {
	a, b, c := g.a[offA:], g.b[offB:], g.c[offC:]
	nr, k := v.nr, g.k
	kb := v.kcBlock(k)
	for jc := n0; jc < n1; jc += v.nc {
		nc := min(v.nc, n1-jc)
		ncPad := (nc + nr - 1) / nr * nr
		for pc := 0; pc < k; pc += kb {
			kc := min(kb, k-pc)
			bp := alignedBuf(&ws.b, kc*ncPad)
			v.packB(bp, g.tB, b, g.ldb, pc, kc, jc, nc)
			beta := g.beta
			if pc > 0 {
				beta = 1
			}
			for ic := m0; ic < m1; ic += v.mc {
				v.block(ws, g, a, c, bp, ic, min(v.mc, m1-ic), jc, nc, pc, kc, beta)
			}
		}
	}
}

// block packs rows [i0, i0+mc) of op(A)'s k slab [p0, p0+kc) into ws.a and
// multiplies them by the packed slab of op(B) whose first sliver is bp (C's
// columns [j0, j0+nc)), updating C[i0:i0+mc, j0:j0+nc] = alpha*A*B +
// beta*C.
func (v *variant) block(ws *workspace, g *gemmArgs, a, c, bp []float32, i0, mc, j0, nc, p0, kc int, beta float32) {
	mr, nr := v.mr, v.nr
	if p0 == 0 && g.init != nil {
		g.init.rows(c, g.ldc, i0, i0+mc, j0, j0+nc)
	}
	mcPad := (mc + mr - 1) / mr * mr
	ap := alignedBuf(&ws.a, kc*mcPad)
	v.packA(ap, g.tA, a, g.lda, i0, mc, p0, kc)
	for jr := 0; jr < nc; jr += nr {
		v.column(ws, g, c, ap, bp[jr*kc:(jr+nr)*kc], i0, mc, j0+jr, min(nr, nc-jr), kc, beta)
	}
	if g.epi != nil && p0+kc == g.k {
		g.epi.rows(c, g.ldc, i0, i0+mc, j0, j0+nc)
	}
}

// column multiplies the packed A block ap (rows [i0, i0+mc) of op(A)) by
// the packed B sliver bs (kc×nr), updating C[i0:i0+mc, j0:j0+nrr] (nrr <=
// nr; the sliver's columns past nrr are padding).
func (v *variant) column(ws *workspace, g *gemmArgs, c, ap, bs []float32, i0, mc, j0, nrr, kc int, beta float32) {
	mr, nr, ldc := v.mr, v.nr, g.ldc
	tile := ws.tile[:mr*nr]
	for ir := 0; ir < mc; ir += mr {
		mrr := min(mr, mc-ir)
		as := ap[ir*kc : (ir+mr)*kc]
		ci := (i0+ir)*ldc + j0
		if mrr == mr && nrr == nr {
			v.kernel(kc, as, bs, c[ci:], ldc, g.alpha, beta)
			continue
		}
		v.kernel(kc, as, bs, tile, nr, g.alpha, 0)
		storeEdge(c[ci:], ldc, tile, nr, mrr, nrr, beta)
	}
}

// kcBlock returns the depth of the k slabs for a product of depth k: k
// cut into the fewest slabs of at most kc, of equal depth rounded up to a
// multiple of 8 (the last may be shallower), so that no slab is a thin
// remainder. It depends on k alone, never on the thread count, so each
// element of C sums its products in the same order however the call is
// split.
func (v *variant) kcBlock(k int) int {
	slabs := (k + v.kc - 1) / v.kc
	return min(v.kc, ((k+slabs-1)/slabs+7)/8*8)
}

// storeEdge writes the top-left mr×nr corner of tile (row stride ld) to C:
// C = tile + beta*C, not reading C when beta == 0.
func storeEdge(c []float32, ldc int, tile []float32, ld, mr, nr int, beta float32) {
	for i := range mr {
		src := tile[i*ld : i*ld+nr]
		dst := c[i*ldc : i*ldc+nr]
		if beta == 0 {
			copy(dst, src)
			continue
		}
		for j, x := range src {
			dst[j] = x + beta*dst[j]
		}
	}
}

// packFunc packs k steps of a full sliver of width w (mr or nr):
// a gather, dst[p*w+r] = src[r*ld+p], or a copy, dst[p*w+r] = src[p*ld+r],
// for p < k, r < w. The caller guarantees the extents.
type packFunc func(dst, src []float32, ld, k int)

// packers are a variant's fast packing loops for full slivers; nil fields
// fall back to the Go loops. copyAWide and copyBWide, if set, pack n full
// slivers of width w (mr, nr) at once, row by row, for a transposed A and a
// non-transposed B: dst[t*w*k+p*w+j] = src[p*ld+t*w+j].
type packers struct {
	gatherA, copyA, gatherB, copyB packFunc
	copyAWide, copyBWide           func(dst, src []float32, ld, k, n int)
}

// packA packs op(A)[i0:i0+mc, p0:p0+kc] into mr-tall slivers: sliver s
// holds rows i0+s*mr.. as dst[s*mr*kc + p*mr + r]; rows past mc are zero.
func (v *variant) packA(dst []float32, tA kernels.Transpose, a []float32, lda, i0, mc, p0, kc int) {
	mr := v.mr
	s0 := 0
	if full := mc / mr; tA == kernels.Trans && v.copyAWide != nil && full > 0 && kc > 0 {
		// All full slivers row by row: each row of the stored A is one
		// contiguous run.
		src := a[p0*lda+i0:]
		_ = src[(kc-1)*lda+full*mr-1]
		_ = dst[full*mr*kc-1]
		v.copyAWide(dst, src, lda, kc, full)
		s0 = full * mr
	}
	for s := s0; s < mc; s += mr {
		d := dst[s*kc : (s+mr)*kc]
		rows := min(mr, mc-s)
		if tA == kernels.NoTrans {
			// op(A)[i, p] = a[i*lda+p]: gather columns of rows.
			src := a[(i0+s)*lda+p0:]
			if rows == mr && v.gatherA != nil {
				_ = src[(rows-1)*lda+kc-1]
				v.gatherA(d, src, lda, kc)
				continue
			}
			gather(d, src, lda, kc, mr, rows)
		} else {
			// op(A)[i, p] = a[p*lda+i]: rows of the stored matrix are columns.
			src := a[p0*lda+i0+s:]
			if rows == mr && v.copyA != nil {
				_ = src[(kc-1)*lda+rows-1]
				v.copyA(d, src, lda, kc)
				continue
			}
			copyRows(d, src, lda, kc, mr, rows)
		}
	}
}

// packB packs op(B)[p0:p0+kc, j0:j0+nc] into nr-wide slivers: sliver t
// holds columns j0+t*nr.. as dst[t*nr*kc + p*nr + j]; columns past nc are
// zero.
func (v *variant) packB(dst []float32, tB kernels.Transpose, b []float32, ldb, p0, kc, j0, nc int) {
	nr := v.nr
	t0 := 0
	if full := nc / nr; tB == kernels.NoTrans && v.copyBWide != nil && full > 0 && kc > 0 {
		// All full slivers row by row: each row of B is one contiguous run.
		src := b[p0*ldb+j0:]
		_ = src[(kc-1)*ldb+full*nr-1]
		_ = dst[full*nr*kc-1]
		v.copyBWide(dst, src, ldb, kc, full)
		t0 = full * nr
	}
	for t := t0; t < nc; t += nr {
		d := dst[t*kc : (t+nr)*kc]
		cols := min(nr, nc-t)
		if tB == kernels.NoTrans {
			// op(B)[p, j] = b[p*ldb+j]: contiguous runs.
			src := b[p0*ldb+j0+t:]
			if cols == nr && v.copyB != nil {
				_ = src[(kc-1)*ldb+cols-1]
				v.copyB(d, src, ldb, kc)
				continue
			}
			copyRows(d, src, ldb, kc, nr, cols)
		} else {
			// op(B)[p, j] = b[j*ldb+p]: gather.
			src := b[(j0+t)*ldb+p0:]
			if cols == nr && v.gatherB != nil {
				_ = src[(cols-1)*ldb+kc-1]
				v.gatherB(d, src, ldb, kc)
				continue
			}
			gather(d, src, ldb, kc, nr, cols)
		}
	}
}

// gather sets d[p*w+r] = src[r*ld+p] for r < n, and 0 for n <= r < w.
func gather(d, src []float32, ld, k, w, n int) {
	for r := range n {
		row := src[r*ld : r*ld+k]
		for p, x := range row {
			d[p*w+r] = x
		}
	}
	if n < w {
		for p := range k {
			clear(d[p*w+n : p*w+w])
		}
	}
}

// copyRows sets d[p*w:p*w+n] = src[p*ld:p*ld+n] and zeroes the rest of
// each w-wide row.
func copyRows(d, src []float32, ld, k, w, n int) {
	for p := range k {
		copy(d[p*w:p*w+n], src[p*ld:p*ld+n])
		if n < w {
			clear(d[p*w+n : p*w+w])
		}
	}
}

// workspace holds one goroutine's packing buffers.
type workspace struct {
	a, b []float32
	tile [14 * 32]float32 // the largest mr*nr
}

// alignedBuf returns n floats of *buf starting on a 64-byte boundary,
// growing *buf if needed (only ever growing, so warmed-up calls do not
// allocate).
func alignedBuf(buf *[]float32, n int) []float32 {
	const align = 64 / 4
	if cap(*buf) < n+align {
		*buf = make([]float32, n+align)
	}
	s := (*buf)[:cap(*buf)]
	off := 0
	if mis := int(uintptr(unsafe.Pointer(&s[0]))%64) / 4; mis != 0 {
		off = align - mis
	}
	return s[off : off+n]
}
