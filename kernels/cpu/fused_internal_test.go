package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/humanllm/humanllm/kernels"
)

// TestExpf checks the scalar fast exp, and each variant's expSum, against
// math.Exp: at most 2 ulp (4 units of 2^-24 relative) over the normal
// range, 0 and +Inf at the ends, NaN for NaN.
func TestExpf(t *testing.T) {
	var xs []float32
	for x := float32(-110); x < 90; x += 0.00731 {
		xs = append(xs, x)
	}
	xs = append(xs, 0, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 88.72, 88.73, -87.33, -103.97)
	check := func(name string, x, got float32) bool {
		want := math.Exp(float64(x))
		g := float64(got)
		switch {
		case math.IsNaN(want):
			if !math.IsNaN(g) {
				t.Errorf("%s(%v) = %v, want NaN", name, x, got)
				return false
			}
		case want > math.MaxFloat32:
			if !math.IsInf(g, 1) && math.Abs(g-want)/want > 4.0/(1<<24) {
				t.Errorf("%s(%v) = %v, want %v", name, x, got, want)
				return false
			}
		case want < 0x1p-126:
			if math.Abs(g-want) > 0x1p-126 {
				t.Errorf("%s(%v) = %v, want %v", name, x, got, want)
				return false
			}
		default:
			if e := math.Abs(g-want) / want; e > 4.0/(1<<24) {
				t.Errorf("%s(%v) = %v, want %v (relative error %.3g)", name, x, got, want, e)
				return false
			}
		}
		return true
	}
	for _, x := range xs {
		if !check("expf", x, expf(x)) {
			break
		}
	}
	for _, impl := range Implementations() {
		o := impl.ops()
		dst := make([]float32, len(xs))
		o.expSum(dst, xs, 0)
		for i, x := range xs {
			if !check(impl.Name()+" expSum", x, dst[i]) {
				break
			}
		}
	}
}

// TestVecOps compares each variant's primitives with the Go ones on every
// length up to 100 (all vector tails) and a few long slices.
func TestVecOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var lens []int
	for n := range 101 {
		lens = append(lens, n)
	}
	lens = append(lens, 1000, 4099)
	rel := func(got, want, mag float32, n int) bool {
		if want != want {
			return got != got
		}
		return math.Abs(float64(got-want)) <= float64(n+4)/(1<<23)*float64(mag)+1e-30
	}
	for _, impl := range Implementations() {
		o := impl.ops()
		for _, n := range lens {
			x, y, z := make([]float32, n), make([]float32, n), make([]float32, n)
			ax, axy, axyz := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range x {
				x[i], y[i], z[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
				ax[i], axy[i], axyz[i] = abs32(x[i]), abs32(x[i]*y[i]), abs32(x[i]*y[i]*z[i])
			}
			name := impl.Name()
			if got, want := o.sum(x), sumGo(x); !rel(got, want, sumGo(ax), n) {
				t.Errorf("%s sum n=%d: %v, want %v", name, n, got, want)
			}
			if got, want := o.dot(x, y), dotGo(x, y); !rel(got, want, sumGo(axy), n) {
				t.Errorf("%s dot n=%d: %v, want %v", name, n, got, want)
			}
			if got, want := o.dot3(x, y, z), dot3Go(x, y, z); !rel(got, want, sumGo(axyz), n) {
				t.Errorf("%s dot3 n=%d: %v, want %v", name, n, got, want)
			}
			if got, want := o.sumSqDev(x, 0.3), sumSqDevGo(x, 0.3); !rel(got, want, want, n) {
				t.Errorf("%s sumSqDev n=%d: %v, want %v", name, n, got, want)
			}
			if got, want := o.max(x), maxGo(x); got != want {
				t.Errorf("%s max n=%d: %v, want %v", name, n, got, want)
			}
			m := maxGo(x)
			e1, e2 := make([]float32, n+1), make([]float32, n+1)
			e1[n], e2[n] = 7, 7
			s1, s2 := o.expSum(e1[:n], x, m), expSumGo(e2[:n], x, m)
			if !rel(s1, s2, s2, n) || o.expSum(nil, x, m) != s1 || e1[n] != 7 {
				t.Errorf("%s expSum n=%d: %v, want %v (or wrote past the end)", name, n, s1, s2)
			}
			for i := range n {
				if !rel(e1[i], e2[i], e2[i], 2) {
					t.Errorf("%s expSum n=%d: [%d] = %v, want %v", name, n, i, e1[i], e2[i])
					break
				}
			}
			o.scale(e1[:n], x, 3)
			for i := range n {
				if e1[i] != 3*x[i] {
					t.Errorf("%s scale n=%d: [%d] = %v, want %v", name, n, i, e1[i], 3*x[i])
					break
				}
			}
			if e1[n] != 7 {
				t.Errorf("%s scale n=%d wrote past the end", name, n)
			}
			if n > 0 {
				x[rng.IntN(n)] = float32(math.NaN())
				if got := o.max(x); got == got {
					t.Errorf("%s max n=%d with a NaN: %v", name, n, got)
				}
				for i := range x {
					x[i] = float32(math.Inf(-1))
				}
				if got := o.max(x); !math.IsInf(float64(got), -1) {
					t.Errorf("%s max n=%d of -Inf: %v", name, n, got)
				}
			}
		}
	}
}

