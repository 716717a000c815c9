package kernelstest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/humanllm/humanllm/kernels"
)

// Fused tolerance constants; see TestFused.
const (
	u32  = 1.0 / (1 << 24)
	Tiny = 1e-30
)

// TestFused is the conformance suite of kernels.Fused: it runs the suite of
// every fused operation (one exported TestX per op, each callable alone).
//
// # Oracle and tolerance
//
// Each op is compared, element by element, with a float64 oracle computed in
// this package from the same float32 inputs (fused_oracle.go). A float32
// result passes when
//
//	|got − want| <= Tiny + K·u·mag
//
// with u = 2^-24 (the float32 unit roundoff), Tiny = 1e-30 (results that
// small may be lost to an intermediate's overflow or underflow, e.g.
// x/(1+e^-x) is 0 once e^-x overflows for x < −88.7, and are of no
// consequence), mag the magnitude of the terms the result is made of, and K
// the number of rounding steps of the longest reduction plus a constant,
// doubled for margin. The bounds hold for any summation order (first-order
// error analysis), so blocked, vectorised or multithreaded reductions and a
// fast exp of 1-2 ulp pass; a wrong index, a missing term or a wrong
// formula is off by far more. Per op:
//
//	RMSNorm       y, rstd: K = n+16, mag = |y| (rstd: rstd)
//	LayerNorm     y: K = n+16, mag = (|x−mean| + mean|x|)·rstd·|w| + |b|;
//	              mean: mag = mean|x|; rstd: mag = rstd
//	Norm bwd      dx: K = n+16, mag = rstd·(|g| + mean|g| + |x̂|·mean|g·x̂|)
//	              (g = dy·w); dw, db: K = rows+16, mag = |dw₀| + Σ|dy·x̂|
//	              (|db₀| + Σ|dy|)
//	GELU, SiLU,   K = 16 + 8|z|(1−σ(z)) (z the argument of the sigmoid),
//	SwiGLU        mag = |y|; backward: K = 32 + 16|z|(1−σ(z)),
//	              mag = |dy|·Σ|terms of y'|
//	RoPE          K = 4, mag = |a·cos| + |b·sin| per output
//	Softmax       K = 2n+32+2|x−max|, mag = y; backward K = 2n+32,
//	              mag = y·(|dy| + Σ|dy·y|)
//	CrossEntropy  loss: absolute 1e-7 + u·(2v+32+4|max−x_t|+4|loss|);
//	              gradient: |scale|·(K·u·p + 2u at the target),
//	              K = 2v+32+2|x−max|
//	Attention     out: K = 4E+4T+64, mag = Σ_j p_j|v_j|; lse: K = 2E+2T+32
//	              +2|lse|, mag = 1; E = max over keys of
//	              (D+2)·|Scale|·Σ_d|q_d·k_d| bounds a score's rounding error
//	              (in units of u). Backward (against the exact gradient, the
//	              softmax recomputed in float64): K = 8(E+T·G+D+32+max|lse|)
//	              with G the GQA group; mag Σ_j p_j(Σ|dout·v_j| +
//	              Σ_i p_i Σ|dout·v_i|)·|Scale·k_j| for dq, the same with
//	              |q| for dk, Σ p·|dout| for dv
//	Embedding     forward exact; backward K = count(id)+16,
//	              mag = |dtable₀| + Σ|dout|
//	AdamW         per step, from the same float32 state: param K = 32,
//	              mag = |p| + LR·((|m̂|+m̂ terms)/(√v̂+Eps) + WD·|p|);
//	              m, v: K = 8, mag = β₁|m|+(1−β₁)|g| (β₂v+(1−β₂)g²); after
//	              five steps, against a float64 run: 1e-6·(|p| + 5·LR)
//
// # Checks
//
// Shapes cover sizes 0, 1, 3, 7, 17, 63, 64, 65, 257 and up, vocabularies
// 1 to 8192, attention T from 1 to 1100 with GQA ratios 1, 2 and 4,
// packed samples and sliding windows through Start. Every backward is also
// checked against central finite differences of the float64 forward oracle
// (step 1e-6·max(1, |x|)) on small shapes, with the tolerance above plus
// 1e-6 of the largest gradient entry: this validates the analytic formulas.
// Backward ops must overwrite dx (the suite prefills it with NaN) and
// accumulate into dw, db and dtable (prefilled with random values the
// oracle adds to). Inputs must be left unchanged, and every slice is handed
// over with sentinel NaNs after its last element (and guarded before and
// after its buffer), which must not be written. Where the contract allows
// aliasing (y = x, dx = dy, SwiGLU's outputs on its inputs, the
// cross-entropy gradient in place) the aliased call is checked like the
// plain one. NaN inputs must give NaN exactly where the formula says (a row,
// a query, an element) and nowhere else; large logits (1e4) must not
// overflow. TestFusedPanics checks every misuse message.
//
// TestFusedDeterminism runs every op on shapes large enough for a threaded
// implementation to split them, under GOMAXPROCS 1, 2, 3 and 4, and requires
// bit-identical outputs.
func TestFused(t *testing.T, impl kernels.Fused) {
	t.Run("RMSNorm", func(t *testing.T) { TestRMSNorm(t, impl) })
	t.Run("LayerNorm", func(t *testing.T) { TestLayerNorm(t, impl) })
	t.Run("GELU", func(t *testing.T) { TestGELU(t, impl) })
	t.Run("SiLU", func(t *testing.T) { TestSiLU(t, impl) })
	t.Run("SwiGLU", func(t *testing.T) { TestSwiGLU(t, impl) })
	t.Run("RoPE", func(t *testing.T) { TestRoPE(t, impl) })
	t.Run("Softmax", func(t *testing.T) { TestSoftmax(t, impl) })
	t.Run("CausalAttention", func(t *testing.T) { TestCausalAttention(t, impl) })
	t.Run("CrossEntropy", func(t *testing.T) { TestCrossEntropy(t, impl) })
	t.Run("Embedding", func(t *testing.T) { TestEmbedding(t, impl) })
	t.Run("AdamW", func(t *testing.T) { TestAdamW(t, impl) })
	t.Run("Panics", func(t *testing.T) { TestFusedPanics(t, impl) })
}

