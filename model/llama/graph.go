package llama

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/model"
)

// GraphOptions configure NewGraph.
type GraphOptions struct {
	// Dtype is tensor.Float32 (default) or tensor.Float64.
	Dtype tensor.Dtype
	// Ops builds the subgraphs; nil means a new BuiltinOps.
	Ops Ops
	// NoGrad builds only the forward pass (logits and loss).
	NoGrad bool
}

// Graph is the training graph of a Llama model for one batch shape [B, T]:
// token ids in, logits [B·T, V] and mean cross-entropy loss out, and (unless
// NoGrad) the gradient of the loss for every parameter. Build it once and
// call Run for every step: it writes the new ids and targets into the
// bound input tensors and reruns the same tape machine. Parameter values
// live in tensors the graph owns (ParamValue); an optimizer updates them in
// place between runs.
type Graph struct {
	Config model.Config
	B, T   int
	Dtype  tensor.Dtype

	ctx     *Ctx
	g       *G.ExprGraph
	vm      G.VM
	names   []string
	params  map[string]*G.Node
	grads   map[string]*G.Node
	ids     []int
	targets []int
	Logits  *G.Node
	Loss    *G.Node
	ran     bool
}

// NewGraph builds the graph for batches of b sequences of t tokens with
// parameters initialised from w (converted to the graph's dtype).
func NewGraph(w *model.Weights, b, t int, opt GraphOptions) (gr *Graph, err error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	cfg := w.Config
	if b <= 0 || t <= 0 || t > cfg.MaxSeqLen {
		return nil, fmt.Errorf("llama: batch %d x seq %d invalid for max_seq_len %d", b, t, cfg.MaxSeqLen)
	}
	if opt.Dtype == (tensor.Dtype{}) {
		opt.Dtype = tensor.Float32
	}
	if opt.Dtype != tensor.Float32 && opt.Dtype != tensor.Float64 {
		return nil, fmt.Errorf("llama: graph dtype %v not supported", opt.Dtype)
	}
	if opt.Ops == nil {
		opt.Ops = &BuiltinOps{}
	}
	g := G.NewGraph()
	c := &Ctx{G: g, Config: cfg, B: b, T: t, Dtype: opt.Dtype, Pos: make([]int32, b*t), Start: make([]int32, b*t)}
	plainLayout(c.Pos, c.Start, t)
	gr = &Graph{Config: cfg, B: b, T: t, Dtype: opt.Dtype, ctx: c, g: g,
		params: map[string]*G.Node{}, grads: map[string]*G.Node{}}
	defer func() {
		// gorgonia panics on some shape errors; report them as errors.
		if r := recover(); r != nil {
			gr, err = nil, fmt.Errorf("llama: building graph: %v", r)
		}
	}()
	for _, s := range cfg.ParamSpecs() {
		src := w.Get(s.Name).Data
		var val *tensor.Dense
		if opt.Dtype == tensor.Float64 {
			d := make([]float64, len(src))
			for i, v := range src {
				d[i] = float64(v)
			}
			val = tensor.New(tensor.WithShape(s.Shape...), tensor.WithBacking(d))
		} else {
			val = tensor.New(tensor.WithShape(s.Shape...), tensor.WithBacking(append([]float32(nil), src...)))
		}
		gr.params[s.Name] = G.NewTensor(g, opt.Dtype, len(s.Shape), G.WithShape(s.Shape...), G.WithName(s.Name), G.WithValue(val))
		gr.names = append(gr.names, s.Name)
	}
	idsNode, ids := c.IntInput("ids", b*t)
	tgNode, targets := c.IntInput("targets", b*t)
	gr.ids, gr.targets = ids, targets
	if err := gr.build(opt.Ops, idsNode, tgNode); err != nil {
		return nil, fmt.Errorf("llama: building graph: %w", err)
	}
	var wrt G.Nodes
	if !opt.NoGrad {
		for _, n := range gr.names {
			wrt = append(wrt, gr.params[n])
		}
		gs, err := G.Grad(gr.Loss, wrt...)
		if err != nil {
			return nil, fmt.Errorf("llama: gradients: %w", err)
		}
		for i, n := range gr.names {
			gr.grads[n] = gs[i]
		}
	}
	gr.vm = G.NewTapeMachine(g)
	return gr, nil
}

