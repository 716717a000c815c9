package cpu

import (
	"math"

	"github.com/humanllm/humanllm/kernels"
)

// The fused operations (kernels.Fused). Work is split over the worker pool
// (parallel.go) by rows, elements, (batch, head, block) tiles or column
// blocks. Every output element is computed by code that does not depend on
// how the work was split: per-row and per-element results are independent
// of the chunking, and the one cross-row reduction, the parameter gradients
// of the norms, sums fixed blocks of normBlock rows into per-block partials
// that are then added in block order. So results are bit-identical for
// every GOMAXPROCS (kernelstest.TestFusedDeterminism checks it).

var _ kernels.Kernels = Implementation{}

// vecOps are the vector primitives the fused ops are built on; each variant
// has a set (goOps in plain Go, assembly where the variant has it).
type vecOps struct {
	sum      func(x []float32) float32
	sumSqDev func(x []float32, c float32) float32 // Σ (x−c)²
	dot      func(x, y []float32) float32
	dot3     func(x, y, z []float32) float32 // Σ x·y·z
	max      func(x []float32) float32
	expSum   func(dst, x []float32, m float32) float32 // dst = e^(x−m) (dst nil: not stored), returns Σ
	scale    func(dst, x []float32, s float32)

	// Row kernels of the norms, softmax, embedding and RoPE; see the Go
	// versions in fused_math.go.
	mulScale   func(y, x, w []float32, s float32)
	normAffine func(y, x, w, b []float32, mu, rs float32)
	rmsBwdRow  func(dx, acc, dy, x, w []float32, rs, k float32)
	lnBwdStats func(accW, accB, dy, x, w []float32, mu, rs float32) (sg, sgx float32)
	lnBwdRow   func(dx, dy, x, w []float32, mu, rs, mg, mgx float32)
	mulSub     func(dst, dy, y []float32, s float32)
	addTo      func(dst, src []float32)
	rotate     func(y0, y1, x0, x1, c, s []float32, back bool)
}

var goOps = &vecOps{sum: sumGo, sumSqDev: sumSqDevGo, dot: dotGo, dot3: dot3Go, max: maxGo, expSum: expSumGo, scale: scaleGo,
	mulScale: mulScaleGo, normAffine: normAffineGo, rmsBwdRow: rmsBwdRowGo, lnBwdStats: lnBwdStatsGo, lnBwdRow: lnBwdRowGo,
	mulSub: mulSubGo, addTo: addToGo, rotate: rotateGo}

// ops returns the primitives of impl's variant.
func (impl Implementation) ops() *vecOps {
	if o := asmOps(impl.variant()); o != nil {
		return o
	}
	return goOps
}

// normBlock is the number of rows whose parameter-gradient contributions
// are summed into one partial (a fixed number, so the summation order does
// not depend on the number of threads).
const normBlock = 32

// RMSNorm implements kernels.Normer.
func (impl Implementation) RMSNorm(y, rstd, x, w []float32, rows, n int, eps float32) {
	kernels.CheckRMSNorm(y, rstd, x, w, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	o := impl.ops()
	w = w[:n]
	parRange(rows, 1, 2*rows*n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*n:r*n+n], y[r*n:r*n+n]
			rs := float32(1 / math.Sqrt(float64(o.sumSqDev(xr, 0))/float64(n)+float64(eps)))
			o.mulScale(yr, xr, w, rs)
			rstd[r] = rs
		}
	})
}

