package ggops

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/humanllm/humanllm/kernels"
)

// actKind selects the elementwise activation of an actOp.
type actKind uint8

const (
	actGELU actKind = iota
	actSiLU
)

func (a actKind) String() string { return [...]string{"GELU", "SiLU"}[a] }

type actOp struct {
	base
	k    kernels.Fused
	kind actKind
	n    int
	out  owned
}

// GELU returns the tanh-approximated GELU of x, elementwise, computed by k.
func GELU(x *G.Node, k kernels.Fused) (*G.Node, error) { return activation(x, actGELU, k) }

// SiLU returns x·σ(x), elementwise, computed by k.
func SiLU(x *G.Node, k kernels.Fused) (*G.Node, error) { return activation(x, actSiLU, k) }

func activation(x *G.Node, kind actKind, k kernels.Fused) (*G.Node, error) {
	name := kind.String()
	if err := checkFloat(name, x); err != nil {
		return nil, err
	}
	if k == nil {
		return nil, fmt.Errorf("ggops: %s: nil kernels", name)
	}
	op := &actOp{
		base: base{name: name, params: "k=" + kname(k), in: argsOf(x), out: argOf(x), shape: x.Shape()},
		k:    k, kind: kind, n: x.Shape().TotalSize(),
	}
	return G.ApplyOp(op, x)
}

func (op *actOp) compute(y []float32, in []G.Value) error {
	x, err := f32(in[0], op.n, "x")
	if err != nil {
		return err
	}
	switch op.kind {
	case actGELU:
		op.k.GELU(y, x, op.n)
	case actSiLU:
		op.k.SiLU(y, x, op.n)
	}
	return nil
}

func (op *actOp) Do(in ...G.Value) (G.Value, error) { return doOwned(&op.base, &op.out, op, in) }
func (op *actOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return doPrealloc(&op.base, op, p, in)
}
func (op *actOp) DiffWRT(int) []bool { return []bool{true} }

func (op *actOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	gop := &actGrad{
		base: base{name: op.name + "Grad", params: op.params, in: argsOf(in[0], dy), out: argOf(in[0]), shape: in[0].Shape()},
		fwd:  op,
	}
	dx, err := G.ApplyOp(gop, in[0], dy)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// actGrad computes dx from (x, dy).
type actGrad struct {
	base
	noDiff
	fwd *actOp
	out owned
}

func (op *actGrad) compute(dx []float32, in []G.Value) error {
	f := op.fwd
	x, err := f32(in[0], f.n, "x")
	if err != nil {
		return err
	}
	dy, err := f32(in[1], f.n, "dy")
	if err != nil {
		return err
	}
	switch f.kind {
	case actGELU:
		f.k.GELUBackward(dx, dy, x, f.n)
	case actSiLU:
		f.k.SiLUBackward(dx, dy, x, f.n)
	}
	return nil
}

func (op *actGrad) Do(in ...G.Value) (G.Value, error) { return doOwned(&op.base, &op.out, op, in) }
func (op *actGrad) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return doPrealloc(&op.base, op, p, in)
}

// ---------------------------------------------------------------- SwiGLU

type swiGLUOp struct {
	base
	k   kernels.Fused
	n   int
	out owned
}

// SwiGLU returns SiLU(g)⊙u (Llama's MLP gate), elementwise, computed by k.
// g and u have the same shape.
func SwiGLU(g, u *G.Node, k kernels.Fused) (*G.Node, error) {
	const name = "SwiGLU"
	if err := checkFloat(name, g, u); err != nil {
		return nil, err
	}
	if k == nil {
		return nil, fmt.Errorf("ggops: %s: nil kernels", name)
	}
	if !g.Shape().Eq(u.Shape()) {
		return nil, fmt.Errorf("ggops: %s: g has shape %v, u %v", name, g.Shape(), u.Shape())
	}
	op := &swiGLUOp{
		base: base{name: name, params: "k=" + kname(k), in: argsOf(g, u), out: argOf(g), shape: g.Shape()},
		k:    k, n: g.Shape().TotalSize(),
	}
	return G.ApplyOp(op, g, u)
}

func (op *swiGLUOp) compute(y []float32, in []G.Value) error {
	g, err := f32(in[0], op.n, "g")
	if err != nil {
		return err
	}
	u, err := f32(in[1], op.n, "u")
	if err != nil {
		return err
	}
	op.k.SwiGLU(y, g, u, op.n)
	return nil
}

func (op *swiGLUOp) Do(in ...G.Value) (G.Value, error) { return doOwned(&op.base, &op.out, op, in) }
func (op *swiGLUOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return doPrealloc(&op.base, op, p, in)
}
func (op *swiGLUOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op *swiGLUOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	gop := &swiGLUGrad{
		base: base{name: "SwiGLUGrad", params: op.params, in: argsOf(in[0], in[1], dy), out: argOf(in[0]), shape: in[0].Shape()},
		fwd:  op, extra: newGradOutputs(in[1].Shape()),
	}
	dg, err := G.ApplyOp(gop, in[0], in[1], dy)
	if err != nil {
		return nil, err
	}
	du, err := G.ApplyOp(newParamGrad("SwiGLUGradU", gop.extra, 0, dg.Dims()), dg)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dg, du}, nil
}

// swiGLUGrad computes dg (its value) and du (kept for its paramGrad) from
// (g, u, dy).
type swiGLUGrad struct {
	base
	noDiff
	fwd   *swiGLUOp
	out   owned
	extra *gradOutputs
}

func (op *swiGLUGrad) compute(dg []float32, in []G.Value) error {
	f := op.fwd
	g, err := f32(in[0], f.n, "g")
	if err != nil {
		return err
	}
	u, err := f32(in[1], f.n, "u")
	if err != nil {
		return err
	}
	dy, err := f32(in[2], f.n, "dy")
	if err != nil {
		return err
	}
	du := op.extra.prepare(0, false)
	f.k.SwiGLUBackward(dg, du, dy, g, u, f.n)
	return nil
}

func (op *swiGLUGrad) Do(in ...G.Value) (v G.Value, err error) {
	v, err = doOwned(&op.base, &op.out, op, in)
	op.extra.last = v
	return v, err
}
