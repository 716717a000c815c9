package llama

import (
	"fmt"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/humanllm/humanllm/model"
)

// graphLogits returns the graph's logits as [N][V] float64.
func graphLogits(gr *Graph) [][]float64 {
	d := Float64s(gr.Logits.Value().(*tensor.Dense))
	v := gr.Config.Vocab
	out := make([][]float64, len(d)/v)
	for i := range out {
		out[i] = d[i*v : (i+1)*v]
	}
	return out
}

func shifted(ids []int32) []int32 {
	t := make([]int32, len(ids))
	copy(t, ids[1:])
	t[len(t)-1] = IgnoreIndex
	return t
}

func TestGraphPromptLogits(t *testing.T) {
	w, e := loadStories(t)
	ref, _ := NewReference(w)
	ids := e.PromptLogits.IDs
	want, _ := ref.Logits(ids)
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		gr, err := NewGraph(w, 1, len(ids), GraphOptions{Dtype: dt, NoGrad: dt == tensor.Float64})
		if err != nil {
			t.Fatal(err)
		}
		loss, err := gr.Run(ids, shifted(ids))
		if err != nil {
			t.Fatal(err)
		}
		got := graphLogits(gr)
		dRef := maxAbsDiff(got, want)
		dExp := maxAbsDiff(got, e.PromptLogits.Logits)
		refLoss, _ := ref.Loss(ids, shifted(ids))
		t.Logf("%v graph: max abs logit diff vs reference %.3g, vs expected.json %.3g; loss diff %.3g",
			dt, dRef, dExp, loss-refLoss)
		tol := 1e-4
		if dt == tensor.Float64 {
			tol = 1e-9
		}
		if dRef > tol || dExp > 1e-3 || math.Abs(loss-refLoss) > tol {
			t.Fatalf("%v: logits diff %g (ref) %g (expected), loss %v vs %v", dt, dRef, dExp, loss, refLoss)
		}
		gr.Close()
	}
}