// RMSNormBackward implements kernels.Normer: with x̂ = x·rstd and
// g = dy·w, dx = rstd·g − x·rstd³·Σ(g·x)/n and dw += Σ_rows dy·x̂.
func (impl Implementation) RMSNormBackward(dx, dw, dy, x, w, rstd []float32, rows, n int) {
	kernels.CheckRMSNormBackward(dx, dw, dy, x, w, rstd, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	o := impl.ops()
	w = w[:n]
	blocks := (rows + normBlock - 1) / normBlock
	part := getScratch(blocks * n)
	parts := *part
	parFor(blocks, 3*rows*n, func(_ *workspace, bi int) {
		acc := parts[bi*n : bi*n+n]
		clear(acc)
		for r := bi * normBlock; r < min(rows, (bi+1)*normBlock); r++ {
			xr, dyr, dxr := x[r*n:r*n+n], dy[r*n:r*n+n], dx[r*n:r*n+n]
			rs := rstd[r]
			k := rs * rs * rs * (o.dot3(dyr, w, xr) / float32(n))
			o.rmsBwdRow(dxr, acc, dyr, xr, w, rs, k)
		}
	})
	sumBlocks(dw[:n], parts, blocks, n)
	putScratch(part)
}

// sumBlocks adds to dst (n elements) the blocks n-element partials in
// parts, summed in block order.
func sumBlocks(dst, parts []float32, blocks, n int) {
	parRange(n, 16, blocks*n, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			s := parts[j]
			for b := 1; b < blocks; b++ {
				s += parts[b*n+j]
			}
			dst[j] += s
		}
	})
}

// LayerNorm implements kernels.Normer: two-pass mean and variance.
func (impl Implementation) LayerNorm(y, mean, rstd, x, w, b []float32, rows, n int, eps float32) {
	kernels.CheckLayerNorm(y, mean, rstd, x, w, b, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	o := impl.ops()
	w = w[:n]
	if b != nil {
		b = b[:n]
	}
	parRange(rows, 1, 3*rows*n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*n:r*n+n], y[r*n:r*n+n]
			mu := o.sum(xr) / float32(n)
			rs := float32(1 / math.Sqrt(float64(o.sumSqDev(xr, mu))/float64(n)+float64(eps)))
			o.normAffine(yr, xr, w, b, mu, rs)
			mean[r], rstd[r] = mu, rs
		}
	})
}

// LayerNormBackward implements kernels.Normer: with x̂ = (x−mean)·rstd and
// g = dy·w, dx = rstd·(g − Σg/n − x̂·Σ(g·x̂)/n), dw += Σ dy·x̂, db += Σ dy.
func (impl Implementation) LayerNormBackward(dx, dw, db, dy, x, w, mean, rstd []float32, rows, n int) {
	kernels.CheckLayerNormBackward(dx, dw, db, dy, x, w, mean, rstd, rows, n)
	if rows == 0 || n == 0 {
		return
	}
	o := impl.ops()
	w = w[:n]
	blocks := (rows + normBlock - 1) / normBlock
	part := getScratch(2 * blocks * n)
	parts := *part
	pw, pb := parts[:blocks*n], parts[blocks*n:]
	parFor(blocks, 3*rows*n, func(_ *workspace, bi int) {
		accW, accB := pw[bi*n:bi*n+n], pb[bi*n:bi*n+n]
		clear(accW)
		clear(accB)
		for r := bi * normBlock; r < min(rows, (bi+1)*normBlock); r++ {
			xr, dyr, dxr := x[r*n:r*n+n], dy[r*n:r*n+n], dx[r*n:r*n+n]
			mu, rs := mean[r], rstd[r]
			sg, sgx := o.lnBwdStats(accW, accB, dyr, xr, w, mu, rs)
			o.lnBwdRow(dxr, dyr, xr, w, mu, rs, sg/float32(n), sgx/float32(n))
		}
	})
	sumBlocks(dw[:n], pw, blocks, n)
	if db != nil {
		sumBlocks(db[:n], pb, blocks, n)
	}
	putScratch(part)
}

// elemOps are a variant's whole-loop elementwise kernels (nil fields: the
// Go loops in fused_elem.go).
type elemOps struct {
	gelu, silu       func(y, x []float32)
	geluBwd, siluBwd func(dx, dy, x []float32)
	swiglu           func(y, g, u []float32)
	swigluBwd        func(dg, du, dy, g, u []float32)
	adamw            func(param, grad, m, v []float32, a *adamArgs)
}

var noElem = &elemOps{}

// asmElem returns the elementwise kernels of impl's variant.
func (impl Implementation) asmElem() *elemOps {
	if e := asmElemOps(impl.variant()); e != nil {
		return e
	}
	return noElem
}
