package ggops

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/cpu"
	"github.com/humanllm/humanllm/kernels/ref"
)

var rk = ref.Implementation{}

func TestReshape(t *testing.T) {
	runCase(t, opCase{
		name:   "Reshape",
		inputs: []fin{{name: "x", shape: tensor.Shape{2, 3, 4}, rshape: tensor.Shape{6, 4}, scale: 1}},
		ours: func(g *G.ExprGraph, in []*G.Node, k kernels.Fused) (*G.Node, error) {
			return Reshape(in[0], tensor.Shape{6, 4})
		},
		ref: func(g *G.ExprGraph, in []*G.Node, dt tensor.Dtype) (*G.Node, error) {
			return G.Mul(in[0], scalarConst(dt, 1))
		},
		tolOut: 0, tolGrad: 0,
	})
}

// TestChain chains our ops with reuse: y = RMSNorm(SwiGLU(RMSNorm(x, w), x), w),
// so gorgonia sums the gradients of x and w over two uses each.
func TestChain(t *testing.T) {
	const eps = 1e-5
	runCase(t, opCase{
		name: "Chain",
		inputs: []fin{
			{name: "x", shape: tensor.Shape{5, 8}, scale: 1},
			{name: "w", shape: tensor.Shape{8}, rshape: tensor.Shape{1, 8}, offset: 1, scale: 0.5},
		},
		ours: func(g *G.ExprGraph, in []*G.Node, k kernels.Fused) (*G.Node, error) {
			h := must(RMSNorm(in[0], in[1], eps, k))
			s := must(SwiGLU(h, in[0], k))
			return RMSNorm(s, in[1], eps, k)
		},
		ref: func(g *G.ExprGraph, in []*G.Node, dt tensor.Dtype) (*G.Node, error) {
			h := must(refRMSNorm(eps)(g, in, dt))
			s := must(refSwiGLU(g, []*G.Node{h, in[0]}, dt))
			return refRMSNorm(eps)(g, []*G.Node{s, in[1]}, dt)
		},
		tolOut: 1e-6, tolGrad: 1e-5,
	})
}

// TestRank3 checks ops on [2, 3, n] inputs (and cross-entropy on [2, 3, V]
// logits with [2, 3] targets) give the same bits as on the same data
// shaped [6, n].
func TestRank3(t *testing.T) {
	data := make([]float64, 6*8)
	for i := range data {
		data[i] = float64(i%7) - 3.2
	}
	run := func(s tensor.Shape) []float64 {
		g := G.NewGraph()
		x := constant(g, tensor.Float32, "x", s, data)
		w := constant(g, tensor.Float32, "w", tensor.Shape{8}, fill(8, 1.5))
		b := constant(g, tensor.Float32, "b", tensor.Shape{8}, fill(8, 0.25))
		y := must(Softmax(must(LayerNorm(must(RMSNorm(x, w, 1e-5, rk)), w, b, 1e-5, rk)), rk))
		m := G.NewTapeMachine(g)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		return values(t, y.Value())
	}
	if a, b := run(tensor.Shape{2, 3, 8}), run(tensor.Shape{6, 8}); !bitEqual(a, b) {
		t.Errorf("rank 3 %v\nrank 2 %v", a, b)
	}
	ce := func(ls, ts tensor.Shape) float64 {
		g := G.NewGraph()
		x := constant(g, tensor.Float32, "x", ls, data)
		tg := intNode(g, tensor.Int32, "t", ts, []int32{1, 7, kernels.IgnoreIndex, 0, 3, 3})
		l := must(CrossEntropy(x, tg, rk))
		if err := G.NewTapeMachine(g).RunAll(); err != nil {
			t.Fatal(err)
		}
		return values(t, l.Value())[0]
	}
	if a, b := ce(tensor.Shape{2, 3, 8}, tensor.Shape{2, 3}), ce(tensor.Shape{6, 8}, tensor.Shape{6}); a != b {
		t.Errorf("cross-entropy rank 3 %v, rank 2 %v", a, b)
	}
}