func TestGraphTeacherForcedLoss(t *testing.T) {
	w, e := loadStories(t)
	ids, targets := teacherForced(e)
	gr, err := NewGraph(w, 1, len(ids), GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer gr.Close()
	for range 2 { // a second run on the same tape gives the same loss
		loss, err := gr.Run(ids, targets)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("float32 graph teacher-forced loss %.7f, expected %.7f, diff %.3g", loss, e.TeacherForced.MeanCE, loss-e.TeacherForced.MeanCE)
		if math.Abs(loss-e.TeacherForced.MeanCE) > 1e-4 {
			t.Fatalf("loss %v, want %v", loss, e.TeacherForced.MeanCE)
		}
	}
}

// smallConfig exercises what stories260K does not: an untied head, q/k/v
// biases, the interleaved RoPE layout, 3 query heads per KV head.
func smallConfig(layout model.RopeLayout) model.Config {
	return model.Config{Dim: 24, HiddenDim: 40, NLayers: 2, NHeads: 6, NKVHeads: 2, Vocab: 37, MaxSeqLen: 16,
		RopeTheta: 10000, RMSEps: 1e-5, QKVBias: true, RopeLayout: layout}
}

// perturbed makes random init weights less uniform: norms and biases
// random too, so that their gradients are not special.
func perturbed(t testing.TB, cfg model.Config, seed uint64) *model.Weights {
	w, err := InitWeights(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for _, tt := range w.Tensors {
		for i := range tt.Data {
			k++
			tt.Data[i] *= 10 // larger activations, non-trivial attention
			if len(tt.Shape) == 1 {
				tt.Data[i] = float32(0.6 + 0.5*math.Sin(float64(k)))
				if tt.Name[len(tt.Name)-4:] == "bias" {
					tt.Data[i] -= 0.6
				}
			}
		}
	}
	return w
}

func batchIDs(cfg model.Config, b, t int, seed int) (ids, targets []int32) {
	for i := range b * t {
		ids = append(ids, int32((i*7+seed*13+i*i)%cfg.Vocab))
	}
	for i := range b * t {
		if (i+seed)%5 == 3 {
			targets = append(targets, IgnoreIndex)
		} else {
			targets = append(targets, int32((i*11+seed)%cfg.Vocab))
		}
	}
	return ids, targets
}

// Every row of a batch equals the reference run of that sequence alone.
func TestGraphBatchMatchesReference(t *testing.T) {
	for _, layout := range []model.RopeLayout{model.RopeHalf, model.RopeInterleaved} {
		cfg := smallConfig(layout)
		w := perturbed(t, cfg, 3)
		ref, err := NewReference(w)
		if err != nil {
			t.Fatal(err)
		}
		const B, T = 3, 7
		ids, targets := batchIDs(cfg, B, T, 1)
		gr, err := NewGraph(w, B, T, GraphOptions{Dtype: tensor.Float64})
		if err != nil {
			t.Fatal(err)
		}
		loss, err := gr.Run(ids, targets)
		if err != nil {
			t.Fatal(err)
		}
		got := graphLogits(gr)
		var sum float64
		var n int
		for b := range B {
			want, _ := ref.Logits(ids[b*T : (b+1)*T])
			if d := maxAbsDiff(got[b*T:(b+1)*T], want); d > 1e-9 {
				t.Fatalf("%v: row %d logits differ by %g", layout, b, d)
			}
			for i, tg := range targets[b*T : (b+1)*T] {
				if tg != IgnoreIndex {
					sum += logSumExp(want[i]) - want[i][tg]
					n++
				}
			}
		}
		if math.Abs(loss-sum/float64(n)) > 1e-12 {
			t.Fatalf("%v: loss %v, want %v", layout, loss, sum/float64(n))
		}
		gr.Close()
	}
}

// fdCheck compares the graph's gradient of the loss (float64 graph) with
// central differences of the reference loss for a few elements of the
// named parameters.
type fdProbe struct {
	name string
	idx  []int
}

func refBatchLoss(ref *Reference, ids, targets []int32, b, t int) float64 {
	var sum float64
	var n int
	for r := range b {
		for i := range t {
			if targets[r*t+i] != IgnoreIndex {
				n++
			}
		}
	}
	for r := range b {
		// Loss returns the row mean; undo it to weight by the batch count.
		tg := targets[r*t : (r+1)*t]
		k := 0
		for _, x := range tg {
			if x != IgnoreIndex {
				k++
			}
		}
		l, err := ref.Loss(ids[r*t:(r+1)*t], tg)
		if err != nil {
			panic(err)
		}
		sum += l * float64(k)
	}
	return sum / float64(n)
}

func fdCheck(t *testing.T, w *model.Weights, b, tt int, ids, targets []int32, probes []fdProbe, tol float64) {
	t.Helper()
	ref, err := NewReference(w)
	if err != nil {
		t.Fatal(err)
	}
	g64, err := NewGraph(w, b, tt, GraphOptions{Dtype: tensor.Float64})
	if err != nil {
		t.Fatal(err)
	}
	defer g64.Close()
	g32, err := NewGraph(w, b, tt, GraphOptions{Dtype: tensor.Float32})
	if err != nil {
		t.Fatal(err)
	}
	defer g32.Close()
	if _, err := g64.Run(ids, targets); err != nil {
		t.Fatal(err)
	}
	if _, err := g32.Run(ids, targets); err != nil {
		t.Fatal(err)
	}
	var worst64, worst32 float64
	for _, p := range probes {
		gv := Float64s(g64.GradValue(p.name))
		gv32 := Float64s(g32.GradValue(p.name))
		pv := ref.Param(p.name)
		for _, i := range p.idx {
			const h = 1e-5
			old := pv[i]
			pv[i] = old + h
			lp := refBatchLoss(ref, ids, targets, b, tt)
			pv[i] = old - h
			lm := refBatchLoss(ref, ids, targets, b, tt)
			pv[i] = old
			fd := (lp - lm) / (2 * h)
			den := max(math.Abs(fd), 1e-4)
			r64 := math.Abs(gv[i]-fd) / den
			r32 := math.Abs(gv32[i]-fd) / den
			worst64, worst32 = max(worst64, r64), max(worst32, r32)
			if testing.Verbose() {
				t.Logf("%-45s [%5d] fd %+.8e  graph64 %+.8e (rel %.1e)  graph32 %+.8e (rel %.1e)", p.name, i, fd, gv[i], r64, gv32[i], r32)
			}
			if r64 > tol || r32 > 1e-2 {
				t.Errorf("%s[%d]: fd %v, float64 graph %v (rel %g), float32 graph %v (rel %g)", p.name, i, fd, gv[i], r64, gv32[i], r32)
			}
		}
	}
	t.Logf("worst relative error vs central differences: float64 graph %.2g, float32 graph %.2g", worst64, worst32)
}

func TestGraphGradientsStories260K(t *testing.T) {
	w, e := loadStories(t)
	ids, targets := teacherForced(e)
	ids, targets = ids[:16], targets[:16]
	targets[5] = IgnoreIndex
	L := func(l int, s string) string { return model.LayerName(l, s) }
	// ids[3] = 261 is an embedding row the input uses; 262 is only a
	// classifier row; 403 is both input and target.
	probes := []fdProbe{
		{model.NameEmbed, []int{261*64 + 5, 262*64 + 7, 403*64 + 1}},
		{L(0, model.SuffixWq), []int{3, 64*17 + 40}},
		{L(2, model.SuffixWk), []int{64*9 + 2}},
		{L(1, model.SuffixWv), []int{64*30 + 63}},
		{L(4, model.SuffixWo), []int{64*12 + 7}},
		{L(0, model.SuffixDown), []int{11, 172*40 + 100}},
		{L(3, model.SuffixGate), []int{64*50 + 3}},
		{L(3, model.SuffixUp), []int{64*171 + 63}},
		{L(0, model.SuffixAttnNorm), []int{0, 33}},
		{L(4, model.SuffixFFNNorm), []int{17}},
		{model.NameFinalNorm, []int{9}},
	}
	fdCheck(t, w, 1, len(ids), ids, targets, probes, 1e-5)
}

func TestGraphGradientsSmall(t *testing.T) {
	for _, layout := range []model.RopeLayout{model.RopeHalf, model.RopeInterleaved} {
		t.Run(fmt.Sprint(layout), func(t *testing.T) {
			cfg := smallConfig(layout)
			w := perturbed(t, cfg, 5)
			const B, T = 2, 6
			ids, targets := batchIDs(cfg, B, T, 2)
			var probes []fdProbe
			for i, s := range cfg.ParamSpecs() {
				n := s.Size()
				probes = append(probes, fdProbe{s.Name, []int{(i * 7919) % n, (i*104729 + 13) % n}})
			}
			fdCheck(t, w, B, T, ids, targets, probes, 1e-5)
		})
	}
}

func TestGraphErrors(t *testing.T) {
	cfg := smallConfig(model.RopeHalf)
	w := perturbed(t, cfg, 1)
	if _, err := NewGraph(w, 1, cfg.MaxSeqLen+1, GraphOptions{}); err == nil {
		t.Fatal("seq > max_seq_len accepted")
	}
	gr, err := NewGraph(w, 1, 4, GraphOptions{NoGrad: true})
	if err != nil {
		t.Fatal(err)
	}
	defer gr.Close()
	if _, err := gr.Run([]int32{1, 2, 3}, []int32{1, 2, 3}); err == nil {
		t.Fatal("wrong length accepted")
	}
	if _, err := gr.Run([]int32{1, 2, 3, 99}, []int32{1, 2, 3, 4}); err == nil {
		t.Fatal("bad id accepted")
	}
	if _, err := gr.Run([]int32{1, 2, 3, 4}, []int32{1, 2, 3, 99}); err == nil {
		t.Fatal("bad target accepted")
	}
	// All targets ignored: loss 0.
	all := []int32{IgnoreIndex, IgnoreIndex, IgnoreIndex, IgnoreIndex}
	if loss, err := gr.Run([]int32{1, 2, 3, 4}, all); err != nil || loss != 0 {
		t.Fatalf("all ignored: %v, %v", loss, err)
	}
	if gr.GradValue(model.NameEmbed) != nil {
		t.Fatal("NoGrad graph has gradients")
	}
	// Weights round trip through the graph.
	w2 := gr.Weights()
	for _, tt := range w.Tensors {
		a, b := tt.Data, w2.Get(tt.Name).Data
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s differs after Weights()", tt.Name)
			}
		}
	}
}

