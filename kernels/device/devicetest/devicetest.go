// Package devicetest is the conformance suite of kernels/device
// implementations: every operation of a device.Device against the same
// operation of device.Host over kernels/ref (the specification), on
// random inputs uploaded to both, with the results downloaded and compared
// within stated tolerances; and determinism (the same call twice gives
// the same bits).
package devicetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/device"
	"github.com/humanllm/humanllm/kernels/ref"
)

// Tolerance is the largest |got − want| allowed, relative to
// max(1, max |want|) of the output: fp32 with other summation orders.
const Tolerance = 2e-5

type pair struct {
	t    *testing.T
	d, h device.Device
	rng  *rand.Rand
}

// bufs is one value uploaded to both devices.
type bufs struct {
	d, h device.F32
	n    int
}

func (p *pair) rand(n int, scale float64) bufs {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(p.rng.NormFloat64() * scale)
	}
	return p.vals(v)
}

func (p *pair) vals(v []float32) bufs {
	b := bufs{p.d.AllocF32(len(v)), p.h.AllocF32(len(v)), len(v)}
	p.d.Upload(b.d, v)
	p.h.Upload(b.h, v)
	return b
}

func (p *pair) ints(v []int32) (device.I32, device.I32) {
	d, h := p.d.AllocI32(len(v)), p.h.AllocI32(len(v))
	p.d.UploadI32(d, v)
	p.h.UploadI32(h, v)
	return d, h
}

// check compares the buffers of b after an operation.
func (p *pair) check(op, name string, b bufs, tol float64) {
	p.t.Helper()
	got, want := make([]float32, b.n), make([]float32, b.n)
	p.d.Download(got, b.d)
	p.h.Download(want, b.h)
	big, diff, at := 1.0, 0.0, -1
	for i := range want {
		big = math.Max(big, math.Abs(float64(want[i])))
	}
	for i := range want {
		e := math.Abs(float64(got[i] - want[i]))
		if !(e <= diff) { // NaN counts as a difference
			diff, at = e, i
		}
	}
	if !(diff <= tol*big) {
		p.t.Errorf("%s: %s[%d] = %g, want %g (largest difference %.3g, tolerance %.3g)", op, name, at, got[at], want[at], diff, tol*big)
	}
}

