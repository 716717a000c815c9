package ggops

import (
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"unsafe"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// arg describes one input (or the output) of an op for its type signature:
// its number of dimensions (0: a scalar) and whether its element type is
// the integer type variable rather than the float one.
type arg struct {
	dims    int
	integer bool
}

// base holds what every op of this package shares: the name and parameter
// text that make up String and the hash, the type signature and the output
// shape, fixed when the node is built (gorgonia graphs are statically
// shaped).
type base struct {
	name   string
	params string // canonical text of every parameter; part of the hash
	in     []arg
	out    arg
	shape  tensor.Shape // output shape; tensor.ScalarShape() for scalars
}

func (b *base) Arity() int { return len(b.in) }

// Type returns a fresh function type on every call: gorgonia returns it to
// hm's pool after inference. Float inputs and the output share the type
// variable a, integer inputs (ids, targets) the variable i.
func (b *base) Type() hm.Type {
	a, i := hm.TypeVariable('a'), hm.TypeVariable('i')
	all := make([]arg, 0, len(b.in)+1)
	all = append(append(all, b.in...), b.out)
	ts := make([]hm.Type, 0, len(all))
	for _, x := range all {
		var of hm.Type = a
		if x.integer {
			of = i
		}
		if x.dims == 0 {
			ts = append(ts, of)
		} else {
			ts = append(ts, G.TensorType{Dims: x.dims, Of: of})
		}
	}
	return hm.NewFnType(ts...)
}

func (b *base) InferShape(...G.DimSizer) (tensor.Shape, error) { return b.shape.Clone(), nil }
func (b *base) ReturnsPtr() bool                               { return false }
func (b *base) CallsExtern() bool                              { return false }
func (b *base) OverwritesInput() int                           { return -1 }
func (b *base) String() string                                 { return b.name + "{" + b.params + "}" }

// WriteHash writes the op's name and every parameter. Gorgonia deduplicates
// nodes whose op hash and children are equal (ExprGraph.AddNode), so two
// ops that differ in any parameter must hash differently.
func (b *base) WriteHash(h hash.Hash) { fmt.Fprintf(h, "ggops.%s{%s}", b.name, b.params) }

func (b *base) Hashcode() uint32 {
	h := fnv.New32a()
	b.WriteHash(h)
	return h.Sum32()
}

func (b *base) checkArity(inputs []G.Value) error {
	if len(inputs) != len(b.in) {
		return fmt.Errorf("ggops: %s takes %d inputs, got %d", b.name, len(b.in), len(inputs))
	}
	return nil
}

// noDiff makes a gradient op an SDOp that is differentiable with respect
// to nothing: gorgonia's backward analysis (run again by every later Grad
// call) rejects non-SDOp nodes whose child has no other parent.
type noDiff struct{}

func (noDiff) DiffWRT(n int) []bool { return make([]bool, n) }

// diffAll is DiffWRT of an op differentiable in every input.
func diffAll(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}
func (noDiff) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errors.New("ggops: second derivatives are not supported")
}

// protect turns a panic of a kernel (its argument checks: ids, targets,
// positions or Start out of range) into an error. TapeMachine.RunAll runs
// the tape on its own goroutine, where a panic would kill the process.
func protect(name string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("ggops: %s: %v", name, r)
	}
}

// owned is an output tensor that belongs to one op and is reused on every
// run: the op writes it and returns it as the node's value. The tensor
// header is rebuilt if something downstream reshaped or transposed it in
// place.
type owned struct {
	data []float32
	t    *tensor.Dense
}

// get returns the tensor of the given shape (not a scalar) and its data.
func (o *owned) get(shape tensor.Shape) (*tensor.Dense, []float32) {
	n := shape.TotalSize()
	if cap(o.data) < n {
		o.data = make([]float32, n)
		o.t = nil
	}
	d := o.data[:n]
	if o.t == nil || !o.t.Shape().Eq(shape) || o.t.IsMaterializable() || !sameStart(o.t, d) {
		o.t = tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(d))
	}
	return o.t, d
}

func sameStart(t *tensor.Dense, d []float32) bool {
	td := t.Float32s()
	return len(td) == len(d) && (len(d) == 0 || &td[0] == &d[0])
}

