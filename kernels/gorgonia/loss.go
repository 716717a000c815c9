package ggops

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/kernels"
)

type crossEntropyOp struct {
	base
	k        kernels.Fused
	n, v     int
	lshape   tensor.Shape // logits shape
	loss     *G.F32       // owned output
	losses   []float32    // per-row losses
	tbuf     []int32      // converted targets (Int, Int64 inputs)
	wantGrad bool         // set by SymDiff: the forward also computes the gradient
	inPlace  bool         // the gradient overwrites the logits' value
	grad     owned        // gradient of the mean loss w.r.t. the logits
	gradT    G.Value      // the gradient's tensor: grad's, or the logits' value (inPlace)
	ready    bool         // grad holds the gradient of the last forward run
}

// CrossEntropy returns the mean softmax cross-entropy of logits [..., V]
// against targets (the leading shape of logits; int32, int or int64), a
// float32 scalar: Σ −log softmax(logits_r)[t_r] / count over the rows
// whose target is not kernels.IgnoreIndex, and 0 (with a zero gradient)
// when every target is ignored. Targets other than IgnoreIndex outside
// [0, V) make the run fail with an error.
//
// When the loss is differentiated (gorgonia.Grad reaches it), the forward
// op computes the gradient in the same pass over the logits (k's
// CrossEntropyGrad, into a buffer the op owns) and the gradient op only
// scales it by the incoming gradient, in place, and returns it; a second
// gradient run after one forward run is an error.
func CrossEntropy(logits, targets *G.Node, k kernels.Fused) (*G.Node, error) {
	return crossEntropy("CrossEntropy", logits, targets, false, k)
}

// CrossEntropyInPlace is CrossEntropy whose gradient, when the loss is
// differentiated, is computed in place over the logits' value instead of
// a copy of it (one pass over the [..., V] matrix less, and no second
// buffer of that size): after a run that differentiates the loss, the
// logits node's value holds the gradient, not the logits. Use it where
// nothing reads the logits after the loss (a training graph). If the
// logits' value is a view that must be materialised, the gradient goes to a
// buffer of the op as with CrossEntropy.
func CrossEntropyInPlace(logits, targets *G.Node, k kernels.Fused) (*G.Node, error) {
	return crossEntropy("CrossEntropyInPlace", logits, targets, true, k)
}

func crossEntropy(name string, logits, targets *G.Node, inPlace bool, k kernels.Fused) (*G.Node, error) {
	if err := checkFloat(name, logits); err != nil {
		return nil, err
	}
	if err := checkInt(name, targets); err != nil {
		return nil, err
	}
	if k == nil {
		return nil, fmt.Errorf("ggops: %s: nil kernels", name)
	}
	ls, ts := logits.Shape(), targets.Shape()
	if ls.Dims() < 2 || !ts.Eq(ls[:ls.Dims()-1]) {
		return nil, fmt.Errorf("ggops: %s: logits %v and targets %v: want logits [..., V] and targets [...]", name, ls, ts)
	}
	n, v := lastAxis(ls)
	op := &crossEntropyOp{
		base: base{name: name, params: fmt.Sprintf("n=%d,v=%d,ignore=%d,k=%s", n, v, kernels.IgnoreIndex, kname(k)),
			in: argsOf(logits, targets), out: arg{}, shape: tensor.ScalarShape()},
		k: k, n: n, v: v, lshape: ls, loss: G.NewF32(0), inPlace: inPlace,
	}
	return G.ApplyOp(op, logits, targets)
}

func (op *crossEntropyOp) Do(in ...G.Value) (v G.Value, err error) {
	defer protect(op.name, &err)
	if err = op.checkArity(in); err != nil {
		return nil, err
	}
	op.ready = false
	logits, err := f32(in[0], op.n*op.v, "logits")
	if err != nil {
		return nil, fmt.Errorf("ggops: %s: %w", op.name, err)
	}
	targets, err := ints(in[1], op.n, &op.tbuf, "targets")
	if err != nil {
		return nil, fmt.Errorf("ggops: %s: %w", op.name, err)
	}
	count := 0
	for _, t := range targets {
		if t != kernels.IgnoreIndex {
			count++
		}
	}
	scale := float32(0)
	if count > 0 {
		scale = 1 / float32(count)
	}
	op.losses = grow(op.losses, op.n)
	if op.wantGrad {
		if t, ok := in[0].(*tensor.Dense); ok && op.inPlace && !t.RequiresIterator() && sameStart(t, logits) {
			op.gradT = t
			op.k.CrossEntropyGrad(op.losses, logits, targets, op.n, op.v, scale)
		} else {
			t, g := op.grad.get(op.lshape)
			op.gradT = t
			copy(g, logits)
			op.k.CrossEntropyGrad(op.losses, g, targets, op.n, op.v, scale)
		}
	} else {
		op.k.CrossEntropy(op.losses, logits, targets, op.n, op.v)
	}
	var sum float64
	for _, l := range op.losses {
		sum += float64(l)
	}
	mean := float32(0)
	if count > 0 {
		mean = float32(sum / float64(count))
	}
	*op.loss = G.F32(mean)
	op.ready = op.wantGrad
	return op.loss, nil
}

func (op *crossEntropyOp) DiffWRT(int) []bool { return []bool{true, false} }

