// Package resident is an explicit Llama training step (llm.c style) over
// the device-buffer kernels of kernels/device: weights, gradients, AdamW's
// m and v, and every activation the backward pass needs are allocated once
// on the device; per micro-batch only the ids, targets, positions and
// attention starts go up, and per step only the loss and the gradient norm
// come down. Forward, backward, gradient accumulation over micro-batches,
// global-norm clipping and AdamW all run on the device.
//
// The computation is that of the gorgonia graph of package llama with
// FusedOps (model/llama/graph.go): the same parameters in the same order
// and layouts (model.Config.ParamSpecs, so checkpoints are
// device-independent), the same ops (RMSNorm, RoPE, causal attention with
// packing, SwiGLU, tied or separate classifier, mean cross-entropy over
// the targets that are not kernels.IgnoreIndex). Sums are accumulated in
// another order (parameter gradients directly into one buffer across
// micro-batches), so results agree within rounding, not bit for bit; the
// tests state the tolerances.
package resident

import (
	"errors"
	"fmt"
	"math"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/device"
	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/trainer/data"
)

// Options configure New.
type Options struct {
	// NoGrad allocates the forward pass only (evaluation): no gradients,
	// no optimizer state, no saved activations beyond one layer's.
	NoGrad bool
	// Packed: batches carry packed samples, run with their positions and
	// attention starts; otherwise every row is one sample from offset 0
	// (trainer.GraphModel's two modes).
	Packed bool
}

// layerActs are the activations of one layer the backward pass reads.
type layerActs struct {
	x       device.F32 // input of the layer (residual stream) [N, D]
	h1      device.F32 // RMSNorm(x) [N, D]
	rstd1   device.F32 // [N]
	q, k, v device.F32 // after RoPE (q, k) [N, D], [N, KV], [N, KV]
	att     device.F32 // attention output [N, D]
	lse     device.F32 // [B, H, T]
	xm      device.F32 // x + att·Woᵀ [N, D]
	h2      device.F32 // RMSNorm(xm) [N, D]
	rstd2   device.F32
	g, u, s device.F32 // gate, up, SwiGLU(g, u) [N, F]
}

// paramIdx are the indices into the parameter list of one layer's tensors
// (-1: absent).
type layerParams struct {
	attnNorm, wq, bq, wk, bk, wv, bv, wo, ffnNorm, gate, up, down int
}

// Step is a device-resident Llama model for batches of B sequences of T
// tokens. It implements trainer.Model (Run, Params, Value, Grad, Close)
// and trainer.ResidentModel (Accumulate, GradNorm, Update, Pull, Push).
// It is not safe for concurrent use.
type Step struct {
	Config model.Config
	B, T   int

	dev    device.Device
	opt    Options
	specs  []model.TensorSpec
	off    []int // offset of each parameter in the flat buffers
	total  int
	layers []layerParams
	embed  int // parameter index of the embedding, final norm, classifier
	final  int
	cls    int

	params, grads, m, v device.F32 // flat, in ParamSpecs order

	host      [][]float32 // host mirrors of the parameters (Value)
	hostStale bool        // the device has newer values than host
	devStale  bool        // host may have been written since the last upload

	acts   []layerActs
	xf     device.F32 // input of the final norm [N, D]
	hf     device.F32 // final RMSNorm [N, D]
	rstdf  device.F32
	logits device.F32 // [N, V]; its gradient in place after the loss
	losses device.F32 // [N]
	cos    device.F32
	sin    device.F32
	ids    device.I32
	tgt    device.I32
	pos    device.I32
	start  device.I32

	// backward scratch
	dx, dtmp, dh, datt, dq device.F32 // [N, D]
	dk, dv                 device.F32 // [N, KV]
	ds, dg, du             device.F32 // [N, F]
	ones                   device.F32 // [N] of 1 (biases as rank-1 products)

	plainPos, plainStart []int32
	buffers              []any // every allocation, for Close
	closed               bool
}

