package ggops

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/kernels"
)

// lastAxis splits a shape into rows (the product of all but the last
// dimension) and the last dimension n.
func lastAxis(s tensor.Shape) (rows, n int) {
	n = s[len(s)-1]
	return s.TotalSize() / max(n, 1), n
}

// checkVec checks that w is a vector of n elements.
func checkVec(name, what string, w *G.Node, n int) error {
	if s := w.Shape(); s.Dims() != 1 || s[0] != n {
		return fmt.Errorf("ggops: %s: %s has shape %v, want (%d)", name, what, s, n)
	}
	return nil
}

// ---------------------------------------------------------------- RMSNorm

type rmsNormOp struct {
	base
	k       kernels.Fused
	eps     float32
	rows, n int
	out     owned
	rstd    []float32 // saved statistics, rows elements
	key     statsKey
}

// RMSNorm returns x·rstd·w over the last axis of x, rstd =
// 1/√(mean(x²)+eps), computed by k. x is a float32 tensor of any rank ≥ 1
// whose last dimension n equals the length of the vector w.
func RMSNorm(x, w *G.Node, eps float32, k kernels.Fused) (*G.Node, error) {
	const name = "RMSNorm"
	if err := checkFloat(name, x, w); err != nil {
		return nil, err
	}
	if k == nil {
		return nil, fmt.Errorf("ggops: %s: nil kernels", name)
	}
	rows, n := lastAxis(x.Shape())
	if err := checkVec(name, "w", w, n); err != nil {
		return nil, err
	}
	op := &rmsNormOp{
		base: base{name: name, params: fmt.Sprintf("eps=%#x,n=%d,k=%s", math.Float32bits(eps), n, kname(k)),
			in: argsOf(x, w), out: argOf(x), shape: x.Shape()},
		k: k, eps: eps, rows: rows, n: n,
	}
	return G.ApplyOp(op, x, w)
}

func (op *rmsNormOp) compute(y []float32, in []G.Value) error {
	x, err := f32(in[0], op.rows*op.n, "x")
	if err != nil {
		return err
	}
	w, err := f32(in[1], op.n, "w")
	if err != nil {
		return err
	}
	op.rstd = grow(op.rstd, op.rows)
	op.k.RMSNorm(y, op.rstd, x, w, op.rows, op.n, op.eps)
	op.key.set(in[0])
	return nil
}

func (op *rmsNormOp) Do(in ...G.Value) (G.Value, error) { return doOwned(&op.base, &op.out, op, in) }
func (op *rmsNormOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return doPrealloc(&op.base, op, p, in)
}
func (op *rmsNormOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op *rmsNormOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	gop := &rmsNormGrad{
		base: base{name: "RMSNormGrad", params: op.params, in: argsOf(in[0], in[1], y, dy), out: argOf(in[0]), shape: in[0].Shape()},
		fwd:  op, extra: newGradOutputs(in[1].Shape()),
	}
	dx, err := G.ApplyOp(gop, in[0], in[1], y, dy)
	if err != nil {
		return nil, err
	}
	dw, err := G.ApplyOp(newParamGrad("RMSNormGradW", gop.extra, 0, dx.Dims()), dx)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw}, nil
}

// rmsNormGrad computes dx (its value) and dw (kept for its paramGrad) from
// (x, w, y, dy); y only orders it after the forward op that saved rstd.
type rmsNormGrad struct {
	base
	noDiff
	fwd   *rmsNormOp
	out   owned
	extra *gradOutputs
}

func (op *rmsNormGrad) compute(dx []float32, in []G.Value) error {
	f := op.fwd
	if err := f.key.check(in[0], f.name); err != nil {
		return err
	}
	x, err := f32(in[0], f.rows*f.n, "x")
	if err != nil {
		return err
	}
	w, err := f32(in[1], f.n, "w")
	if err != nil {
		return err
	}
	dy, err := f32(in[3], f.rows*f.n, "dy")
	if err != nil {
		return err
	}
	dw := op.extra.prepare(0, true)
	f.k.RMSNormBackward(dx, dw, dy, x, w, f.rstd, f.rows, f.n)
	return nil
}

func (op *rmsNormGrad) Do(in ...G.Value) (v G.Value, err error) {
	v, err = doOwned(&op.base, &op.out, op, in)
	op.extra.last = v
	return v, err
}

// ---------------------------------------------------------------- LayerNorm