func (gr *Graph) build(ops Ops, ids, targets *G.Node) error {
	c, cfg, p := gr.ctx, gr.Config, gr.params
	var e errs
	x := e.n(ops.Embedding(c, p[model.NameEmbed], ids))
	linear := func(x *G.Node, l int, w, b string) *G.Node {
		y := e.n(ops.Linear(c, x, p[model.LayerName(l, w)]))
		if bias := p[model.LayerName(l, b)]; b != "" && bias != nil && e.err == nil {
			out := bias.Shape()[0]
			y = e.n(G.BroadcastAdd(y, e.n(G.Reshape(bias, tensor.Shape{1, out})), nil, []byte{0}))
		}
		return y
	}
	for l := range cfg.NLayers {
		if e.err != nil {
			return e.err
		}
		h := e.n(ops.RMSNorm(c, x, p[model.LayerName(l, model.SuffixAttnNorm)]))
		q := linear(h, l, model.SuffixWq, model.SuffixBq)
		k := linear(h, l, model.SuffixWk, model.SuffixBk)
		v := linear(h, l, model.SuffixWv, model.SuffixBv)
		if e.err != nil {
			return e.err
		}
		q = e.n(ops.RoPE(c, q, cfg.NHeads))
		k = e.n(ops.RoPE(c, k, cfg.NKVHeads))
		if e.err != nil {
			return e.err
		}
		a := e.n(ops.Attention(c, q, k, v))
		if e.err != nil {
			return e.err
		}
		x = e.n(G.Add(x, linear(a, l, model.SuffixWo, "")))
		h = e.n(ops.RMSNorm(c, x, p[model.LayerName(l, model.SuffixFFNNorm)]))
		if e.err != nil {
			return e.err
		}
		gate := linear(h, l, model.SuffixGate, "")
		up := linear(h, l, model.SuffixUp, "")
		if e.err != nil {
			return e.err
		}
		m := e.n(ops.SwiGLU(c, gate, up))
		if e.err != nil {
			return e.err
		}
		x = e.n(G.Add(x, linear(m, l, model.SuffixDown, "")))
	}
	if e.err != nil {
		return e.err
	}
	x = e.n(ops.RMSNorm(c, x, p[model.NameFinalNorm]))
	cls := p[model.NameEmbed]
	if !cfg.TiedEmbeddings {
		cls = p[model.NameLMHead]
	}
	if e.err != nil {
		return e.err
	}
	gr.Logits = e.n(ops.Linear(c, x, cls))
	if e.err != nil {
		return e.err
	}
	gr.Loss = e.n(ops.CrossEntropy(c, gr.Logits, targets))
	return e.err
}

// Run feeds a batch — ids and targets, B·T each, row-major [B, T]; targets
// may hold IgnoreIndex — runs forward (and backward) and returns the loss.
// Logits, gradients and the loss stay readable until the next Run.
func (gr *Graph) Run(ids, targets []int32) (float64, error) {
	return gr.RunPacked(ids, targets, nil, nil)
}

// plainLayout sets positions 0..t-1 and start 0 in every row.
func plainLayout(pos, start []int32, t int) {
	for i := range pos {
		pos[i], start[i] = int32(i%t), 0
	}
}