// Conformance runs every operation of d and of device.Host{ref} on the
// same inputs and compares the outputs.
func Conformance(t *testing.T, d device.Device) {
	p := &pair{t: t, d: d, h: device.Host{K: ref.Implementation{}}, rng: rand.New(rand.NewPCG(1, 2))}
	const tol = Tolerance

	t.Run("Sgemm", func(t *testing.T) {
		p.t = t
		for _, c := range []struct {
			tA, tB      kernels.Transpose
			m, n, k     int
			lda, ldb    int
			alpha, beta float32
		}{
			{kernels.NoTrans, kernels.Trans, 37, 29, 45, 45, 45, 1, 0},
			{kernels.Trans, kernels.NoTrans, 29, 45, 37, 29, 45, 1, 1},
			{kernels.NoTrans, kernels.NoTrans, 16, 8, 1, 1, 8, 1, 1},
			{kernels.NoTrans, kernels.NoTrans, 12, 7, 9, 11, 7, 0.5, -2},
			{kernels.NoTrans, kernels.NoTrans, 5, 6, 4, 4, 6, 0, 3}, // alpha 0: C = beta·C
		} {
			ra := c.m
			if c.tA == kernels.Trans {
				ra = c.k
			}
			rb := c.k
			if c.tB == kernels.Trans {
				rb = c.n
			}
			a, b, cc := p.rand(ra*c.lda, 1), p.rand(rb*c.ldb, 1), p.rand(c.m*c.n, 1)
			op := fmt.Sprintf("Sgemm(%c%c %dx%dx%d α%g β%g)", c.tA, c.tB, c.m, c.n, c.k, c.alpha, c.beta)
			p.d.Sgemm(c.tA, c.tB, c.m, c.n, c.k, c.alpha, a.d, c.lda, b.d, c.ldb, c.beta, cc.d, c.n)
			p.h.Sgemm(c.tA, c.tB, c.m, c.n, c.k, c.alpha, a.h, c.lda, b.h, c.ldb, c.beta, cc.h, c.n)
			p.check(op, "c", cc, tol)
		}
		// Strided batched, B shared (stride 0).
		m, n, k, batch := 9, 7, 5, 3
		a, b, c := p.rand(batch*m*k, 1), p.rand(k*n, 1), p.rand(batch*m*n, 1)
		p.d.SgemmStridedBatched(kernels.NoTrans, kernels.NoTrans, m, n, k, 1, a.d, k, m*k, b.d, n, 0, 0, c.d, n, m*n, batch)
		p.h.SgemmStridedBatched(kernels.NoTrans, kernels.NoTrans, m, n, k, 1, a.h, k, m*k, b.h, n, 0, 0, c.h, n, m*n, batch)
		p.check("SgemmStridedBatched", "c", c, tol)
		// A view: the product into the second half of a buffer.
		big := p.rand(2*m*n, 1)
		av, bv := p.rand(m*k, 1), p.rand(n*k, 1)
		p.d.Sgemm(kernels.NoTrans, kernels.Trans, m, n, k, 1, av.d, k, bv.d, k, 0, big.d.Slice(m*n, m*n), n)
		p.h.Sgemm(kernels.NoTrans, kernels.Trans, m, n, k, 1, av.h, k, bv.h, k, 0, big.h.Slice(m*n, m*n), n)
		p.check("Sgemm into a view", "c", big, tol)
	})

	t.Run("RMSNorm", func(t *testing.T) {
		p.t = t
		rows, n := 13, 96
		x, w, y, rstd := p.rand(rows*n, 1), p.rand(n, 1), p.rand(rows*n, 1), p.rand(rows, 1)
		p.d.RMSNorm(y.d, rstd.d, x.d, w.d, rows, n, 1e-5)
		p.h.RMSNorm(y.h, rstd.h, x.h, w.h, rows, n, 1e-5)
		p.check("RMSNorm", "y", y, tol)
		p.check("RMSNorm", "rstd", rstd, tol)
		dy, dx, dw := p.rand(rows*n, 1), p.rand(rows*n, 1), p.rand(n, 1)
		p.d.RMSNormBackward(dx.d, dw.d, dy.d, x.d, w.d, rstd.d, rows, n)
		p.h.RMSNormBackward(dx.h, dw.h, dy.h, x.h, w.h, rstd.h, rows, n)
		p.check("RMSNormBackward", "dx", dx, tol)
		p.check("RMSNormBackward", "dw (accumulated)", dw, tol)
	})

	t.Run("RoPE", func(t *testing.T) {
		p.t = t
		tokens, heads, hd := 11, 3, 8
		cos, sin := kernels.RoPETables(16, hd, 10000)
		cb, sb := p.vals(cos), p.vals(sin)
		pos := make([]int32, tokens)
		for i := range pos {
			pos[i] = int32(p.rng.IntN(16))
		}
		pd, ph := p.ints(pos)
		for _, layout := range []kernels.RoPELayout{kernels.RoPEHalf, kernels.RoPEInterleaved} {
			x, y := p.rand(tokens*heads*hd, 1), p.rand(tokens*heads*hd, 1)
			pp := func(posb device.I32, c, s device.F32) device.RoPEParams {
				return device.RoPEParams{Tokens: tokens, Heads: heads, HeadDim: hd, Pos: posb, Cos: c, Sin: s, Layout: layout}
			}
			p.d.RoPE(y.d, x.d, pp(pd, cb.d, sb.d))
			p.h.RoPE(y.h, x.h, pp(ph, cb.h, sb.h))
			p.check("RoPE", "y", y, tol)
			p.d.RoPEBackward(x.d, x.d, pp(pd, cb.d, sb.d)) // in place
			p.h.RoPEBackward(x.h, x.h, pp(ph, cb.h, sb.h))
			p.check("RoPEBackward in place", "dx", x, tol)
		}
	})

	t.Run("CausalAttention", func(t *testing.T) {
		p.t = t
		B, T, H, KVH, D := 2, 19, 4, 2, 8
		start := make([]int32, B*T)
		for j := range start {
			if t := j % T; t >= 7 && j/T == 0 {
				start[j] = 7 // row 0: two packed samples
			}
		}
		sd, sh := p.ints(start)
		for _, packed := range []bool{false, true} {
			ap := func(s device.I32) device.AttentionParams {
				if !packed {
					s = nil
				}
				return device.AttentionParams{B: B, T: T, H: H, KVH: KVH, D: D, Scale: float32(1 / math.Sqrt(float64(D))), Start: s}
			}
			nq, nkv := B*T*H*D, B*T*KVH*D
			q, k, v := p.rand(nq, 1), p.rand(nkv, 1), p.rand(nkv, 1)
			out, lse := p.rand(nq, 1), p.rand(B*H*T, 1)
			op := fmt.Sprintf("CausalAttention(packed %v)", packed)
			p.d.CausalAttention(out.d, lse.d, q.d, k.d, v.d, ap(sd))
			p.h.CausalAttention(out.h, lse.h, q.h, k.h, v.h, ap(sh))
			p.check(op, "out", out, tol)
			p.check(op, "lse", lse, tol)
			dout, dq, dk, dv := p.rand(nq, 1), p.rand(nq, 1), p.rand(nkv, 1), p.rand(nkv, 1)
			p.d.CausalAttentionBackward(dq.d, dk.d, dv.d, dout.d, out.d, lse.d, q.d, k.d, v.d, ap(sd))
			p.h.CausalAttentionBackward(dq.h, dk.h, dv.h, dout.h, out.h, lse.h, q.h, k.h, v.h, ap(sh))
			p.check(op+" backward", "dq", dq, tol)
			p.check(op+" backward", "dk", dk, tol)
			p.check(op+" backward", "dv", dv, tol)
		}
	})

	t.Run("SwiGLU", func(t *testing.T) {
		p.t = t
		n := 1000
		g, u, y := p.rand(n, 2), p.rand(n, 1), p.rand(n, 1)
		p.d.SwiGLU(y.d, g.d, u.d, n)
		p.h.SwiGLU(y.h, g.h, u.h, n)
		p.check("SwiGLU", "y", y, tol)
		dy, dg, du := p.rand(n, 1), p.rand(n, 1), p.rand(n, 1)
		p.d.SwiGLUBackward(dg.d, du.d, dy.d, g.d, u.d, n)
		p.h.SwiGLUBackward(dg.h, du.h, dy.h, g.h, u.h, n)
		p.check("SwiGLUBackward", "dg", dg, tol)
		p.check("SwiGLUBackward", "du", du, tol)
	})

	t.Run("Embedding", func(t *testing.T) {
		p.t = t
		rows, dim, n := 70, 24, 300 // many repeated ids
		ids := make([]int32, n)
		for i := range ids {
			ids[i] = int32(p.rng.IntN(rows))
		}
		idd, idh := p.ints(ids)
		table, out := p.rand(rows*dim, 1), p.rand(n*dim, 1)
		p.d.Embedding(out.d, table.d, idd, n, dim)
		p.h.Embedding(out.h, table.h, idh, n, dim)
		p.check("Embedding", "out", out, 0)
		dout, dtable := p.rand(n*dim, 1), p.rand(rows*dim, 1)
		p.d.EmbeddingBackward(dtable.d, dout.d, idd, n, dim)
		p.h.EmbeddingBackward(dtable.h, dout.h, idh, n, dim)
		p.check("EmbeddingBackward (sequential sums: exact)", "dtable", dtable, 0)
	})

	t.Run("CrossEntropy", func(t *testing.T) {
		p.t = t
		n, v := 17, 300
		tg := make([]int32, n)
		for i := range tg {
			tg[i] = int32(p.rng.IntN(v))
			if i%5 == 3 {
				tg[i] = kernels.IgnoreIndex
			}
		}
		td, th := p.ints(tg)
		logits, losses := p.rand(n*v, 3), p.rand(n, 1)
		p.d.CrossEntropy(losses.d, logits.d, td, n, v)
		p.h.CrossEntropy(losses.h, logits.h, th, n, v)
		p.check("CrossEntropy", "losses", losses, tol)
		p.check("CrossEntropy", "logits (unchanged)", logits, 0)
		p.d.CrossEntropyGrad(losses.d, logits.d, td, n, v, 0.25)
		p.h.CrossEntropyGrad(losses.h, logits.h, th, n, v, 0.25)
		p.check("CrossEntropyGrad", "losses", losses, tol)
		p.check("CrossEntropyGrad", "logits (gradient)", logits, tol)
	})

	t.Run("AdamW", func(t *testing.T) {
		p.t = t
		n := 777
		param, grad, m, v := p.rand(n, 1), p.rand(n, 1), p.rand(n, 0.1), p.rand(n, 0)
		vv := make([]float32, n)
		for i := range vv {
			vv[i] = float32(p.rng.Float64() * 0.01)
		}
		v = p.vals(vv)
		for step := 1; step <= 3; step++ {
			ap := kernels.AdamWParams{LR: 1e-3, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1, Step: step}
			p.d.AdamW(param.d, grad.d, m.d, v.d, n, ap)
			p.h.AdamW(param.h, grad.h, m.h, v.h, n, ap)
		}
		p.check("AdamW", "param", param, 1e-6)
		p.check("AdamW", "m", m, 1e-6)
		p.check("AdamW", "v", v, 1e-6)
	})

	t.Run("Elementwise", func(t *testing.T) {
		p.t = t
		n := 5000
		x, y := p.rand(n, 1), p.rand(n, 1)
		p.d.Axpy(y.d, x.d, n, 0.37)
		p.h.Axpy(y.h, x.h, n, 0.37)
		p.check("Axpy (no fused multiply-add: exact)", "y", y, 0)
		p.d.Scale(y.d.Slice(10, 100), 100, -1.5)
		p.h.Scale(y.h.Slice(10, 100), 100, -1.5)
		p.check("Scale of a view (exact)", "y", y, 0)
		p.d.Copy(x.d.Slice(0, 50), y.d.Slice(200, 50), 50)
		p.h.Copy(x.h.Slice(0, 50), y.h.Slice(200, 50), 50)
		p.check("Copy (exact)", "x", x, 0)
		p.d.Zero(x.d.Slice(1000, 999), 999)
		p.h.Zero(x.h.Slice(1000, 999), 999)
		p.check("Zero (exact)", "x", x, 0)
	})

	t.Run("Reductions", func(t *testing.T) {
		p.t = t
		for _, n := range []int{1, 31, 4096, 100003} {
			x := p.rand(n, 1)
			for _, sq := range []bool{false, true} {
				f := func(d device.Device, b device.F32) float64 {
					if sq {
						return d.SumSquares(b, n)
					}
					return d.Sum(b, n)
				}
				got, want := f(p.d, x.d), f(p.h, x.h)
				// Two float64 sums of the same n terms in any orders
				// differ by at most 2·n·2^-53·Σ|term|.
				vals := make([]float32, n)
				p.h.Download(vals, x.h)
				var abs float64
				for _, v := range vals {
					if sq {
						abs += float64(v) * float64(v)
					} else {
						abs += math.Abs(float64(v))
					}
				}
				bound := 2 * float64(n) * 0x1p-53 * abs
				if !(math.Abs(got-want) <= bound) {
					t.Errorf("n=%d squares=%v: %v, host %v", n, sq, got, want)
				}
				if again := f(p.d, x.d); again != got {
					t.Errorf("n=%d squares=%v: %v then %v: not deterministic", n, sq, got, again)
				}
			}
		}
	})
}
