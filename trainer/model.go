package trainer

import (
	"fmt"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/cpu"
	ggops "github.com/humanllm/humanllm/kernels/gorgonia"
	"github.com/humanllm/humanllm/kernels/ref"
	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/llama"
	"github.com/humanllm/humanllm/trainer/data"
)

// Model is what the trainer trains: a forward (and backward) pass of fixed
// batch shape whose parameters live in float32 slices the trainer updates
// in place.
type Model interface {
	// Run feeds one micro-batch and returns the mean cross-entropy over its
	// trained targets; unless the model was built without gradients it
	// also computes every parameter's gradient of that mean.
	Run(b *data.Batch) (float64, error)
	// Params lists the parameters in a fixed order.
	Params() []model.TensorSpec
	// Value returns parameter i's values; writes change the model.
	Value(i int) []float32
	// Grad returns parameter i's gradient from the last Run, valid until
	// the next Run.
	Grad(i int) []float32
	Close() error
}

// ModelFactory builds a Model for batches of b sequences of t tokens from
// weights w; noGrad builds the forward pass only (evaluation).
type ModelFactory func(w *model.Weights, b, t int, noGrad bool) (Model, error)

// Engine says how the llama graph is computed.
type Engine struct {
	// Ops: "builtin" (gorgonia's own ops; no packed batches) or "fused"
	// (the fused ops of kernels/gorgonia, which honour packing).
	Ops string `json:"ops" mapstructure:"ops" yaml:"ops"`
	// Kernels: the implementation of matrix products and fused ops: "cpu"
	// (kernels/cpu, SIMD), "ref" (kernels/ref, plain loops) or "gonum"
	// (gorgonia's default BLAS; builtin ops only).
	Kernels string `json:"kernels" mapstructure:"kernels" yaml:"kernels"`
}

// Validate names the first bad field.
func (e Engine) Validate() error {
	switch e.Ops {
	case "builtin", "fused":
	default:
		return fmt.Errorf("engine.ops: %q is not builtin or fused", e.Ops)
	}
	switch e.Kernels {
	case "cpu", "ref":
	case "gonum":
		if e.Ops == "fused" {
			return fmt.Errorf("engine.kernels: gonum has no fused ops; use cpu or ref with engine.ops fused")
		}
	default:
		return fmt.Errorf("engine.kernels: %q is not cpu, ref or gonum", e.Kernels)
	}
	return nil
}

func (e Engine) kernels() kernels.Kernels {
	switch e.Kernels {
	case "cpu":
		return cpu.Implementation{}
	case "ref":
		return ref.Implementation{}
	}
	return nil
}

// Factory returns the ModelFactory of the llama graph computed by e. It
// installs e's matrix product for gorgonia (a process-wide setting).
// packed says batches carry packed samples (data.Config.Pack), which only
// fused ops can run.
func (e Engine) Factory(packed bool) (ModelFactory, error) { return e.FactoryOn(packed, nil) }

// FactoryOn is Factory with the kernels k (when not nil) in place of
// e.Kernels': the device's kernels (Config.Device).
func (e Engine) FactoryOn(packed bool, k kernels.Kernels) (ModelFactory, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	if packed && e.Ops != "fused" {
		return nil, fmt.Errorf("data.pack needs engine.ops fused (builtin ops cannot keep packed samples apart); set data.pack false to pad instead")
	}
	if k == nil {
		k = e.kernels()
	}
	if k == nil {
		ggops.UseGonum()
	} else {
		ggops.Use(k)
	}
	return func(w *model.Weights, b, t int, noGrad bool) (Model, error) {
		opt := llama.GraphOptions{NoGrad: noGrad}
		if e.Ops == "fused" {
			opt.Ops = &llama.FusedOps{K: k}
		}
		g, err := llama.NewGraph(w, b, t, opt)
		if err != nil {
			return nil, err
		}
		return NewGraphModel(g, packed), nil
	}, nil
}

// GraphModel adapts a float32 llama.Graph to Model.
type GraphModel struct {
	G      *llama.Graph
	packed bool
	specs  []model.TensorSpec
}

// NewGraphModel wraps g; packed batches are run with their positions and
// attention starts (llama.Graph.RunPacked), others with the plain layout
// (one sample per row from offset 0: padding after it is never a target
// and never attended by a real token).
func NewGraphModel(g *llama.Graph, packed bool) *GraphModel {
	m := &GraphModel{G: g, packed: packed}
	for _, n := range g.ParamNames() {
		m.specs = append(m.specs, model.TensorSpec{Name: n, Shape: []int(g.ParamValue(n).Shape().Clone())})
	}
	return m
}

// Run implements Model.
func (m *GraphModel) Run(b *data.Batch) (float64, error) {
	if b.B != m.G.B || b.T != m.G.T {
		return 0, fmt.Errorf("trainer: batch %dx%d for a graph of %dx%d", b.B, b.T, m.G.B, m.G.T)
	}
	if m.packed {
		return m.G.RunPacked(b.Inputs, b.Targets, b.Positions, b.Start)
	}
	return m.G.Run(b.Inputs, b.Targets)
}

// Params implements Model.
func (m *GraphModel) Params() []model.TensorSpec { return m.specs }

// Value implements Model.
func (m *GraphModel) Value(i int) []float32 {
	return m.G.ParamValue(m.specs[i].Name).Data().([]float32)
}

// Grad implements Model.
func (m *GraphModel) Grad(i int) []float32 {
	g := m.G.GradValue(m.specs[i].Name)
	if g == nil {
		return nil
	}
	return g.Data().([]float32)
}

// Close implements Model.
func (m *GraphModel) Close() error { return m.G.Close() }