// TestHash: ops that differ in a parameter hash differently and stay
// separate nodes; identical ones are merged into one node by gorgonia.
func TestHash(t *testing.T) {
	g := G.NewGraph()
	x := constant(g, tensor.Float32, "x", tensor.Shape{2, 3, 4, 8}, fill(2*3*4*8, 1))
	kv := constant(g, tensor.Float32, "kv", tensor.Shape{2, 3, 2, 8}, fill(2*3*2*8, 1))
	w := constant(g, tensor.Float32, "w", tensor.Shape{8}, fill(8, 1))
	cos, sin := kernels.RoPETables(8, 8, 10000)
	pos1, pos2 := []int32{0, 1, 2, 0, 1, 2}, []int32{0, 1, 2, 0, 1, 2}
	p := kernels.AttentionParams{B: 2, T: 3, H: 4, KVH: 2, D: 8, Scale: 0.5}
	pScale, pStart := p, p
	pScale.Scale = 0.25
	pStart.Start = []int32{0, 0, 0, 0, 0, 0}
	var ck any = cpu.Implementation{}
	cpuK, haveCPU := ck.(kernels.Fused)

	build := map[string]func() *G.Node{
		"rms eps5": func() *G.Node { return must(RMSNorm(x, w, 1e-5, rk)) },
		"rms eps6": func() *G.Node { return must(RMSNorm(x, w, 1e-6, rk)) },
		"ln eps5":  func() *G.Node { return must(LayerNorm(x, w, nil, 1e-5, rk)) },
		"ln eps6":  func() *G.Node { return must(LayerNorm(x, w, nil, 1e-6, rk)) },
		"ln bias":  func() *G.Node { return must(LayerNorm(x, w, w, 1e-5, rk)) },
		"gelu":     func() *G.Node { return must(GELU(x, rk)) },
		"silu":     func() *G.Node { return must(SiLU(x, rk)) },
		"softmax":  func() *G.Node { return must(Softmax(x, rk)) },
		"rope half": func() *G.Node {
			return must(RoPE(x, RoPEConfig{Cos: cos, Sin: sin, Pos: pos1, Layout: kernels.RoPEHalf}, rk))
		},
		"rope inter": func() *G.Node {
			return must(RoPE(x, RoPEConfig{Cos: cos, Sin: sin, Pos: pos1, Layout: kernels.RoPEInterleaved}, rk))
		},
		"rope pos2": func() *G.Node {
			return must(RoPE(x, RoPEConfig{Cos: cos, Sin: sin, Pos: pos2, Layout: kernels.RoPEHalf}, rk))
		},
		"attn":         func() *G.Node { return must(CausalAttention(x, kv, kv, p, rk)) },
		"attn scale":   func() *G.Node { return must(CausalAttention(x, kv, kv, pScale, rk)) },
		"attn start":   func() *G.Node { return must(CausalAttention(x, kv, kv, pStart, rk)) },
		"reshape 24x8": func() *G.Node { return must(Reshape(x, tensor.Shape{24, 8})) },
		"reshape 8x24": func() *G.Node { return must(Reshape(x, tensor.Shape{8, 24})) },
	}
	if haveCPU {
		build["rms eps5 cpu"] = func() *G.Node { return must(RMSNorm(x, w, 1e-5, cpuK)) }
	}
	nodes := map[string]*G.Node{}
	hashes := map[uint32]string{}
	for name, f := range build {
		n := f()
		nodes[name] = n
		h := n.Op().Hashcode()
		if other, dup := hashes[h]; dup {
			t.Errorf("%s and %s have the same op hash", name, other)
		}
		hashes[h] = name
		if again := f(); again != n {
			t.Errorf("%s built twice gave two nodes; gorgonia should merge identical ops", name)
		}
	}
	seen := map[*G.Node]string{}
	for name, n := range nodes {
		if other, dup := seen[n]; dup {
			t.Errorf("%s and %s were merged into one node", name, other)
		}
		seen[n] = name
	}
}

