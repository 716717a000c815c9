package llama

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/model"
	"github.com/humanllm/humanllm/model/llama2c"
)

func maxAbsDiff(a [][]float64, b [][]float64) float64 {
	var m float64
	for i := range a {
		for j := range a[i] {
			m = max(m, math.Abs(a[i][j]-b[i][j]))
		}
	}
	return m
}

func TestReferencePromptLogits(t *testing.T) {
	w, e := loadStories(t)
	r, err := NewReference(w)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Logits(e.PromptLogits.IDs)
	if err != nil {
		t.Fatal(err)
	}
	d := maxAbsDiff(got, e.PromptLogits.Logits)
	t.Logf("reference vs expected prompt_logits: max abs diff %.3g", d)
	if d > 1e-4 {
		t.Fatalf("max abs diff %g > 1e-4", d)
	}
	for i, l := range got {
		if am := slices.Index(l, slices.Max(l)); am != e.PromptLogits.Argmax[i] {
			t.Fatalf("argmax[%d] = %d, want %d", i, am, e.PromptLogits.Argmax[i])
		}
	}

	// The file's own interleaved layout with interleaved RoPE gives the
	// same logits: the import permutation is consistent.
	wi, err := llama2c.ReadLayout(sharedtest.Path(t, "models/stories260K/stories260K.bin"), model.RopeInterleaved)
	if err != nil {
		t.Fatal(err)
	}
	ri, err := NewReference(wi)
	if err != nil {
		t.Fatal(err)
	}
	gi, _ := ri.Logits(e.PromptLogits.IDs)
	if d := maxAbsDiff(gi, got); d > 1e-12 {
		t.Fatalf("interleaved vs half layout: max abs diff %g", d)
	}
}

func TestReferenceGreedy(t *testing.T) {
	w, e := loadStories(t)
	r, _ := NewReference(w)
	ids, err := r.Generate([]int32{1}, e.Greedy.Steps, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, e.Greedy.IDs) {
		n := 0
		for n < min(len(ids), len(e.Greedy.IDs)) && ids[n] == e.Greedy.IDs[n] {
			n++
		}
		t.Fatalf("greedy ids differ at %d (got %d ids, want %d)", n, len(ids), len(e.Greedy.IDs))
	}
}

func TestReferenceLoss(t *testing.T) {
	w, e := loadStories(t)
	r, _ := NewReference(w)
	ids, targets := teacherForced(e)
	loss, err := r.Loss(ids, targets)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("reference teacher-forced loss %.9f, expected %.9f, diff %.3g", loss, e.TeacherForced.MeanCE, loss-e.TeacherForced.MeanCE)
	if math.Abs(loss-e.TeacherForced.MeanCE) > 1e-5 {
		t.Fatalf("loss %v, want %v", loss, e.TeacherForced.MeanCE)
	}
	// Ignored targets drop out of the mean.
	tg := slices.Clone(targets)
	for i := 10; i < len(tg); i++ {
		tg[i] = IgnoreIndex
	}
	l10, _ := r.Loss(ids, tg)
	l10b, _ := r.Loss(ids[:10], targets[:10])
	if math.Abs(l10-l10b) > 1e-12 {
		t.Fatalf("ignore index: %v vs %v", l10, l10b)
	}
}

