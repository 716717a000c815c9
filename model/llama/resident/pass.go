package resident

import (
	"math"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/device"
	"github.com/humanllm/humanllm/model"
)

const (
	nt = kernels.NoTrans
	tr = kernels.Trans
)

// linear is y = x·wᵀ (+ bias when bias >= 0) for x [N, in], w [out, in]:
// beta 0 overwrites y, beta 1 adds to it (the residual stream).
func (s *Step) linear(y, x device.F32, w, bias, out, in int, beta float32) {
	d, n := s.dev, s.B*s.T
	d.Sgemm(nt, tr, n, out, in, 1, x, in, s.param(w), in, beta, y, out)
	if bias >= 0 {
		// y += ones[N,1]·bias[1,out]: the broadcast add as a rank-1 product.
		d.Sgemm(nt, nt, n, out, 1, 1, s.ones, 1, s.param(bias), out, 1, y, out)
	}
}

// linearBackward accumulates dW += dyᵀ·x (and db += Σ rows of dy) and
// computes dx = dy·W (beta 0) or dx += dy·W (beta 1).
func (s *Step) linearBackward(dx, dy, x device.F32, w, bias, out, in int, beta float32) {
	d, n := s.dev, s.B*s.T
	d.Sgemm(tr, nt, out, in, n, 1, dy, out, x, in, 1, s.gr(w), in)
	if bias >= 0 {
		d.Sgemm(tr, nt, 1, out, n, 1, s.ones, 1, dy, out, 1, s.gr(bias), out)
	}
	d.Sgemm(nt, nt, n, in, out, 1, dy, out, s.param(w), in, beta, dx, in)
}

func (s *Step) rope(heads int) device.RoPEParams {
	layout := kernels.RoPEHalf
	if s.Config.RopeLayout == model.RopeInterleaved {
		layout = kernels.RoPEInterleaved
	}
	return device.RoPEParams{Tokens: s.B * s.T, Heads: heads, HeadDim: s.Config.HeadDim(),
		Pos: s.pos, Cos: s.cos, Sin: s.sin, Layout: layout}
}

func (s *Step) attention() device.AttentionParams {
	hd := s.Config.HeadDim()
	return device.AttentionParams{B: s.B, T: s.T, H: s.Config.NHeads, KVH: s.Config.NKVHeads, D: hd,
		Scale: float32(1 / math.Sqrt(float64(hd))), Start: s.start}
}

// forwardBackward runs the forward pass of the uploaded batch, the loss
// (its gradient scaled by scale), and unless NoGrad the backward pass,
// accumulating every parameter's gradient. It returns the sum of the
// per-token losses (one scalar down).
func (s *Step) forwardBackward(scale float32) float64 {
	d, cfg := s.dev, s.Config
	n, D, KV, F, V := s.B*s.T, cfg.Dim, cfg.KVDim(), cfg.HiddenDim, cfg.Vocab
	eps := float32(cfg.RMSEps)
	ap := s.attention()
	x := s.acts[0].x
	d.Embedding(x, s.param(s.embed), s.ids, n, D)
	for l, lp := range s.layers {
		a := &s.acts[min(l, len(s.acts)-1)]
		if l >= len(s.acts) {
			d.Copy(a.x, x, n*D) // NoGrad: one set of buffers, the stream moves in
		}
		d.RMSNorm(a.h1, a.rstd1, a.x, s.param(lp.attnNorm), n, D, eps)
		s.linear(a.q, a.h1, lp.wq, lp.bq, D, D, 0)
		s.linear(a.k, a.h1, lp.wk, lp.bk, KV, D, 0)
		s.linear(a.v, a.h1, lp.wv, lp.bv, KV, D, 0)
		d.RoPE(a.q, a.q, s.rope(cfg.NHeads))
		d.RoPE(a.k, a.k, s.rope(cfg.NKVHeads))
		d.CausalAttention(a.att, a.lse, a.q, a.k, a.v, ap)
		d.Copy(a.xm, a.x, n*D)
		s.linear(a.xm, a.att, lp.wo, -1, D, D, 1)
		d.RMSNorm(a.h2, a.rstd2, a.xm, s.param(lp.ffnNorm), n, D, eps)
		s.linear(a.g, a.h2, lp.gate, -1, F, D, 0)
		s.linear(a.u, a.h2, lp.up, -1, F, D, 0)
		d.SwiGLU(a.s, a.g, a.u, n*F)
		// The next layer's input: xm + s·Wdownᵀ.
		x = s.xf
		if l+1 < len(s.acts) {
			x = s.acts[l+1].x
		}
		d.Copy(x, a.xm, n*D)
		s.linear(x, a.s, lp.down, -1, D, F, 1)
	}
	d.RMSNorm(s.hf, s.rstdf, s.xf, s.param(s.final), n, D, eps)
	s.linear(s.logits, s.hf, s.cls, -1, V, D, 0)
	if s.opt.NoGrad {
		d.CrossEntropy(s.losses, s.logits, s.tgt, n, V)
		return d.Sum(s.losses, n)
	}
	d.CrossEntropyGrad(s.losses, s.logits, s.tgt, n, V, scale)
	loss := d.Sum(s.losses, n)

	// Backward. s.logits holds dloss/dlogits.
	s.linearBackward(s.dh, s.logits, s.hf, s.cls, -1, V, D, 0)
	d.RMSNormBackward(s.dx, s.gr(s.final), s.dh, s.xf, s.param(s.final), s.rstdf, n, D)
	for l := len(s.layers) - 1; l >= 0; l-- {
		lp, a := s.layers[l], &s.acts[l]
		// s.dx: the gradient of the layer's output (xm + s·Wdownᵀ).
		s.linearBackward(s.ds, s.dx, a.s, lp.down, -1, D, F, 0)
		d.SwiGLUBackward(s.dg, s.du, s.ds, a.g, a.u, n*F)
		s.linearBackward(s.dh, s.dg, a.h2, lp.gate, -1, F, D, 0)
		s.linearBackward(s.dh, s.du, a.h2, lp.up, -1, F, D, 1)
		d.RMSNormBackward(s.dtmp, s.gr(lp.ffnNorm), s.dh, a.xm, s.param(lp.ffnNorm), a.rstd2, n, D)
		d.Axpy(s.dx, s.dtmp, n*D, 1) // s.dx: gradient of xm
		s.linearBackward(s.datt, s.dx, a.att, lp.wo, -1, D, D, 0)
		d.CausalAttentionBackward(s.dq, s.dk, s.dv, s.datt, a.att, a.lse, a.q, a.k, a.v, ap)
		d.RoPEBackward(s.dq, s.dq, s.rope(cfg.NHeads))
		d.RoPEBackward(s.dk, s.dk, s.rope(cfg.NKVHeads))
		s.linearBackward(s.dh, s.dq, a.h1, lp.wq, lp.bq, D, D, 0)
		s.linearBackward(s.dh, s.dk, a.h1, lp.wk, lp.bk, KV, D, 1)
		s.linearBackward(s.dh, s.dv, a.h1, lp.wv, lp.bv, KV, D, 1)
		d.RMSNormBackward(s.dtmp, s.gr(lp.attnNorm), s.dh, a.x, s.param(lp.attnNorm), a.rstd1, n, D)
		d.Axpy(s.dx, s.dtmp, n*D, 1) // s.dx: gradient of the layer's input
	}
	d.EmbeddingBackward(s.gr(s.embed), s.dx, s.ids, n, D)
	return loss
}