// RunPacked is Run for a batch of packed samples: pos[j] is token j's
// position inside its sample and start[j] the row offset of its sample's
// first token (trainer/data.Batch's Positions and Start), so attention and
// positions do not cross sample boundaries. nil pos and start mean the
// plain layout. Only Ops that read Ctx.Pos and Ctx.Start (FusedOps) can run
// packed batches; BuiltinOps fails on them.
func (gr *Graph) RunPacked(ids, targets, pos, start []int32) (float64, error) {
	n := gr.B * gr.T
	if len(ids) != n || len(targets) != n {
		return 0, fmt.Errorf("llama: run: %d ids and %d targets for batch %d x %d", len(ids), len(targets), gr.B, gr.T)
	}
	c := gr.ctx
	if pos == nil && start == nil {
		if c.packed {
			plainLayout(c.Pos, c.Start, gr.T)
			c.packed = false
		}
	} else {
		if len(pos) != n || len(start) != n {
			return 0, fmt.Errorf("llama: run: %d positions and %d starts for batch %d x %d", len(pos), len(start), gr.B, gr.T)
		}
		for j := range n {
			t := int32(j % gr.T)
			if start[j] < 0 || start[j] > t || pos[j] < 0 || int(pos[j]) >= gr.T {
				return 0, fmt.Errorf("llama: run: token %d has position %d and start %d (row offset %d)", j, pos[j], start[j], t)
			}
		}
		copy(c.Pos, pos)
		copy(c.Start, start)
		c.packed = true
	}
	v := int32(gr.Config.Vocab)
	for i, id := range ids {
		if id < 0 || id >= v {
			return 0, fmt.Errorf("llama: run: id %d outside vocabulary [0, %d)", id, v)
		}
		gr.ids[i] = int(id)
		gr.targets[i] = int(targets[i])
	}
	for _, f := range gr.ctx.feeders {
		if err := f(ids, targets); err != nil {
			return 0, err
		}
	}
	if gr.ran {
		gr.vm.Reset()
	}
	gr.ran = true
	if err := gr.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("llama: run: %w", err)
	}
	return scalarValue(gr.Loss.Value())
}

// Close releases the tape machine.
func (gr *Graph) Close() error { return gr.vm.Close() }

// ParamNames lists the parameters in model.Config.ParamSpecs order.
func (gr *Graph) ParamNames() []string { return gr.names }

// ParamNode returns a parameter's node (nil if unknown).
func (gr *Graph) ParamNode(name string) *G.Node { return gr.params[name] }

// ParamValue returns the tensor holding a parameter's values; update its
// data in place to change the parameter.
func (gr *Graph) ParamValue(name string) *tensor.Dense {
	n := gr.params[name]
	if n == nil {
		return nil
	}
	return n.Value().(*tensor.Dense)
}

// GradValue returns the gradient of the loss with respect to a parameter
// after Run (nil if unknown or NoGrad).
func (gr *Graph) GradValue(name string) *tensor.Dense {
	n := gr.grads[name]
	if n == nil || n.Value() == nil {
		return nil
	}
	return n.Value().(*tensor.Dense)
}

// SetWeights copies w's parameters into the graph.
func (gr *Graph) SetWeights(w *model.Weights) error {
	for _, name := range gr.names {
		t := w.Get(name)
		if t == nil {
			return fmt.Errorf("llama: weights lack %s", name)
		}
		dst := gr.ParamValue(name)
		if t.Size() != dst.Shape().TotalSize() {
			return fmt.Errorf("llama: %s has %d values, graph wants %v", name, t.Size(), dst.Shape())
		}
		switch d := dst.Data().(type) {
		case []float32:
			copy(d, t.Data)
		case []float64:
			for i, v := range t.Data {
				d[i] = float64(v)
			}
		}
	}
	return nil
}

// Weights copies the graph's parameters out (rounded to float32).
func (gr *Graph) Weights() *model.Weights {
	w := model.NewWeights(gr.Config)
	for _, name := range gr.names {
		copy(w.Get(name).Data, Float32s(gr.ParamValue(name)))
	}
	return w
}

// Float32s returns a tensor's values as float32 (a copy for float64).
func Float32s(t *tensor.Dense) []float32 {
	switch d := t.Data().(type) {
	case []float32:
		return d
	case []float64:
		out := make([]float32, len(d))
		for i, v := range d {
			out[i] = float32(v)
		}
		return out
	}
	panic(fmt.Sprintf("llama: tensor of %v", t.Dtype()))
}

// Float64s returns a tensor's values as float64 (a copy for float32).
func Float64s(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float64:
		return d
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	panic(fmt.Sprintf("llama: tensor of %v", t.Dtype()))
}

func scalarValue(v G.Value) (float64, error) {
	switch x := v.Data().(type) {
	case float32:
		return float64(x), nil
	case float64:
		return x, nil
	case []float32:
		if len(x) == 1 {
			return float64(x[0]), nil
		}
	case []float64:
		if len(x) == 1 {
			return x[0], nil
		}
	}
	return 0, fmt.Errorf("llama: loss is %T, not a scalar", v.Data())
}