// runErr builds a graph with build, runs it, and returns the run error.
func runErr(t *testing.T, build func(g *G.ExprGraph) *G.Node) (err error) {
	t.Helper()
	g := G.NewGraph()
	out := build(g)
	if out == nil {
		t.Fatal("build failed")
	}
	m := G.NewTapeMachine(g)
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic instead of an error: %v", r)
		}
	}()
	return m.RunAll()
}

// TestRunErrors: bad index contents make RunAll return an error naming the
// problem (the kernels' panics are recovered on the tape's goroutine).
func TestRunErrors(t *testing.T) {
	cos, sin := kernels.RoPETables(4, 8, 10000)
	cases := []struct {
		name, want string
		build      func(g *G.ExprGraph) *G.Node
	}{
		{"embedding id", kernels.BadID, func(g *G.ExprGraph) *G.Node {
			table := constant(g, tensor.Float32, "t", tensor.Shape{4, 3}, fill(12, 1))
			return must(Embedding(table, intNode(g, tensor.Int32, "ids", tensor.Shape{3}, []int32{0, 4, 1}), rk))
		}},
		{"embedding negative int id", kernels.BadID, func(g *G.ExprGraph) *G.Node {
			table := constant(g, tensor.Float32, "t", tensor.Shape{4, 3}, fill(12, 1))
			return must(Embedding(table, intNode(g, tensor.Int, "ids", tensor.Shape{3}, []int32{0, -1, 1}), rk))
		}},
		{"target", kernels.BadTarget, func(g *G.ExprGraph) *G.Node {
			logits := constant(g, tensor.Float32, "l", tensor.Shape{2, 5}, fill(10, 1))
			return must(CrossEntropy(logits, intNode(g, tensor.Int32, "t", tensor.Shape{2}, []int32{1, 5}), rk))
		}},
		{"int64 target overflow", "overflows int32", func(g *G.ExprGraph) *G.Node {
			logits := constant(g, tensor.Float32, "l", tensor.Shape{2, 5}, fill(10, 1))
			tg := intNode(g, tensor.Int64, "t", tensor.Shape{2}, []int32{1, 2})
			tg.Value().Data().([]int64)[1] = 1 << 40
			return must(CrossEntropy(logits, tg, rk))
		}},
		{"rope position", kernels.BadPos, func(g *G.ExprGraph) *G.Node {
			x := constant(g, tensor.Float32, "x", tensor.Shape{2, 1, 8}, fill(16, 1))
			return must(RoPE(x, RoPEConfig{Cos: cos, Sin: sin, Pos: []int32{1, 4}}, rk))
		}},
		{"attention start", kernels.BadStart, func(g *G.ExprGraph) *G.Node {
			q := constant(g, tensor.Float32, "q", tensor.Shape{1, 2, 1, 4}, fill(8, 1))
			p := kernels.AttentionParams{B: 1, T: 2, H: 1, KVH: 1, D: 4, Scale: 0.5, Start: []int32{1, 0}}
			return must(CausalAttention(q, q, q, p, rk))
		}},
	}
	for _, c := range cases {
		err := runErr(t, c.build)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: RunAll error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestConstructorErrors: bad dtypes and shapes are errors when the graph is
// built.
func TestConstructorErrors(t *testing.T) {
	g := G.NewGraph()
	f32 := func(s ...int) *G.Node {
		return constant(g, tensor.Float32, "x", s, make([]float64, tensor.Shape(s).TotalSize()))
	}
	x := f32(2, 4)
	x64 := constant(g, tensor.Float64, "x64", tensor.Shape{2, 4}, make([]float64, 8))
	w3 := f32(3)
	q, kv := f32(1, 2, 4, 4), f32(1, 2, 3, 4)
	ids := intNode(g, tensor.Int32, "ids", tensor.Shape{2}, []int32{0, 1})
	cos, sin := kernels.RoPETables(4, 6, 10000)
	p := kernels.AttentionParams{B: 1, T: 2, H: 4, KVH: 3, D: 4, Scale: 1}
	cases := map[string]func() (*G.Node, error){
		"rms float64":     func() (*G.Node, error) { return RMSNorm(x64, w3, 1e-5, rk) },
		"rms w size":      func() (*G.Node, error) { return RMSNorm(x, w3, 1e-5, rk) },
		"rms nil kernels": func() (*G.Node, error) { return RMSNorm(x, f32(4), 1e-5, nil) },
		"ln b size":       func() (*G.Node, error) { return LayerNorm(x, f32(4), w3, 1e-5, rk) },
		"swiglu shapes":   func() (*G.Node, error) { return SwiGLU(x, f32(4, 2), rk) },
		"rope rank":       func() (*G.Node, error) { return RoPE(x, RoPEConfig{Cos: cos, Sin: sin, Pos: []int32{0, 1}}, rk) },
		"rope odd d": func() (*G.Node, error) {
			return RoPE(f32(2, 1, 5), RoPEConfig{Cos: cos, Sin: sin, Pos: []int32{0, 1}}, rk)
		},
		"rope short pos": func() (*G.Node, error) {
			return RoPE(f32(2, 1, 6), RoPEConfig{Cos: cos, Sin: sin, Pos: []int32{0}}, rk)
		},
		"attn gqa":   func() (*G.Node, error) { return CausalAttention(q, kv, kv, p, rk) },
		"attn shape": func() (*G.Node, error) { p := p; p.KVH = 2; return CausalAttention(q, kv, kv, p, rk) },
		"ce targets shape": func() (*G.Node, error) {
			return CrossEntropy(x, intNode(g, tensor.Int32, "t", tensor.Shape{3}, []int32{0, 0, 0}), rk)
		},
		"ce float targets": func() (*G.Node, error) { return CrossEntropy(x, f32(2), rk) },
		"embedding table":  func() (*G.Node, error) { return Embedding(f32(2, 2, 2), ids, rk) },
		"reshape size":     func() (*G.Node, error) { return Reshape(x, tensor.Shape{3, 3}) },
	}
	for name, f := range cases {
		if n, err := f(); err == nil {
			t.Errorf("%s: no error (node %v)", name, n)
		}
	}
}

// TestUsePreallocDo: a plain float32 tensor of the output shape is written
// (same values as Do); a wrong shape, a view, or memory overlapping an
// input is refused with an error, so that the TapeMachine falls back to Do.
func TestUsePreallocDo(t *testing.T) {
	g := G.NewGraph()
	xd := []float32{1, 2, 3, 4, 5, 6}
	x := G.NewTensor(g, tensor.Float32, 2, G.WithShape(2, 3), G.WithName("x"), G.WithValue(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(xd))))
	y := must(Softmax(x, rk))
	op := y.Op().(G.UsePreallocDoer)
	xv := x.Value()
	want, err := y.Op().Do(xv)
	if err != nil {
		t.Fatal(err)
	}
	pre := tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Float32))
	got, err := op.UsePreallocDo(pre, xv)
	if err != nil || got != G.Value(pre) {
		t.Fatalf("UsePreallocDo: %v, %v", got, err)
	}
	if !bitEqual(values(t, got), values(t, want)) {
		t.Errorf("UsePreallocDo %v, Do %v", got, want)
	}
	big := tensor.New(tensor.WithShape(4, 3), tensor.Of(tensor.Float32))
	view, err := big.Slice(G.S(0, 2))
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]G.Value{
		"shape":   tensor.New(tensor.WithShape(3, 2), tensor.Of(tensor.Float32)),
		"dtype":   tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Float64)),
		"view":    view,
		"overlap": xv,
		"scalar":  G.NewF32(0),
	} {
		if _, err := op.UsePreallocDo(p, xv); !errors.Is(err, errPrealloc) {
			t.Errorf("prealloc %s: error %v, want errPrealloc", name, err)
		}
	}
}

