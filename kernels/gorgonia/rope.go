package ggops

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/humanllm/humanllm/kernels"
)

// RoPEConfig holds what RoPE reads besides x. The slices are kept by the op
// and read on every run: the caller may rewrite Pos in place between runs
// (new positions for a new batch, e.g. packed samples) but must keep the
// slices themselves (length and backing array). They enter the op's hash by
// identity, so ops with different slices are never merged.
type RoPEConfig struct {
	Cos, Sin []float32 // tables from kernels.RoPETables
	Pos      []int32   // one position per token (all leading dimensions of x)
	Layout   kernels.RoPELayout
}

type ropeOp struct {
	base
	k   kernels.Fused
	p   kernels.RoPEParams
	out owned
}

// RoPE rotates x of shape [..., heads, headDim] (rank ≥ 3; tokens = the
// product of the leading dimensions) by the rotary position embedding of
// c, computed by k. headDim must be even.
func RoPE(x *G.Node, c RoPEConfig, k kernels.Fused) (*G.Node, error) {
	const name = "RoPE"
	if err := checkFloat(name, x); err != nil {
		return nil, err
	}
	if k == nil {
		return nil, fmt.Errorf("ggops: %s: nil kernels", name)
	}
	s := x.Shape()
	if s.Dims() < 3 {
		return nil, fmt.Errorf("ggops: %s: x has shape %v, want rank ≥ 3 [..., heads, headDim]", name, s)
	}
	heads, d := s[s.Dims()-2], s[s.Dims()-1]
	tokens := s.TotalSize() / max(heads*d, 1)
	if d%2 != 0 {
		return nil, fmt.Errorf("ggops: %s: odd head dimension %d", name, d)
	}
	if c.Layout != kernels.RoPEHalf && c.Layout != kernels.RoPEInterleaved {
		return nil, fmt.Errorf("ggops: %s: bad layout %d", name, c.Layout)
	}
	if len(c.Pos) < tokens {
		return nil, fmt.Errorf("ggops: %s: %d positions for %d tokens", name, len(c.Pos), tokens)
	}
	if d > 0 && (len(c.Cos) < d/2 || len(c.Sin) < d/2) {
		return nil, fmt.Errorf("ggops: %s: tables hold %d/%d entries, fewer than one position (%d)", name, len(c.Cos), len(c.Sin), d/2)
	}
	p := kernels.RoPEParams{Tokens: tokens, Heads: heads, HeadDim: d, Pos: c.Pos[:tokens], Cos: c.Cos, Sin: c.Sin, Layout: c.Layout}
	op := &ropeOp{
		base: base{name: name, params: fmt.Sprintf("layout=%d,tokens=%d,heads=%d,d=%d,cos=%s,sin=%s,pos=%s,k=%s",
			c.Layout, tokens, heads, d, ptr(c.Cos), ptr(c.Sin), ptr(c.Pos), kname(k)),
			in: argsOf(x), out: argOf(x), shape: s},
		k: k, p: p,
	}
	return G.ApplyOp(op, x)
}

func (op *ropeOp) size() int { return op.p.Tokens * op.p.Heads * op.p.HeadDim }

func (op *ropeOp) compute(y []float32, in []G.Value) error {
	x, err := f32(in[0], op.size(), "x")
	if err != nil {
		return err
	}
	op.k.RoPE(y, x, op.p)
	return nil
}

func (op *ropeOp) Do(in ...G.Value) (G.Value, error) { return doOwned(&op.base, &op.out, op, in) }
func (op *ropeOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return doPrealloc(&op.base, op, p, in)
}
func (op *ropeOp) DiffWRT(int) []bool { return []bool{true} }

func (op *ropeOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	gop := &ropeGrad{
		base: base{name: "RoPEGrad", params: op.params, in: argsOf(dy), out: argOf(in[0]), shape: in[0].Shape()},
		fwd:  op,
	}
	dx, err := G.ApplyOp(gop, dy)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// ropeGrad rotates dy back into dx.
type ropeGrad struct {
	base
	noDiff
	fwd *ropeOp
	out owned
}

func (op *ropeGrad) compute(dx []float32, in []G.Value) error {
	dy, err := f32(in[0], op.fwd.size(), "dy")
	if err != nil {
		return err
	}
	op.fwd.k.RoPEBackward(dx, dy, op.fwd.p)
	return nil
}

func (op *ropeGrad) Do(in ...G.Value) (G.Value, error) { return doOwned(&op.base, &op.out, op, in) }
func (op *ropeGrad) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return doPrealloc(&op.base, op, p, in)
}