func TestGenerateSampling(t *testing.T) {
	cfg := model.Config{Dim: 16, HiddenDim: 32, NLayers: 2, NHeads: 4, NKVHeads: 2, Vocab: 40, MaxSeqLen: 32,
		RopeTheta: 10000, RMSEps: 1e-5, TiedEmbeddings: true}
	w, err := InitWeights(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := NewReference(w)
	a, err := r.Generate([]int32{1, 2}, 20, 1.0, 5, 0.9, 42)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r.Generate([]int32{1, 2}, 20, 1.0, 5, 0.9, 42)
	if len(a) != 20 || !slices.Equal(a, b) {
		t.Fatalf("not deterministic: %v vs %v", a, b)
	}
	distinct := map[string]bool{}
	for seed := range uint64(10) {
		c, _ := r.Generate([]int32{1, 2}, 20, 1.0, 0, 0, seed)
		distinct[fmt.Sprint(c)] = true
	}
	if len(distinct) < 2 {
		t.Fatal("10 seeds gave the same sample")
	}
	// top-k 1 equals greedy.
	g, _ := r.Generate([]int32{1, 2}, 20, 0, 0, 0, 0)
	k1, _ := r.Generate([]int32{1, 2}, 20, 0.7, 1, 0, 9)
	if !slices.Equal(g, k1) {
		t.Fatalf("top-k 1 %v != greedy %v", k1, g)
	}
	// Stops at max_seq_len and at a stop token.
	long, _ := r.Generate([]int32{1}, 100, 0, 0, 0, 0)
	if len(long) != cfg.MaxSeqLen {
		t.Fatalf("generated %d tokens past max_seq_len %d", len(long), cfg.MaxSeqLen)
	}
	st, _ := r.GenerateWith([]int32{1, 2}, GenerateOptions{MaxNew: 20, Stop: []int32{g[3]}})
	if len(st) > 4 || st[len(st)-1] != g[3] {
		t.Fatalf("stop token: %v (greedy %v)", st, g)
	}
	if _, err := r.Generate(nil, 3, 0, 0, 0, 0); err == nil {
		t.Fatal("empty prompt accepted")
	}
}

func TestInitWeights(t *testing.T) {
	cfg := model.Config{Dim: 64, HiddenDim: 128, NLayers: 8, NHeads: 4, NKVHeads: 4, Vocab: 100, MaxSeqLen: 16,
		RopeTheta: 10000, RMSEps: 1e-5, QKVBias: true}
	a, err := InitWeights(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := InitWeights(cfg, 1)
	c, _ := InitWeights(cfg, 2)
	std := func(x []float32) float64 {
		var s float64
		for _, v := range x {
			s += float64(v) * float64(v)
		}
		return math.Sqrt(s / float64(len(x)))
	}
	for _, ta := range a.Tensors {
		tb, tc := b.Get(ta.Name), c.Get(ta.Name)
		if !slices.Equal(ta.Data, tb.Data) {
			t.Fatalf("%s not deterministic", ta.Name)
		}
		switch {
		case ta.Name == model.NameFinalNorm || ta.Name == model.LayerName(0, model.SuffixAttnNorm):
			if ta.Data[0] != 1 || ta.Data[len(ta.Data)-1] != 1 {
				t.Fatalf("%s not ones", ta.Name)
			}
		case ta.Name == model.LayerName(0, model.SuffixBq):
			if slices.Max(ta.Data) != 0 || slices.Min(ta.Data) != 0 {
				t.Fatalf("%s not zero", ta.Name)
			}
		case ta.Name == model.LayerName(3, model.SuffixDown):
			if s := std(ta.Data); math.Abs(s-0.02/4) > 0.0005 {
				t.Fatalf("%s std %v, want %v", ta.Name, s, 0.02/4)
			}
		case ta.Name == model.LayerName(3, model.SuffixGate) || ta.Name == model.NameLMHead:
			if s := std(ta.Data); math.Abs(s-0.02) > 0.001 {
				t.Fatalf("%s std %v, want 0.02", ta.Name, s)
			}
			if slices.Equal(ta.Data, tc.Data) {
				t.Fatalf("%s same for another seed", ta.Name)
			}
		}
	}
}

func TestSampleDistribution(t *testing.T) {
	logits := []float64{2, 1, 0, -1, 3}
	probs := make([]float64, len(logits))
	want := append([]float64(nil), logits...)
	softmax(want) // temperature 1
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 40000
	count := func(o GenerateOptions) []float64 {
		c := make([]float64, len(logits))
		for range n {
			c[sample(logits, probs, o, rng)]++
		}
		for i := range c {
			c[i] /= n
		}
		return c
	}
	got := count(GenerateOptions{Temperature: 1})
	for i := range got {
		if math.Abs(got[i]-want[i]) > 0.01 {
			t.Fatalf("frequencies %v, want %v", got, want)
		}
	}
	// Top-k 2 keeps ids 4 and 0, renormalised.
	got = count(GenerateOptions{Temperature: 1, TopK: 2})
	z := want[4] + want[0]
	if got[1]+got[2]+got[3] != 0 || math.Abs(got[4]-want[4]/z) > 0.01 {
		t.Fatalf("top-k 2 frequencies %v", got)
	}
	// Top-p 0.5: id 4 alone has mass 0.64.
	if got = count(GenerateOptions{Temperature: 1, TopP: 0.5}); got[4] != 1 {
		t.Fatalf("top-p 0.5 frequencies %v", got)
	}
	// Top-p 0.8 keeps ids 4 and 0 (0.64 + 0.24).
	if got = count(GenerateOptions{Temperature: 1, TopP: 0.8}); got[4]+got[0] != 1 || got[0] == 0 {
		t.Fatalf("top-p 0.8 frequencies %v", got)
	}
	// A low temperature sharpens.
	if got = count(GenerateOptions{Temperature: 0.1}); got[4] < 0.99 {
		t.Fatalf("temperature 0.1 frequencies %v", got)
	}
}

// OnToken sees every generated token in order, as it is produced, and its
// error stops generation; a done context stops it before the next step.
func TestGenerateOnTokenAndContext(t *testing.T) {
	cfg := model.Config{Dim: 16, HiddenDim: 32, NLayers: 2, NHeads: 4, NKVHeads: 2, Vocab: 40, MaxSeqLen: 32,
		RopeTheta: 10000, RMSEps: 1e-5, TiedEmbeddings: true}
	w, err := InitWeights(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := NewReference(w)
	want, _ := r.Generate([]int32{1, 2}, 12, 0.8, 0, 0, 3)
	var seen []int32
	got, err := r.GenerateWith([]int32{1, 2}, GenerateOptions{MaxNew: 12, Temperature: 0.8, Seed: 3, OnToken: func(id int32) error {
		seen = append(seen, id)
		return nil
	}})
	if err != nil || !slices.Equal(got, want) || !slices.Equal(seen, want) {
		t.Fatalf("callback saw %v, returned %v (%v); want %v", seen, got, err, want)
	}
	// An error from the callback stops after that token.
	errEnough := errors.New("enough")
	seen = nil
	got, err = r.GenerateWith([]int32{1, 2}, GenerateOptions{MaxNew: 12, Temperature: 0.8, Seed: 3, OnToken: func(id int32) error {
		seen = append(seen, id)
		if len(seen) == 4 {
			return errEnough
		}
		return nil
	}})
	if !errors.Is(err, errEnough) || !slices.Equal(got, want[:4]) || len(seen) != 4 {
		t.Fatalf("stopped at %v (%v), saw %d tokens; want %v", got, err, len(seen), want[:4])
	}
	// Cancelling the context during generation stops it before the next
	// forward step; a context done from the start stops the prompt.
	ctx, cancel := context.WithCancel(context.Background())
	got, err = r.GenerateContext(ctx, []int32{1, 2}, GenerateOptions{MaxNew: 12, OnToken: func(id int32) error {
		cancel()
		return nil
	}})
	if !errors.Is(err, context.Canceled) || len(got) != 1 {
		t.Fatalf("after cancel: %v (%v), want 1 token and context.Canceled", got, err)
	}
	if got, err = r.GenerateContext(ctx, []int32{1, 2}, GenerateOptions{MaxNew: 12}); !errors.Is(err, context.Canceled) || got != nil {
		t.Fatalf("done context: %v (%v)", got, err)
	}
}