// TestCrossEntropyIgnored: all targets ignored gives loss 0 and a zero
// gradient; and the gradient op refuses to run twice on one forward run.
func TestCrossEntropyIgnored(t *testing.T) {
	g := G.NewGraph()
	logits := constant(g, tensor.Float32, "l", tensor.Shape{2, 3}, []float64{1, 2, 3, 4, 5, 6})
	ig := kernels.IgnoreIndex
	loss := must(CrossEntropy(logits, intNode(g, tensor.Int32, "t", tensor.Shape{2}, []int32{ig, ig}), rk))
	gr, err := G.Grad(loss, logits)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	if l := values(t, loss.Value())[0]; l != 0 {
		t.Errorf("loss %v, want 0", l)
	}
	if d := values(t, gr[0].Value()); !bitEqual(d, make([]float64, 6)) {
		t.Errorf("gradient %v, want zeros", d)
	}
	if _, err := gr[0].Op().Do(loss.Value(), G.NewF32(1)); err == nil {
		t.Errorf("second gradient run after one forward run: no error")
	}
}

// TestGradTwice: a second gorgonia.Grad on a graph holding our gradient
// nodes works (they are SDOps differentiable with respect to nothing).
func TestGradTwice(t *testing.T) {
	g := G.NewGraph()
	x := constant(g, tensor.Float32, "x", tensor.Shape{2, 4}, []float64{1, 2, 3, 4, -1, 0, 1, 2})
	w := constant(g, tensor.Float32, "w", tensor.Shape{4}, fill(4, 1))
	y := must(RMSNorm(x, w, 1e-5, rk))
	l1 := must(G.Sum(must(GELU(y, rk))))
	if _, err := G.Grad(l1, x, w); err != nil {
		t.Fatal(err)
	}
	l2 := must(G.Sum(must(Softmax(y, rk))))
	if _, err := G.Grad(l2, w); err != nil {
		t.Fatalf("second Grad: %v", err)
	}
	if err := G.NewTapeMachine(g).RunAll(); err != nil {
		t.Fatal(err)
	}
}

