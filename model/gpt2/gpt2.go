// Package gpt2 is the GPT-2 architecture: learned position embeddings,
// pre-LayerNorm blocks with biases, causal multi-head attention, a 4x MLP
// with tanh-GELU, a final LayerNorm and a language-model head tied to the
// token embedding. It has a float64 reference forward (the specification)
// and a gorgonia training graph built from the fused ops of
// kernels/gorgonia.
//
// Parameters follow Hugging Face's GPT-2 names and layouts, the fused
// attention projection c_attn [C, 3C] included (columns: q, then k, then
// v, each head's D columns in head order; the training graph reads the
// three from its output with a row stride, without splitting it). Conv1D
// weights are [in, out]: y = x·W + b. Biases are held as [1, out] rows
// (Hugging Face: [out]) so that the graph broadcasts them without
// reshaping a parameter.
package gpt2

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Config sizes a GPT-2 model.
type Config struct {
	Layers, Heads, Dim, Context, Vocab int
	LNEps                              float64
}

// Small and Medium are the configurations of the CPU training benchmark
// (shared/notes/peers/torch_gpt_bench.py).
var (
	Small  = Config{Layers: 4, Heads: 4, Dim: 256, Context: 256, Vocab: 8192, LNEps: 1e-5}
	Medium = Config{Layers: 6, Heads: 6, Dim: 384, Context: 256, Vocab: 8192, LNEps: 1e-5}
	// GPT2124M is the shape of OpenAI's smallest GPT-2 (124M parameters),
	// the model of the GPU benchmark (bench train --model 124m).
	GPT2124M = Config{Layers: 12, Heads: 12, Dim: 768, Context: 1024, Vocab: 50257, LNEps: 1e-5}
)

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Layers < 1:
		return fmt.Errorf("gpt2: layers %d must be >= 1", c.Layers)
	case c.Heads < 1 || c.Dim < 1 || c.Dim%c.Heads != 0:
		return fmt.Errorf("gpt2: dim %d must be a positive multiple of heads %d", c.Dim, c.Heads)
	case c.Context < 1 || c.Vocab < 1:
		return fmt.Errorf("gpt2: context %d and vocab %d must be >= 1", c.Context, c.Vocab)
	case !(c.LNEps > 0):
		return fmt.Errorf("gpt2: ln_eps %v must be > 0", c.LNEps)
	}
	return nil
}

// Param is one parameter's name and shape.
type Param struct {
	Name  string
	Shape []int
}

// Size is the number of elements.
func (p Param) Size() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// L names parameter s of layer l.
func L(l int, s string) string { return fmt.Sprintf("h.%d.%s", l, s) }

// Params lists the parameters in a fixed order.
func (c Config) Params() []Param {
	C := c.Dim
	ps := []Param{{"wte.weight", []int{c.Vocab, C}}, {"wpe.weight", []int{c.Context, C}}}
	for l := range c.Layers {
		ps = append(ps,
			Param{L(l, "ln_1.weight"), []int{C}}, Param{L(l, "ln_1.bias"), []int{C}},
			Param{L(l, "attn.c_attn.weight"), []int{C, 3 * C}}, Param{L(l, "attn.c_attn.bias"), []int{1, 3 * C}},
			Param{L(l, "attn.c_proj.weight"), []int{C, C}}, Param{L(l, "attn.c_proj.bias"), []int{1, C}},
			Param{L(l, "ln_2.weight"), []int{C}}, Param{L(l, "ln_2.bias"), []int{C}},
			Param{L(l, "mlp.c_fc.weight"), []int{C, 4 * C}}, Param{L(l, "mlp.c_fc.bias"), []int{1, 4 * C}},
			Param{L(l, "mlp.c_proj.weight"), []int{4 * C, C}}, Param{L(l, "mlp.c_proj.bias"), []int{1, C}},
		)
	}
	return append(ps, Param{"ln_f.weight", []int{C}}, Param{"ln_f.bias", []int{C}})
}

// ParamCount counts every parameter (the tied head once).
func (c Config) ParamCount() int {
	n := 0
	for _, p := range c.Params() {
		n += p.Size()
	}
	return n
}

// FLOPsPerToken is the training cost estimate the peer benchmark uses:
// 6·N (N without the position table) + 12·L·T·C.
func (c Config) FLOPsPerToken() float64 {
	n := c.ParamCount() - c.Context*c.Dim
	return 6*float64(n) + 12*float64(c.Layers*c.Context*c.Dim)
}

// Weights holds float32 parameters by name.
type Weights struct {
	Config Config
	Data   map[string][]float32
}

// Init draws weights as GPT-2 does (and the peer benchmark): matrices and
// embeddings normal(0, 0.02), biases 0, LayerNorm weight 1 bias 0; seeded.
func Init(c Config, seed uint64) (*Weights, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x6770742d32))
	w := &Weights{Config: c, Data: map[string][]float32{}}
	for _, p := range c.Params() {
		d := make([]float32, p.Size())
		switch {
		case len(p.Shape) == 1 && hasSuffix(p.Name, ".weight"): // LayerNorm gains
			for i := range d {
				d[i] = 1
			}
		case hasSuffix(p.Name, ".bias"):
		default:
			for i := range d {
				d[i] = float32(rng.NormFloat64() * 0.02)
			}
		}
		w.Data[p.Name] = d
	}
	return w, nil
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

