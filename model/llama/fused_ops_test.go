package llama

import (
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/cpu"
	ggops "github.com/humanllm/humanllm/kernels/gorgonia"
	"github.com/humanllm/humanllm/kernels/ref"
	"github.com/humanllm/humanllm/model"
)

func fusedImpls() map[string]kernels.Kernels {
	return map[string]kernels.Kernels{"ref": ref.Implementation{}, "cpu": cpu.Implementation{}}
}

// maxRel is max|a-b| / max|b|.
func maxRel(a, b []float32) float64 {
	var d, m float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
		m = max(m, math.Abs(float64(b[i])))
	}
	return d / max(m, 1e-30)
}

// The fused graph computes what the built-in graph computes: loss, logits
// and every parameter gradient, on stories260K and on a small model with
// an untied head, biases, GQA 3:1 and the interleaved layout; with our
// SGEMM installed behind gorgonia's matmuls.
func TestFusedOpsMatchBuiltin(t *testing.T) {
	ggops.Use(cpu.Implementation{})
	defer ggops.UseGonum()
	stories, e := loadStories(t)
	sIDs, sTargets := teacherForced(e)
	cases := []struct {
		name         string
		w            *model.Weights
		b, t         int
		ids, targets []int32
	}{
		{"stories260K", stories, 1, 32, sIDs[:32], sTargets[:32]},
	}
	for _, layout := range []model.RopeLayout{model.RopeHalf, model.RopeInterleaved} {
		cfg := smallConfig(layout)
		ids, targets := batchIDs(cfg, 2, 6, 3)
		cases = append(cases, struct {
			name         string
			w            *model.Weights
			b, t         int
			ids, targets []int32
		}{"small/" + map[model.RopeLayout]string{model.RopeHalf: "half", model.RopeInterleaved: "interleaved"}[layout], perturbed(t, cfg, 9), 2, 6, ids, targets})
	}
	for _, c := range cases {
		builtin, err := NewGraph(c.w, c.b, c.t, GraphOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantLoss, err := builtin.Run(c.ids, c.targets)
		if err != nil {
			t.Fatal(err)
		}
		for kname, k := range fusedImpls() {
			fused, err := NewGraph(c.w, c.b, c.t, GraphOptions{Ops: &FusedOps{K: k}})
			if err != nil {
				t.Fatalf("%s/%s: %v", c.name, kname, err)
			}
			for run := range 2 { // the tape reruns identically
				loss, err := fused.Run(c.ids, c.targets)
				if err != nil {
					t.Fatalf("%s/%s: %v", c.name, kname, err)
				}
				if math.Abs(loss-wantLoss) > 1e-5*max(1, math.Abs(wantLoss)) {
					t.Errorf("%s/%s run %d: loss %v, built-in %v", c.name, kname, run, loss, wantLoss)
				}
			}
			if r := maxRel(Float32s(fused.Logits.Value().(*tensor.Dense)), Float32s(builtin.Logits.Value().(*tensor.Dense))); r > 1e-5 {
				t.Errorf("%s/%s: logits rel diff %g", c.name, kname, r)
			}
			worst := 0.0
			for _, n := range builtin.ParamNames() {
				r := maxRel(Float32s(fused.GradValue(n)), Float32s(builtin.GradValue(n)))
				worst = max(worst, r)
				if r > 1e-4 {
					t.Errorf("%s/%s: gradient of %s rel diff %g", c.name, kname, n, r)
				}
			}
			t.Logf("%s/%s: built-in loss %.7f, worst gradient rel diff %.2g", c.name, kname, wantLoss, worst)
			fused.Close()
		}
		builtin.Close()
	}
}

// A row holding two packed samples gives, for each sample, the loss the
// reference computes on that sample alone: attention and positions do not
// cross the boundary. The built-in ops refuse packed batches.
func TestFusedOpsPackedBatch(t *testing.T) {
	w, e := loadStories(t)
	ref64, _ := NewReference(w)
	all, _ := teacherForced(e)
	a, b := all[:20], all[20:32] // two samples, 20 + 12 tokens in one row of 32
	ids := append(append([]int32(nil), a...), b...)
	var pos, start []int32
	for i := range a {
		pos, start = append(pos, int32(i)), append(start, 0)
	}
	for i := range b {
		pos, start = append(pos, int32(i)), append(start, int32(len(a)))
	}
	// Targets: next token within each sample; the last token of each
	// sample predicts nothing.
	targets := make([]int32, len(ids))
	for i := range targets {
		targets[i] = IgnoreIndex
	}
	for i := 0; i+1 < len(a); i++ {
		targets[i] = a[i+1]
	}
	for i := 0; i+1 < len(b); i++ {
		targets[len(a)+i] = b[i+1]
	}
	la, _ := ref64.Loss(a, shifted(a))
	lb, _ := ref64.Loss(b, shifted(b))
	want := (la*float64(len(a)-1) + lb*float64(len(b)-1)) / float64(len(a)+len(b)-2)
	gr, err := NewGraph(w, 1, len(ids), GraphOptions{Ops: &FusedOps{K: cpu.Implementation{}}, NoGrad: true})
	if err != nil {
		t.Fatal(err)
	}
	defer gr.Close()
	got, err := gr.RunPacked(ids, targets, pos, start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("packed loss %.7f, reference per-sample %.7f", got, want)
	if math.Abs(got-want) > 1e-4 {
		t.Fatalf("packed loss %v, want %v", got, want)
	}
	// Unpacked (plain layout) differs: the second sample sees the first.
	plain, err := gr.Run(ids, targets)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(plain-want) < 1e-3 {
		t.Errorf("plain layout gave the packed loss %v: the test does not discriminate", plain)
	}
	// Bad layouts are errors.
	start[3] = 5
	if _, err := gr.RunPacked(ids, targets, pos, start); err == nil || !strings.Contains(err.Error(), "start") {
		t.Errorf("start beyond the token accepted: %v", err)
	}
	builtin, err := NewGraph(w, 1, len(ids), GraphOptions{NoGrad: true})
	if err != nil {
		t.Fatal(err)
	}
	defer builtin.Close()
	start[3] = 0
	if _, err := builtin.RunPacked(ids, targets, pos, start); err == nil || !strings.Contains(err.Error(), "packed") {
		t.Errorf("built-in ops ran a packed batch: %v", err)
	}
	if _, err := NewGraph(w, 1, 8, GraphOptions{Ops: &FusedOps{K: cpu.Implementation{}}, Dtype: tensor.Float64}); err == nil {
		t.Error("FusedOps accepted a float64 graph")
	}
}
