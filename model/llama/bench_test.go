package llama

import (
	"testing"

	"github.com/humanllm/humanllm/kernels/cpu"
	ggops "github.com/humanllm/humanllm/kernels/gorgonia"
	"github.com/humanllm/humanllm/model"
)

// stories260KConfig is the shape of the shared stories260K model.
var stories260KConfig = model.Config{Dim: 64, HiddenDim: 172, NLayers: 5, NHeads: 8, NKVHeads: 4, Vocab: 512,
	MaxSeqLen: 512, RopeTheta: 10000, RMSEps: 1e-5, TiedEmbeddings: true}

// BenchmarkGraphStep is one forward+backward run of the float32 graph at
// stories260K's shape, B=4, T=64 (weights from InitWeights: the cost does
// not depend on the values): gorgonia's built-in ops on gonum, and our
// fused ops with our SGEMM behind gorgonia's matmuls.
func BenchmarkGraphStep(b *testing.B) {
	b.Run("builtin", func(b *testing.B) { benchGraphStep(b, GraphOptions{}) })
	b.Run("fused", func(b *testing.B) {
		ggops.Use(cpu.Implementation{})
		defer ggops.UseGonum()
		benchGraphStep(b, GraphOptions{Ops: &FusedOps{K: cpu.Implementation{}}})
	})
}

func benchGraphStep(b *testing.B, opt GraphOptions) {
	const B, T = 4, 64
	w, err := InitWeights(stories260KConfig, 1)
	if err != nil {
		b.Fatal(err)
	}
	gr, err := NewGraph(w, B, T, opt)
	if err != nil {
		b.Fatal(err)
	}
	defer gr.Close()
	ids, targets := batchIDs(stories260KConfig, B, T, 0)
	if _, err := gr.Run(ids, targets); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := gr.Run(ids, targets); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(B*T)*float64(b.N)/b.Elapsed().Seconds(), "tok/s")
}

// BenchmarkReferenceForward is the float64 reference over 64 tokens.
func BenchmarkReferenceForward(b *testing.B) {
	w, err := InitWeights(stories260KConfig, 1)
	if err != nil {
		b.Fatal(err)
	}
	r, _ := NewReference(w)
	ids, _ := batchIDs(stories260KConfig, 1, 64, 0)
	for b.Loop() {
		if _, err := r.Logits(ids); err != nil {
			b.Fatal(err)
		}
	}
}
