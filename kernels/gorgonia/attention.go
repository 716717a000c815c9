package ggops

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/kernels"
)

type attentionOp struct {
	base
	k   kernels.Fused
	p   kernels.AttentionParams
	out owned
	lse []float32 // saved statistics, [B, H, T]
	key statsKey
}

// CausalAttention returns causal grouped-query attention of q [B,T,H,D]
// over k and v [B,T,KVH,D], of shape [B,T,H,D], computed by kern. The
// sizes in p must match the shapes; p.Scale is used as given (usually
// 1/√D); p.Start (nil: every query sees keys from 0) is kept by the op and
// read on every run, so the caller may rewrite its contents between runs
// (and must keep the slice itself; it enters the hash by identity).
func CausalAttention(q, k, v *G.Node, p kernels.AttentionParams, kern kernels.Fused) (*G.Node, error) {
	const name = "CausalAttention"
	if err := checkFloat(name, q, k, v); err != nil {
		return nil, err
	}
	if err := checkAttention(name, p, kern); err != nil {
		return nil, err
	}
	wq, wkv := tensor.Shape{p.B, p.T, p.H, p.D}, tensor.Shape{p.B, p.T, p.KVH, p.D}
	for _, c := range []struct {
		n    *G.Node
		want tensor.Shape
	}{{q, wq}, {k, wkv}, {v, wkv}} {
		if !c.n.Shape().Eq(c.want) {
			return nil, fmt.Errorf("ggops: %s: %s has shape %v, want %v", name, c.n.Name(), c.n.Shape(), c.want)
		}
	}
	if p.Start != nil && len(p.Start) < p.B*p.T {
		return nil, fmt.Errorf("ggops: %s: Start has %d entries, want %d", name, len(p.Start), p.B*p.T)
	}
	op := &attentionOp{
		base: base{name: name, params: fmt.Sprintf("B=%d,T=%d,H=%d,KVH=%d,D=%d,scale=%#x,start=%s,k=%s",
			p.B, p.T, p.H, p.KVH, p.D, math.Float32bits(p.Scale), ptr(p.Start), kname(kern)),
			in: argsOf(q, k, v), out: argOf(q), shape: wq},
		k: kern, p: p,
	}
	return G.ApplyOp(op, q, k, v)
}

func (op *attentionOp) sizes() (nq, nkv int) {
	p := op.p
	return p.B * p.T * p.H * p.D, p.B * p.T * p.KVH * p.D
}

func (op *attentionOp) compute(out []float32, in []G.Value) error {
	nq, nkv := op.sizes()
	q, err := f32(in[0], nq, "q")
	if err != nil {
		return err
	}
	k, err := f32(in[1], nkv, "k")
	if err != nil {
		return err
	}
	v, err := f32(in[2], nkv, "v")
	if err != nil {
		return err
	}
	op.lse = grow(op.lse, op.p.B*op.p.H*op.p.T)
	op.k.CausalAttention(out, op.lse, q, k, v, op.p)
	op.key.set(in[0])
	return nil
}

func (op *attentionOp) Do(in ...G.Value) (G.Value, error) { return doOwned(&op.base, &op.out, op, in) }
func (op *attentionOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return doPrealloc(&op.base, op, p, in)
}
func (op *attentionOp) DiffWRT(int) []bool { return []bool{true, true, true} }

func (op *attentionOp) SymDiff(in G.Nodes, out, dout *G.Node) (G.Nodes, error) {
	gop := &attentionGrad{
		base: base{name: "CausalAttentionGrad", params: op.params, in: argsOf(in[0], in[1], in[2], out, dout), out: argOf(in[0]), shape: in[0].Shape()},
		fwd:  op, extra: newGradOutputs(in[1].Shape(), in[2].Shape()),
	}
	dq, err := G.ApplyOp(gop, in[0], in[1], in[2], out, dout)
	if err != nil {
		return nil, err
	}
	return withParamGrads(dq, gop.extra, []string{"CausalAttentionGradK", "CausalAttentionGradV"}...)
}

// attentionGrad computes dq (its value), dk and dv (kept for their
// paramGrads) from (q, k, v, out, dout) and the saved lse.
type attentionGrad struct {
	base
	noDiff
	fwd   *attentionOp
	out   owned
	extra *gradOutputs
}

func (op *attentionGrad) compute(dq []float32, in []G.Value) error {
	f := op.fwd
	if err := f.key.check(in[0], f.name); err != nil {
		return err
	}
	nq, nkv := f.sizes()
	q, err := f32(in[0], nq, "q")
	if err != nil {
		return err
	}
	k, err := f32(in[1], nkv, "k")
	if err != nil {
		return err
	}
	v, err := f32(in[2], nkv, "v")
	if err != nil {
		return err
	}
	out, err := f32(in[3], nq, "out")
	if err != nil {
		return err
	}
	dout, err := f32(in[4], nq, "dout")
	if err != nil {
		return err
	}
	dk, dv := op.extra.prepare(0, false), op.extra.prepare(1, false)
	f.k.CausalAttentionBackward(dq, dk, dv, dout, out, f.lse, q, k, v, f.p)
	return nil
}

func (op *attentionGrad) Do(in ...G.Value) (v G.Value, err error) {
	v, err = doOwned(&op.base, &op.out, op, in)
	op.extra.last = v
	return v, err
}

// attentionQKVOp is causal attention reading q, k and v from one fused
// projection (see CausalAttentionQKV).
type attentionQKVOp struct {
	base
	k   kernels.Fused
	p   kernels.AttentionParams // Stride = the fused width
	out owned
	lse []float32
	key statsKey
}

