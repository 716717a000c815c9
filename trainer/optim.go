package trainer

import (
	"fmt"
	"math"

	"github.com/humanllm/humanllm/kernels"
)

// AdamWConfig holds AdamW's hyper-parameters (the learning rate comes from
// the Schedule).
type AdamWConfig struct {
	Beta1       float64 `json:"beta1" mapstructure:"beta1" yaml:"beta1"`
	Beta2       float64 `json:"beta2" mapstructure:"beta2" yaml:"beta2"`
	Eps         float64 `json:"eps" mapstructure:"eps" yaml:"eps"`
	WeightDecay float64 `json:"weight_decay" mapstructure:"weight_decay" yaml:"weight_decay"`
	// DecayNorms applies weight decay to 1-D tensors (RMSNorm weights and
	// biases) too; by default they are not decayed.
	DecayNorms bool `json:"decay_norms" mapstructure:"decay_norms" yaml:"decay_norms"`
	// GradClip is the largest global gradient L2 norm; larger gradients are
	// scaled down to it. 0 disables clipping.
	GradClip float64 `json:"grad_clip" mapstructure:"grad_clip" yaml:"grad_clip"`
}

// Validate names the first bad field.
func (c AdamWConfig) Validate() error {
	switch {
	case !(c.Beta1 >= 0 && c.Beta1 < 1):
		return fmt.Errorf("optim.beta1: %g must be in [0, 1)", c.Beta1)
	case !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("optim.beta2: %g must be in [0, 1)", c.Beta2)
	case !(c.Eps > 0) || math.IsInf(c.Eps, 0):
		return fmt.Errorf("optim.eps: %g must be > 0", c.Eps)
	case !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0):
		return fmt.Errorf("optim.weight_decay: %g must be >= 0", c.WeightDecay)
	case !(c.GradClip >= 0) || math.IsInf(c.GradClip, 0):
		return fmt.Errorf("optim.grad_clip: %g must be >= 0 (0 disables clipping)", c.GradClip)
	}
	return nil
}

// Decays reports whether weight decay applies to a tensor of this shape:
// matrices (projections, embeddings) are decayed, 1-D tensors (norm
// weights, biases) only when decayNorms is set.
func Decays(shape []int, decayNorms bool) bool {
	return len(shape) >= 2 || decayNorms
}

// Param is one trainable tensor with its optimizer state. Value is updated
// in place (it is the model's own storage); Grad is the trainer's
// accumulated gradient; M and V are AdamW's first and second moments.
type Param struct {
	Name  string
	Shape []int
	Value []float32
	Grad  []float32
	M, V  []float32
	Decay bool
}

// AdamW applies decoupled-weight-decay Adam to a set of parameters through
// a kernels.Optimizer (Impl), one call per tensor, in a fixed order.
type AdamW struct {
	Config AdamWConfig
	Impl   kernels.Optimizer
	Params []*Param
	// Step counts the updates applied; the next update uses Step+1 for bias
	// correction. Skipped steps do not count.
	Step int
}

// Update applies one AdamW step with learning rate lr to every parameter
// from its Grad.
func (o *AdamW) Update(lr float64) {
	o.Step++
	for _, p := range o.Params {
		o.Impl.AdamW(p.Value, p.Grad, p.M, p.V, len(p.Value), o.hyper(p, lr))
	}
}

// Advance counts one update, as Update does, and returns every
// parameter's hyper-parameters for it without applying it: for a model
// that runs AdamW itself (ResidentModel).
func (o *AdamW) Advance(lr float64) []kernels.AdamWParams {
	o.Step++
	out := make([]kernels.AdamWParams, len(o.Params))
	for i, p := range o.Params {
		out[i] = o.hyper(p, lr)
	}
	return out
}

// hyper is p's AdamW hyper-parameters for the update numbered o.Step.
func (o *AdamW) hyper(p *Param, lr float64) kernels.AdamWParams {
	wd := 0.0
	if p.Decay {
		wd = o.Config.WeightDecay
	}
	return kernels.AdamWParams{
		LR: float32(lr), Beta1: float32(o.Config.Beta1), Beta2: float32(o.Config.Beta2),
		Eps: float32(o.Config.Eps), WeightDecay: float32(wd), Step: o.Step,
	}
}

// PlainAdamW is a plain-loop kernels.Optimizer: float32 storage, float64
// arithmetic per element, the formula of the kernels.Optimizer contract
// computed in the same order as kernels/ref, so switching to a kernels
// implementation is a one-line change.
type PlainAdamW struct{}

var _ kernels.Optimizer = PlainAdamW{}

// AdamW implements kernels.Optimizer:
//
//	m = β1 m + (1−β1) g;  v = β2 v + (1−β2) g²
//	p −= LR·( m/(1−β1^t) / (√(v/(1−β2^t)) + Eps) + WeightDecay·p )
func (PlainAdamW) AdamW(param, grad, m, v []float32, n int, p kernels.AdamWParams) {
	if n < 0 || p.Step < 1 || len(param) < n || len(grad) < n || len(m) < n || len(v) < n {
		panic(fmt.Sprintf("trainer: AdamW n=%d step=%d with slices of %d, %d, %d, %d", n, p.Step, len(param), len(grad), len(m), len(v)))
	}
	b1, b2 := float64(p.Beta1), float64(p.Beta2)
	bc1 := 1 - math.Pow(b1, float64(p.Step))
	bc2 := 1 - math.Pow(b2, float64(p.Step))
	eps, wd, lr := float64(p.Eps), float64(p.WeightDecay), float64(p.LR)
	param, grad, m, v = param[:n], grad[:n], m[:n], v[:n]
	for i := range param {
		g := float64(grad[i])
		mi := b1*float64(m[i]) + (1-b1)*g
		vi := b2*float64(v[i]) + (1-b2)*g*g
		m[i], v[i] = float32(mi), float32(vi)
		pi := float64(param[i])
		upd := (mi/bc1)/(math.Sqrt(vi/bc2)+eps) + wd*pi
		param[i] = float32(pi - lr*upd)
	}
}

// GlobalNorm is the L2 norm of all gradients together, summed in float64
// in parameter order (deterministic). It is NaN or +Inf when any gradient
// is not finite.
func GlobalNorm(params []*Param) float64 {
	var s float64
	for _, p := range params {
		for _, g := range p.Grad {
			s += float64(g) * float64(g)
		}
	}
	return math.Sqrt(s)
}

// ClipCoef is the factor that brings a gradient of global norm norm down to
// maxNorm (PyTorch's clip_grad_norm_: maxNorm/(norm+1e-6)), or 1 when
// clipping is off (maxNorm 0) or not needed.
func ClipCoef(norm, maxNorm float64) float64 {
	if maxNorm <= 0 || norm <= maxNorm {
		return 1
	}
	return maxNorm / (norm + 1e-6)
}

// ScaleGrads multiplies every gradient by c (nothing when c is 1).
func ScaleGrads(params []*Param, c float64) {
	if c == 1 {
		return
	}
	f := float32(c)
	for _, p := range params {
		for i := range p.Grad {
			p.Grad[i] *= f
		}
	}
}
