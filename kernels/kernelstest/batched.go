package kernelstest

import (
	"testing"

	"github.com/humanllm/humanllm/kernels"
)

// TestSgemmStridedBatched is the conformance suite for SgemmStridedBatched.
func TestSgemmStridedBatched(t *testing.T, impl kernels.SgemmStridedBatcher) {
	t.Run("Shapes", func(t *testing.T) {
		var cases []gemmCase
		i := 0
		// gaps: minimal strides, gaps between matrices, broadcast A, broadcast B.
		gaps := [][3]int{{0, 0, 0}, {3, 5, 7}, {-1, 2, 1}, {1, -1, 0}}
		for _, tA := range transposes {
			for _, tB := range transposes {
				for _, s := range [][3]int{{1, 1, 1}, {3, 17, 65}, {17, 3, 1}, {64, 64, 64}, {65, 63, 17}} {
					for _, batch := range []int{0, 1, 2, 5} {
						for _, g := range gaps {
							ab := alphaBetas[i%len(alphaBetas)]
							cases = append(cases, gemmCase{tA: tA, tB: tB, m: s[0], n: s[1], k: s[2], padA: i % 3, padB: (i + 1) % 3, padC: i % 2,
								alpha: ab[0], beta: ab[1], batch: batch, gapA: g[0], gapB: g[1], gapC: g[2]})
							i++
						}
					}
				}
			}
		}
		runAll(t, impl, true, cases)
	})
	t.Run("Attention", func(t *testing.T) {
		runAll(t, impl, true, []gemmCase{
			// scores = Q·Kᵀ/√d per head, then out = P·V.
			{tA: kernels.NoTrans, tB: kernels.Trans, m: 256, n: 256, k: 64, alpha: 0.125, beta: 0, batch: 6, fillC: sentinelNaN()},
			{tA: kernels.NoTrans, tB: kernels.NoTrans, m: 256, n: 64, k: 256, alpha: 1, beta: 0, batch: 6},
			// Backward: dP = dO·Vᵀ, dV = Pᵀ·dO.
			{tA: kernels.Trans, tB: kernels.NoTrans, m: 256, n: 64, k: 256, alpha: 1, beta: 1, batch: 3},
			{tA: kernels.Trans, tB: kernels.Trans, m: 33, n: 70, k: 129, alpha: -0.5, beta: 2, batch: 40, gapA: 1, gapB: 2, gapC: 3},
		})
	})
	t.Run("NaNInf", func(t *testing.T) { runAll(t, impl, true, nanInfCases(3)) })
	t.Run("AlphaZeroOrKZero", func(t *testing.T) {
		cases := alphaZeroCases()
		for i := range cases {
			cases[i].batch = 3
			cases[i].gapC = 2
		}
		runAll(t, impl, true, cases)
	})
	t.Run("Panics", func(t *testing.T) { testBatchedPanics(t, impl) })
}

func sentinelNaN() float32 { return sentinel }

func testBatchedPanics(t *testing.T, impl kernels.SgemmStridedBatcher) {
	N := kernels.NoTrans
	buf := make([]float32, 200)
	// One 2×3·3×4 product: A extent 2*3=6... a 2×3 (lda 3): 6, b 3×4 (ldb 4): 12, c 2×4 (ldc 4): 8.
	type call struct {
		name                 string
		tA                   kernels.Transpose
		lda, sA, ldb, sB, sC int
		la, lb, lc, batch    int
		want                 string
	}
	calls := []call{
		{"bad tA", 'x', 3, 6, 4, 12, 8, 200, 200, 200, 2, kernels.BadTransA},
		{"lda", N, 2, 6, 4, 12, 8, 200, 200, 200, 2, kernels.BadLdA},
		{"batch<0", N, 3, 6, 4, 12, 8, 200, 200, 200, -1, kernels.BatchLT0},
		{"strideA<0", N, 3, -1, 4, 12, 8, 200, 200, 200, 2, kernels.BadStrideA},
		{"strideB<0", N, 3, 6, 4, -12, 8, 200, 200, 200, 2, kernels.BadStrideB},
		{"strideC<0", N, 3, 6, 4, 12, -8, 200, 200, 200, 2, kernels.BadStrideC},
		{"C overlap", N, 3, 6, 4, 12, 7, 200, 200, 200, 2, kernels.BadStrideC},
		{"short a", N, 3, 6, 4, 12, 8, 17, 200, 200, 3, kernels.ShortA},
		{"short b", N, 3, 6, 4, 12, 8, 200, 35, 200, 3, kernels.ShortB},
		{"short c", N, 3, 6, 4, 12, 8, 200, 200, 23, 3, kernels.ShortC},
	}
	for _, cl := range calls {
		expectPanic(t, cl.name, cl.want, func() {
			impl.SgemmStridedBatched(cl.tA, N, 2, 4, 3, 1, buf[:cl.la], cl.lda, cl.sA, buf[:cl.lb], cl.ldb, cl.sB, 0, make([]float32, cl.lc), 4, cl.sC, cl.batch)
		})
	}
	if t.Failed() {
		return
	}
	// Exactly minimal lengths, overlapping-but-legal strides and batch 0 are fine.
	impl.SgemmStridedBatched(N, N, 2, 4, 3, 1, buf[:18], 3, 6, buf[:36], 4, 12, 0, make([]float32, 24), 4, 8, 3)
	impl.SgemmStridedBatched(N, N, 2, 4, 3, 1, buf[:6], 3, 0, buf[:12], 4, 0, 0, make([]float32, 24), 4, 8, 3)
	impl.SgemmStridedBatched(N, N, 2, 4, 3, 1, nil, 3, 6, nil, 4, 12, 0, nil, 4, 8, 0)
	// A single C may use strideC 0.
	impl.SgemmStridedBatched(N, N, 2, 4, 3, 1, buf[:6], 3, 6, buf[:12], 4, 12, 0, make([]float32, 8), 4, 0, 1)
}
