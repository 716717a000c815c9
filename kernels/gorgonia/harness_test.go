package ggops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/cpu"
	"github.com/humanllm/humanllm/kernels/ref"
)

// fusedImpls returns the kernels.Fused implementations to test: ref always,
// cpu once it implements the fused methods.
func fusedImpls() []struct {
	name string
	k    kernels.Fused
} {
	impls := []struct {
		name string
		k    kernels.Fused
	}{{"ref", ref.Implementation{}}}
	var c any = cpu.Implementation{}
	if f, ok := c.(kernels.Fused); ok {
		impls = append(impls, struct {
			name string
			k    kernels.Fused
		}{"cpu", f})
	}
	return impls
}

// fin is a float input of an op case: its shape for our op and for the
// unfused reference graph (nil: the same), and the range of its random
// values, offset ± scale.
type fin struct {
	name          string
	shape, rshape tensor.Shape
	offset, scale float64
}

// opCase is one fused op under test: ours builds it with our op, ref with
// gorgonia's primitives (for Float32 and Float64), both from input nodes
// made from the same data. scalar: the op's output is a scalar (a loss).
type opCase struct {
	name    string
	inputs  []fin
	ours    func(g *G.ExprGraph, in []*G.Node, k kernels.Fused) (*G.Node, error)
	ref     func(g *G.ExprGraph, in []*G.Node, dt tensor.Dtype) (*G.Node, error)
	scalar  bool
	tolOut  float64 // ours (f32) vs ref (f64), normalised max error of the output
	tolGrad float64 // the same for the gradients, and ours vs ref in f32
}

// scalarWeight multiplies a scalar output in the loss (so that the incoming
// gradient is not 1).
const scalarWeight = 1.7

// graphRun is a built graph: loss = Σ out⊙R (or scalarWeight·out), its
// gradients with respect to every float input, and a TapeMachine.
type graphRun struct {
	dt     tensor.Dtype
	m      G.VM
	ins    []*G.Node
	f32    [][]float32 // backing data of the inputs (dt Float32)
	f64    [][]float64 // (dt Float64)
	out    *G.Node
	loss   *G.Node
	grads  G.Nodes
	r      []float64
	scalar bool
}

var nameSeq int

// uniq returns a unique node name (gorgonia merges input nodes by name).
func uniq(s string) string {
	nameSeq++
	return fmt.Sprintf("%s_%d", s, nameSeq)
}

// newInput makes an input node of dtype dt and shape s holding data.
func newInput(g *G.ExprGraph, dt tensor.Dtype, name string, s tensor.Shape, data []float64) (*G.Node, any) {
	var backing any
	switch dt {
	case tensor.Float32:
		d := make([]float32, len(data))
		for i, v := range data {
			d[i] = float32(v)
		}
		backing = d
	case tensor.Float64:
		backing = append([]float64(nil), data...)
	}
	t := tensor.New(tensor.WithShape(s.Clone()...), tensor.WithBacking(backing))
	return G.NewTensor(g, dt, s.Dims(), G.WithShape(s.Clone()...), G.WithName(uniq(name)), G.WithValue(t)), backing
}

// constant makes a non-differentiated input node.
func constant(g *G.ExprGraph, dt tensor.Dtype, name string, s tensor.Shape, data []float64) *G.Node {
	n, _ := newInput(g, dt, name, s, data)
	return n
}

func fill(n int, v float64) []float64 {
	d := make([]float64, n)
	for i := range d {
		d[i] = v
	}
	return d
}

func ones(g *G.ExprGraph, dt tensor.Dtype, r, c int) *G.Node {
	return constant(g, dt, "ones", tensor.Shape{r, c}, fill(r*c, 1))
}

func scalarConst(dt tensor.Dtype, v float64) *G.Node {
	if dt == tensor.Float32 {
		return G.NewConstant(float32(v), G.WithName(uniq("c")))
	}
	return G.NewConstant(v, G.WithName(uniq("c")))
}