// CausalAttentionQKV is CausalAttention on the output of one fused q, k, v
// projection: qkv [B·T, (H+2·KVH)·D] holds, for each token, its q heads,
// then its k heads, then its v heads (GPT-2's c_attn). The output is
// [B·T, H·D] (the layout of [B, T, H, D]), and the gradient with respect to
// qkv has qkv's layout, so the projection's backward is one product. No
// q, k, v tensor is split out or reshaped: the kernels read them with a row
// stride (kernels.AttentionParams.Stride, which p must leave 0 or set to
// the fused width).
func CausalAttentionQKV(qkv *G.Node, p kernels.AttentionParams, kern kernels.Fused) (*G.Node, error) {
	const name = "CausalAttentionQKV"
	if err := checkFloat(name, qkv); err != nil {
		return nil, err
	}
	if err := checkAttention(name, p, kern); err != nil {
		return nil, err
	}
	width := (p.H + 2*p.KVH) * p.D
	if p.Stride != 0 && p.Stride != width {
		return nil, fmt.Errorf("ggops: %s: Stride %d, want 0 or the fused width %d", name, p.Stride, width)
	}
	p.Stride = width
	if want := (tensor.Shape{p.B * p.T, width}); !qkv.Shape().Eq(want) {
		return nil, fmt.Errorf("ggops: %s: qkv has shape %v, want %v", name, qkv.Shape(), want)
	}
	if p.Start != nil && len(p.Start) < p.B*p.T {
		return nil, fmt.Errorf("ggops: %s: Start has %d entries, want %d", name, len(p.Start), p.B*p.T)
	}
	op := &attentionQKVOp{
		base: base{name: name, params: fmt.Sprintf("B=%d,T=%d,H=%d,KVH=%d,D=%d,scale=%#x,start=%s,k=%s",
			p.B, p.T, p.H, p.KVH, p.D, math.Float32bits(p.Scale), ptr(p.Start), kname(kern)),
			in: argsOf(qkv), out: arg{dims: 2}, shape: tensor.Shape{p.B * p.T, p.H * p.D}},
		k: kern, p: p,
	}
	return G.ApplyOp(op, qkv)
}

// views returns q, k and v inside the fused data.
func (op *attentionQKVOp) views(qkv []float32) (q, k, v []float32) {
	p := op.p
	return qkv, qkv[p.H*p.D:], qkv[(p.H+p.KVH)*p.D:]
}

func (op *attentionQKVOp) compute(out []float32, in []G.Value) error {
	p := op.p
	qkv, err := f32(in[0], p.B*p.T*p.Stride, "qkv")
	if err != nil {
		return err
	}
	op.lse = grow(op.lse, p.B*p.H*p.T)
	q, k, v := op.views(qkv)
	op.k.CausalAttention(out, op.lse, q, k, v, p)
	op.key.set(in[0])
	return nil
}

func (op *attentionQKVOp) Do(in ...G.Value) (G.Value, error) {
	return doOwned(&op.base, &op.out, op, in)
}
func (op *attentionQKVOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return doPrealloc(&op.base, op, p, in)
}
func (op *attentionQKVOp) DiffWRT(int) []bool { return []bool{true} }

func (op *attentionQKVOp) SymDiff(in G.Nodes, out, dout *G.Node) (G.Nodes, error) {
	gop := &attentionQKVGrad{
		base: base{name: "CausalAttentionQKVGrad", params: op.params, in: argsOf(in[0], out, dout), out: argOf(in[0]), shape: in[0].Shape()},
		fwd:  op,
	}
	dqkv, err := G.ApplyOp(gop, in[0], out, dout)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dqkv}, nil
}

// attentionQKVGrad computes dqkv from (qkv, out, dout) and the saved lse.
type attentionQKVGrad struct {
	base
	noDiff
	fwd *attentionQKVOp
	out owned
}

func (op *attentionQKVGrad) compute(dqkv []float32, in []G.Value) error {
	f := op.fwd
	if err := f.key.check(in[0], f.name); err != nil {
		return err
	}
	p := f.p
	nOut := p.B * p.T * p.H * p.D
	qkv, err := f32(in[0], p.B*p.T*p.Stride, "qkv")
	if err != nil {
		return err
	}
	out, err := f32(in[1], nOut, "out")
	if err != nil {
		return err
	}
	dout, err := f32(in[2], nOut, "dout")
	if err != nil {
		return err
	}
	q, k, v := f.views(qkv)
	dq, dk, dv := f.views(dqkv)
	f.k.CausalAttentionBackward(dq, dk, dv, dout, out, f.lse, q, k, v, p)
	return nil
}

func (op *attentionQKVGrad) Do(in ...G.Value) (G.Value, error) {
	return doOwned(&op.base, &op.out, op, in)
}
func (op *attentionQKVGrad) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return doPrealloc(&op.base, op, p, in)
}

var (
	_ G.SDOp            = (*attentionQKVOp)(nil)
	_ G.UsePreallocDoer = (*attentionQKVOp)(nil)
	_ G.SDOp            = (*attentionQKVGrad)(nil)
	_ G.UsePreallocDoer = (*attentionQKVGrad)(nil)
)

// checkAttention checks the kernels and the sizes of an attention op.
func checkAttention(name string, p kernels.AttentionParams, kern kernels.Fused) error {
	if kern == nil {
		return fmt.Errorf("ggops: %s: nil kernels", name)
	}
	if p.B < 0 || p.T < 0 || p.H < 0 || p.KVH < 0 || p.D < 0 {
		return fmt.Errorf("ggops: %s: negative size in %+v", name, p)
	}
	if p.KVH == 0 || p.H%p.KVH != 0 {
		return fmt.Errorf("ggops: %s: H=%d is not a multiple of KVH=%d", name, p.H, p.KVH)
	}
	return nil
}