// New allocates the step on dev and uploads w's parameters.
func New(dev device.Device, w *model.Weights, b, t int, o Options) (*Step, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	cfg := w.Config
	if b <= 0 || t <= 0 || t > cfg.MaxSeqLen {
		return nil, fmt.Errorf("resident: batch %d x seq %d invalid for max_seq_len %d", b, t, cfg.MaxSeqLen)
	}
	if cfg.HeadDim()%2 != 0 {
		return nil, fmt.Errorf("resident: head dimension %d is odd", cfg.HeadDim())
	}
	s := &Step{Config: cfg, B: b, T: t, dev: dev, opt: o, specs: cfg.ParamSpecs()}
	index := map[string]int{}
	for i, sp := range s.specs {
		index[sp.Name] = i
		s.off = append(s.off, s.total)
		s.total += sp.Size()
	}
	get := func(name string) int {
		if i, ok := index[name]; ok {
			return i
		}
		return -1
	}
	for l := range cfg.NLayers {
		n := func(suffix string) int { return get(model.LayerName(l, suffix)) }
		s.layers = append(s.layers, layerParams{
			attnNorm: n(model.SuffixAttnNorm), wq: n(model.SuffixWq), bq: n(model.SuffixBq),
			wk: n(model.SuffixWk), bk: n(model.SuffixBk), wv: n(model.SuffixWv), bv: n(model.SuffixBv),
			wo: n(model.SuffixWo), ffnNorm: n(model.SuffixFFNNorm), gate: n(model.SuffixGate),
			up: n(model.SuffixUp), down: n(model.SuffixDown),
		})
	}
	s.embed, s.final, s.cls = get(model.NameEmbed), get(model.NameFinalNorm), get(model.NameEmbed)
	if !cfg.TiedEmbeddings {
		s.cls = get(model.NameLMHead)
	}

	s.params = s.alloc(s.total)
	s.host = make([][]float32, len(s.specs))
	for i, sp := range s.specs {
		src := w.Get(sp.Name)
		if src == nil || len(src.Data) != sp.Size() {
			return nil, fmt.Errorf("resident: weights lack %s of shape %v", sp.Name, sp.Shape)
		}
		s.host[i] = append([]float32(nil), src.Data...)
	}
	s.upload()
	if !o.NoGrad {
		s.grads, s.m, s.v = s.alloc(s.total), s.alloc(s.total), s.alloc(s.total)
	}

	N, D, KV, F, V := b*t, cfg.Dim, cfg.KVDim(), cfg.HiddenDim, cfg.Vocab
	nl := b * cfg.NHeads * t
	layer := func() layerActs {
		return layerActs{x: s.alloc(N * D), h1: s.alloc(N * D), rstd1: s.alloc(N),
			q: s.alloc(N * D), k: s.alloc(N * KV), v: s.alloc(N * KV), att: s.alloc(N * D), lse: s.alloc(nl),
			xm: s.alloc(N * D), h2: s.alloc(N * D), rstd2: s.alloc(N),
			g: s.alloc(N * F), u: s.alloc(N * F), s: s.alloc(N * F)}
	}
	nActs := cfg.NLayers
	if o.NoGrad {
		nActs = 1 // the forward pass reuses one layer's buffers
	}
	for range nActs {
		s.acts = append(s.acts, layer())
	}
	s.xf, s.hf, s.rstdf = s.alloc(N*D), s.alloc(N*D), s.alloc(N)
	s.logits, s.losses = s.alloc(N*V), s.alloc(N)
	cos, sin := kernels.RoPETables(t, cfg.HeadDim(), cfg.RopeTheta)
	s.cos, s.sin = s.alloc(len(cos)), s.alloc(len(sin))
	dev.Upload(s.cos, cos)
	dev.Upload(s.sin, sin)
	s.ids, s.tgt, s.pos, s.start = s.allocI(N), s.allocI(N), s.allocI(N), s.allocI(N)
	s.plainPos, s.plainStart = make([]int32, N), make([]int32, N)
	for j := range N {
		s.plainPos[j] = int32(j % t)
	}
	if !o.NoGrad {
		s.dx, s.dtmp, s.dh, s.datt, s.dq = s.alloc(N*D), s.alloc(N*D), s.alloc(N*D), s.alloc(N*D), s.alloc(N*D)
		s.dk, s.dv = s.alloc(N*KV), s.alloc(N*KV)
		s.ds, s.dg, s.du = s.alloc(N*F), s.alloc(N*F), s.alloc(N*F)
	}
	if cfg.QKVBias {
		s.ones = s.alloc(N)
		one := make([]float32, N)
		for j := range one {
			one[j] = 1
		}
		dev.Upload(s.ones, one)
	}
	return s, nil
}

