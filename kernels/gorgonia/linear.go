package ggops

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/kernels"
)

// linearOp is y = x·op(W) + b (+ r) on a kernels.Sgemmer: one SGEMM
// forward and two backward, with the transpose as a flag instead of
// gorgonia's Transpose (which copies W every run) and the bias added row
// by row instead of gorgonia's BroadcastAdd (which materialises the
// repeated bias). When k is also a kernels.Linearer the bias and the
// residual r are folded into the forward SGEMM (SgemmBias) and the bias
// gradient is its BiasGrad; otherwise plain loops do both.
type linearOp struct {
	base
	k             kernels.Sgemmer
	lin           kernels.Linearer // k, if it is one
	rows, in, out int
	transW        bool // W is stored [out, in] (nn.Linear); else [in, out] (Conv1D)
	bias          bool
	resid         bool // a residual input r [rows, out] is added
	res           owned
}

// Linear returns x·W + b for x [rows, in]: with transW false W is [in, out]
// (GPT-2's Conv1D layout), with transW true W is [out, in] (nn.Linear,
// Llama, a tied embedding used as the output head) and the product is
// x·Wᵀ. b is nil or a [out] or [1, out] bias. The matmuls run on k.
func Linear(x, w, b *G.Node, transW bool, k kernels.Sgemmer) (*G.Node, error) {
	return linear("Linear", x, w, b, nil, transW, k)
}

// LinearResidual returns r + x·W + b: Linear with a residual r [rows,
// out] added in the same pass (a transformer block's "x + proj(h)"), with
// the numerics of kernels.Linearer.SgemmBias: (r + b) is rounded first,
// then the product added. The gradient with respect to r is the incoming
// gradient itself.
func LinearResidual(x, w, b, r *G.Node, transW bool, k kernels.Sgemmer) (*G.Node, error) {
	if r == nil {
		return nil, fmt.Errorf("ggops: LinearResidual: nil residual")
	}
	return linear("LinearResidual", x, w, b, r, transW, k)
}

