package ggops

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

type reshapeOp struct {
	base
	n   int
	out owned
}

// Reshape returns a copy of x with the given shape (same number of
// elements), and its gradient is a copy of the incoming one with x's
// shape.
//
// It exists because gorgonia's Reshape returns a view that shares x's
// memory, and gorgonia's register allocator does not know: an elementwise
// op that overwrites its input in place (Add, HadamardProd, Square, ...,
// and their gradient ops) may then write through the view into x while x
// is still needed — by a gradient op reading a forward output (Softmax,
// CausalAttention), or, when x is an input node, into the parameter itself.
// Copying costs one pass over the data and is always safe.
func Reshape(x *G.Node, shape tensor.Shape) (*G.Node, error) {
	const name = "Reshape"
	if err := checkFloat(name, x); err != nil {
		return nil, err
	}
	if shape.Dims() == 0 || shape.TotalSize() != x.Shape().TotalSize() {
		return nil, fmt.Errorf("ggops: %s: cannot reshape %v to %v", name, x.Shape(), shape)
	}
	op := &reshapeOp{
		base: base{name: name, params: fmt.Sprintf("from=%v,to=%v", x.Shape(), shape),
			in: argsOf(x), out: arg{dims: shape.Dims()}, shape: shape.Clone()},
		n: shape.TotalSize(),
	}
	return G.ApplyOp(op, x)
}

func (op *reshapeOp) compute(y []float32, in []G.Value) error {
	x, err := f32(in[0], op.n, "x")
	if err != nil {
		return err
	}
	copy(y, x)
	return nil
}

func (op *reshapeOp) Do(in ...G.Value) (G.Value, error) { return doOwned(&op.base, &op.out, op, in) }
func (op *reshapeOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return doPrealloc(&op.base, op, p, in)
}
func (op *reshapeOp) DiffWRT(int) []bool { return []bool{true} }

func (op *reshapeOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	gop := &reshapeOp{
		base: base{name: "ReshapeGrad", params: fmt.Sprintf("from=%v,to=%v", y.Shape(), in[0].Shape()),
			in: argsOf(dy), out: argOf(in[0]), shape: in[0].Shape()},
		n: op.n,
	}
	dx, err := G.ApplyOp(gradOf{gop}, dy)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// gradOf wraps an op used as a gradient op: not differentiable further.
type gradOf struct{ *reshapeOp }

func (gradOf) DiffWRT(n int) []bool { return noDiff{}.DiffWRT(n) }
func (gradOf) SymDiff(a G.Nodes, b, c *G.Node) (G.Nodes, error) {
	return noDiff{}.SymDiff(a, b, c)
}
