package kernelstest

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/humanllm/humanllm/kernels"
)

// TestFusedDeterminism runs every fused op on shapes large enough to be
// split over threads, under GOMAXPROCS 1, 2, 3 and 4 (restored afterwards),
// and requires bit-identical outputs. Shapes are smaller with -short.
func TestFusedDeterminism(t *testing.T, impl kernels.Fused) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(5, 6))
	rnd := func(n int, s float64) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(s * (2*rng.Float64() - 1))
		}
		return x
	}
	clone := func(x []float32) []float32 { return append([]float32(nil), x...) }
	scale := 1
	if testing.Short() {
		scale = 4
	}

	// Shapes.
	rows, n := 640/scale, 768
	act := 1 << 20 / scale
	tok, heads, hd := 1024/scale, 8, 64
	srows, sn := 512/scale, 1000
	cn, cv := 64/scale, 8192
	en, edim, erows := 2048/scale, 256, 100
	an := 1 << 20 / scale
	attn := []kernels.AttentionParams{
		{B: 2, T: 300 / scale, H: 4, KVH: 2, D: 32, Scale: 0.2},
		{B: 1, T: 512 / scale, H: 1, KVH: 1, D: 64, Scale: 0.125},
		{B: 4, T: 260 / scale, H: 16, KVH: 8, D: 16, Scale: 0.25},
	}

	x, w, b, dy := rnd(rows*n, 1), rnd(n, 1), rnd(n, 1), rnd(rows*n, 1)
	ax, adyv, au := rnd(act, 6), rnd(act, 1), rnd(act, 2)
	cos, sin := kernels.RoPETables(tok, hd, 10000)
	pos := make([]int32, tok)
	for i := range pos {
		pos[i] = int32(rng.IntN(tok))
	}
	rp := kernels.RoPEParams{Tokens: tok, Heads: heads, HeadDim: hd, Pos: pos, Cos: cos, Sin: sin}
	rx := rnd(tok*heads*hd, 1)
	sx, sdy := rnd(srows*sn, 5), rnd(srows*sn, 1)
	logits := rnd(cn*cv, 8)
	targets := make([]int32, cn)
	for i := range targets {
		targets[i] = int32(rng.IntN(cv))
		if i%7 == 3 {
			targets[i] = kernels.IgnoreIndex
		}
	}
	table, eids, edout := rnd(erows*edim, 1), make([]int32, en), rnd(en*edim, 1)
	for i := range eids {
		eids[i] = int32(rng.IntN(erows))
	}
	ap, ag, am, av := rnd(an, 1), rnd(an, 1), rnd(an, 0.1), rnd(an, 0.01)
	for i := range av {
		av[i] = float32(math.Abs(float64(av[i])))
	}

	ops := []struct {
		name string
		f    func() [][]float32
	}{
		{"RMSNorm", func() [][]float32 {
			y, rs, dx, dw := make([]float32, rows*n), make([]float32, rows), make([]float32, rows*n), clone(b)
			impl.RMSNorm(y, rs, x, w, rows, n, 1e-5)
			impl.RMSNormBackward(dx, dw, dy, x, w, rs, rows, n)
			return [][]float32{y, rs, dx, dw}
		}},
		{"LayerNorm", func() [][]float32 {
			y, mu, rs, dx, dw, db := make([]float32, rows*n), make([]float32, rows), make([]float32, rows), make([]float32, rows*n), clone(b), clone(w)
			impl.LayerNorm(y, mu, rs, x, w, b, rows, n, 1e-5)
			impl.LayerNormBackward(dx, dw, db, dy, x, w, mu, rs, rows, n)
			return [][]float32{y, mu, rs, dx, dw, db}
		}},
		{"Activations", func() [][]float32 {
			o := make([][]float32, 7)
			for i := range o {
				o[i] = make([]float32, act)
			}
			impl.GELU(o[0], ax, act)
			impl.GELUBackward(o[1], adyv, ax, act)
			impl.SiLU(o[2], ax, act)
			impl.SiLUBackward(o[3], adyv, ax, act)
			impl.SwiGLU(o[4], ax, au, act)
			impl.SwiGLUBackward(o[5], o[6], adyv, ax, au, act)
			return o
		}},
		{"RoPE", func() [][]float32 {
			y, dx := make([]float32, len(rx)), make([]float32, len(rx))
			impl.RoPE(y, rx, rp)
			rp2 := rp
			rp2.Layout = kernels.RoPEInterleaved
			impl.RoPEBackward(dx, rx, rp2)
			return [][]float32{y, dx}
		}},
		{"Softmax", func() [][]float32 {
			y, dx := make([]float32, srows*sn), make([]float32, srows*sn)
			impl.Softmax(y, sx, srows, sn)
			impl.SoftmaxBackward(dx, sdy, y, srows, sn)
			return [][]float32{y, dx}
		}},
		{"CrossEntropy", func() [][]float32 {
			l1, l2, g := make([]float32, cn), make([]float32, cn), clone(logits)
			impl.CrossEntropy(l1, logits, targets, cn, cv)
			impl.CrossEntropyGrad(l2, g, targets, cn, cv, 0.01)
			return [][]float32{l1, l2, g}
		}},
		{"Embedding", func() [][]float32 {
			out, dt := make([]float32, en*edim), clone(table)
			impl.Embedding(out, table, eids, en, edim)
			impl.EmbeddingBackward(dt, edout, eids, en, edim)
			return [][]float32{out, dt}
		}},
		{"AdamW", func() [][]float32 {
			p, m, v := clone(ap), clone(am), clone(av)
			impl.AdamW(p, ag, m, v, an, kernels.AdamWParams{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1, Step: 3})
			return [][]float32{p, m, v}
		}},
	}
	for i, p := range attn {
		nq, nkv := p.B*p.T*p.H*p.D, p.B*p.T*p.KVH*p.D
		q, k, v, dout := rnd(nq, 1), rnd(nkv, 1), rnd(nkv, 1), rnd(nq, 1)
		if i == 0 {
			p.Start = make([]int32, p.B*p.T)
			for j := range p.Start {
				p.Start[j] = int32(j % p.T / 100 * 100)
			}
		}
		ops = append(ops, struct {
			name string
			f    func() [][]float32
		}{shapeName("CausalAttention/B%d_T%d_H%d_KVH%d", p.B, p.T, p.H, p.KVH), func() [][]float32 {
			out, lse := make([]float32, nq), make([]float32, p.B*p.H*p.T)
			dq, dk, dv := make([]float32, nq), make([]float32, nkv), make([]float32, nkv)
			impl.CausalAttention(out, lse, q, k, v, p)
			impl.CausalAttentionBackward(dq, dk, dv, dout, out, lse, q, k, v, p)
			return [][]float32{out, lse, dq, dk, dv}
		}})
	}

	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			var first [][]float32
			for _, procs := range []int{1, 2, 3, 4} {
				runtime.GOMAXPROCS(procs)
				got := op.f()
				if first == nil {
					first = got
					continue
				}
				for i := range got {
					for j := range got[i] {
						if math.Float32bits(got[i][j]) != math.Float32bits(first[i][j]) {
							t.Errorf("output %d differs at %d with GOMAXPROCS %d: %v, with 1: %v", i, j, procs, got[i][j], first[i][j])
							return
						}
					}
				}
			}
		})
	}
}