// grow returns s resized to n elements, reallocating only when too small.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// f32 returns the n float32 elements of v in row-major order. v must hold
// exactly n elements; a transposed or strided view is materialised (a
// copy).
func f32(v G.Value, n int, what string) ([]float32, error) {
	if v == nil {
		return nil, fmt.Errorf("%s is nil", what)
	}
	if v.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("%s has dtype %v, want float32", what, v.Dtype())
	}
	if s := v.Shape(); s.IsScalar() || s.TotalSize() != n {
		return nil, fmt.Errorf("%s has shape %v, want %d elements", what, s, n)
	}
	var d []float32
	switch t := v.(type) {
	case *tensor.Dense:
		if t.RequiresIterator() {
			t = t.Materialize().(*tensor.Dense)
		}
		d = t.Float32s()
	default: // e.g. gorgonia's dual values (LispMachine)
		var ok bool
		if d, ok = v.Data().([]float32); !ok {
			return nil, fmt.Errorf("%s: cannot read %T as []float32", what, v)
		}
	}
	if len(d) < n {
		return nil, fmt.Errorf("%s holds %d elements, want %d", what, len(d), n)
	}
	return d[:n:n], nil
}

// scalar returns the value of a scalar float input (an incoming gradient
// of a scalar output).
func scalar(v G.Value, what string) (float32, error) {
	if v == nil {
		return 0, fmt.Errorf("%s is nil", what)
	}
	if v.Shape().TotalSize() > 1 {
		return 0, fmt.Errorf("%s has shape %v, want a scalar", what, v.Shape())
	}
	switch x := v.Data().(type) {
	case float32:
		return x, nil
	case []float32:
		if len(x) == 1 {
			return x[0], nil
		}
	case float64:
		return float32(x), nil
	}
	return 0, fmt.Errorf("%s: cannot read %T (%v) as a float32 scalar", what, v, v.Dtype())
}

// ints returns the n elements of an integer input as int32: an Int32
// tensor is used in place; Int and Int64 tensors are converted into buf
// (grown as needed), and a value outside the int32 range is an error.
func ints(v G.Value, n int, buf *[]int32, what string) ([]int32, error) {
	if v == nil {
		return nil, fmt.Errorf("%s is nil", what)
	}
	if s := v.Shape(); s.TotalSize() != n && !(n == 1 && s.IsScalar()) {
		return nil, fmt.Errorf("%s has shape %v, want %d elements", what, s, n)
	}
	if t, ok := v.(*tensor.Dense); ok && t.RequiresIterator() {
		v = t.Materialize().(*tensor.Dense)
	}
	switch d := v.Data().(type) {
	case []int32:
		if len(d) >= n {
			return d[:n:n], nil
		}
	case []int:
		if len(d) >= n {
			return convertInts(d[:n], buf, what)
		}
	case []int64:
		if len(d) >= n {
			return convertInts(d[:n], buf, what)
		}
	default:
		return nil, fmt.Errorf("%s has dtype %v, want int32, int or int64", what, v.Dtype())
	}
	return nil, fmt.Errorf("%s holds fewer than %d elements", what, n)
}

func convertInts[T int | int64](d []T, buf *[]int32, what string) ([]int32, error) {
	*buf = grow(*buf, len(d))
	out := *buf
	for i, x := range d {
		if int64(x) != int64(int32(x)) {
			return nil, fmt.Errorf("%s[%d] = %d overflows int32", what, i, x)
		}
		out[i] = int32(x)
	}
	return out, nil
}

// errPrealloc is returned by UsePreallocDo when the preallocated value
// cannot take the result; gorgonia's TapeMachine then falls back to Do.
var errPrealloc = errors.New("ggops: preallocated value unusable")

// preallocF32 returns the data of prealloc if it can hold an output of the
// given shape: a plain (not a view, not transposed) float32 *tensor.Dense
// of exactly that shape whose memory overlaps none of the inputs.
func preallocF32(prealloc G.Value, shape tensor.Shape, inputs []G.Value) ([]float32, error) {
	t, ok := prealloc.(*tensor.Dense)
	if !ok || t == nil || t.Dtype() != tensor.Float32 || !t.Shape().Eq(shape) || t.IsMaterializable() || t.RequiresIterator() {
		return nil, errPrealloc
	}
	n := shape.TotalSize()
	d := t.Float32s()
	if len(d) < n {
		return nil, errPrealloc
	}
	d = d[:n:n]
	for _, in := range inputs {
		if overlaps(d, in) {
			return nil, errPrealloc
		}
	}
	return d, nil
}

