package ggops

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/kernels"
)

// mlpOp is a transformer MLP with a tanh-GELU, y = r + GELU(h·W1 + b1)·W2
// + b2, as one node: the GELU and its derivative are applied inside the
// products (kernels.GELULinearer) when k provides them, and the hidden
// activations live in buffers of the op instead of nodes of their own.
type mlpOp struct {
	base
	k                kernels.Kernels
	lin              kernels.Linearer     // k, if it is one
	gl               kernels.GELULinearer // k, if it is one
	rows, in, hid, o int
	b1, b2, resid    bool
	y                owned
	u, f             owned // pre-activation and GELU output of the last forward run
	key              statsKey
}

// MLP returns r + GELU(h·W1 + b1)·W2 + b2 for h [rows, in], W1 [in, hid],
// W2 [hid, out] (GPT-2's Conv1D layout), biases b1 and b2 ([hid] or [1,
// hid], [out] or [1, out]) and the residual r [rows, out], each of which may
// be nil; GELU is the tanh approximation. Its results, forward and
// backward, are bit for bit those of Linear, GELU and LinearResidual (or
// Linear) composed on the same kernels; it saves their passes over the
// hidden activations: with a kernels.GELULinearer the GELU is applied to
// each block of the first product while it is in cache, and its derivative
// likewise to the backward product dy·W2ᵀ. The gradient with respect to r
// is the incoming gradient itself.
func MLP(h, w1, b1, w2, b2, r *G.Node, k kernels.Kernels) (*G.Node, error) {
	const name = "MLP"
	nodes := []*G.Node{h, w1}
	if b1 != nil {
		nodes = append(nodes, b1)
	}
	nodes = append(nodes, w2)
	if b2 != nil {
		nodes = append(nodes, b2)
	}
	if r != nil {
		nodes = append(nodes, r)
	}
	if err := checkFloat(name, nodes...); err != nil {
		return nil, err
	}
	if k == nil {
		return nil, fmt.Errorf("ggops: %s: nil kernels", name)
	}
	hs, s1, s2 := h.Shape(), w1.Shape(), w2.Shape()
	if hs.Dims() != 2 || s1.Dims() != 2 || s2.Dims() != 2 || s1[0] != hs[1] || s2[0] != s1[1] {
		return nil, fmt.Errorf("ggops: %s: h %v, W1 %v and W2 %v do not chain (want [rows, in], [in, hid], [hid, out])", name, hs, s1, s2)
	}
	rows, in, hid, out := hs[0], hs[1], s1[1], s2[1]
	if b1 != nil && b1.Shape().TotalSize() != hid {
		return nil, fmt.Errorf("ggops: %s: b1 %v for %d hidden units", name, b1.Shape(), hid)
	}
	if b2 != nil && b2.Shape().TotalSize() != out {
		return nil, fmt.Errorf("ggops: %s: b2 %v for %d outputs", name, b2.Shape(), out)
	}
	if r != nil && !r.Shape().Eq(tensor.Shape{rows, out}) {
		return nil, fmt.Errorf("ggops: %s: residual %v, want (%d, %d)", name, r.Shape(), rows, out)
	}
	op := &mlpOp{
		base: base{name: name, params: fmt.Sprintf("rows=%d,in=%d,hid=%d,out=%d,b1=%t,b2=%t,resid=%t,k=%s", rows, in, hid, out, b1 != nil, b2 != nil, r != nil, kname(k)),
			in: argsOf(nodes...), out: arg{dims: 2}, shape: tensor.Shape{rows, out}},
		k: k, rows: rows, in: in, hid: hid, o: out, b1: b1 != nil, b2: b2 != nil, resid: r != nil,
	}
	op.lin, _ = k.(kernels.Linearer)
	op.gl, _ = k.(kernels.GELULinearer)
	return G.ApplyOp(op, nodes...)
}

// mlpIn are the float data of an MLP's inputs.
type mlpIn struct{ h, w1, b1, w2, b2, r []float32 }