func buildRun(t *testing.T, dt tensor.Dtype, c opCase, vals [][]float64, r []float64, useRef bool, k kernels.Fused) *graphRun {
	t.Helper()
	g := G.NewGraph()
	gr := &graphRun{dt: dt, r: r, scalar: c.scalar}
	for i, in := range c.inputs {
		s := in.shape
		if useRef && in.rshape != nil {
			s = in.rshape
		}
		n, b := newInput(g, dt, in.name, s, vals[i])
		gr.ins = append(gr.ins, n)
		switch d := b.(type) {
		case []float32:
			gr.f32 = append(gr.f32, d)
		case []float64:
			gr.f64 = append(gr.f64, d)
		}
	}
	var err error
	if useRef {
		gr.out, err = c.ref(g, gr.ins, dt)
	} else {
		gr.out, err = c.ours(g, gr.ins, k)
	}
	if err != nil {
		t.Fatalf("%s: build: %v", c.name, err)
	}
	if c.scalar {
		gr.loss, err = G.Mul(gr.out, scalarConst(dt, scalarWeight))
	} else {
		if r == nil { // a probe for the output size
			r = make([]float64, gr.out.Shape().TotalSize())
		}
		rn := constant(g, dt, "R", gr.out.Shape(), r)
		var p *G.Node
		if p, err = G.HadamardProd(gr.out, rn); err == nil {
			gr.loss, err = G.Sum(p)
		}
	}
	if err != nil {
		t.Fatalf("%s: loss: %v", c.name, err)
	}
	if gr.grads, err = G.Grad(gr.loss, gr.ins...); err != nil {
		t.Fatalf("%s: grad: %v", c.name, err)
	}
	gr.m = G.NewTapeMachine(g)
	return gr
}

// values returns the float64 copy of a float32 or float64 value.
func values(t *testing.T, v G.Value) []float64 {
	t.Helper()
	switch d := v.Data().(type) {
	case []float32:
		o := make([]float64, len(d))
		for i, x := range d {
			o[i] = float64(x)
		}
		return o
	case []float64:
		return append([]float64(nil), d...)
	case float32:
		return []float64{float64(d)}
	case float64:
		return []float64{d}
	}
	t.Fatalf("cannot read %T", v.Data())
	return nil
}

type result struct {
	out   []float64
	loss  float64
	grads [][]float64
}

// exec runs the machine once (Reset first) and copies out the results.
func (gr *graphRun) exec(t *testing.T) result {
	t.Helper()
	gr.m.Reset()
	if err := gr.m.RunAll(); err != nil {
		t.Fatalf("RunAll: %v", err)
	}
	res := result{out: values(t, gr.out.Value()), loss: values(t, gr.loss.Value())[0]}
	for _, g := range gr.grads {
		res.grads = append(res.grads, values(t, g.Value()))
	}
	return res
}

// objective runs the graph and returns the loss recomputed in float64 from
// the op's output (so that float32 rounding of the sum does not enter
// finite differences).
func (gr *graphRun) objective(t *testing.T) float64 {
	res := gr.exec(t)
	if gr.scalar {
		return scalarWeight * res.out[0]
	}
	var s float64
	for i, v := range res.out {
		s += v * gr.r[i]
	}
	return s
}

// perturb adds h to element j of input i and returns the actual change
// (after rounding to the input's dtype).
func (gr *graphRun) perturb(i, j int, h float64) float64 {
	if gr.dt == tensor.Float32 {
		old := gr.f32[i][j]
		gr.f32[i][j] = float32(float64(old) + h)
		return float64(gr.f32[i][j]) - float64(old)
	}
	old := gr.f64[i][j]
	gr.f64[i][j] = old + h
	return gr.f64[i][j] - old
}

func (gr *graphRun) get(i, j int) float64 {
	if gr.dt == tensor.Float32 {
		return float64(gr.f32[i][j])
	}
	return gr.f64[i][j]
}

func (gr *graphRun) set(i, j int, v float64) {
	if gr.dt == tensor.Float32 {
		gr.f32[i][j] = float32(v)
	} else {
		gr.f64[i][j] = v
	}
}

// fdCheck compares the gradient grads with central finite differences of
// the objective at a few coordinates of every input: |fd − g| must be at
// most tol·max(1, max|g|) (per input).
func (gr *graphRun) fdCheck(t *testing.T, what string, grads [][]float64, h, tol float64, rng *rand.Rand) (worst float64) {
	t.Helper()
	for i := range gr.ins {
		n := len(grads[i])
		scale := 1.0
		for _, g := range grads[i] {
			scale = math.Max(scale, math.Abs(g))
		}
		for range min(n, 6) {
			j := rng.IntN(n)
			x0 := gr.get(i, j)
			dp := gr.perturb(i, j, h)
			fp := gr.objective(t)
			gr.set(i, j, x0)
			dm := gr.perturb(i, j, -h)
			fm := gr.objective(t)
			gr.set(i, j, x0)
			fd := (fp - fm) / (dp - dm)
			e := math.Abs(fd-grads[i][j]) / scale
			worst = math.Max(worst, e)
			if e > tol {
				t.Errorf("%s: input %d [%d]: finite difference %.8g, gradient %.8g (err %.3g > %.3g)", what, i, j, fd, grads[i][j], e, tol)
			}
		}
	}
	return worst
}