// overlaps reports whether the memory of d and of the value v intersect.
func overlaps(d []float32, v G.Value) bool {
	if v == nil || len(d) == 0 {
		return false
	}
	size := uintptr(v.MemSize())
	if size == 0 {
		return false
	}
	lo := v.Uintptr()
	dlo := uintptr(unsafe.Pointer(&d[0]))
	dhi := dlo + uintptr(len(d))*4
	return lo < dhi && dlo < lo+size
}

// statsKey is the identity of the input value a forward op computed its
// saved statistics from; its gradient op checks it sees the same value.
type statsKey struct {
	v   G.Value
	gen uint64 // forward runs so far
}

func (s *statsKey) set(v G.Value) { s.v, s.gen = v, s.gen+1 }

func (s *statsKey) check(v G.Value, name string) error {
	if s.gen == 0 {
		return fmt.Errorf("ggops: %s gradient ran before its forward op", name)
	}
	if s.v != v {
		return fmt.Errorf("ggops: %s gradient sees a different input value than the forward op saved statistics for", name)
	}
	return nil
}

// paramGrad is the gradient node of a second (or third) input of a fused
// backward kernel that computes all input gradients at once: the main
// gradient op computes them all, keeps the extra ones in owned buffers,
// and this op, whose only child is the main gradient node (which orders it
// after the kernel ran), returns one of those buffers.
type paramGrad struct {
	base
	noDiff
	from *gradOutputs
	idx  int
}

// gradOutputs are the extra gradient buffers of a main gradient op and the
// value it returned on its last run.
type gradOutputs struct {
	bufs   []owned
	shapes []tensor.Shape
	last   G.Value
}

func newParamGrad(name string, from *gradOutputs, idx int, mainDims int) *paramGrad {
	s := from.shapes[idx]
	return &paramGrad{
		base: base{name: name, params: fmt.Sprintf("idx=%d,shape=%v", idx, s), in: []arg{{dims: mainDims}}, out: arg{dims: s.Dims()}, shape: s},
		from: from, idx: idx,
	}
}

func (op *paramGrad) Do(inputs ...G.Value) (G.Value, error) {
	if err := op.checkArity(inputs); err != nil {
		return nil, err
	}
	if op.from.last == nil || inputs[0] != op.from.last {
		return nil, fmt.Errorf("ggops: %s: the main gradient op has not run on this input", op.name)
	}
	return op.from.bufs[op.idx].t, nil
}

// withParamGrads returns main followed by one paramGrad node per name: the
// gradients a fused backward kernel computed besides main's, in the order
// of extra's buffers.
func withParamGrads(main *G.Node, extra *gradOutputs, names ...string) (G.Nodes, error) {
	grads := G.Nodes{main}
	for i, nm := range names {
		g, err := G.ApplyOp(newParamGrad(nm, extra, i, main.Dims()), main)
		if err != nil {
			return nil, err
		}
		grads = append(grads, g)
	}
	return grads, nil
}

// prepare returns the zeroed-or-not data of extra gradient buffer i.
func (g *gradOutputs) prepare(i int, zero bool) []float32 {
	_, d := g.bufs[i].get(g.shapes[i])
	if zero {
		clear(d)
	}
	return d
}

func newGradOutputs(shapes ...tensor.Shape) *gradOutputs {
	return &gradOutputs{bufs: make([]owned, len(shapes)), shapes: shapes}
}

// checkFloat checks that every node is a float32 tensor (not a scalar).
func checkFloat(name string, nodes ...*G.Node) error {
	for _, n := range nodes {
		if n == nil {
			return fmt.Errorf("ggops: %s: nil node", name)
		}
		if n.IsScalar() || n.Dtype() != tensor.Float32 {
			return fmt.Errorf("ggops: %s: node %v must be a float32 tensor, is %v %v", name, n.Name(), n.Dtype(), n.Shape())
		}
	}
	return nil
}

func checkInt(name string, n *G.Node) error {
	if n == nil {
		return fmt.Errorf("ggops: %s: nil node", name)
	}
	switch n.Dtype() {
	case tensor.Int32, tensor.Int, tensor.Int64:
	default:
		return fmt.Errorf("ggops: %s: node %v must be an int32, int or int64 tensor, is %v", name, n.Name(), n.Dtype())
	}
	if n.IsScalar() {
		return fmt.Errorf("ggops: %s: node %v must be a tensor, not a scalar", name, n.Name())
	}
	return nil
}