// TestOwnedOutputs: our ops return the same output memory on every run and
// a warm run of a graph made only of our ops (gorgonia's Sum would
// allocate its broadcast gradient) allocates far less than one of the
// activations it computes.
func TestOwnedOutputs(t *testing.T) {
	const rows, n = 256, 512
	g := G.NewGraph()
	x := constant(g, tensor.Float32, "x", tensor.Shape{rows, n}, fill(rows*n, 0.5))
	w := constant(g, tensor.Float32, "w", tensor.Shape{n}, fill(n, 1))
	h := must(RMSNorm(x, w, 1e-5, rk))
	a := must(GELU(h, rk))
	s := must(Softmax(must(SwiGLU(a, h, rk)), rk))
	targets := make([]int32, rows)
	for i := range targets {
		targets[i] = int32(i % n)
	}
	loss := must(CrossEntropy(must(LayerNorm(s, w, w, 1e-5, rk)), intNode(g, tensor.Int32, "t", tensor.Shape{rows}, targets), rk))
	if _, err := G.Grad(loss, x, w); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	ptr := func() *float32 { return &s.Value().Data().([]float32)[0] }
	run := func() {
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
	}
	run()
	p0 := ptr()
	run()
	if ptr() != p0 {
		t.Errorf("output memory changed between runs")
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	run()
	runtime.ReadMemStats(&after)
	bytes := after.TotalAlloc - before.TotalAlloc
	act := uint64(rows * n * 4)
	t.Logf("warm run: %d bytes allocated (one activation is %d bytes; the graph computes 5 forward and 7 gradient tensors of that size)", bytes, act)
	if bytes > act/16 {
		t.Errorf("warm run allocated %d bytes, more than 1/16 of one activation (%d)", bytes, act)
	}
}
