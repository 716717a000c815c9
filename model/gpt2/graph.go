package gpt2

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/kernels"
	ggops "github.com/humanllm/humanllm/kernels/gorgonia"
)

// Graph is the float32 training graph of a GPT-2 model for batches [B, T]:
// ids in, logits [B·T, V] and the mean cross-entropy over non-ignored
// targets out, and the gradient of every parameter. Every operation but the
// sum of the two embeddings is a fused op of kernels/gorgonia running on k:
// the embeddings, LayerNorm, the fused q/k/v projection (Linear) and
// attention on it (CausalAttentionQKV), the output projection with the
// residual (LinearResidual), the whole MLP with its residual (MLP), the
// tied head (Linear) and the cross-entropy.
// Build once, Run every step; parameters live in tensors the graph owns and
// an optimizer updates in place (Param, Grad).
//
// In a training graph (NewGraph) the cross-entropy's gradient is computed
// in place over the logits, so after Run the Logits node holds that
// gradient; a forward graph (NewForward) keeps the logits and has no
// gradients.
type Graph struct {
	Config Config
	B, T   int

	g       *G.ExprGraph
	vm      G.VM
	names   []string
	params  map[string]*G.Node
	grads   map[string]*G.Node
	ids     []int32
	pos     []int32
	targets []int32
	start   []int32
	Logits  *G.Node
	Loss    *G.Node
	ran     bool
}

// NewGraph builds the training graph with parameters copied from w.
func NewGraph(w *Weights, b, t int, k kernels.Kernels) (*Graph, error) {
	return newGraph(w, b, t, k, true)
}

// NewForward builds the graph without gradients: Run computes the logits
// (kept in Logits) and the loss.
func NewForward(w *Weights, b, t int, k kernels.Kernels) (*Graph, error) {
	return newGraph(w, b, t, k, false)
}

func newGraph(w *Weights, b, t int, k kernels.Kernels, train bool) (gr *Graph, err error) {
	c := w.Config
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if b < 1 || t < 1 || t > c.Context {
		return nil, fmt.Errorf("gpt2: batch %d x seq %d invalid for context %d", b, t, c.Context)
	}
	if k == nil {
		return nil, fmt.Errorf("gpt2: no kernels")
	}
	g := G.NewGraph()
	gr = &Graph{Config: c, B: b, T: t, g: g, params: map[string]*G.Node{}, grads: map[string]*G.Node{}}
	defer func() {
		if r := recover(); r != nil { // gorgonia panics on some shape errors
			gr, err = nil, fmt.Errorf("gpt2: building graph: %v", r)
		}
	}()
	for _, p := range c.Params() {
		d, ok := w.Data[p.Name]
		if !ok || len(d) != p.Size() {
			return nil, fmt.Errorf("gpt2: weights lack %s %v", p.Name, p.Shape)
		}
		val := tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(append([]float32(nil), d...)))
		gr.params[p.Name] = G.NewTensor(g, tensor.Float32, len(p.Shape), G.WithShape(p.Shape...), G.WithName(p.Name), G.WithValue(val))
		gr.names = append(gr.names, p.Name)
	}
	n := b * t
	intIn := func(name string) (*G.Node, []int32) {
		d := make([]int32, n)
		return G.NewVector(g, tensor.Int32, G.WithShape(n), G.WithName(name), G.WithValue(tensor.New(tensor.WithShape(n), tensor.WithBacking(d)))), d
	}
	idsN, ids := intIn("ids")
	posN, pos := intIn("pos")
	tgN, targets := intIn("targets")
	gr.ids, gr.pos, gr.targets, gr.start = ids, pos, targets, make([]int32, n)
	for i := range pos {
		pos[i] = int32(i % t)
	}
	if err := gr.build(k, idsN, posN, tgN, train); err != nil {
		return nil, err
	}
	if !train {
		gr.vm = G.NewTapeMachine(g)
		return gr, nil
	}
	wrt := make(G.Nodes, len(gr.names))
	for i, name := range gr.names {
		wrt[i] = gr.params[name]
	}
	gs, err := G.Grad(gr.Loss, wrt...)
	if err != nil {
		return nil, fmt.Errorf("gpt2: gradients: %w", err)
	}
	for i, name := range gr.names {
		gr.grads[name] = gs[i]
	}
	gr.vm = G.NewTapeMachine(g)
	return gr, nil
}

