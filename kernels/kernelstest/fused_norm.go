package kernelstest

import (
	"testing"

	"github.com/humanllm/humanllm/kernels"
)

// TestRMSNorm checks Normer.RMSNorm and RMSNormBackward.
func TestRMSNorm(t *testing.T, impl kernels.Normer) { testNorm(t, impl, false) }

// TestLayerNorm checks Normer.LayerNorm and LayerNormBackward, with and
// without bias.
func TestLayerNorm(t *testing.T, impl kernels.Normer) { testNorm(t, impl, true) }

type normCase struct {
	rows, n     int
	scale, off  float64 // x uniform in off ± scale
	bias, alias bool    // LayerNorm bias; y = x and dx = dy
	extra       int
	nanRow      int // row with a NaN in x, or -1
}

func testNorm(t *testing.T, impl kernels.Normer, layer bool) {
	rng := seeded(t.Name())
	var cases []normCase
	i := 0
	for _, rows := range []int{1, 3, 17, 63, 64, 65, 257} {
		for _, n := range []int{1, 3, 7, 64, 65, 257} {
			cases = append(cases, normCase{rows: rows, n: n, scale: 1, bias: i%2 == 0, alias: i%4 == 1, extra: extraFor(i), nanRow: -1})
			i++
		}
	}
	cases = append(cases,
		normCase{rows: 300, n: 1000, scale: 2, bias: true, extra: 3, nanRow: -1},
		normCase{rows: 130, n: 768, scale: 1, alias: true, nanRow: -1},
		normCase{rows: 33, n: 768, scale: 1e-3, bias: true, nanRow: -1},
		// A mean far from zero: a one-pass variance would cancel.
		normCase{rows: 9, n: 768, scale: 1, off: 300, bias: true, extra: 1, nanRow: -1},
		normCase{rows: 5, n: 65, scale: 1, nanRow: 2, bias: true},
		normCase{rows: 70, n: 17, scale: 1, nanRow: 69, alias: true},
	)
	for _, c := range cases {
		if !runNormCase(t, impl, layer, c, rng) {
			return
		}
	}
	t.Run("FiniteDifferences", func(t *testing.T) {
		for _, s := range [][2]int{{3, 7}, {2, 16}, {1, 1}} {
			normFD(t, impl, layer, s[0], s[1], rng)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		if layer {
			impl.LayerNorm(nil, nil, nil, nil, nil, nil, 0, 5, 1e-5)
			impl.LayerNorm(nil, nil, nil, nil, nil, nil, 3, 0, 1e-5)
			impl.LayerNormBackward(nil, nil, nil, nil, nil, nil, nil, nil, 0, 4)
		} else {
			impl.RMSNorm(nil, nil, nil, nil, 0, 5, 1e-5)
			impl.RMSNorm(nil, nil, nil, nil, 4, 0, 1e-5)
			impl.RMSNormBackward(nil, nil, nil, nil, nil, nil, 4, 0)
		}
	})
}

func runNormCase(t *testing.T, impl kernels.Normer, layer bool, c normCase, rng interface{ Float64() float64 }) bool {
	t.Helper()
	rows, n, ex := c.rows, c.n, c.extra
	name := shapeName("rows%d_n%d", rows, n)
	if c.alias {
		name += "_alias"
	}
	if c.nanRow >= 0 {
		name += "_nan"
	}
	const eps = 1e-5
	x := newVec(rows*n, ex)
	for i := range x.n {
		x.data[i] = float32(c.off + c.scale*(2*rng.Float64()-1))
	}
	if c.nanRow >= 0 {
		x.data[c.nanRow*n+n/2] = nanF32()
	}
	w := newVec(n, ex)
	for i := range n {
		w.data[i] = float32(4*rng.Float64() - 2)
	}
	var b *vec
	var bData []float32
	var b64 []float64
	if layer && c.bias {
		b = newVec(n, ex)
		for i := range n {
			b.data[i] = float32(2*rng.Float64() - 1)
		}
		bData, b64 = b.data, b.f64()
		b.snap()
	}
	xOrig := append([]float32(nil), x.el()...)
	y, mean, rstd := newVec(rows*n, ex).fill(nanF32()), newVec(rows, ex).fill(nanF32()), newVec(rows, ex).fill(nanF32())
	if c.alias {
		y = x
	}
	for _, v := range []*vec{x, w, y, mean, rstd} {
		v.snap()
	}
	var o normOut
	if layer {
		o = layerNorm64(f64s(xOrig), w.f64(), b64, rows, n, eps)
		impl.LayerNorm(y.data, mean.data, rstd.data, x.data, w.data, bData, rows, n, eps)
	} else {
		o = rmsNorm64(f64s(xOrig), w.f64(), rows, n, eps)
		impl.RMSNorm(y.data, rstd.data, x.data, w.data, rows, n, eps)
	}
	ok := (c.alias || x.unchanged(t, name+": x")) && w.unchanged(t, name+": w") &&
		(b == nil || b.unchanged(t, name+": b")) && y.guards(t, name+": y") && rstd.guards(t, name+": rstd")
	if layer {
		ok = ok && mean.guards(t, name+": mean") && compare(t, name+": mean", mean.el(), o.mean, o.tolMean)
	} else {
		ok = ok && mean.unchanged(t, name+": mean (not an argument)")
	}
	ok = ok && compare(t, name+": y", y.el(), o.y, o.tolY) && compare(t, name+": rstd", rstd.el(), o.rstd, o.tolRstd)
	if !ok || c.nanRow >= 0 {
		return ok
	}

	// Backward, with the forward's statistics.
	xb := newVec(rows*n, ex).set(xOrig)
	dy := newVec(rows*n, ex)
	for i := range dy.n {
		dy.data[i] = float32(2*rng.Float64() - 1)
	}
	dx := newVec(rows*n, ex).fill(nanF32())
	dw := newVec(n, ex)
	for i := range n {
		dw.data[i] = float32(2*rng.Float64() - 1)
	}
	var db *vec
	var dbData []float32
	var db0 []float64
	if b != nil {
		db = newVec(n, ex)
		for i := range n {
			db.data[i] = float32(2*rng.Float64() - 1)
		}
		dbData, db0 = db.data, db.f64()
		db.snap()
	}
	dyOrig, dw0 := dy.f64(), dw.f64()
	if c.alias {
		dx = dy
	}
	for _, v := range []*vec{xb, dy, dx, dw, w, mean, rstd} {
		v.snap()
	}
	var mean64 []float64
	if layer {
		mean64 = mean.f64()
		impl.LayerNormBackward(dx.data, dw.data, dbData, dy.data, xb.data, w.data, mean.data, rstd.data, rows, n)
	} else {
		impl.RMSNormBackward(dx.data, dw.data, dy.data, xb.data, w.data, rstd.data, rows, n)
	}
	g := normBack64(dyOrig, f64s(xOrig), w.f64(), mean64, rstd.f64(), dw0, db0, rows, n)
	ok = xb.unchanged(t, name+": backward x") && w.unchanged(t, name+": backward w") && rstd.unchanged(t, name+": backward rstd") &&
		mean.unchanged(t, name+": backward mean") && (c.alias || dy.unchanged(t, name+": dy")) &&
		dx.guards(t, name+": dx") && dw.guards(t, name+": dw") && (db == nil || db.guards(t, name+": db"))
	ok = ok && compare(t, name+": dx", dx.el(), g.dx, g.tolDx) && compare(t, name+": dw (accumulated)", dw.el(), g.dw, g.tolDw)
	if db != nil {
		ok = ok && compare(t, name+": db (accumulated)", db.el(), g.db, g.tolDb)
	}
	return ok
}

// normFD checks the backward against finite differences of the float64
// forward: L = Σ R·y with R the dy handed to the backward.
func normFD(t *testing.T, impl kernels.Normer, layer bool, rows, n int, rng interface{ Float64() float64 }) {
	const eps = 1e-5
	rnd := func(k int, s float64) []float32 {
		x := make([]float32, k)
		for i := range x {
			x[i] = float32(s * (2*rng.Float64() - 1))
		}
		return x
	}
	x, w, b, r := rnd(rows*n, 1), rnd(n, 2), rnd(n, 1), rnd(rows*n, 1)
	y, mean, rstd := make([]float32, rows*n), make([]float32, rows), make([]float32, rows)
	dx, dw, db := make([]float32, rows*n), make([]float32, n), make([]float32, n)
	x64, w64, b64, r64 := f64s(x), f64s(w), f64s(b), f64s(r)
	var L func() float64
	var g normGrad
	if layer {
		impl.LayerNorm(y, mean, rstd, x, w, b, rows, n, eps)
		impl.LayerNormBackward(dx, dw, db, r, x, w, mean, rstd, rows, n)
		L = func() float64 { return dot64(r64, layerNorm64(x64, w64, b64, rows, n, eps).y) }
		g = normBack64(r64, x64, w64, f64s(mean), f64s(rstd), make([]float64, n), make([]float64, n), rows, n)
	} else {
		impl.RMSNorm(y, rstd, x, w, rows, n, eps)
		impl.RMSNormBackward(dx, dw, r, x, w, rstd, rows, n)
		L = func() float64 { return dot64(r64, rmsNorm64(x64, w64, rows, n, eps).y) }
		g = normBack64(r64, x64, w64, nil, f64s(rstd), make([]float64, n), nil, rows, n)
	}
	name := shapeName("rows%d_n%d", rows, n)
	compareFD(t, name+": dx", dx, fdGrad(x64, L), g.tolDx)
	compareFD(t, name+": dw", dw, fdGrad(w64, L), g.tolDw)
	if layer {
		compareFD(t, name+": db", db, fdGrad(b64, L), g.tolDb)
	}
}
