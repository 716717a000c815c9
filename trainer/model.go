package trainer

import (
	"fmt"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/cpu"
	"github.com/humanllm/humanllm/kernels/device"
	ggops "github.com/humanllm/humanllm/kernels/gorgonia"
	"github.com/humanllm/humanllm/kernels/ref"
	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/llama"
	"github.com/humanllm/humanllm/model/llama/resident"
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

// ResidentModel is a Model that keeps its parameters, gradients and AdamW
// state on a device and runs the whole optimizer step there
// (model/llama/resident). The trainer then drives the step through it —
// the micro-batches go in, the loss and the gradient norm come out, the
// clipping coefficient and AdamW's hyper-parameters go in — and keeps its
// own decisions (non-finite guard, clipping threshold, schedule). Value's
// slices are host copies, brought up to date by Pull (the trainer calls it
// before it reads them: checkpoints, evaluation, Weights).
type ResidentModel interface {
	Model
	// Accumulate runs the micro-batches and leaves on the device the
	// gradient of the mean loss over all n trained tokens; it returns that
	// loss and whether any micro-batch had a trained token. A non-finite
	// micro-batch loss stops it and is returned.
	Accumulate(micro []data.Batch, n int) (float64, bool, error)
	// GradNorm is the global L2 norm of the accumulated gradient.
	GradNorm() float64
	// Update scales the gradient by coef and applies AdamW to parameter i
	// with p[i].
	Update(coef float64, p []kernels.AdamWParams) error
	// Pull updates the host copies of the parameters and downloads AdamW's
	// moments into m and v (nil: parameters only).
	Pull(m, v [][]float32)
	// Push uploads AdamW's moments.
	Push(m, v [][]float32) error
}

var _ ResidentModel = (*resident.Step)(nil)

// ResidentFactory returns the ModelFactory of the device-resident Llama
// step (model/llama/resident) on dev; packed as in Engine.Factory.
func ResidentFactory(dev device.Device, packed bool) ModelFactory {
	return func(w *model.Weights, b, t int, noGrad bool) (Model, error) {
		return resident.New(dev, w, b, t, resident.Options{NoGrad: noGrad, Packed: packed})
	}
}

// ModelFactory builds a Model for batches of b sequences of t tokens from
// weights w; noGrad builds the forward pass only (evaluation).
type ModelFactory func(w *model.Weights, b, t int, noGrad bool) (Model, error)

// Engine says how the llama graph is computed.
type Engine struct {
	// Ops: "builtin" (gorgonia's own ops; no packed batches), "fused"
	// (the fused ops of kernels/gorgonia, which honour packing) or
	// "resident" (no graph: the explicit step of model/llama/resident on
	// the host device, the code path device cuda runs on the GPU; honours
	// packing).
	Ops string `json:"ops" mapstructure:"ops" yaml:"ops"`
	// Kernels: the implementation of matrix products and fused ops: "cpu"
	// (kernels/cpu, SIMD), "ref" (kernels/ref, plain loops) or "gonum"
	// (gorgonia's default BLAS; builtin ops only).
	Kernels string `json:"kernels" mapstructure:"kernels" yaml:"kernels"`
}

// Validate names the first bad field.
func (e Engine) Validate() error {
	switch e.Ops {
	case "builtin", "fused", "resident":
	default:
		return fmt.Errorf("engine.ops: %q is not builtin, fused or resident", e.Ops)
	}
	switch e.Kernels {
	case "cpu", "ref":
	case "gonum":
		if e.Ops != "builtin" {
			return fmt.Errorf("engine.kernels: gonum has no fused ops; use cpu or ref with engine.ops %s", e.Ops)
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
	if packed && e.Ops == "builtin" {
		return nil, fmt.Errorf("data.pack needs engine.ops fused or resident (builtin ops cannot keep packed samples apart); set data.pack false to pad instead")
	}
	if k == nil {
		k = e.kernels()
	}
	if e.Ops == "resident" {
		return ResidentFactory(device.Host{K: k}, packed), nil
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