// countingOps shows the Ops seam: it wraps BuiltinOps (as a fused-op
// implementation would wrap the pieces it does not replace) and counts the
// calls the graph makes.
type countingOps struct {
	BuiltinOps
	calls map[string]int
}

func (o *countingOps) RMSNorm(c *Ctx, x, w *G.Node) (*G.Node, error) {
	o.calls["RMSNorm"]++
	return o.BuiltinOps.RMSNorm(c, x, w)
}

func (o *countingOps) Attention(c *Ctx, q, k, v *G.Node) (*G.Node, error) {
	o.calls["Attention"]++
	return o.BuiltinOps.Attention(c, q, k, v)
}

func (o *countingOps) CrossEntropy(c *Ctx, logits, targets *G.Node) (*G.Node, error) {
	o.calls["CrossEntropy"]++
	return o.BuiltinOps.CrossEntropy(c, logits, targets)
}

func TestGraphCustomOps(t *testing.T) {
	cfg := smallConfig(model.RopeHalf)
	w := perturbed(t, cfg, 2)
	ops := &countingOps{calls: map[string]int{}}
	const B, T = 2, 5
	ids, targets := batchIDs(cfg, B, T, 3)
	gr, err := NewGraph(w, B, T, GraphOptions{Ops: ops})
	if err != nil {
		t.Fatal(err)
	}
	defer gr.Close()
	want := map[string]int{"RMSNorm": 2*cfg.NLayers + 1, "Attention": cfg.NLayers, "CrossEntropy": 1}
	for k, v := range want {
		if ops.calls[k] != v {
			t.Fatalf("%s called %d times, want %d", k, ops.calls[k], v)
		}
	}
	loss, err := gr.Run(ids, targets)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := NewReference(w)
	if rl := refBatchLoss(ref, ids, targets, B, T); math.Abs(loss-rl) > 1e-4 {
		t.Fatalf("loss %v, reference %v", loss, rl)
	}
	// Reusing the same ops value for a second graph starts its caches afresh.
	gr2, err := NewGraph(w, 1, 3, GraphOptions{Ops: ops})
	if err != nil {
		t.Fatal(err)
	}
	defer gr2.Close()
	if _, err := gr2.Run(ids[:3], targets[:3]); err != nil {
		t.Fatal(err)
	}
}

