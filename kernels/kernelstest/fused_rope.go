package kernelstest

import (
	"math"
	"testing"

	"github.com/humanllm/humanllm/kernels"
)

// TestRoPE checks Roper.RoPE and RoPEBackward in both layouts, with
// repeated and unordered positions, y = x and dx = dy.
func TestRoPE(t *testing.T, impl kernels.Roper) {
	rng := seeded(t.Name())
	const maxPos = 50
	i := 0
	type shape struct{ tokens, heads, headDim int }
	var shapes []shape
	for _, tok := range []int{1, 3, 17, 65} {
		for _, h := range []int{1, 3, 4} {
			for _, d := range []int{2, 8, 64, 66} {
				shapes = append(shapes, shape{tok, h, d})
			}
		}
	}
	shapes = append(shapes, shape{700, 4, 64}, shape{0, 3, 8}, shape{5, 0, 8}, shape{5, 2, 0})
	for _, layout := range []kernels.RoPELayout{kernels.RoPEHalf, kernels.RoPEInterleaved} {
		for _, s := range shapes {
			i++
			ex := extraFor(i)
			cos, sin := kernels.RoPETables(maxPos, s.headDim, 10000)
			if ex > 0 {
				// Longer tables than needed.
				cos, sin = append(cos, 7, 7), append(sin, 7, 7)
			}
			pos := make([]int32, s.tokens+ex)
			for j := range pos {
				pos[j] = int32(rng.IntN(maxPos))
			}
			if s.tokens > 0 {
				pos[s.tokens-1] = maxPos - 1
			}
			p := kernels.RoPEParams{Tokens: s.tokens, Heads: s.heads, HeadDim: s.headDim, Pos: pos, Cos: cos, Sin: sin, Layout: layout}
			n := s.tokens * s.heads * s.headDim
			xs := make([]float32, n)
			for j := range xs {
				xs[j] = float32(4*rng.Float64() - 2)
			}
			for dir, sign := range []float64{1, -1} {
				alias := (i+dir)%2 == 1
				name := shapeName("layout%d_tok%d_h%d_d%d_dir%d", layout, s.tokens, s.heads, s.headDim, dir)
				if alias {
					name += "_alias"
				}
				want, mag := rope64(f64s(xs), p, sign)
				tol := make([]float64, n)
				for j := range tol {
					tol[j] = tolOf(4, mag[j])
				}
				x := newVec(n, ex).set(xs)
				y := newVec(n, ex).fill(nanF32())
				if alias {
					y = x
				}
				x.snap()
				y.snap()
				if dir == 0 {
					impl.RoPE(y.data, x.data, p)
				} else {
					impl.RoPEBackward(y.data, x.data, p)
				}
				if !(alias || x.unchanged(t, name+": in")) || !y.guards(t, name+": out") || !compare(t, name, y.el(), want, tol) {
					return
				}
			}
		}
	}
	t.Run("FiniteDifferences", func(t *testing.T) {
		for _, layout := range []kernels.RoPELayout{kernels.RoPEHalf, kernels.RoPEInterleaved} {
			cos, sin := kernels.RoPETables(10, 8, 10000)
			p := kernels.RoPEParams{Tokens: 3, Heads: 2, HeadDim: 8, Pos: []int32{9, 0, 4}, Cos: cos, Sin: sin, Layout: layout}
			n := 3 * 2 * 8
			x64, r := make([]float64, n), make([]float32, n)
			for j := range r {
				x64[j], r[j] = 2*rng.Float64()-1, float32(2*rng.Float64()-1)
			}
			r64 := f64s(r)
			L := func() float64 { y, _ := rope64(x64, p, 1); return dot64(r64, y) }
			dx := make([]float32, n)
			impl.RoPEBackward(dx, r, p)
			_, mag := rope64(r64, p, -1)
			tol := make([]float64, n)
			for j := range tol {
				tol[j] = tolOf(4, mag[j])
			}
			compareFD(t, shapeName("layout%d: dx", layout), dx, fdGrad(x64, L), tol)
		}
	})
}