func abs32(x float32) float32 { return float32(math.Abs(float64(x))) }

// TestRowOps compares each variant's row kernels with the Go ones on every
// length up to 100 and checks that nothing past the end is written. The
// tolerance (1e-5 of the magnitude) only allows for fused multiply-adds:
// a wrong lane or tail is off by O(1).
func TestRowOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vec := func(n int) []float32 {
		x := make([]float32, n+1)
		for i := range n {
			x[i] = float32(rng.NormFloat64())
		}
		x[n] = 7 // sentinel
		return x
	}
	same := func(name string, n int, got, want []float32) bool {
		for i := range n {
			if math.Abs(float64(got[i]-want[i])) > 1e-5*(math.Abs(float64(want[i]))+1) {
				t.Errorf("%s n=%d: [%d] = %v, want %v", name, n, i, got[i], want[i])
				return false
			}
		}
		if got[n] != 7 {
			t.Errorf("%s n=%d: wrote past the end", name, n)
			return false
		}
		return true
	}
	for _, impl := range Implementations() {
		o := impl.ops()
		if o == goOps {
			continue
		}
		for n := range 101 {
			x, w, b, dy := vec(n), vec(n), vec(n), vec(n)
			name := impl.Name()
			y1, y2 := vec(n), vec(n)
			o.mulScale(y1[:n], x[:n], w, 1.5)
			mulScaleGo(y2[:n], x[:n], w, 1.5)
			same(name+" mulScale", n, y1, y2)
			for _, bias := range [][]float32{nil, b} {
				o.normAffine(y1[:n], x[:n], w, bias, 0.3, 1.7)
				normAffineGo(y2[:n], x[:n], w, bias, 0.3, 1.7)
				same(name+" normAffine", n, y1, y2)
			}
			a1, a2 := vec(n), vec(n)
			copy(a2, a1)
			o.rmsBwdRow(y1[:n], a1, dy, x[:n], w, 1.3, 0.2)
			rmsBwdRowGo(y2[:n], a2, dy, x[:n], w, 1.3, 0.2)
			same(name+" rmsBwdRow dx", n, y1, y2)
			same(name+" rmsBwdRow acc", n, a1, a2)
			b1, b2 := vec(n), vec(n)
			copy(a2, a1)
			copy(b2, b1)
			sg1, sgx1 := o.lnBwdStats(a1, b1, dy, x[:n], w, 0.1, 1.2)
			sg2, sgx2 := lnBwdStatsGo(a2, b2, dy, x[:n], w, 0.1, 1.2)
			same(name+" lnBwdStats accW", n, a1, a2)
			same(name+" lnBwdStats accB", n, b1, b2)
			if math.Abs(float64(sg1-sg2)) > 1e-5*float64(n+1) || math.Abs(float64(sgx1-sgx2)) > 1e-5*float64(n+1) {
				t.Errorf("%s lnBwdStats n=%d: sums %v %v, want %v %v", name, n, sg1, sgx1, sg2, sgx2)
			}
			o.lnBwdRow(y1[:n], dy, x[:n], w, 0.1, 1.2, 0.3, -0.4)
			lnBwdRowGo(y2[:n], dy, x[:n], w, 0.1, 1.2, 0.3, -0.4)
			same(name+" lnBwdRow", n, y1, y2)
			o.mulSub(y1[:n], dy, x[:n], 0.7)
			mulSubGo(y2[:n], dy, x[:n], 0.7)
			same(name+" mulSub", n, y1, y2)
			copy(y2, y1)
			o.addTo(y1, x[:n])
			addToGo(y2, x[:n])
			same(name+" addTo", n, y1, y2)
			for _, back := range []bool{false, true} {
				z1, z2 := vec(n), vec(n)
				o.rotate(y1, z1, x[:n], w[:n], b[:n], dy[:n], back)
				rotateGo(y2, z2, x[:n], w[:n], b[:n], dy[:n], back)
				same(name+" rotate y0", n, y1, y2)
				same(name+" rotate y1", n, z1, z2)
			}
		}
	}
}

