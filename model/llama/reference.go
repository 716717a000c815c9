// Package llama implements the Llama-family decoder (RMSNorm, rotary
// attention with grouped-query heads, SwiGLU MLP) twice:
//
//   - Reference: a plain-Go forward pass in float64 with simple loops and a
//     KV cache, used for generation and as the ground truth the training
//     graph is checked against (it reproduces the llama2.c stories260K
//     fixtures).
//   - Graph: the gorgonia expression graph of the same model for training —
//     logits and mean cross-entropy over a [B, T] batch and gradients from
//     gorgonia.Grad. Its building blocks come from an Ops implementation so
//     that fused custom ops can replace the built-in subgraphs (BuiltinOps).
//
// Both use the weights in model.Weights (Hugging Face names); the q/k rows
// must be in the layout Config.RopeLayout says (llama2c.Read converts to
// rotate-half).
package llama

import (
	"fmt"
	"math"

	"github.com/humanllm/humanllm/model"
)

// Reference is the float64 forward pass. Its parameters are float64 copies
// of the weights, exposed through Param so tests can perturb them.
type Reference struct {
	Config model.Config

	params map[string][]float64
	emb    []float64
	cls    []float64
	norm   []float64
	layers []refLayer

	cos, sin []float64 // [MaxSeqLen, HeadDim/2]
}

type refLayer struct {
	attnNorm, wq, wk, wv, bq, bk, bv, wo []float64
	ffnNorm, gate, up, down              []float64
}

// NewReference copies w into a reference model.
func NewReference(w *model.Weights) (*Reference, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	c := w.Config
	r := &Reference{Config: c, params: map[string][]float64{}}
	for _, s := range c.ParamSpecs() {
		t := w.Get(s.Name)
		d := make([]float64, len(t.Data))
		for i, v := range t.Data {
			d[i] = float64(v)
		}
		r.params[s.Name] = d
	}
	p := r.params
	r.emb = p[model.NameEmbed]
	r.norm = p[model.NameFinalNorm]
	r.cls = r.emb
	if !c.TiedEmbeddings {
		r.cls = p[model.NameLMHead]
	}
	r.layers = make([]refLayer, c.NLayers)
	for l := range r.layers {
		g := func(s string) []float64 { return p[model.LayerName(l, s)] }
		r.layers[l] = refLayer{
			attnNorm: g(model.SuffixAttnNorm), wq: g(model.SuffixWq), wk: g(model.SuffixWk), wv: g(model.SuffixWv),
			bq: g(model.SuffixBq), bk: g(model.SuffixBk), bv: g(model.SuffixBv), wo: g(model.SuffixWo),
			ffnNorm: g(model.SuffixFFNNorm), gate: g(model.SuffixGate), up: g(model.SuffixUp), down: g(model.SuffixDown),
		}
	}
	r.cos, r.sin = ropeTables64(c.MaxSeqLen, c.HeadDim(), c.RopeTheta)
	return r, nil
}

// Param returns the float64 values of a parameter (nil if unknown). The
// slice is the model's own: writing to it changes the model (a tied
// classifier is the embedding).
func (r *Reference) Param(name string) []float64 { return r.params[name] }

// ropeTables64: angle(p, i) = p · theta^(-2i/hd), i < hd/2.
func ropeTables64(maxPos, hd int, theta float64) (cos, sin []float64) {
	half := hd / 2
	cos = make([]float64, maxPos*half)
	sin = make([]float64, maxPos*half)
	for p := range maxPos {
		for i := range half {
			a := float64(p) * math.Pow(theta, -2*float64(i)/float64(hd))
			cos[p*half+i], sin[p*half+i] = math.Cos(a), math.Sin(a)
		}
	}
	return cos, sin
}

// State is a sequence being decoded: the position reached and the KV
// cache of every layer.
type State struct {
	r   *Reference
	pos int
	k   [][]float64 // per layer [MaxSeqLen, KVDim]
	v   [][]float64

	x, xb, q, att, hb, hb2, logits []float64
	scores                         []float64
}

// NewState starts an empty sequence.
func (r *Reference) NewState() *State {
	c := r.Config
	s := &State{r: r, k: make([][]float64, c.NLayers), v: make([][]float64, c.NLayers)}
	for l := range c.NLayers {
		s.k[l] = make([]float64, c.MaxSeqLen*c.KVDim())
		s.v[l] = make([]float64, c.MaxSeqLen*c.KVDim())
	}
	s.x = make([]float64, c.Dim)
	s.xb = make([]float64, c.Dim)
	s.q = make([]float64, c.Dim)
	s.att = make([]float64, c.Dim)
	s.hb = make([]float64, c.HiddenDim)
	s.hb2 = make([]float64, c.HiddenDim)
	s.logits = make([]float64, c.Vocab)
	s.scores = make([]float64, c.MaxSeqLen)
	return s
}

// Pos is the number of tokens fed so far.
func (s *State) Pos() int { return s.pos }