func (op *crossEntropyOp) SymDiff(in G.Nodes, loss, dloss *G.Node) (G.Nodes, error) {
	op.wantGrad = true
	gop := &crossEntropyGrad{
		base: base{name: "CrossEntropyGrad", params: op.params, in: argsOf(loss, dloss), out: argOf(in[0]), shape: in[0].Shape()},
		fwd:  op,
	}
	dlogits, err := G.ApplyOp(gop, loss, dloss)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dlogits, nil}, nil
}

// crossEntropyGrad returns the forward op's gradient buffer scaled by the
// incoming scalar gradient; loss (its first input) orders it after the
// forward run.
type crossEntropyGrad struct {
	base
	noDiff
	fwd *crossEntropyOp
}

func (op *crossEntropyGrad) Do(in ...G.Value) (v G.Value, err error) {
	defer protect(op.name, &err)
	if err = op.checkArity(in); err != nil {
		return nil, err
	}
	f := op.fwd
	if !f.ready || in[0] != G.Value(f.loss) {
		return nil, fmt.Errorf("ggops: %s: no gradient from a forward run to use (gradient run twice, or before the forward op)", op.name)
	}
	d, err := scalar(in[1], "dloss")
	if err != nil {
		return nil, fmt.Errorf("ggops: %s: %w", op.name, err)
	}
	t := f.gradT
	if d != 1 {
		g, err := f32(t, f.n*f.v, "gradient")
		if err != nil {
			return nil, fmt.Errorf("ggops: %s: %w", op.name, err)
		}
		for i := range g {
			g[i] *= d
		}
	}
	f.ready = false
	return t, nil
}

// ---------------------------------------------------------------- Embedding

type embeddingOp struct {
	base
	k        kernels.Fused
	n, dim   int
	rows     int
	tshape   tensor.Shape // table shape
	out      owned
	ids      []int32 // converted ids (Int, Int64 inputs)
	idsShape tensor.Shape
}

// Embedding returns the rows of table [V, D] selected by ids (any shape;
// int32, int or int64), of shape ids.Shape() + [D], computed by k. An id
// outside [0, V) makes the run fail with an error. The gradient with
// respect to table is a dense [V, D] tensor (zero rows for unused ids);
// ids get none.
func Embedding(table, ids *G.Node, k kernels.Fused) (*G.Node, error) {
	const name = "Embedding"
	if err := checkFloat(name, table); err != nil {
		return nil, err
	}
	if err := checkInt(name, ids); err != nil {
		return nil, err
	}
	if k == nil {
		return nil, fmt.Errorf("ggops: %s: nil kernels", name)
	}
	ts := table.Shape()
	if ts.Dims() != 2 {
		return nil, fmt.Errorf("ggops: %s: table has shape %v, want [V, D]", name, ts)
	}
	is := ids.Shape()
	shape := append(is.Clone(), ts[1])
	op := &embeddingOp{
		base: base{name: name, params: fmt.Sprintf("v=%d,d=%d,k=%s", ts[0], ts[1], kname(k)),
			in: argsOf(table, ids), out: arg{dims: shape.Dims()}, shape: shape},
		k: k, n: is.TotalSize(), dim: ts[1], rows: ts[0], tshape: ts, idsShape: is,
	}
	return G.ApplyOp(op, table, ids)
}

func (op *embeddingOp) compute(out []float32, in []G.Value) error {
	table, err := f32(in[0], op.rows*op.dim, "table")
	if err != nil {
		return err
	}
	ids, err := ints(in[1], op.n, &op.ids, "ids")
	if err != nil {
		return err
	}
	op.k.Embedding(out, table, ids, op.n, op.dim)
	return nil
}

func (op *embeddingOp) Do(in ...G.Value) (G.Value, error) { return doOwned(&op.base, &op.out, op, in) }
func (op *embeddingOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return doPrealloc(&op.base, op, p, in)
}
func (op *embeddingOp) DiffWRT(int) []bool { return []bool{true, false} }

func (op *embeddingOp) SymDiff(in G.Nodes, out, dout *G.Node) (G.Nodes, error) {
	gop := &embeddingGrad{
		base: base{name: "EmbeddingGrad", params: op.params, in: argsOf(in[1], dout), out: argOf(in[0]), shape: op.tshape},
		fwd:  op,
	}
	dtable, err := G.ApplyOp(gop, in[1], dout)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dtable, nil}, nil
}

// embeddingGrad scatters dout into a zeroed dense table gradient, from
// (ids, dout).
type embeddingGrad struct {
	base
	noDiff
	fwd *embeddingOp
	out owned
	ids []int32
}

func (op *embeddingGrad) compute(dtable []float32, in []G.Value) error {
	f := op.fwd
	ids, err := ints(in[0], f.n, &op.ids, "ids")
	if err != nil {
		return err
	}
	dout, err := f32(in[1], f.n*f.dim, "dout")
	if err != nil {
		return err
	}
	clear(dtable)
	f.k.EmbeddingBackward(dtable, dout, ids, f.n, f.dim)
	return nil
}

func (op *embeddingGrad) Do(in ...G.Value) (G.Value, error) {
	return doOwned(&op.base, &op.out, op, in)
}
func (op *embeddingGrad) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	return doPrealloc(&op.base, op, p, in)
}