// relErr is max|a−b| / max(max|b|, 1e-30).
func relErr(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d, m float64
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
		m = math.Max(m, math.Abs(b[i]))
	}
	return d / math.Max(m, 1e-30)
}

func randVals(rng *rand.Rand, c opCase) [][]float64 {
	vals := make([][]float64, len(c.inputs))
	for i, in := range c.inputs {
		vals[i] = make([]float64, in.shape.TotalSize())
		for j := range vals[i] {
			// float32 values, so both graphs see exactly the same inputs
			vals[i][j] = float64(float32(in.offset + in.scale*(2*rng.Float64()-1)))
		}
	}
	return vals
}

// runCase checks one op against its unfused reference:
//
//  1. the reference's own gradient (float64) against central finite
//     differences, h = 1e-6, tolerance 1e-6 (validates the reference);
//  2. our op (float32) against the reference in float64: output within
//     c.tolOut, every gradient within c.tolGrad (normalised max error);
//  3. our gradients against the reference built in float32 (gorgonia's
//     unfused float32 graph), within c.tolGrad;
//  4. our gradient against float32 finite differences of our own forward
//     op (objective summed in float64), h = 1e-2, tolerance 5e-4 of the
//     largest gradient element of that input;
//  5. a second run of the same TapeMachine (Reset, RunAll) gives
//     bit-identical outputs and gradients, and the inputs are unchanged.
func runCase(t *testing.T, c opCase) {
	for _, impl := range fusedImpls() {
		t.Run(impl.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(c.name))))
			vals := randVals(rng, c)
			var outSize int
			{
				probe := buildRun(t, tensor.Float32, c, vals, nil, false, impl.k)
				outSize = probe.out.Shape().TotalSize()
			}
			r := make([]float64, max(outSize, 1))
			for i := range r {
				r[i] = float64(float32(2*rng.Float64() - 1))
			}

			ref64 := buildRun(t, tensor.Float64, c, vals, r, true, nil)
			want := ref64.exec(t)
			if e := ref64.fdCheck(t, "reference f64", want.grads, 1e-6, 1e-6, rng); testing.Verbose() {
				t.Logf("reference f64 vs finite differences: %.3g", e)
			}

			ours := buildRun(t, tensor.Float32, c, vals, r, false, impl.k)
			got := ours.exec(t)
			if e := relErr(got.out, want.out); e > c.tolOut {
				t.Errorf("output: error %.3g vs float64 reference > %.3g", e, c.tolOut)
			} else if testing.Verbose() {
				t.Logf("output vs f64 reference: %.3g", e)
			}
			for i := range got.grads {
				if e := relErr(got.grads[i], want.grads[i]); e > c.tolGrad {
					t.Errorf("gradient of %s: error %.3g vs float64 reference > %.3g", c.inputs[i].name, e, c.tolGrad)
				} else if testing.Verbose() {
					t.Logf("gradient of %s vs f64 reference: %.3g", c.inputs[i].name, e)
				}
			}

			ref32 := buildRun(t, tensor.Float32, c, vals, r, true, nil)
			want32 := ref32.exec(t)
			for i := range got.grads {
				if e := relErr(got.grads[i], want32.grads[i]); e > c.tolGrad {
					t.Errorf("gradient of %s: error %.3g vs gorgonia's unfused float32 graph > %.3g", c.inputs[i].name, e, c.tolGrad)
				}
			}

			if e := ours.fdCheck(t, "ours f32", got.grads, 1e-2, 5e-4, rng); testing.Verbose() {
				t.Logf("ours f32 vs finite differences: %.3g", e)
			}

			again := ours.exec(t)
			if !bitEqual(again.out, got.out) || again.loss != got.loss {
				t.Errorf("second run: output differs")
			}
			for i := range got.grads {
				if !bitEqual(again.grads[i], got.grads[i]) {
					t.Errorf("second run: gradient of %s differs", c.inputs[i].name)
				}
			}
			for i := range vals {
				for j, v := range vals[i] {
					if float64(float32(v)) != ours.get(i, j) {
						t.Fatalf("input %s changed by the runs", c.inputs[i].name)
					}
				}
			}
		})
	}
}

func bitEqual(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}