// TestSoftmax checks Softmaxer.Softmax and SoftmaxBackward, with large
// logits, masked (-Inf) entries, a NaN row and aliasing.
func TestSoftmax(t *testing.T, impl kernels.Softmaxer) {
	rng := seeded(t.Name())
	type sc struct {
		rows, n int
		scale   float64
		kind    string // "", "masked", "nan"
	}
	var cases []sc
	for _, rows := range []int{1, 3, 17, 64, 65} {
		for _, n := range []int{1, 3, 7, 64, 65, 257, 1000} {
			cases = append(cases, sc{rows, n, 4, ""})
		}
	}
	cases = append(cases, sc{9, 300, 1e4, ""}, sc{5, 1000, 1e4, "masked"}, sc{17, 65, 3, "masked"}, sc{6, 33, 3, "nan"}, sc{300, 2000, 5, ""}, sc{0, 5, 1, ""}, sc{5, 0, 1, ""})
	for i, c := range cases {
		ex := extraFor(i)
		alias := i%3 == 2
		name := shapeName("rows%d_n%d_scale%g%s", c.rows, c.n, c.scale, c.kind)
		if alias {
			name += "_alias"
		}
		n := c.rows * c.n
		xs := make([]float32, n)
		for j := range xs {
			xs[j] = float32(c.scale * (2*rng.Float64() - 1))
		}
		switch c.kind {
		case "masked":
			for r := range c.rows {
				for j := range c.n - 1 { // keep at least one entry
					if (r+j)%3 != 0 {
						xs[r*c.n+j] = float32(math.Inf(-1))
					}
				}
			}
		case "nan":
			xs[2*c.n+c.n/2] = nanF32()
		}
		want, tol := softmax64(f64s(xs), c.rows, c.n)
		x := newVec(n, ex).set(xs)
		y := newVec(n, ex).fill(nanF32())
		if alias {
			y = x
		}
		x.snap()
		y.snap()
		impl.Softmax(y.data, x.data, c.rows, c.n)
		if !(alias || x.unchanged(t, name+": x")) || !y.guards(t, name+": y") || !compare(t, name+": y", y.el(), want, tol) {
			return
		}
		if c.kind == "nan" {
			continue
		}
		ys := append([]float32(nil), y.el()...)
		dys := make([]float32, n)
		for j := range dys {
			dys[j] = float32(2*rng.Float64() - 1)
		}
		wantDx, tolDx := softmaxBack64(f64s(dys), f64s(ys), c.rows, c.n)
		yb, dy := newVec(n, ex).set(ys), newVec(n, ex).set(dys)
		dx := newVec(n, ex).fill(nanF32())
		if alias {
			dx = dy
		}
		yb.snap()
		dy.snap()
		dx.snap()
		impl.SoftmaxBackward(dx.data, dy.data, yb.data, c.rows, c.n)
		if !yb.unchanged(t, name+": y") || !(alias || dy.unchanged(t, name+": dy")) || !dx.guards(t, name+": dx") ||
			!compare(t, name+": dx", dx.el(), wantDx, tolDx) {
			return
		}
	}
	t.Run("FiniteDifferences", func(t *testing.T) {
		for _, s := range [][2]int{{3, 7}, {2, 1}, {1, 33}} {
			rows, n := s[0], s[1]
			xs, r := make([]float32, rows*n), make([]float32, rows*n)
			for j := range xs {
				xs[j], r[j] = float32(6*rng.Float64()-3), float32(2*rng.Float64()-1)
			}
			y, dx := make([]float32, rows*n), make([]float32, rows*n)
			impl.Softmax(y, xs, rows, n)
			impl.SoftmaxBackward(dx, r, y, rows, n)
			x64, r64 := f64s(xs), f64s(r)
			L := func() float64 { y, _ := softmax64(x64, rows, n); return dot64(r64, y) }
			y64, _ := softmax64(x64, rows, n)
			_, tol := softmaxBack64(r64, y64, rows, n)
			compareFD(t, shapeName("rows%d_n%d: dx", rows, n), dx, fdGrad(x64, L), tol)
		}
	})
}
