package gpt2

import (
	"math"
	"testing"

	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/cpu"
	ggops "github.com/humanllm/humanllm/kernels/gorgonia"
	"github.com/humanllm/humanllm/kernels/ref"
)

var tiny = Config{Layers: 2, Heads: 2, Dim: 16, Context: 8, Vocab: 29, LNEps: 1e-5}

// weights with larger, less uniform values than Init, so that attention
// and the norms are not trivial.
func tinyWeights(t *testing.T) *Weights {
	w, err := Init(tiny, 3)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for _, p := range tiny.Params() {
		for i := range w.Data[p.Name] {
			k++
			if len(p.Shape) == 1 || hasSuffix(p.Name, ".bias") {
				w.Data[p.Name][i] = float32(0.3 * math.Sin(float64(k)))
				if len(p.Shape) == 1 && hasSuffix(p.Name, ".weight") {
					w.Data[p.Name][i] += 1
				}
			} else {
				w.Data[p.Name][i] *= 15
			}
		}
	}
	return w
}

func batch(b, t int) (ids, targets []int32) {
	for i := range b * t {
		ids = append(ids, int32((i*7+i*i+3)%tiny.Vocab))
		if i%5 == 2 {
			targets = append(targets, kernels.IgnoreIndex)
		} else {
			targets = append(targets, int32((i*11+1)%tiny.Vocab))
		}
	}
	return ids, targets
}

// The graph's loss and logits equal the float64 reference's, sequence by
// sequence, and its gradients equal central differences of the reference,
// for both the reference kernels and the tuned CPU ones.
func TestGraphMatchesReference(t *testing.T) {
	ggops.Use(cpu.Implementation{})
	defer ggops.UseGonum()
	w := tinyWeights(t)
	r := NewReference(w)
	const B, T = 2, 8
	ids, targets := batch(B, T)
	// reference loss over the whole batch: total CE over counted targets
	lossOf := func(r *Reference) float64 {
		var sum float64
		n := 0
		for b := range B {
			lg, err := r.Logits(ids[b*T : (b+1)*T])
			if err != nil {
				t.Fatal(err)
			}
			for tt, row := range lg {
				tg := targets[b*T+tt]
				if tg == kernels.IgnoreIndex {
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
				sum += m + math.Log(z) - row[tg]
				n++
			}
		}
		return sum / float64(n)
	}
	want := lossOf(r)
	for name, k := range map[string]kernels.Kernels{"ref": ref.Implementation{}, "cpu": cpu.Implementation{}} {
		gr, err := NewGraph(w, B, T, k)
		if err != nil {
			t.Fatal(err)
		}
		for run := range 2 {
			got, err := gr.Run(ids, targets)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-want) > 1e-5*max(1, want) {
				t.Fatalf("%s run %d: loss %v, reference %v", name, run, got, want)
			}
		}
		fw, err := NewForward(w, B, T, k)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := fw.Run(ids, targets); err != nil || math.Abs(got-want) > 1e-5*max(1, want) {
			t.Fatalf("%s forward graph: loss %v (%v), reference %v", name, got, err, want)
		}
		if fw.Grad(tiny.Params()[0].Name) != nil {
			t.Errorf("%s: a forward graph has gradients", name)
		}
		lg := fw.Logits.Value().(*tensor.Dense).Data().([]float32)
		fw.Close()
		ref0, _ := r.Logits(ids[:T])
		var d float64
		for tt := range T {
			for v := range tiny.Vocab {
				d = max(d, math.Abs(float64(lg[tt*tiny.Vocab+v])-ref0[tt][v]))
			}
		}
		if d > 1e-4 {
			t.Errorf("%s: logits differ by %g", name, d)
		}
		worst := 0.0
		for i, p := range tiny.Params() {
			for _, j := range []int{(i * 7919) % p.Size(), (i*104729 + 5) % p.Size()} {
				h := 1e-4
				orig := r.w[p.Name][j]
				r.w[p.Name][j] = orig + h
				lp := lossOf(r)
				r.w[p.Name][j] = orig - h
				lm := lossOf(r)
				r.w[p.Name][j] = orig
				fd := (lp - lm) / (2 * h)
				g := float64(gr.Grad(p.Name)[j])
				rel := math.Abs(g-fd) / max(math.Abs(fd), 1e-3)
				worst = max(worst, rel)
				if rel > 2e-3 {
					t.Errorf("%s: d loss / d %s[%d]: graph %v, central difference %v", name, p.Name, j, g, fd)
				}
			}
		}
		t.Logf("%s: reference loss %.7f, logits max diff %.2g, worst gradient rel err vs FD %.2g", name, want, d, worst)
		gr.Close()
	}
}

func TestConfigs(t *testing.T) {
	// The peer benchmark reports 5.32M parameters (tied head) for small and
	// 13.89M for medium, and 34.7 / 89.8 MFLOP per token.
	for _, c := range []struct {
		cfg    Config
		params float64
		mflop  float64
	}{{Small, 5.32, 34.7}, {Medium, 13.89, 89.8}} {
		if got := float64(c.cfg.ParamCount()) / 1e6; math.Abs(got-c.params) > 0.005 {
			t.Errorf("%+v: %.3fM parameters, want %.2fM", c.cfg, got, c.params)
		}
		if got := c.cfg.FLOPsPerToken() / 1e6; math.Abs(got-c.mflop) > 0.05 {
			t.Errorf("%+v: %.2f MFLOP/token, want %.1f", c.cfg, got, c.mflop)
		}
	}
	if err := (Config{Layers: 1, Heads: 3, Dim: 16, Context: 4, Vocab: 5, LNEps: 1e-5}).Validate(); err == nil {
		t.Error("dim not a multiple of heads accepted")
	}
}