func (op *mlpOp) inputs(in []G.Value) (x mlpIn, err error) {
	i := 0
	next := func(n int, what string) []float32 {
		if err != nil {
			return nil
		}
		var d []float32
		d, err = f32(in[i], n, what)
		i++
		return d
	}
	x.h = next(op.rows*op.in, "h")
	x.w1 = next(op.in*op.hid, "W1")
	if op.b1 {
		x.b1 = next(op.hid, "b1")
	}
	x.w2 = next(op.hid*op.o, "W2")
	if op.b2 {
		x.b2 = next(op.o, "b2")
	}
	if op.resid {
		x.r = next(op.rows*op.o, "r")
	}
	return x, err
}

// linearInto computes y = r + x·op(W) + b (r, b may be nil; op(W) = W, or
// Wᵀ with tW Trans, W's leading dimension ldW): with lin's SgemmBias when
// there is a bias or residual and lin is not nil, else with loops and an
// Sgemm of beta 1. Linear, LinearResidual and MLP compute their products
// with it.
func linearInto(k kernels.Sgemmer, lin kernels.Linearer, tW kernels.Transpose, ldW int, y, x, w, b, r []float32, rows, in, out int) {
	if lin != nil && (b != nil || r != nil) {
		lin.SgemmBias(kernels.NoTrans, tW, rows, out, in, x, in, w, ldW, b, r, out, y, out)
		return
	}
	beta := float32(0)
	if b != nil || r != nil {
		for i := range rows {
			row := y[i*out : (i+1)*out]
			switch {
			case r != nil && b != nil:
				for j, v := range r[i*out : (i+1)*out] {
					row[j] = v + b[j]
				}
			case r != nil:
				copy(row, r[i*out:(i+1)*out])
			default:
				copy(row, b)
			}
		}
		beta = 1
	}
	k.Sgemm(kernels.NoTrans, tW, rows, out, in, 1, x, in, w, ldW, beta, y, out)
}

// biasGrad sets db to the column sums of dy: lin's BiasGrad, or a loop
// over the rows in order without a Linearer.
func biasGrad(lin kernels.Linearer, db, dy []float32, rows, n int) {
	clear(db)
	if lin != nil {
		lin.BiasGrad(db, dy, rows, n)
		return
	}
	for r := range rows {
		for j, v := range dy[r*n : (r+1)*n] {
			db[j] += v
		}
	}
}

func (op *mlpOp) compute(y []float32, in []G.Value) error {
	x, err := op.inputs(in)
	if err != nil {
		return err
	}
	hshape := tensor.Shape{op.rows, op.hid}
	_, u := op.u.get(hshape)
	_, f := op.f.get(hshape)
	if op.gl != nil {
		op.gl.SgemmBiasGELU(kernels.NoTrans, kernels.NoTrans, op.rows, op.hid, op.in, x.h, op.in, x.w1, op.hid, x.b1, u, op.hid, f, op.hid)
	} else {
		linearInto(op.k, op.lin, kernels.NoTrans, op.hid, u, x.h, x.w1, x.b1, nil, op.rows, op.in, op.hid)
		op.k.GELU(f, u, op.rows*op.hid)
	}
	linearInto(op.k, op.lin, kernels.NoTrans, op.o, y, f, x.w2, x.b2, x.r, op.rows, op.hid, op.o)
	op.key.set(in[0])
	return nil
}

func (op *mlpOp) Do(in ...G.Value) (G.Value, error) { return doOwned(&op.base, &op.y, op, in) }
func (op *mlpOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return doPrealloc(&op.base, op, p, in)
}

func (op *mlpOp) DiffWRT(n int) []bool { return diffAll(n) }