type layerNormOp struct {
	base
	k          kernels.Fused
	eps        float32
	rows, n    int
	bias       bool
	out        owned
	mean, rstd []float32 // saved statistics, rows elements each
	key        statsKey
}

// LayerNorm returns (x−mean)·rstd·w + b over the last axis of x
// (population variance, rstd = 1/√(var+eps)), computed by k. b may be nil
// (no bias); w and b are vectors of the last dimension of x.
func LayerNorm(x, w, b *G.Node, eps float32, k kernels.Fused) (*G.Node, error) {
	const name = "LayerNorm"
	nodes := []*G.Node{x, w}
	if b != nil {
		nodes = append(nodes, b)
	}
	if err := checkFloat(name, nodes...); err != nil {
		return nil, err
	}
	if k == nil {
		return nil, fmt.Errorf("ggops: %s: nil kernels", name)
	}
	rows, n := lastAxis(x.Shape())
	if err := checkVec(name, "w", w, n); err != nil {
		return nil, err
	}
	if b != nil {
		if err := checkVec(name, "b", b, n); err != nil {
			return nil, err
		}
	}
	op := &layerNormOp{
		base: base{name: name, params: fmt.Sprintf("eps=%#x,n=%d,bias=%t,k=%s", math.Float32bits(eps), n, b != nil, kname(k)),
			in: argsOf(nodes...), out: argOf(x), shape: x.Shape()},
		k: k, eps: eps, rows: rows, n: n, bias: b != nil,
	}
	return G.ApplyOp(op, nodes...)
}

func (op *layerNormOp) compute(y []float32, in []G.Value) error {
	x, err := f32(in[0], op.rows*op.n, "x")
	if err != nil {
		return err
	}
	w, err := f32(in[1], op.n, "w")
	if err != nil {
		return err
	}
	var b []float32
	if op.bias {
		if b, err = f32(in[2], op.n, "b"); err != nil {
			return err
		}
	}
	op.mean, op.rstd = grow(op.mean, op.rows), grow(op.rstd, op.rows)
	op.k.LayerNorm(y, op.mean, op.rstd, x, w, b, op.rows, op.n, op.eps)
	op.key.set(in[0])
	return nil
}

func (op *layerNormOp) Do(in ...G.Value) (G.Value, error) { return doOwned(&op.base, &op.out, op, in) }
func (op *layerNormOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return doPrealloc(&op.base, op, p, in)
}

func (op *layerNormOp) DiffWRT(n int) []bool { return diffAll(n) }

func (op *layerNormOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	shapes := []tensor.Shape{in[1].Shape()}
	if op.bias {
		shapes = append(shapes, in[2].Shape())
	}
	gop := &layerNormGrad{
		base: base{name: "LayerNormGrad", params: op.params, in: argsOf(in[0], in[1], y, dy), out: argOf(in[0]), shape: in[0].Shape()},
		fwd:  op, extra: newGradOutputs(shapes...),
	}
	dx, err := G.ApplyOp(gop, in[0], in[1], y, dy)
	if err != nil {
		return nil, err
	}
	return withParamGrads(dx, gop.extra, []string{"LayerNormGradW", "LayerNormGradB"}[:len(shapes)]...)
}

// layerNormGrad computes dx (its value), dw and db (kept for their
// paramGrads) from (x, w, y, dy).
type layerNormGrad struct {
	base
	noDiff
	fwd   *layerNormOp
	out   owned
	extra *gradOutputs
}

func (op *layerNormGrad) compute(dx []float32, in []G.Value) error {
	f := op.fwd
	if err := f.key.check(in[0], f.name); err != nil {
		return err
	}
	x, err := f32(in[0], f.rows*f.n, "x")
	if err != nil {
		return err
	}
	w, err := f32(in[1], f.n, "w")
	if err != nil {
		return err
	}
	dy, err := f32(in[3], f.rows*f.n, "dy")
	if err != nil {
		return err
	}
	dw := op.extra.prepare(0, true)
	var db []float32
	if f.bias {
		db = op.extra.prepare(1, true)
	}
	f.k.LayerNormBackward(dx, dw, db, dy, x, w, f.mean, f.rstd, f.rows, f.n)
	return nil
}

func (op *layerNormGrad) Do(in ...G.Value) (v G.Value, err error) {
	v, err = doOwned(&op.base, &op.out, op, in)
	op.extra.last = v
	return v, err
}
