package kernelstest

import (
	"math"
	"testing"

	"github.com/humanllm/humanllm/kernels"
)

// TestCrossEntropy checks Losser.CrossEntropy and CrossEntropyGrad: ignored
// rows (some, all), vocabularies from 1 to 8192, logits of magnitude 1e4,
// a NaN logit, and the gradient written in place.
func TestCrossEntropy(t *testing.T, impl kernels.Losser) {
	rng := seeded(t.Name())
	type cc struct {
		n, v  int
		scale float64 // logits uniform in ±scale
		kind  string  // "", "allignored", "nan"
	}
	var cases []cc
	for _, n := range []int{1, 3, 17, 64, 65} {
		for _, v := range []int{1, 3, 7, 64, 65, 257} {
			cases = append(cases, cc{n, v, 4, ""})
		}
	}
	cases = append(cases, cc{65, 8192, 4, ""}, cc{3, 8192, 1e4, ""}, cc{17, 1000, 1e4, ""}, cc{9, 100, 3, "allignored"},
		cc{5, 77, 3, "nan"}, cc{130, 3000, 8, ""}, cc{0, 5, 1, ""}, cc{4, 0, 1, "allignored"})
	for i, c := range cases {
		ex := extraFor(i)
		name := shapeName("n%d_v%d_scale%g%s", c.n, c.v, c.scale, c.kind)
		ls := make([]float32, c.n*c.v)
		for j := range ls {
			ls[j] = float32(c.scale * (2*rng.Float64() - 1))
		}
		targets := make([]int32, c.n+ex)
		valid := 0
		for r := range targets {
			targets[r] = kernels.IgnoreIndex
			if c.kind != "allignored" && r%5 != 3 && c.v > 0 {
				targets[r] = int32(rng.IntN(c.v))
				if r < c.n {
					valid++
				}
			}
		}
		if c.kind == "nan" {
			ls[c.v+c.v/2] = nanF32() // row 1
		}
		scale := []float64{1 / float64(max(1, valid)), -0.5, 2}[i%3]
		want, tolL, grad, tolG := ce64(f64s(ls), targets, c.n, c.v, scale)
		if c.kind == "nan" {
			for j := range c.v {
				grad[c.v+j] = math.NaN()
			}
			want[1] = math.NaN()
		}

		logits := newVec(c.n*c.v, ex).set(ls)
		losses := newVec(c.n, ex).fill(nanF32())
		logits.snap()
		losses.snap()
		impl.CrossEntropy(losses.data, logits.data, targets, c.n, c.v)
		if !logits.unchanged(t, name+": logits") || !losses.guards(t, name+": losses") || !compare(t, name+": losses", losses.el(), want, tolL) {
			return
		}
		losses = newVec(c.n, ex).fill(nanF32())
		losses.snap()
		impl.CrossEntropyGrad(losses.data, logits.data, targets, c.n, c.v, float32(scale))
		if !losses.guards(t, name+": grad losses") || !logits.guards(t, name+": grad logits") ||
			!compare(t, name+": grad losses", losses.el(), want, tolL) || !compare(t, name+": gradient", logits.el(), grad, tolG) {
			return
		}
	}
	t.Run("FiniteDifferences", func(t *testing.T) {
		for _, s := range [][2]int{{3, 7}, {4, 1}, {2, 40}} {
			n, v := s[0], s[1]
			ls := make([]float32, n*v)
			for j := range ls {
				ls[j] = float32(6*rng.Float64() - 3)
			}
			targets := make([]int32, n)
			for r := range targets {
				targets[r] = int32(rng.IntN(v))
			}
			targets[n-1] = kernels.IgnoreIndex
			const scale = 0.7
			l64 := f64s(ls)
			L := func() float64 {
				loss, _, _, _ := ce64(l64, targets, n, v, scale)
				var s float64
				for _, x := range loss {
					s += scale * x
				}
				return s
			}
			_, _, _, tol := ce64(l64, targets, n, v, scale)
			g := append([]float32(nil), ls...)
			impl.CrossEntropyGrad(make([]float32, n), g, targets, n, v, scale)
			compareFD(t, shapeName("n%d_v%d: gradient", n, v), g, fdGrad(l64, L), tol)
		}
	})
}

