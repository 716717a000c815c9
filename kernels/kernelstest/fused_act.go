package kernelstest

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/humanllm/humanllm/kernels"
)

// actFunc returns y(x), y'(x), the magnitude of the terms of y'(x), and the
// argument z of the sigmoid y is built on.
type actFunc func(x float64) (y, d, magD, z float64)

func siluF(x float64) (y, d, magD, z float64) {
	y, d, magD = silu64(x)
	return y, d, magD, x
}

// actK returns the tolerance factors of a sigmoid-based activation at z for
// the forward and the backward: the relative error of σ(z) grows with the
// rounding of z, times 1−σ(z).
func actK(z float64) (kf, kb float64) {
	e := math.Abs(z) * (1 - sigmoid64(z))
	if math.IsNaN(e) {
		e = 0
	}
	return 16 + 8*e, 32 + 16*e
}

// actInputs returns n inputs: a few special values, then uniform in
// [-8, 8].
func actInputs(rng *rand.Rand, n int) []float32 {
	specials := []float32{0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 1e-3, -1e-3, 20, -20, 100, -100, 1e4, -1e4, 88, -88, 90, -90, -104, 1.5, -1.5}
	x := make([]float32, n)
	for i := range x {
		if i < len(specials) && n > 2*len(specials) {
			x[i] = specials[i]
			continue
		}
		x[i] = float32(16*rng.Float64() - 8)
	}
	return x
}

var actSizes = []int{0, 1, 3, 7, 64, 65, 257, 1000, 100003}

// TestGELU checks Activator.GELU and GELUBackward (tanh approximation).
func TestGELU(t *testing.T, impl kernels.Activator) {
	testUnary(t, impl.GELU, impl.GELUBackward, gelu64)
}

// TestSiLU checks Activator.SiLU and SiLUBackward.
func TestSiLU(t *testing.T, impl kernels.Activator) {
	testUnary(t, impl.SiLU, impl.SiLUBackward, siluF)
}

func testUnary(t *testing.T, fwd func(y, x []float32, n int), bwd func(dx, dy, x []float32, n int), f actFunc) {
	rng := seeded(t.Name())
	for i, n := range actSizes {
		for _, alias := range []bool{false, true} {
			name := shapeName("n%d", n)
			if alias {
				name += "_alias"
			}
			ex := extraFor(i)
			xs := actInputs(rng, n)
			if n > 50 {
				xs[n-3] = nanF32()
			}
			want, tolY := make([]float64, n), make([]float64, n)
			wantD, tolD := make([]float64, n), make([]float64, n)
			dys := make([]float32, n)
			for j, xv := range xs {
				y, d, magD, z := f(float64(xv))
				kf, kb := actK(z)
				dys[j] = float32(2*rng.Float64() - 1)
				want[j], tolY[j] = y, tolOf(kf, math.Abs(y))
				wantD[j], tolD[j] = float64(dys[j])*d, tolOf(kb, math.Abs(float64(dys[j]))*magD)
			}
			x := newVec(n, ex).set(xs)
			y := newVec(n, ex).fill(nanF32())
			if alias {
				y = x
			}
			x.snap()
			y.snap()
			fwd(y.data, x.data, n)
			if !(alias || x.unchanged(t, name+": x")) || !y.guards(t, name+": y") || !compare(t, name+": y", y.el(), want, tolY) {
				return
			}
			// Backward: dx may alias dy (and x).
			for k, a := range []string{"", "_dx=dy", "_dx=x"} {
				if !alias && k > 0 || alias && k == 0 {
					continue
				}
				xb, dy := newVec(n, ex).set(xs), newVec(n, ex).set(dys)
				dx := newVec(n, ex).fill(nanF32())
				switch k {
				case 1:
					dx = dy
				case 2:
					dx = xb
				}
				xb.snap()
				dy.snap()
				dx.snap()
				bwd(dx.data, dy.data, xb.data, n)
				if !(k == 2 || xb.unchanged(t, name+a+": x")) || !(k == 1 || dy.unchanged(t, name+a+": dy")) ||
					!dx.guards(t, name+a+": dx") || !compare(t, name+a+": dx", dx.el(), wantD, tolD) {
					return
				}
			}
		}
	}
	t.Run("FiniteDifferences", func(t *testing.T) {
		const n = 64
		xs := actInputs(rng, n)
		r := make([]float32, n)
		for i := range r {
			r[i] = float32(2*rng.Float64() - 1)
		}
		x64, r64 := f64s(xs), f64s(r)
		L := func() float64 {
			var s float64
			for i, xv := range x64 {
				y, _, _, _ := f(xv)
				s += r64[i] * y
			}
			return s
		}
		dx := make([]float32, n)
		bwd(dx, r, xs, n)
		tol := make([]float64, n)
		for i, xv := range x64 {
			_, _, magD, z := f(xv)
			_, kb := actK(z)
			tol[i] = tolOf(kb, math.Abs(r64[i])*magD)
		}
		compareFD(t, "dx", dx, fdGrad(x64, L), tol)
	})
}