func (s *Step) alloc(n int) device.F32 {
	b := s.dev.AllocF32(n)
	s.buffers = append(s.buffers, b)
	return b
}

func (s *Step) allocI(n int) device.I32 {
	b := s.dev.AllocI32(n)
	s.buffers = append(s.buffers, b)
	return b
}

// param and gr are parameter i's and its gradient's device views.
func (s *Step) param(i int) device.F32 { return s.params.Slice(s.off[i], s.specs[i].Size()) }
func (s *Step) gr(i int) device.F32    { return s.grads.Slice(s.off[i], s.specs[i].Size()) }

// upload copies the host mirrors to the device.
func (s *Step) upload() {
	for i, h := range s.host {
		s.dev.Upload(s.param(i), h)
	}
	s.devStale = false
}

// Params implements trainer.Model: model.Config.ParamSpecs, the order and
// shapes of the gorgonia graph.
func (s *Step) Params() []model.TensorSpec { return s.specs }

// Value implements trainer.Model: parameter i's host copy, brought up to
// date first. The caller may write it; the next Run or Accumulate uploads
// every parameter again.
func (s *Step) Value(i int) []float32 {
	s.pullParams()
	s.devStale = true
	return s.host[i]
}

func (s *Step) pullParams() {
	if !s.hostStale {
		return
	}
	for i, h := range s.host {
		s.dev.Download(h, s.param(i))
	}
	s.hostStale = false
}

// Grad implements trainer.Model: a host copy of parameter i's gradient
// (of the last Run, or accumulated by the last Accumulate), downloaded.
func (s *Step) Grad(i int) []float32 {
	if s.opt.NoGrad {
		return nil
	}
	g := make([]float32, s.specs[i].Size())
	s.dev.Download(g, s.gr(i))
	return g
}

// Close implements trainer.Model: frees every device buffer.
func (s *Step) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	for _, b := range s.buffers {
		s.dev.Free(b)
	}
	s.buffers = nil
	return nil
}

// Device is the device the step runs on.
func (s *Step) Device() device.Device { return s.dev }

// feed validates a batch on the host and uploads its ids, targets,
// positions and starts (the only per-micro-batch traffic); it returns the
// number of trained targets.
func (s *Step) feed(b *data.Batch) (int, error) {
	n := s.B * s.T
	if b.B != s.B || b.T != s.T {
		return 0, fmt.Errorf("resident: batch %dx%d for a step of %dx%d", b.B, b.T, s.B, s.T)
	}
	if len(b.Inputs) != n || len(b.Targets) != n {
		return 0, fmt.Errorf("resident: %d ids and %d targets for batch %d x %d", len(b.Inputs), len(b.Targets), s.B, s.T)
	}
	v := int32(s.Config.Vocab)
	count := 0
	for j, id := range b.Inputs {
		if id < 0 || id >= v {
			return 0, fmt.Errorf("resident: id %d outside vocabulary [0, %d)", id, v)
		}
		switch tg := b.Targets[j]; {
		case tg == kernels.IgnoreIndex:
		case tg < 0 || tg >= v:
			return 0, fmt.Errorf("resident: target %d at token %d outside vocabulary [0, %d)", tg, j, v)
		default:
			count++
		}
	}
	pos, start := s.plainPos, s.plainStart
	if s.opt.Packed && (b.Positions != nil || b.Start != nil) {
		pos, start = b.Positions, b.Start
		if len(pos) != n || len(start) != n {
			return 0, fmt.Errorf("resident: %d positions and %d starts for batch %d x %d", len(pos), len(start), s.B, s.T)
		}
		for j := range n {
			t := int32(j % s.T)
			if start[j] < 0 || start[j] > t || pos[j] < 0 || int(pos[j]) >= s.T {
				return 0, fmt.Errorf("resident: token %d has position %d and start %d (row offset %d)", j, pos[j], start[j], t)
			}
		}
	}
	if s.devStale {
		s.upload()
	}
	s.dev.UploadI32(s.ids, b.Inputs)
	s.dev.UploadI32(s.tgt, b.Targets)
	s.dev.UploadI32(s.pos, pos)
	s.dev.UploadI32(s.start, start)
	return count, nil
}