func linear(name string, x, w, b, r *G.Node, transW bool, k kernels.Sgemmer) (*G.Node, error) {
	nodes := []*G.Node{x, w}
	if b != nil {
		nodes = append(nodes, b)
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
	xs, ws := x.Shape(), w.Shape()
	if xs.Dims() != 2 || ws.Dims() != 2 {
		return nil, fmt.Errorf("ggops: %s: x %v and W %v must be matrices", name, xs, ws)
	}
	rows, in := xs[0], xs[1]
	wIn, out := ws[0], ws[1]
	if transW {
		out, wIn = ws[0], ws[1]
	}
	if wIn != in {
		return nil, fmt.Errorf("ggops: %s: x %v does not match W %v (transW=%t)", name, xs, ws, transW)
	}
	if b != nil && b.Shape().TotalSize() != out {
		return nil, fmt.Errorf("ggops: %s: bias %v for %d outputs", name, b.Shape(), out)
	}
	if r != nil && !r.Shape().Eq(tensor.Shape{rows, out}) {
		return nil, fmt.Errorf("ggops: %s: residual %v, want (%d, %d)", name, r.Shape(), rows, out)
	}
	op := &linearOp{
		base: base{name: name, params: fmt.Sprintf("rows=%d,in=%d,out=%d,transW=%t,bias=%t,resid=%t,k=%s", rows, in, out, transW, b != nil, r != nil, kname(k)),
			in: argsOf(nodes...), out: arg{dims: 2}, shape: tensor.Shape{rows, out}},
		k: k, rows: rows, in: in, out: out, transW: transW, bias: b != nil, resid: r != nil,
	}
	op.lin, _ = k.(kernels.Linearer)
	return G.ApplyOp(op, nodes...)
}

func (op *linearOp) tW() kernels.Transpose {
	if op.transW {
		return kernels.Trans
	}
	return kernels.NoTrans
}

// ldW is W's leading dimension as stored.
func (op *linearOp) ldW() int {
	if op.transW {
		return op.in
	}
	return op.out
}

func (op *linearOp) compute(y []float32, in []G.Value) error {
	x, err := f32(in[0], op.rows*op.in, "x")
	if err != nil {
		return err
	}
	w, err := f32(in[1], op.in*op.out, "W")
	if err != nil {
		return err
	}
	var b, r []float32
	next := 2
	if op.bias {
		if b, err = f32(in[next], op.out, "b"); err != nil {
			return err
		}
		next++
	}
	if op.resid {
		if r, err = f32(in[next], op.rows*op.out, "r"); err != nil {
			return err
		}
	}
	linearInto(op.k, op.lin, op.tW(), op.ldW(), y, x, w, b, r, op.rows, op.in, op.out)
	return nil
}

func (op *linearOp) Do(in ...G.Value) (G.Value, error) { return doOwned(&op.base, &op.res, op, in) }
func (op *linearOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return doPrealloc(&op.base, op, p, in)
}

func (op *linearOp) DiffWRT(n int) []bool { return diffAll(n) }

func (op *linearOp) SymDiff(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
	shapes := []tensor.Shape{in[1].Shape()}
	if op.bias {
		shapes = append(shapes, in[2].Shape())
	}
	gop := &linearGrad{
		base: base{name: "LinearGrad", params: op.params, in: argsOf(in[0], in[1], dy), out: argOf(in[0]), shape: in[0].Shape()},
		fwd:  op, extra: newGradOutputs(shapes...),
	}
	dx, err := G.ApplyOp(gop, in[0], in[1], dy)
	if err != nil {
		return nil, err
	}
	grads, err := withParamGrads(dx, gop.extra, []string{"LinearGradW", "LinearGradB"}[:len(shapes)]...)
	if err != nil {
		return nil, err
	}
	if op.resid { // d(r + ...)/dr = identity
		grads = append(grads, dy)
	}
	return grads, nil
}

// linearGrad computes dx = dy·op(W)ᵀ (its value), dW and db (kept for
// their paramGrads) from (x, W, dy). dW and db are overwritten (beta 0):
// gorgonia sums the gradients of a parameter used by several nodes itself.
type linearGrad struct {
	base
	noDiff
	fwd   *linearOp
	out   owned
	extra *gradOutputs
}

func (op *linearGrad) compute(dx []float32, in []G.Value) error {
	f := op.fwd
	x, err := f32(in[0], f.rows*f.in, "x")
	if err != nil {
		return err
	}
	w, err := f32(in[1], f.in*f.out, "W")
	if err != nil {
		return err
	}
	dy, err := f32(in[2], f.rows*f.out, "dy")
	if err != nil {
		return err
	}
	// dx [rows, in] = dy [rows, out] · op(W)ᵀ
	tw := kernels.Trans
	if f.transW {
		tw = kernels.NoTrans
	}
	f.k.Sgemm(kernels.NoTrans, tw, f.rows, f.in, f.out, 1, dy, f.out, w, f.ldW(), 0, dx, f.in)
	dw := op.extra.prepare(0, false)
	if f.transW { // dW [out, in] = dyᵀ · x
		f.k.Sgemm(kernels.Trans, kernels.NoTrans, f.out, f.in, f.rows, 1, dy, f.out, x, f.in, 0, dw, f.in)
	} else { // dW [in, out] = xᵀ · dy
		f.k.Sgemm(kernels.Trans, kernels.NoTrans, f.in, f.out, f.rows, 1, x, f.in, dy, f.out, 0, dw, f.out)
	}
	if f.bias {
		biasGrad(f.lin, op.extra.prepare(1, false), dy, f.rows, f.out)
	}
	return nil
}

func (op *linearGrad) Do(in ...G.Value) (v G.Value, err error) {
	v, err = doOwned(&op.base, &op.out, op, in)
	op.extra.last = v
	return v, err
}

var (
	_ G.SDOp            = (*linearOp)(nil)
	_ G.UsePreallocDoer = (*linearOp)(nil)
	_ G.SDOp            = (*linearGrad)(nil)
)