// TestSwiGLU checks Activator.SwiGLU and SwiGLUBackward, including the
// aliasing the contract allows.
func TestSwiGLU(t *testing.T, impl kernels.Activator) {
	rng := seeded(t.Name())
	for i, n := range actSizes {
		ex := extraFor(i)
		gs := actInputs(rng, n)
		us, dys := make([]float32, n), make([]float32, n)
		for j := range us {
			us[j], dys[j] = float32(4*rng.Float64()-2), float32(2*rng.Float64()-1)
		}
		if n > 50 {
			gs[n-2], us[n-5] = nanF32(), nanF32()
		}
		want, tolY := make([]float64, n), make([]float64, n)
		wdg, tdg, wdu, tdu := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for j := range n {
			s, d, magD := silu64(float64(gs[j]))
			kf, kb := actK(float64(gs[j]))
			uv, dy := float64(us[j]), float64(dys[j])
			want[j], tolY[j] = s*uv, tolOf(kf+2, math.Abs(s*uv))
			wdg[j], tdg[j] = dy*uv*d, tolOf(kb+2, math.Abs(dy*uv)*magD)
			wdu[j], tdu[j] = dy*s, tolOf(kf+2, math.Abs(dy*s))
		}
		// Forward: y fresh, y = g, y = u.
		for k, a := range []string{"", "_y=g", "_y=u"} {
			name := shapeName("n%d%s", n, a)
			g, u := newVec(n, ex).set(gs), newVec(n, ex).set(us)
			y := newVec(n, ex).fill(nanF32())
			switch k {
			case 1:
				y = g
			case 2:
				y = u
			}
			g.snap()
			u.snap()
			y.snap()
			impl.SwiGLU(y.data, g.data, u.data, n)
			if !(k == 1 || g.unchanged(t, name+": g")) || !(k == 2 || u.unchanged(t, name+": u")) ||
				!y.guards(t, name+": y") || !compare(t, name+": y", y.el(), want, tolY) {
				return
			}
		}
		// Backward: fresh outputs, dg = dy & du = u, dg = g & du = dy.
		for k, a := range []string{"", "_dg=dy_du=u", "_dg=g_du=dy"} {
			name := shapeName("n%d%s", n, a)
			g, u, dy := newVec(n, ex).set(gs), newVec(n, ex).set(us), newVec(n, ex).set(dys)
			dg, du := newVec(n, ex).fill(nanF32()), newVec(n, ex).fill(nanF32())
			switch k {
			case 1:
				dg, du = dy, u
			case 2:
				dg, du = g, dy
			}
			for _, v := range []*vec{g, u, dy, dg, du} {
				v.snap()
			}
			impl.SwiGLUBackward(dg.data, du.data, dy.data, g.data, u.data, n)
			ok := (k == 2 || g.unchanged(t, name+": g")) && (k == 1 || u.unchanged(t, name+": u")) && (k != 0 || dy.unchanged(t, name+": dy"))
			if !ok || !dg.guards(t, name+": dg") || !du.guards(t, name+": du") ||
				!compare(t, name+": dg", dg.el(), wdg, tdg) || !compare(t, name+": du", du.el(), wdu, tdu) {
				return
			}
		}
	}
	t.Run("FiniteDifferences", func(t *testing.T) {
		const n = 64
		gs := actInputs(rng, n)
		us, r := make([]float32, n), make([]float32, n)
		for i := range r {
			us[i], r[i] = float32(4*rng.Float64()-2), float32(2*rng.Float64()-1)
		}
		g64, u64, r64 := f64s(gs), f64s(us), f64s(r)
		L := func() float64 {
			var s float64
			for i := range n {
				y, _, _ := silu64(g64[i])
				s += r64[i] * y * u64[i]
			}
			return s
		}
		dg, du := make([]float32, n), make([]float32, n)
		impl.SwiGLUBackward(dg, du, r, gs, us, n)
		tdg, tdu := make([]float64, n), make([]float64, n)
		for i := range n {
			s, _, magD := silu64(g64[i])
			kf, kb := actK(g64[i])
			tdg[i] = tolOf(kb+2, math.Abs(r64[i]*u64[i])*magD)
			tdu[i] = tolOf(kf+2, math.Abs(r64[i]*s))
		}
		compareFD(t, "dg", dg, fdGrad(g64, L), tdg)
		compareFD(t, "du", du, fdGrad(u64, L), tdu)
	})
}
