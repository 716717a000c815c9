package ggops

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/humanllm/humanllm/kernels"
)

type softmaxOp struct {
	base
	k       kernels.Fused
	rows, n int
	out     owned
}

// Softmax returns the softmax of x over its last axis, computed by k.
func Softmax(x *G.Node, k kernels.Fused) (*G.Node, error) {
	const name = "Softmax"
	if err := checkFloat(name, x); err != nil {
		return nil, err
	}
	if k == nil {
		return nil, fmt.Errorf("ggops: %s: nil kernels", name)
	}
	rows, n := lastAxis(x.Shape())
	op := &softmaxOp{
		base: base{name: name, params: fmt.Sprintf("n=%d,k=%s", n, kname(k)), in: argsOf(x), out: argOf(x), shape: x.Shape()},
		k:    k, rows: rows, n: n,
	}
	return G.ApplyOp(op, x)
}

func (op *softmaxOp) compute(y []float32, in []G.Value) error {
	x, err := f32(in[0], op.rows*op.n, "x")
	if err != nil {
		return err
	}
	op.k.Softmax(y, x, op.rows, op.n)
	return nil
}

func (op *softmaxOp) Do(in ...G.Value) (G.Value, error) { return doOwned(&op.base, &op.out, op, in) }
func (op *softmaxOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return doPrealloc(&op.base, op, p, in)
}
func (op *softmaxOp) DiffWRT(int) []bool { return []bool{true} }

func (op *softmaxOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	gop := &softmaxGrad{
		base: base{name: "SoftmaxGrad", params: op.params, in: argsOf(y, dy), out: argOf(in[0]), shape: in[0].Shape()},
		fwd:  op,
	}
	dx, err := G.ApplyOp(gop, y, dy)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// softmaxGrad computes dx from (y, dy).
type softmaxGrad struct {
	base
	noDiff
	fwd *softmaxOp
	out owned
}

func (op *softmaxGrad) compute(dx []float32, in []G.Value) error {
	f := op.fwd
	y, err := f32(in[0], f.rows*f.n, "y")
	if err != nil {
		return err
	}
	dy, err := f32(in[1], f.rows*f.n, "dy")
	if err != nil {
		return err
	}
	f.k.SoftmaxBackward(dx, dy, y, f.rows, f.n)
	return nil
}

func (op *softmaxGrad) Do(in ...G.Value) (G.Value, error) { return doOwned(&op.base, &op.out, op, in) }
func (op *softmaxGrad) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return doPrealloc(&op.base, op, p, in)
}