// Step feeds one token at the next position and returns the logits for
// the token after it. The slice is reused by the next Step.
func (s *State) Step(tok int32) ([]float64, error) {
	r, c := s.r, s.r.Config
	if s.pos >= c.MaxSeqLen {
		return nil, fmt.Errorf("llama: sequence longer than max_seq_len %d", c.MaxSeqLen)
	}
	if tok < 0 || int(tok) >= c.Vocab {
		return nil, fmt.Errorf("llama: token %d outside vocabulary [0, %d)", tok, c.Vocab)
	}
	d, kvd, hd := c.Dim, c.KVDim(), c.HeadDim()
	group := c.NHeads / c.NKVHeads
	pos := s.pos
	copy(s.x, r.emb[int(tok)*d:(int(tok)+1)*d])
	for l := range r.layers {
		L := &r.layers[l]
		rmsnorm(s.xb, s.x, L.attnNorm, c.RMSEps)
		kc := s.k[l][pos*kvd : (pos+1)*kvd]
		vc := s.v[l][pos*kvd : (pos+1)*kvd]
		matvec(s.q, L.wq, L.bq, s.xb)
		matvec(kc, L.wk, L.bk, s.xb)
		matvec(vc, L.wv, L.bv, s.xb)
		r.rope(s.q, pos)
		r.rope(kc, pos)
		scale := 1 / math.Sqrt(float64(hd))
		for h := range c.NHeads {
			q := s.q[h*hd : (h+1)*hd]
			kh := h / group
			sc := s.scores[:pos+1]
			for t := range pos + 1 {
				k := s.k[l][t*kvd+kh*hd : t*kvd+(kh+1)*hd]
				sc[t] = dot(q, k) * scale
			}
			softmax(sc)
			out := s.att[h*hd : (h+1)*hd]
			clear(out)
			for t := range pos + 1 {
				v := s.v[l][t*kvd+kh*hd : t*kvd+(kh+1)*hd]
				for i := range out {
					out[i] += sc[t] * v[i]
				}
			}
		}
		matvec(s.xb, L.wo, nil, s.att)
		for i := range s.x {
			s.x[i] += s.xb[i]
		}
		rmsnorm(s.xb, s.x, L.ffnNorm, c.RMSEps)
		matvec(s.hb, L.gate, nil, s.xb)
		matvec(s.hb2, L.up, nil, s.xb)
		for i, g := range s.hb {
			s.hb[i] = g / (1 + math.Exp(-g)) * s.hb2[i]
		}
		matvec(s.xb, L.down, nil, s.hb)
		for i := range s.x {
			s.x[i] += s.xb[i]
		}
	}
	rmsnorm(s.x, s.x, r.norm, c.RMSEps)
	matvec(s.logits, r.cls, nil, s.x)
	s.pos++
	return s.logits, nil
}

// rope rotates every head of x (a q or k vector) for position pos in the
// model's layout.
func (r *Reference) rope(x []float64, pos int) {
	hd := r.Config.HeadDim()
	half := hd / 2
	cs, sn := r.cos[pos*half:(pos+1)*half], r.sin[pos*half:(pos+1)*half]
	for h := 0; h < len(x); h += hd {
		head := x[h : h+hd]
		for i := range half {
			a, b := i, i+half // rotate-half pairs
			if r.Config.RopeLayout == model.RopeInterleaved {
				a, b = 2*i, 2*i+1
			}
			x0, x1 := head[a], head[b]
			head[a] = x0*cs[i] - x1*sn[i]
			head[b] = x0*sn[i] + x1*cs[i]
		}
	}
}

// Logits runs the sequence ids from position 0 and returns the logits
// after each token ([len(ids)][Vocab]).
func (r *Reference) Logits(ids []int32) ([][]float64, error) {
	s := r.NewState()
	out := make([][]float64, len(ids))
	for i, id := range ids {
		l, err := s.Step(id)
		if err != nil {
			return nil, err
		}
		out[i] = append([]float64(nil), l...)
	}
	return out, nil
}

// Loss is the mean cross-entropy of predicting targets[i] after ids[..i],
// over the targets that are not IgnoreIndex (0 if there are none).
func (r *Reference) Loss(ids, targets []int32) (float64, error) {
	if len(ids) != len(targets) {
		return 0, fmt.Errorf("llama: %d ids but %d targets", len(ids), len(targets))
	}
	s := r.NewState()
	var sum float64
	n := 0
	for i, id := range ids {
		l, err := s.Step(id)
		if err != nil {
			return 0, err
		}
		t := targets[i]
		if t == IgnoreIndex {
			continue
		}
		if t < 0 || int(t) >= len(l) {
			return 0, fmt.Errorf("llama: target %d outside vocabulary", t)
		}
		sum += logSumExp(l) - l[t]
		n++
	}
	if n == 0 {
		return 0, nil
	}
	return sum / float64(n), nil
}

// IgnoreIndex marks a target that contributes neither loss nor gradient.
const IgnoreIndex int32 = -100

func rmsnorm(out, x, w []float64, eps float64) {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	inv := 1 / math.Sqrt(ss/float64(len(x))+eps)
	for i, v := range x {
		out[i] = v * inv * w[i]
	}
}

// matvec: out = W·x (+ b); W is [len(out), len(x)].
func matvec(out, w, b, x []float64) {
	n := len(x)
	for i := range out {
		acc := dot(w[i*n:(i+1)*n], x)
		if b != nil {
			acc += b[i]
		}
		out[i] = acc
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func softmax(x []float64) {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, v)
	}
	var s float64
	for i, v := range x {
		x[i] = math.Exp(v - m)
		s += x[i]
	}
	for i := range x {
		x[i] /= s
	}
}

func logSumExp(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, v)
	}
	var s float64
	for _, v := range x {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}
