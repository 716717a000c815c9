package llama

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/kernels"
	ggops "github.com/humanllm/humanllm/kernels/gorgonia"
	"github.com/humanllm/humanllm/model"
)

// FusedOps implements Ops with the fused custom ops of kernels/gorgonia
// running on K (RMSNorm, RoPE, causal attention, SwiGLU, cross-entropy and
// embedding, and Linear, each one op with a hand-written backward). It is
// float32 only. Unlike BuiltinOps it honours packed batches:
// the positions and attention starts given to Graph.RunPacked.
type FusedOps struct {
	K kernels.Kernels

	ctx      *Ctx
	cos, sin []float32
}

var _ Ops = (*FusedOps)(nil)

func (o *FusedOps) forCtx(c *Ctx) error {
	if o.K == nil {
		return fmt.Errorf("llama: FusedOps without kernels")
	}
	if c.Dtype != tensor.Float32 {
		return fmt.Errorf("llama: FusedOps runs in float32, the graph is %v", c.Dtype)
	}
	if o.ctx != c {
		o.ctx = c
		o.cos, o.sin = kernels.RoPETables(c.T, c.Config.HeadDim(), c.Config.RopeTheta)
	}
	return nil
}

// Embedding gathers rows of table by ids.
func (o *FusedOps) Embedding(c *Ctx, table, ids *G.Node) (*G.Node, error) {
	if err := o.forCtx(c); err != nil {
		return nil, err
	}
	return ggops.Embedding(table, ids, o.K)
}

// Linear is x·wᵀ as one op on K's SGEMM (no copy of the transposed w).
func (o *FusedOps) Linear(c *Ctx, x, w *G.Node) (*G.Node, error) {
	if err := o.forCtx(c); err != nil {
		return nil, err
	}
	return ggops.Linear(x, w, nil, true, o.K)
}

// RMSNorm is one fused op.
func (o *FusedOps) RMSNorm(c *Ctx, x, w *G.Node) (*G.Node, error) {
	if err := o.forCtx(c); err != nil {
		return nil, err
	}
	return ggops.RMSNorm(x, w, float32(c.Config.RMSEps), o.K)
}

// RoPE rotates each head of x [N, heads·hd] by the position of its token.
func (o *FusedOps) RoPE(c *Ctx, x *G.Node, heads int) (*G.Node, error) {
	if err := o.forCtx(c); err != nil {
		return nil, err
	}
	hd := c.Config.HeadDim()
	layout := kernels.RoPEHalf
	if c.Config.RopeLayout == model.RopeInterleaved {
		layout = kernels.RoPEInterleaved
	}
	x3, err := ggops.Reshape(x, tensor.Shape{c.N(), heads, hd})
	if err != nil {
		return nil, err
	}
	y, err := ggops.RoPE(x3, ggops.RoPEConfig{Cos: o.cos, Sin: o.sin, Pos: c.Pos, Layout: layout}, o.K)
	if err != nil {
		return nil, err
	}
	return ggops.Reshape(y, x.Shape().Clone())
}

// Attention is one fused causal attention op over [B, T, heads, hd] views.
func (o *FusedOps) Attention(c *Ctx, q, k, v *G.Node) (*G.Node, error) {
	if err := o.forCtx(c); err != nil {
		return nil, err
	}
	cfg := c.Config
	hd := cfg.HeadDim()
	var e errs
	q4 := e.n(ggops.Reshape(q, tensor.Shape{c.B, c.T, cfg.NHeads, hd}))
	k4 := e.n(ggops.Reshape(k, tensor.Shape{c.B, c.T, cfg.NKVHeads, hd}))
	v4 := e.n(ggops.Reshape(v, tensor.Shape{c.B, c.T, cfg.NKVHeads, hd}))
	if e.err != nil {
		return nil, e.err
	}
	p := kernels.AttentionParams{B: c.B, T: c.T, H: cfg.NHeads, KVH: cfg.NKVHeads, D: hd,
		Scale: float32(1 / math.Sqrt(float64(hd))), Start: c.Start}
	a := e.n(ggops.CausalAttention(q4, k4, v4, p, o.K))
	return e.ret(ggops.Reshape(a, q.Shape().Clone()))
}

// SwiGLU is one fused op.
func (o *FusedOps) SwiGLU(c *Ctx, g, u *G.Node) (*G.Node, error) {
	if err := o.forCtx(c); err != nil {
		return nil, err
	}
	return ggops.SwiGLU(g, u, o.K)
}

// CrossEntropy is one fused op whose forward also computes the logits'
// gradient.
func (o *FusedOps) CrossEntropy(c *Ctx, logits, targets *G.Node) (*G.Node, error) {
	if err := o.forCtx(c); err != nil {
		return nil, err
	}
	return ggops.CrossEntropy(logits, targets, o.K)
}