// TestElemVariants compares each variant's activations and AdamW with the
// generic (Go) ones on every length up to 100, with a NaN input, and checks
// that nothing past the end is written.
func TestElemVariants(t *testing.T) {
	gen, _ := Lookup(Generic)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, impl := range Implementations() {
		if impl.Name() == Generic {
			continue
		}
		for n := range 101 {
			in := make([][]float32, 3)
			for i := range in {
				in[i] = make([]float32, n)
				for j := range in[i] {
					in[i][j] = float32(rng.NormFloat64() * 4)
				}
			}
			if n > 5 {
				in[0][n/2] = float32(math.NaN())
			}
			outs := func(im Implementation) [][]float32 {
				o := make([][]float32, 10)
				for i := range o {
					o[i] = make([]float32, n+1)
					o[i][n] = 7
				}
				x, dy, u := in[0], in[1], in[2]
				im.GELU(o[0][:n], x, n)
				im.GELUBackward(o[1][:n], dy, x, n)
				im.SiLU(o[2][:n], x, n)
				im.SiLUBackward(o[3][:n], dy, x, n)
				im.SwiGLU(o[4][:n], x, u, n)
				im.SwiGLUBackward(o[5][:n], o[6][:n], dy, x, u, n)
				p, m, v := append(o[7][:0], u...), append(o[8][:0], dy...), o[9][:n]
				for j := range v {
					v[j] = x[j] * x[j]
				}
				p, m, v = append(p, 7), append(m, 7), append(v, 7)
				im.AdamW(p[:n], x, m[:n], v[:n], n, kernelsAdam())
				o[7], o[8], o[9] = p, m, v
				return o
			}
			got, want := outs(impl), outs(gen)
			for i := range got {
				for j := range n + 1 {
					g, w := got[i][j], want[i][j]
					if w != w && g != g {
						continue
					}
					if math.Abs(float64(g-w)) > 1e-4*(math.Abs(float64(w))+1) {
						t.Errorf("%s n=%d output %d [%d] = %v, want %v", impl.Name(), n, i, j, g, w)
						break
					}
				}
			}
		}
	}
}

func kernelsAdam() kernels.AdamWParams {
	return kernels.AdamWParams{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1, Step: 2}
}

// forwardUnit (keys and values packed once per (batch, head)) gives bit
// for bit the per-query-block forward for rows of at most 256 tokens: the
// same dot products, only masked zero probabilities added first.
func TestForwardUnitMatchesForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		b, t, h, kvh, d, stride int
		start                   bool
	}{{2, 256, 4, 4, 64, 0, false}, {2, 200, 6, 3, 64, 0, true}, {3, 70, 4, 2, 16, 0, true}, {1, 33, 8, 8, 7, 0, false}, {2, 130, 2, 2, 32, 3 * 64, true}} {
		p := kernels.AttentionParams{B: c.b, T: c.t, H: c.h, KVH: c.kvh, D: c.d, Scale: 0.3, Stride: c.stride}
		if c.start {
			p.Start = make([]int32, c.b*c.t)
			for b := range c.b {
				s0 := 0
				for tt := range c.t {
					if tt > s0 && rng.IntN(40) == 0 {
						s0 = tt
					}
					p.Start[b*c.t+tt] = int32(s0)
				}
			}
		}
		ldq, ldkv := p.Strides()
		rows := c.b * c.t
		nq, nkv, no := (rows-1)*ldq+c.h*c.d, (rows-1)*ldkv+c.kvh*c.d, rows*c.h*c.d
		r := func(n int) []float32 {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.Float64()*2 - 1)
			}
			return x
		}
		q, k, v := r(nq), r(nkv), r(nkv)
		for _, impl := range Implementations() {
			a := impl.attnArgs(p)
			ws := new(workspace)
			out1, lse1 := make([]float32, no), make([]float32, c.b*c.h*c.t)
			out2, lse2 := make([]float32, no), make([]float32, c.b*c.h*c.t)
			for b := range c.b {
				for h := range c.h {
					for t0 := 0; t0 < c.t; t0 += attnBlock {
						a.forward(ws, out1, lse1, q, k, v, b, h, t0, min(c.t, t0+attnBlock))
					}
					a.forwardUnit(ws, out2, lse2, q, k, v, b, h)
				}
			}
			name := fmt.Sprintf("%s %+v", impl.Name(), c)
			if !slices.EqualFunc(out1, out2, bitsEq) || !slices.EqualFunc(lse1, lse2, bitsEq) {
				t.Fatalf("%s: forwardUnit differs from forward", name)
			}
		}
	}
}

func bitsEq(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }
