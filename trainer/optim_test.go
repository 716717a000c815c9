package trainer

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/ref"
)

func TestScheduleShapes(t *testing.T) {
	near := func(got, want float64) bool { return math.Abs(got-want) <= 1e-12*math.Max(1, math.Abs(want)) }
	cos := Schedule{Kind: "cosine", LR: 1e-3, MinLR: 1e-4, WarmupSteps: 10, TotalSteps: 110}
	for _, c := range []struct {
		s    Schedule
		step int
		want float64
	}{
		{cos, 0, 1e-4},  // (0+1)/10 of the peak: never 0
		{cos, 4, 5e-4},  // linear warmup
		{cos, 9, 1e-3},  // last warmup step reaches the peak
		{cos, 10, 1e-3}, // decay starts at the peak
		{cos, 60, 1e-4 + 0.5*(1e-3-1e-4)},
		{cos, 110, 1e-4}, // min LR at total_steps
		{cos, 500, 1e-4}, // and after
		{Schedule{Kind: "linear", LR: 1, MinLR: 0, WarmupSteps: 0, TotalSteps: 4}, 1, 0.75},
		{Schedule{Kind: "linear", LR: 1, MinLR: 0.2, WarmupSteps: 2, TotalSteps: 6}, 4, 0.2 + 0.5*0.8},
		{Schedule{Kind: "constant", LR: 3e-4, WarmupSteps: 3}, 1, 2e-4},
		{Schedule{Kind: "constant", LR: 3e-4, WarmupSteps: 3}, 1000, 3e-4},
	} {
		if got := c.s.At(c.step); !near(got, c.want) {
			t.Errorf("%+v At(%d) = %g, want %g", c.s, c.step, got, c.want)
		}
	}
	// Cosine decays monotonically.
	prev := math.Inf(1)
	for s := 10; s <= 110; s++ {
		lr := cos.At(s)
		if lr > prev || lr < cos.MinLR {
			t.Fatalf("cosine not monotone in [min, peak] at step %d: %g after %g", s, lr, prev)
		}
		prev = lr
	}
	for _, bad := range []Schedule{
		{Kind: "exp", LR: 1},
		{Kind: "cosine", LR: 0},
		{Kind: "cosine", LR: 1, MinLR: 2},
		{Kind: "cosine", LR: 1, WarmupSteps: -1},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// adamW64 is the kernels.Optimizer formula in float64 from float32 state.
func adamW64(p, g, m, v float32, h kernels.AdamWParams) (np, nm, nv float64) {
	b1, b2 := float64(h.Beta1), float64(h.Beta2)
	nm = b1*float64(m) + (1-b1)*float64(g)
	nv = b2*float64(v) + (1-b2)*float64(g)*float64(g)
	mh := nm / (1 - math.Pow(b1, float64(h.Step)))
	vh := nv / (1 - math.Pow(b2, float64(h.Step)))
	np = float64(p) - float64(h.LR)*(mh/(math.Sqrt(vh)+float64(h.Eps))+float64(h.WeightDecay)*float64(p))
	return
}

func TestAdamWMatchesFloat64Formula(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 257
	mk := func(scale float64) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.NormFloat64() * scale)
		}
		return s
	}
	param, m, v := mk(1), make([]float32, n), make([]float32, n)
	param2, m2, v2 := append([]float32(nil), param...), make([]float32, n), make([]float32, n)
	for step := 1; step <= 6; step++ {
		grad := mk(0.1)
		grad[3] = 0 // a zero gradient: only decay moves it
		h := kernels.AdamWParams{LR: 1e-2, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1, Step: step}
		want := make([][3]float64, n)
		for i := range n {
			a, b, c := adamW64(param[i], grad[i], m[i], v[i], h)
			want[i] = [3]float64{a, b, c}
		}
		PlainAdamW{}.AdamW(param, grad, m, v, n, h)
		ref.Implementation{}.AdamW(param2, grad, m2, v2, n, h)
		for i := range n {
			for k, got := range []float32{param[i], m[i], v[i]} {
				w := want[i][k]
				if math.Abs(float64(got)-w) > 1e-6*math.Max(math.Abs(w), 1e-6) {
					t.Fatalf("step %d elem %d field %d: %g, float64 formula %g", step, i, k, got, w)
				}
			}
			// Same arithmetic as kernels/ref: switching is bit-neutral.
			if param[i] != param2[i] || m[i] != m2[i] || v[i] != v2[i] {
				t.Fatalf("step %d elem %d: PlainAdamW and kernels/ref differ", step, i)
			}
		}
	}
}

func TestAdamWNoDecayOnNormsAndBiases(t *testing.T) {
	mk := func(name string, shape []int, decayNorms bool) *Param {
		n := 1
		for _, d := range shape {
			n *= d
		}
		p := &Param{Name: name, Shape: shape, Value: make([]float32, n), Grad: make([]float32, n),
			M: make([]float32, n), V: make([]float32, n), Decay: Decays(shape, decayNorms)}
		for i := range p.Value {
			p.Value[i] = 1
		}
		return p
	}
	norm := mk("model.norm.weight", []int{4}, false)
	bias := mk("model.layers.0.self_attn.q_proj.bias", []int{4}, false)
	mat := mk("model.layers.0.self_attn.q_proj.weight", []int{2, 2}, false)
	normD := mk("model.norm.weight", []int{4}, true)
	o := &AdamW{Config: AdamWConfig{Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.5}, Impl: PlainAdamW{},
		Params: []*Param{norm, bias, mat, normD}}
	o.Update(0.1) // zero gradients: only weight decay can move a value
	if norm.Value[0] != 1 || bias.Value[0] != 1 {
		t.Errorf("1-D tensors decayed: norm %g bias %g", norm.Value[0], bias.Value[0])
	}
	if want := float32(1 - 0.1*0.5); mat.Value[0] != want || normD.Value[0] != want {
		t.Errorf("decayed values %g, %g; want %g", mat.Value[0], normD.Value[0], want)
	}
	if o.Step != 1 {
		t.Errorf("step %d", o.Step)
	}
}

func TestClipByGlobalNorm(t *testing.T) {
	ps := []*Param{{Grad: []float32{3, 0}}, {Grad: []float32{4}}}
	n := GlobalNorm(ps)
	if n != 5 {
		t.Fatalf("norm %g, want 5", n)
	}
	if ClipCoef(n, 0) != 1 || ClipCoef(n, 5) != 1 || ClipCoef(n, 10) != 1 {
		t.Error("clipping when it should not")
	}
	c := ClipCoef(n, 1)
	ScaleGrads(ps, c)
	if got := GlobalNorm(ps); math.Abs(got-1) > 1e-6 {
		t.Errorf("clipped norm %g, want 1", got)
	}
	ps[1].Grad[0] = float32(math.NaN())
	if !math.IsNaN(GlobalNorm(ps)) {
		t.Error("NaN gradient gave a finite norm")
	}
	ps[1].Grad[0] = float32(math.Inf(-1))
	if !math.IsInf(GlobalNorm(ps), 1) {
		t.Error("Inf gradient gave a finite norm")
	}
}