// Reference is the float64 forward pass: the specification the graph is
// checked against.
type Reference struct {
	c Config
	w map[string][]float64
}

// NewReference widens w.
func NewReference(w *Weights) *Reference {
	r := &Reference{c: w.Config, w: map[string][]float64{}}
	for n, d := range w.Data {
		x := make([]float64, len(d))
		for i, v := range d {
			x[i] = float64(v)
		}
		r.w[n] = x
	}
	return r
}

// Logits returns [T][V] logits for one sequence.
func (r *Reference) Logits(ids []int32) ([][]float64, error) {
	c := r.c
	T, C, H := len(ids), c.Dim, c.Heads
	if T > c.Context {
		return nil, fmt.Errorf("gpt2: %d tokens exceed context %d", T, c.Context)
	}
	D := C / H
	x := make([][]float64, T)
	for t, id := range ids {
		if id < 0 || int(id) >= c.Vocab {
			return nil, fmt.Errorf("gpt2: id %d outside vocabulary", id)
		}
		x[t] = make([]float64, C)
		for i := range C {
			x[t][i] = r.w["wte.weight"][int(id)*C+i] + r.w["wpe.weight"][t*C+i]
		}
	}
	for l := range c.Layers {
		h := r.layerNorm(x, L(l, "ln_1"))
		qkv := r.linear(h, L(l, "attn.c_attn"))
		q, k, v := make([][]float64, T), make([][]float64, T), make([][]float64, T)
		for t, row := range qkv {
			q[t], k[t], v[t] = row[:C], row[C:2*C], row[2*C:]
		}
		att := make([][]float64, T)
		for t := range T {
			att[t] = make([]float64, C)
			for hh := range H {
				scores := make([]float64, t+1)
				m := math.Inf(-1)
				for s := 0; s <= t; s++ {
					var dot float64
					for d := range D {
						dot += q[t][hh*D+d] * k[s][hh*D+d]
					}
					scores[s] = dot / math.Sqrt(float64(D))
					m = max(m, scores[s])
				}
				var z float64
				for s := range scores {
					scores[s] = math.Exp(scores[s] - m)
					z += scores[s]
				}
				for s := range scores {
					for d := range D {
						att[t][hh*D+d] += scores[s] / z * v[s][hh*D+d]
					}
				}
			}
		}
		x = add(x, r.linear(att, L(l, "attn.c_proj")))
		h = r.layerNorm(x, L(l, "ln_2"))
		f := r.linear(h, L(l, "mlp.c_fc"))
		for _, row := range f {
			for i, u := range row {
				row[i] = 0.5 * u * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(u+0.044715*u*u*u)))
			}
		}
		x = add(x, r.linear(f, L(l, "mlp.c_proj")))
	}
	x = r.layerNorm(x, "ln_f")
	out := make([][]float64, T)
	wte := r.w["wte.weight"]
	for t := range T {
		out[t] = make([]float64, c.Vocab)
		for v := range c.Vocab {
			var s float64
			for i := range C {
				s += x[t][i] * wte[v*C+i]
			}
			out[t][v] = s
		}
	}
	return out, nil
}

// Loss is the mean cross-entropy over targets that are not -100.
func (r *Reference) Loss(ids, targets []int32) (float64, error) {
	lg, err := r.Logits(ids)
	if err != nil {
		return 0, err
	}
	var sum float64
	n := 0
	for t, row := range lg {
		if targets[t] == -100 {
			continue
		}
		m := math.Inf(-1)
		for _, v := range row {
			m = max(m, v)
		}
		var z float64
		for _, v := range row {
			z += math.Exp(v - m)
		}
		sum += m + math.Log(z) - row[targets[t]]
		n++
	}
	if n == 0 {
		return 0, nil
	}
	return sum / float64(n), nil
}

func (r *Reference) layerNorm(x [][]float64, name string) [][]float64 {
	g, b := r.w[name+".weight"], r.w[name+".bias"]
	out := make([][]float64, len(x))
	for t, row := range x {
		var mean, vr float64
		for _, v := range row {
			mean += v
		}
		mean /= float64(len(row))
		for _, v := range row {
			vr += (v - mean) * (v - mean)
		}
		vr /= float64(len(row))
		rs := 1 / math.Sqrt(vr+r.c.LNEps)
		out[t] = make([]float64, len(row))
		for i, v := range row {
			out[t][i] = (v-mean)*rs*g[i] + b[i]
		}
	}
	return out
}

// linear is x·W + b with W [in, out] (Conv1D).
func (r *Reference) linear(x [][]float64, name string) [][]float64 {
	w, b := r.w[name+".weight"], r.w[name+".bias"]
	out := len(b)
	in := len(w) / out
	y := make([][]float64, len(x))
	for t, row := range x {
		y[t] = make([]float64, out)
		copy(y[t], b)
		for i := range in {
			xi := row[i]
			for o := range out {
				y[t][o] += xi * w[i*out+o]
			}
		}
	}
	return y
}

func add(a, b [][]float64) [][]float64 {
	for t := range a {
		for i := range a[t] {
			a[t][i] += b[t][i]
		}
	}
	return a
}