func (op *mlpOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	// inputs: h, W1, [b1], W2, [b2], [r]
	i := 2
	shapes, names := []tensor.Shape{in[1].Shape()}, []string{"MLPGradW1"}
	if op.b1 {
		shapes, names = append(shapes, in[i].Shape()), append(names, "MLPGradB1")
		i++
	}
	w2 := in[i]
	shapes, names = append(shapes, w2.Shape()), append(names, "MLPGradW2")
	i++
	if op.b2 {
		shapes, names = append(shapes, in[i].Shape()), append(names, "MLPGradB2")
	}
	gop := &mlpGrad{
		base: base{name: "MLPGrad", params: op.params, in: argsOf(in[0], in[1], w2, dy), out: argOf(in[0]), shape: in[0].Shape()},
		fwd:  op, extra: newGradOutputs(shapes...),
	}
	dh, err := G.ApplyOp(gop, in[0], in[1], w2, dy)
	if err != nil {
		return nil, err
	}
	grads, err := withParamGrads(dh, gop.extra, names...)
	if err != nil {
		return nil, err
	}
	if op.resid {
		grads = append(grads, dy)
	}
	return grads, nil
}

// mlpGrad computes dh (its value) and the parameter gradients (kept for
// their paramGrads) from (h, W1, W2, dy) and the forward's hidden
// activations.
type mlpGrad struct {
	base
	noDiff
	fwd   *mlpOp
	out   owned
	du    owned
	extra *gradOutputs
}

func (op *mlpGrad) compute(dh []float32, in []G.Value) error {
	f := op.fwd
	if err := f.key.check(in[0], f.name); err != nil {
		return err
	}
	h, err := f32(in[0], f.rows*f.in, "h")
	if err != nil {
		return err
	}
	w1, err := f32(in[1], f.in*f.hid, "W1")
	if err != nil {
		return err
	}
	w2, err := f32(in[2], f.hid*f.o, "W2")
	if err != nil {
		return err
	}
	dy, err := f32(in[3], f.rows*f.o, "dy")
	if err != nil {
		return err
	}
	hshape := tensor.Shape{f.rows, f.hid}
	_, u := f.u.get(hshape)
	_, fa := f.f.get(hshape)
	_, du := op.du.get(hshape)
	// du = GELU'(u) ⊙ dy·W2ᵀ
	if f.gl != nil {
		f.gl.SgemmGELUBackward(kernels.NoTrans, kernels.Trans, f.rows, f.hid, f.o, dy, f.o, w2, f.o, u, f.hid, du, f.hid)
	} else {
		f.k.Sgemm(kernels.NoTrans, kernels.Trans, f.rows, f.hid, f.o, 1, dy, f.o, w2, f.o, 0, du, f.hid)
		f.k.GELUBackward(du, du, u, f.rows*f.hid)
	}
	g := 0
	dw1 := op.extra.prepare(g, false)
	g++
	var db1 []float32
	if f.b1 {
		db1 = op.extra.prepare(g, false)
		g++
	}
	dw2 := op.extra.prepare(g, false)
	g++
	// dW2 = fᵀ·dy, db2 = Σ dy
	f.k.Sgemm(kernels.Trans, kernels.NoTrans, f.hid, f.o, f.rows, 1, fa, f.hid, dy, f.o, 0, dw2, f.o)
	if f.b2 {
		biasGrad(f.lin, op.extra.prepare(g, false), dy, f.rows, f.o)
	}
	// dh = du·W1ᵀ, dW1 = hᵀ·du, db1 = Σ du
	f.k.Sgemm(kernels.NoTrans, kernels.Trans, f.rows, f.in, f.hid, 1, du, f.hid, w1, f.hid, 0, dh, f.in)
	f.k.Sgemm(kernels.Trans, kernels.NoTrans, f.in, f.hid, f.rows, 1, h, f.in, du, f.hid, 0, dw1, f.hid)
	if f.b1 {
		biasGrad(f.lin, db1, du, f.rows, f.hid)
	}
	return nil
}

func (op *mlpGrad) Do(in ...G.Value) (v G.Value, err error) {
	v, err = doOwned(&op.base, &op.out, op, in)
	op.extra.last = v
	return v, err
}

var (
	_ G.SDOp            = (*mlpOp)(nil)
	_ G.UsePreallocDoer = (*mlpOp)(nil)
	_ G.SDOp            = (*mlpGrad)(nil)
)