// TestEmbedding checks Embedder.Embedding (exact) and EmbeddingBackward
// (accumulating, repeated ids).
func TestEmbedding(t *testing.T, impl kernels.Embedder) {
	rng := seeded(t.Name())
	i := 0
	for _, rows := range []int{1, 5, 300} {
		for _, dim := range []int{1, 3, 64, 65, 257} {
			for _, n := range []int{0, 1, 3, 17, 257} {
				i++
				ex := extraFor(i)
				name := shapeName("rows%d_dim%d_n%d", rows, dim, n)
				tabExtra := 0
				if dim > 1 {
					tabExtra = (i % dim) // a partial row past the table
				}
				table := newVec(rows*dim+tabExtra, 0).uniform(rng, -1, 1)
				ids := make([]int32, n+ex)
				for j := range ids {
					ids[j] = int32(rng.IntN(rows))
				}
				if n > 2 {
					ids[0], ids[n-1] = int32(rows-1), ids[1] // edges and a repeat
				}
				out := newVec(n*dim, ex).fill(nanF32())
				table.snap()
				out.snap()
				impl.Embedding(out.data, table.data, ids, n, dim)
				if !table.unchanged(t, name+": table") || !out.guards(t, name+": out") {
					return
				}
				for j := range n * dim {
					r, c := j/dim, j%dim
					if want := table.data[int(ids[r])*dim+c]; math.Float32bits(out.data[j]) != math.Float32bits(want) {
						t.Errorf("%s: out[%d,%d] = %v, want %v", name, r, c, out.data[j], want)
						return
					}
				}
				// Backward into a table prefilled with random values.
				dt := newVec(rows*dim+tabExtra, 0).uniform(rng, -1, 1)
				dout := newVec(n*dim, ex).uniform(rng, -1, 1)
				want, mag := dt.f64(), make([]float64, dt.n)
				for j := range want {
					mag[j] = math.Abs(want[j])
				}
				cnt := make([]int, rows)
				for r := range n {
					cnt[ids[r]]++
					for c := range dim {
						x := float64(dout.data[r*dim+c])
						want[int(ids[r])*dim+c] += x
						mag[int(ids[r])*dim+c] += math.Abs(x)
					}
				}
				tol := make([]float64, dt.n)
				for j := range tol {
					if j < rows*dim {
						tol[j] = tolOf(float64(cnt[j/dim]+16), mag[j])
					}
				}
				dt.snap()
				dout.snap()
				impl.EmbeddingBackward(dt.data, dout.data, ids, n, dim)
				if !dout.unchanged(t, name+": dout") || !compare(t, name+": dtable (accumulated)", dt.el(), want, tol) {
					return
				}
			}
		}
	}
	t.Run("FiniteDifferences", func(t *testing.T) {
		const rows, dim, n = 4, 3, 6
		tab := make([]float64, rows*dim)
		r := make([]float32, n*dim)
		for j := range r {
			r[j] = float32(2*rng.Float64() - 1)
		}
		for j := range tab {
			tab[j] = 2*rng.Float64() - 1
		}
		ids := []int32{2, 0, 2, 3, 2, 0}
		r64 := f64s(r)
		L := func() float64 {
			var s float64
			for i, id := range ids {
				for c := range dim {
					s += r64[i*dim+c] * tab[int(id)*dim+c]
				}
			}
			return s
		}
		dt := make([]float32, rows*dim)
		impl.EmbeddingBackward(dt, r, ids, n, dim)
		tol := make([]float64, rows*dim)
		for j := range tol {
			tol[j] = tolOf(n+16, 3)
		}
		compareFD(t, "dtable", dt, fdGrad(tab, L), tol)
	})
}

// TestAdamW checks Optimizer.AdamW step by step (steps 1 to 5, so bias
// correction matters) against the float64 update of the same float32
// state, and the five-step trajectory against a float64 run, with and
// without weight decay.
func TestAdamW(t *testing.T, impl kernels.Optimizer) {
	rng := seeded(t.Name())
	for i, n := range []int{0, 1, 7, 65, 257, 100003} {
		for _, wd := range []float32{0, 0.1} {
			ex := extraFor(i)
			name := shapeName("n%d_wd%g", n, wd)
			param := newVec(n, ex).uniform(rng, -1, 1)
			m, v := newVec(n, ex).fill(0), newVec(n, ex).fill(0)
			p64, m64, v64 := param.f64(), make([]float64, n), make([]float64, n)
			hp := kernels.AdamWParams{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: wd}
			for step := 1; step <= 5; step++ {
				hp.Step = step
				gs := make([]float32, n)
				for j := range gs {
					gs[j] = float32(2*rng.Float64() - 1)
					switch j % 97 {
					case 5:
						gs[j] = 0
					case 6:
						gs[j] = 1e3
					case 7:
						gs[j] = -1e-20
					}
				}
				grad := newVec(n, ex).set(gs)
				wp, wm, wv, tp, tm, tv := adamW64(param.el(), grad.el(), m.el(), v.el(), hp)
				for _, x := range []*vec{param, grad, m, v} {
					x.snap()
				}
				impl.AdamW(param.data, grad.data, m.data, v.data, n, hp)
				sname := shapeName("%s_step%d", name, step)
				if !grad.unchanged(t, sname+": grad") || !param.guards(t, sname+": param") || !m.guards(t, sname+": m") || !v.guards(t, sname+": v") ||
					!compare(t, sname+": param", param.el(), wp, tp) || !compare(t, sname+": m", m.el(), wm, tm) || !compare(t, sname+": v", v.el(), wv, tv) {
					return
				}
				// The float64 trajectory.
				b1, b2 := float64(hp.Beta1), float64(hp.Beta2)
				for j := range n {
					g := float64(gs[j])
					m64[j] = b1*m64[j] + (1-b1)*g
					v64[j] = b2*v64[j] + (1-b2)*g*g
					mh := m64[j] / (1 - math.Pow(b1, float64(step)))
					vh := v64[j] / (1 - math.Pow(b2, float64(step)))
					p64[j] -= float64(hp.LR) * (mh/(math.Sqrt(vh)+float64(hp.Eps)) + float64(wd)*p64[j])
				}
			}
			tol := make([]float64, n)
			for j := range tol {
				tol[j] = 1e-6 * (math.Abs(p64[j]) + 5*float64(hp.LR))
			}
			if !compare(t, name+": param after 5 steps vs float64 trajectory", param.el(), p64, tol) {
				return
			}
		}
	}
	t.Run("NaN", func(t *testing.T) {
		param, grad, m, v := []float32{1, 2, 3}, []float32{0.5, nanF32(), -0.5}, make([]float32, 3), make([]float32, 3)
		impl.AdamW(param, grad, m, v, 3, kernels.AdamWParams{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Step: 1})
		if !math.IsNaN(float64(param[1])) || !math.IsNaN(float64(m[1])) || !math.IsNaN(float64(v[1])) {
			t.Errorf("NaN gradient: param, m, v = %v, %v, %v; want NaN", param[1], m[1], v[1])
		}
		if math.IsNaN(float64(param[0])) || math.IsNaN(float64(param[2])) {
			t.Errorf("NaN gradient leaked into neighbours: %v", param)
		}
	})
}