func argOf(n *G.Node) arg {
	if n.IsScalar() {
		return arg{}
	}
	d := n.Dtype()
	return arg{dims: n.Dims(), integer: d == tensor.Int32 || d == tensor.Int || d == tensor.Int64}
}

func argsOf(nodes ...*G.Node) []arg {
	a := make([]arg, len(nodes))
	for i, n := range nodes {
		a[i] = argOf(n)
	}
	return a
}

// kname names a kernels implementation in hashes (two ops that differ only
// in their kernels must not be merged): its type and value (cpu's value
// holds its variant).
func kname(k any) string {
	s := fmt.Sprintf("%T=%v", k, k)
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// Every op is an SDOp; forward ops with one output also take a
// preallocated value.
var (
	_ G.SDOp            = (*rmsNormOp)(nil)
	_ G.SDOp            = (*layerNormOp)(nil)
	_ G.SDOp            = (*actOp)(nil)
	_ G.SDOp            = (*swiGLUOp)(nil)
	_ G.SDOp            = (*ropeOp)(nil)
	_ G.SDOp            = (*softmaxOp)(nil)
	_ G.SDOp            = (*attentionOp)(nil)
	_ G.SDOp            = (*crossEntropyOp)(nil)
	_ G.SDOp            = (*embeddingOp)(nil)
	_ G.SDOp            = (*reshapeOp)(nil)
	_ G.UsePreallocDoer = (*rmsNormOp)(nil)
	_ G.UsePreallocDoer = (*layerNormOp)(nil)
	_ G.UsePreallocDoer = (*actOp)(nil)
	_ G.UsePreallocDoer = (*swiGLUOp)(nil)
	_ G.UsePreallocDoer = (*ropeOp)(nil)
	_ G.UsePreallocDoer = (*softmaxOp)(nil)
	_ G.UsePreallocDoer = (*attentionOp)(nil)
	_ G.UsePreallocDoer = (*embeddingOp)(nil)
	_ G.UsePreallocDoer = (*reshapeOp)(nil)
	_ G.SDOp            = (*rmsNormGrad)(nil)
	_ G.SDOp            = (*layerNormGrad)(nil)
	_ G.SDOp            = (*actGrad)(nil)
	_ G.SDOp            = (*swiGLUGrad)(nil)
	_ G.SDOp            = (*ropeGrad)(nil)
	_ G.SDOp            = (*softmaxGrad)(nil)
	_ G.SDOp            = (*attentionGrad)(nil)
	_ G.SDOp            = (*crossEntropyGrad)(nil)
	_ G.SDOp            = (*embeddingGrad)(nil)
	_ G.SDOp            = (*paramGrad)(nil)
	_ G.SDOp            = gradOf{}
)

// ptr names a slice by identity (address and length) in hashes: positions
// and Start are read on every run, so their contents may change.
func ptr[T any](s []T) string { return fmt.Sprintf("%p/%d", unsafe.SliceData(s), len(s)) }

// computer is an op with one float32 output computed into a given slice.
type computer interface {
	compute(out []float32, inputs []G.Value) error
}

// doOwned runs c into the op's owned output tensor and returns it.
func doOwned(b *base, o *owned, c computer, inputs []G.Value) (v G.Value, err error) {
	defer protect(b.name, &err)
	if err = b.checkArity(inputs); err != nil {
		return nil, err
	}
	t, d := o.get(b.shape)
	if err = c.compute(d, inputs); err != nil {
		return nil, fmt.Errorf("ggops: %s: %w", b.name, err)
	}
	return t, nil
}

// doPrealloc runs c into prealloc when it fits (see preallocF32) and
// returns errPrealloc otherwise.
func doPrealloc(b *base, c computer, prealloc G.Value, inputs []G.Value) (v G.Value, err error) {
	defer protect(b.name, &err)
	if err = b.checkArity(inputs); err != nil {
		return nil, err
	}
	d, err := preallocF32(prealloc, b.shape, inputs)
	if err != nil {
		return nil, err
	}
	if err = c.compute(d, inputs); err != nil {
		return nil, fmt.Errorf("ggops: %s: %w", b.name, err)
	}
	return prealloc, nil
}