// Run implements trainer.Model: the mean cross-entropy of one micro-batch
// over its trained targets and (unless NoGrad) every parameter's gradient
// of it, which overwrites the previous gradient.
func (s *Step) Run(b *data.Batch) (float64, error) {
	count, err := s.feed(b)
	if err != nil {
		return 0, err
	}
	scale := float32(0)
	if count > 0 {
		scale = 1 / float32(count)
	}
	if !s.opt.NoGrad {
		s.dev.Zero(s.grads, s.total)
	}
	sum := s.forwardBackward(scale)
	if count == 0 {
		return 0, nil
	}
	return float64(float32(sum / float64(count))), nil
}

// Accumulate runs the micro-batches and leaves on the device the gradient
// of the mean loss over all n trained tokens of them (each micro-batch's
// loss gradient scaled by 1/n, accumulated into one gradient buffer). It
// returns that loss, Σ (n_i/n)·mean_i as trainer.Trainer computes it, and
// whether any micro-batch had a trained token (those without are not run).
// A non-finite micro-batch loss stops the accumulation and is returned.
func (s *Step) Accumulate(micro []data.Batch, n int) (float64, bool, error) {
	if s.opt.NoGrad {
		return 0, false, errors.New("resident: Accumulate on a step built without gradients")
	}
	s.dev.Zero(s.grads, s.total)
	var loss float64
	ran := false
	for k := range micro {
		b := &micro[k]
		if b.TrainedTokens == 0 {
			continue
		}
		count, err := s.feed(b)
		if err != nil {
			return 0, false, err
		}
		if count == 0 {
			continue
		}
		sum := s.forwardBackward(1 / float32(n))
		l := float64(float32(sum / float64(count)))
		ran = true
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return l, true, nil
		}
		loss += float64(count) / float64(n) * l
	}
	return loss, ran, nil
}

// GradNorm is the global L2 norm of the gradient on the device (one
// scalar comes down). NaN or +Inf when a gradient is not finite.
func (s *Step) GradNorm() float64 {
	return math.Sqrt(s.dev.SumSquares(s.grads, s.total))
}

// Update multiplies the gradient by coef (clipping; nothing when 1) and
// applies AdamW to every parameter i with p[i] (its learning rate, betas,
// weight decay and step), on the device.
func (s *Step) Update(coef float64, p []kernels.AdamWParams) error {
	if s.opt.NoGrad {
		return errors.New("resident: Update on a step built without gradients")
	}
	if len(p) != len(s.specs) {
		return fmt.Errorf("resident: %d AdamW parameter sets for %d tensors", len(p), len(s.specs))
	}
	if s.devStale {
		s.upload()
	}
	if coef != 1 {
		s.dev.Scale(s.grads, s.total, float32(coef))
	}
	for i, sp := range s.specs {
		o, n := s.off[i], sp.Size()
		s.dev.AdamW(s.params.Slice(o, n), s.grads.Slice(o, n), s.m.Slice(o, n), s.v.Slice(o, n), n, p[i])
	}
	s.hostStale = true
	return nil
}

// Pull brings the host copies of the parameters (Value) up to date and
// downloads AdamW's moments into m and v (one slice per parameter; nil
// skips them), for a checkpoint.
func (s *Step) Pull(m, v [][]float32) {
	s.pullParams()
	if s.opt.NoGrad || m == nil {
		return
	}
	for i, sp := range s.specs {
		o, n := s.off[i], sp.Size()
		s.dev.Download(m[i], s.m.Slice(o, n))
		s.dev.Download(v[i], s.v.Slice(o, n))
	}
}

// Push uploads AdamW's moments m and v (one slice per parameter), for a
// resumed run.
func (s *Step) Push(m, v [][]float32) error {
	if s.opt.NoGrad {
		return errors.New("resident: Push on a step built without gradients")
	}
	if len(m) != len(s.specs) || len(v) != len(s.specs) {
		return fmt.Errorf("resident: optimizer state of %d and %d tensors for %d", len(m), len(v), len(s.specs))
	}
	for i, sp := range s.specs {
		o, n := s.off[i], sp.Size()
		if len(m[i]) != n || len(v[i]) != n {
			return fmt.Errorf("resident: optimizer state of %s has %d and %d values, want %d", sp.Name, len(m[i]), len(v[i]), n)
		}
		s.dev.Upload(s.m.Slice(o, n), m[i])
		s.dev.Upload(s.v.Slice(o, n), v[i])
	}
	return nil
}