// An optimizer updates parameters in place between runs: the next Run sees
// the new values, and gradients are recomputed, not accumulated.
func TestGraphInPlaceUpdate(t *testing.T) {
	cfg := smallConfig(model.RopeHalf)
	w := perturbed(t, cfg, 4)
	const B, T = 2, 6
	ids, targets := batchIDs(cfg, B, T, 5)
	gr, err := NewGraph(w, B, T, GraphOptions{Dtype: tensor.Float64})
	if err != nil {
		t.Fatal(err)
	}
	defer gr.Close()
	l0, _ := gr.Run(ids, targets)
	g0 := append([]float64(nil), Float64s(gr.GradValue(model.NameEmbed))...)
	// Plain SGD step on every parameter, in place.
	for _, name := range gr.ParamNames() {
		p, g := Float64s(gr.ParamValue(name)), Float64s(gr.GradValue(name))
		for i := range p {
			p[i] -= 0.05 * g[i]
		}
	}
	l1, _ := gr.Run(ids, targets)
	if !(l1 < l0) {
		t.Fatalf("loss did not decrease after an SGD step: %v -> %v", l0, l1)
	}
	ref, _ := NewReference(gr.Weights())
	if rl := refBatchLoss(ref, ids, targets, B, T); math.Abs(l1-rl) > 1e-6 {
		t.Fatalf("loss after update %v, reference %v", l1, rl)
	}
	// Restore and rerun: the same gradient as the first run.
	if err := gr.SetWeights(w); err != nil {
		t.Fatal(err)
	}
	l2, _ := gr.Run(ids, targets)
	g2 := Float64s(gr.GradValue(model.NameEmbed))
	if l2 != l0 {
		t.Fatalf("loss after restore %v, first %v", l2, l0)
	}
	for i := range g0 {
		if g0[i] != g2[i] {
			t.Fatalf("grad[%d] %v after restore, first %v", i, g2[i], g0[i])
		}
	}
}