// vec is a float32 slice of n elements (plus extra sentinel elements the
// kernel sees but must not touch) inside a guarded buffer.
type vec struct {
	n         int
	buf, orig []float32
	data      []float32 // buf[guard : guard+n+extra]
}

func newVec(n, extra int) *vec {
	v := &vec{n: n, buf: make([]float32, guard+n+extra+guard)}
	for i := range v.buf {
		v.buf[i] = sentinel
	}
	v.data = v.buf[guard : guard+n+extra : guard+n+extra]
	return v
}

// el is the op's elements.
func (v *vec) el() []float32 { return v.data[:v.n] }

func (v *vec) uniform(rng *rand.Rand, lo, hi float64) *vec {
	for i := range v.n {
		v.data[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return v
}

func (v *vec) fill(x float32) *vec {
	for i := range v.n {
		v.data[i] = x
	}
	return v
}

func (v *vec) set(x []float32) *vec {
	copy(v.data[:v.n], x)
	return v
}

func (v *vec) f64() []float64 { return f64s(v.el()) }

func (v *vec) snap() { v.orig = slices.Clone(v.buf) }

// unchanged reports a change anywhere in the buffer (an input).
func (v *vec) unchanged(t testing.TB, name string) bool {
	t.Helper()
	for i := range v.buf {
		if math.Float32bits(v.buf[i]) != math.Float32bits(v.orig[i]) {
			t.Errorf("%s modified at index %d: %v -> %v", name, i-guard, v.orig[i], v.buf[i])
			return false
		}
	}
	return true
}

// guards reports a write outside the op's n elements (an output).
func (v *vec) guards(t testing.TB, name string) bool {
	t.Helper()
	for i, x := range v.buf {
		if i >= guard && i < guard+v.n {
			continue
		}
		if math.Float32bits(x) != math.Float32bits(sentinel) {
			t.Errorf("%s: written outside its %d elements at index %d: %v", name, v.n, i-guard, x)
			return false
		}
	}
	return true
}

func f64s(x []float32) []float64 {
	d := make([]float64, len(x))
	for i, v := range x {
		d[i] = float64(v)
	}
	return d
}

func f32s(x []float64) []float32 {
	d := make([]float32, len(x))
	for i, v := range x {
		d[i] = float32(v)
	}
	return d
}

// near reports whether got matches want within tol: NaN must be NaN, ±Inf
// must be equal, and a finite want needs a finite got.
func near(got float32, want, tol float64) bool {
	g := float64(got)
	switch {
	case math.IsNaN(want):
		return math.IsNaN(g)
	case math.IsInf(want, 0):
		return g == want
	case math.IsNaN(g) || math.IsInf(g, 0):
		return false
	}
	return math.Abs(g-want) <= tol
}

// compare checks got against want and tol element by element, reporting the
// first few mismatches; it returns false on any.
func compare(t testing.TB, name string, got []float32, want, tol []float64) bool {
	t.Helper()
	bad := 0
	for i := range want {
		if !near(got[i], want[i], tol[i]) {
			if bad < 4 {
				t.Errorf("%s[%d] = %v, want %v (|diff| %.3g, tol %.3g)", name, i, got[i], want[i], math.Abs(float64(got[i])-want[i]), tol[i])
			}
			bad++
		}
	}
	if bad > 4 {
		t.Errorf("%s: %d mismatches of %d", name, bad, len(want))
	}
	return bad == 0
}

// fdGrad returns the central finite-difference gradient of f at x (which it
// perturbs and restores).
func fdGrad(x []float64, f func() float64) []float64 {
	g := make([]float64, len(x))
	for i, x0 := range x {
		h := 1e-6 * max(1, math.Abs(x0))
		x[i] = x0 + h
		fp := f()
		x[i] = x0 - h
		fm := f()
		x[i] = x0
		g[i] = (fp - fm) / (2 * h)
	}
	return g
}

// compareFD checks an analytic gradient against a finite-difference one:
// the analytic tolerance tol plus 1e-6 of the largest |fd|.
func compareFD(t testing.TB, name string, got []float32, fd, tol []float64) bool {
	t.Helper()
	var big float64
	for _, g := range fd {
		big = max(big, math.Abs(g))
	}
	tt := make([]float64, len(tol))
	for i := range tol {
		tt[i] = tol[i] + 1e-6*big
	}
	return compare(t, name+" vs finite differences", got, fd, tt)
}

// dot64 is Σ a·b.
func dot64(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// seeded returns a deterministic generator for one test.
func seeded(name string) *rand.Rand {
	var h uint64 = 14695981039346656037
	for i := range len(name) {
		h = (h ^ uint64(name[i])) * 1099511628211
	}
	return rand.New(rand.NewPCG(h, 0x9e3779b97f4a7c15))
}

// extraFor cycles the number of sentinel elements after each slice through
// 0 (exact length) and a few.
func extraFor(i int) int { return []int{0, 7, 1}[i%3] }

func nanF32() float32 { return float32(math.NaN()) }

func shapeName(format string, args ...any) string { return fmt.Sprintf(format, args...) }
