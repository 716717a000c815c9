//go:build !purego

package cpu

// AVX-512F kernels of the fused ops (fused_avx512_amd64.s), used by the
// avx512 variant, and AVX2+FMA ones for the exp-based ops of the avx2
// variant. Everything else runs the Go loops (fused_math.go,
// fused_elem.go). Lengths are the last slice's (x, g, ...); the wrappers
// reslice the others so that a short slice panics in Go.

//go:noescape
func expSumAVX512(dst, x []float32, m float32) float32

//go:noescape
func maxAVX512(x []float32) float32

//go:noescape
func sumAVX512(x []float32) float32

//go:noescape
func sumSqDevAVX512(x []float32, c float32) float32

//go:noescape
func dotAVX512(x, y []float32) float32

//go:noescape
func dot3AVX512(x, y, z []float32) float32

//go:noescape
func scaleAVX512(dst, x []float32, s float32)

//go:noescape
func geluAVX512(y, x []float32)

//go:noescape
func geluBwdAVX512(dx, dy, x []float32)

//go:noescape
func siluAVX512(y, x []float32)

//go:noescape
func siluBwdAVX512(dx, dy, x []float32)

//go:noescape
func swigluAVX512(y, g, u []float32)

//go:noescape
func swigluBwdAVX512(dg, du, dy, g, u []float32)

//go:noescape
func adamwAVX512(param, grad, m, v []float32, a *adamArgs)

//go:noescape
func mulScaleAVX512(y, x, w []float32, s float32)

//go:noescape
func normAffineAVX512(y, x, w, b []float32, mu, rs float32)

//go:noescape
func rmsBwdRowAVX512(dx, acc, dy, x, w []float32, rs, k float32)

//go:noescape
func lnBwdStatsAVX512(accW, accB, dy, x, w []float32, mu, rs float32) (sg, sgx float32)

//go:noescape
func lnBwdRowAVX512(dx, dy, x, w []float32, mu, rs, mg, mgx float32)

//go:noescape
func mulSubAVX512(dst, dy, y []float32, s float32)

//go:noescape
func addToAVX512(dst, src []float32)

//go:noescape
func rotateAVX512(y0, y1, x0, x1, c, s []float32, back bool)

var avx512Ops = &vecOps{
	sum:      sumAVX512,
	sumSqDev: sumSqDevAVX512,
	dot:      func(x, y []float32) float32 { return dotAVX512(x, y[:len(x)]) },
	dot3:     func(x, y, z []float32) float32 { return dot3AVX512(x, y[:len(x)], z[:len(x)]) },
	max:      maxAVX512,
	expSum: func(dst, x []float32, m float32) float32 {
		if dst != nil {
			dst = dst[:len(x)]
		}
		return expSumAVX512(dst, x, m)
	},
	scale: func(dst, x []float32, s float32) { scaleAVX512(dst[:len(x)], x, s) },

	mulScale: func(y, x, w []float32, s float32) { mulScaleAVX512(y[:len(x)], x, w[:len(x)], s) },
	normAffine: func(y, x, w, b []float32, mu, rs float32) {
		if b != nil {
			b = b[:len(x)]
		}
		normAffineAVX512(y[:len(x)], x, w[:len(x)], b, mu, rs)
	},
	rmsBwdRow: func(dx, acc, dy, x, w []float32, rs, k float32) {
		n := len(x)
		rmsBwdRowAVX512(dx[:n], acc[:n], dy[:n], x, w[:n], rs, k)
	},
	lnBwdStats: func(accW, accB, dy, x, w []float32, mu, rs float32) (float32, float32) {
		n := len(x)
		return lnBwdStatsAVX512(accW[:n], accB[:n], dy[:n], x, w[:n], mu, rs)
	},
	lnBwdRow: func(dx, dy, x, w []float32, mu, rs, mg, mgx float32) {
		n := len(x)
		lnBwdRowAVX512(dx[:n], dy[:n], x, w[:n], mu, rs, mg, mgx)
	},
	mulSub: func(dst, dy, y []float32, s float32) { mulSubAVX512(dst[:len(y)], dy[:len(y)], y, s) },
	addTo:  func(dst, src []float32) { addToAVX512(dst[:len(src)], src) },
	rotate: func(y0, y1, x0, x1, c, s []float32, back bool) {
		n := len(c)
		rotateAVX512(y0[:n], y1[:n], x0[:n], x1[:n], c, s[:n], back)
	},
}

var avx512Elem = &elemOps{
	gelu:    func(y, x []float32) { geluAVX512(y[:len(x)], x) },
	silu:    func(y, x []float32) { siluAVX512(y[:len(x)], x) },
	geluBwd: func(dx, dy, x []float32) { geluBwdAVX512(dx[:len(x)], dy[:len(x)], x) },
	siluBwd: func(dx, dy, x []float32) { siluBwdAVX512(dx[:len(x)], dy[:len(x)], x) },
	swiglu:  func(y, g, u []float32) { swigluAVX512(y[:len(g)], g, u[:len(g)]) },
	swigluBwd: func(dg, du, dy, g, u []float32) {
		n := len(g)
		swigluBwdAVX512(dg[:n], du[:n], dy[:n], g, u[:n])
	},
	adamw: func(param, grad, m, v []float32, a *adamArgs) {
		n := len(param)
		adamwAVX512(param, grad[:n], m[:n], v[:n], a)
	},
}

// AVX2+FMA kernels (fused_avx2_amd64.s): the exp-based ones only.

//go:noescape
func expSumAVX2(dst, x []float32, m float32) float32

//go:noescape
func maxAVX2(x []float32) float32

//go:noescape
func geluAVX2(y, x []float32)

//go:noescape
func geluBwdAVX2(dx, dy, x []float32)

//go:noescape
func siluAVX2(y, x []float32)

//go:noescape
func siluBwdAVX2(dx, dy, x []float32)

//go:noescape
func swigluAVX2(y, g, u []float32)

//go:noescape
func swigluBwdAVX2(dg, du, dy, g, u []float32)

var avx2Ops = func() *vecOps {
	o := *goOps
	o.max = maxAVX2
	o.expSum = func(dst, x []float32, m float32) float32 {
		if dst != nil {
			dst = dst[:len(x)]
		}
		return expSumAVX2(dst, x, m)
	}
	return &o
}()

var avx2Elem = &elemOps{
	gelu:    func(y, x []float32) { geluAVX2(y[:len(x)], x) },
	silu:    func(y, x []float32) { siluAVX2(y[:len(x)], x) },
	geluBwd: func(dx, dy, x []float32) { geluBwdAVX2(dx[:len(x)], dy[:len(x)], x) },
	siluBwd: func(dx, dy, x []float32) { siluBwdAVX2(dx[:len(x)], dy[:len(x)], x) },
	swiglu:  func(y, g, u []float32) { swigluAVX2(y[:len(g)], g, u[:len(g)]) },
	swigluBwd: func(dg, du, dy, g, u []float32) {
		n := len(g)
		swigluBwdAVX2(dg[:n], du[:n], dy[:n], g, u[:n])
	},
}

func asmOps(v *variant) *vecOps {
	switch {
	case v.name == AVX512 && useAVX512:
		return avx512Ops
	case v.name == AVX2 && useAVX2:
		return avx2Ops
	}
	return nil
}

func asmElemOps(v *variant) *elemOps {
	switch {
	case v.name == AVX512 && useAVX512:
		return avx512Elem
	case v.name == AVX2 && useAVX2:
		return avx2Elem
	}
	return nil
}
