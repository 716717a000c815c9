package kernelstest

import (
	"math/rand/v2"
	"testing"

	"github.com/humanllm/humanllm/kernels"
)

// GemmShape is one benchmarked product.
type GemmShape struct {
	Name    string
	TA, TB  kernels.Transpose
	M, N, K int
	Batch   int // 0 or 1: a single Sgemm
}

// SgemmShapes are the shapes BenchmarkSgemm runs: squares and the GPT-2
// small training shapes with 2048 tokens (C=768): qkv/proj forward, the MLP
// up and down projections, and the weight gradient (Xᵀ·dY, TN).
var SgemmShapes = []GemmShape{
	{Name: "NN/256", TA: 'N', TB: 'N', M: 256, N: 256, K: 256},
	{Name: "NN/512", TA: 'N', TB: 'N', M: 512, N: 512, K: 512},
	{Name: "NN/1024", TA: 'N', TB: 'N', M: 1024, N: 1024, K: 1024},
	{Name: "NN/2048", TA: 'N', TB: 'N', M: 2048, N: 2048, K: 2048},
	{Name: "NN/m2048n768k768", TA: 'N', TB: 'N', M: 2048, N: 768, K: 768},
	{Name: "NN/m2048n3072k768", TA: 'N', TB: 'N', M: 2048, N: 3072, K: 768},
	{Name: "NN/m2048n768k3072", TA: 'N', TB: 'N', M: 2048, N: 768, K: 3072},
	{Name: "NT/m2048n768k768", TA: 'N', TB: 'T', M: 2048, N: 768, K: 768},
	{Name: "TN/m768n768k2048", TA: 'T', TB: 'N', M: 768, N: 768, K: 2048},
	{Name: "NN/m4096n3072k768", TA: 'N', TB: 'N', M: 4096, N: 3072, K: 768},
	{Name: "NN/m4096n768k3072", TA: 'N', TB: 'N', M: 4096, N: 768, K: 3072},
}

// BatchedShapes are the shapes BenchmarkSgemmStridedBatched runs: attention
// with 32 (batch×head) entries, T=256, head size 64.
var BatchedShapes = []GemmShape{
	{Name: "QKt/b32_m256n256k64", TA: 'N', TB: 'T', M: 256, N: 256, K: 64, Batch: 32},
	{Name: "PV/b32_m256n64k256", TA: 'N', TB: 'N', M: 256, N: 64, K: 256, Batch: 32},
}

// BenchmarkSgemm benchmarks impl on SgemmShapes, reporting GFLOP/s
// (2·m·n·k per call, alpha 1, beta 0).
func BenchmarkSgemm(b *testing.B, impl kernels.Sgemmer) {
	for _, s := range SgemmShapes {
		b.Run(s.Name, func(b *testing.B) {
			a, bm, c, lda, ldb := benchOperands(s)
			b.ResetTimer()
			for range b.N {
				impl.Sgemm(s.TA, s.TB, s.M, s.N, s.K, 1, a, lda, bm, ldb, 0, c, s.N)
			}
			reportGFLOPs(b, s)
		})
	}
}

// BenchmarkSgemmStridedBatched benchmarks impl on BatchedShapes.
func BenchmarkSgemmStridedBatched(b *testing.B, impl kernels.SgemmStridedBatcher) {
	for _, s := range BatchedShapes {
		b.Run(s.Name, func(b *testing.B) {
			a, bm, c, lda, ldb := benchOperands(s)
			sa, sb := len(a)/s.Batch, len(bm)/s.Batch
			b.ResetTimer()
			for range b.N {
				impl.SgemmStridedBatched(s.TA, s.TB, s.M, s.N, s.K, 1, a, lda, sa, bm, ldb, sb, 0, c, s.N, s.M*s.N, s.Batch)
			}
			reportGFLOPs(b, s)
		})
	}
}

func benchOperands(s GemmShape) (a, b, c []float32, lda, ldb int) {
	batch := max(1, s.Batch)
	rng := rand.New(rand.NewPCG(3, 4))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.Float64()*2 - 1)
		}
		return x
	}
	_, lda = storedDims(s.TA, s.M, s.K)
	_, ldb = storedDims(s.TB, s.K, s.N)
	return fill(batch * s.M * s.K), fill(batch * s.K * s.N), make([]float32, batch*s.M*s.N), lda, ldb
}

func reportGFLOPs(b *testing.B, s GemmShape) {
	flops := 2 * float64(s.M) * float64(s.N) * float64(s.K) * float64(max(1, s.Batch))
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