type errs struct{ err error }

func (e *errs) n(x *G.Node, err error) *G.Node {
	if e.err == nil && err != nil {
		e.err = err
	}
	return x
}

func (gr *Graph) build(k kernels.Kernels, ids, pos, targets *G.Node, train bool) error {
	c, p := gr.Config, gr.params
	B, T, C, H := gr.B, gr.T, c.Dim, c.Heads
	eps := float32(c.LNEps)
	var e errs
	x := e.n(G.Add(e.n(ggops.Embedding(p["wte.weight"], ids, k)), e.n(ggops.Embedding(p["wpe.weight"], pos, k))))
	linear := func(h *G.Node, name string) *G.Node {
		return e.n(ggops.Linear(h, p[name+".weight"], p[name+".bias"], false, k))
	}
	ap := kernels.AttentionParams{B: B, T: T, H: H, KVH: H, D: C / H, Scale: float32(1 / math.Sqrt(float64(C/H))), Start: gr.start}
	for l := range c.Layers {
		h := e.n(ggops.LayerNorm(x, p[L(l, "ln_1.weight")], p[L(l, "ln_1.bias")], eps, k))
		qkv := linear(h, L(l, "attn.c_attn"))
		if e.err != nil {
			return e.err
		}
		a := e.n(ggops.CausalAttentionQKV(qkv, ap, k))
		if e.err != nil {
			return e.err
		}
		x = e.n(ggops.LinearResidual(a, p[L(l, "attn.c_proj.weight")], p[L(l, "attn.c_proj.bias")], x, false, k))
		h = e.n(ggops.LayerNorm(x, p[L(l, "ln_2.weight")], p[L(l, "ln_2.bias")], eps, k))
		x = e.n(ggops.MLP(h, p[L(l, "mlp.c_fc.weight")], p[L(l, "mlp.c_fc.bias")], p[L(l, "mlp.c_proj.weight")], p[L(l, "mlp.c_proj.bias")], x, k))
		if e.err != nil {
			return e.err
		}
	}
	x = e.n(ggops.LayerNorm(x, p["ln_f.weight"], p["ln_f.bias"], eps, k))
	gr.Logits = e.n(ggops.Linear(x, p["wte.weight"], nil, true, k))
	ce := ggops.CrossEntropy
	if train {
		ce = ggops.CrossEntropyInPlace
	}
	gr.Loss = e.n(ce(gr.Logits, targets, k))
	return e.err
}

// Run feeds ids and targets ([B·T] each, row-major; targets may hold
// kernels.IgnoreIndex) and runs forward and backward; it returns the loss.
func (gr *Graph) Run(ids, targets []int32) (float64, error) {
	n := gr.B * gr.T
	if len(ids) != n || len(targets) != n {
		return 0, fmt.Errorf("gpt2: %d ids and %d targets for %d x %d", len(ids), len(targets), gr.B, gr.T)
	}
	copy(gr.ids, ids)
	copy(gr.targets, targets)
	if gr.ran {
		gr.vm.Reset()
	}
	gr.ran = true
	if err := gr.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("gpt2: run: %w", err)
	}
	v, ok := gr.Loss.Value().Data().(float32)
	if !ok {
		return 0, fmt.Errorf("gpt2: loss is %T", gr.Loss.Value().Data())
	}
	return float64(v), nil
}

// Names lists the parameters in Config.Params order.
func (gr *Graph) Names() []string { return gr.names }

// Param is the named parameter's data, updated in place by an optimizer.
func (gr *Graph) Param(name string) []float32 {
	return gr.params[name].Value().Data().([]float32)
}

// Grad is the named parameter's gradient from the last Run (nil in a
// forward graph).
func (gr *Graph) Grad(name string) []float32 {
	n, ok := gr.grads[name]
	if !ok {
		return nil
	}
	return n.Value().Data().([]float32)
}

// Close releases the tape machine.
func (gr *Graph) Close() error { return gr.vm.Close() }
