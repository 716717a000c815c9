package cpu

import (
	"testing"

	"github.com/humanllm/humanllm/kernels"
)

// TestSgemmAllocs checks that a warmed-up call reuses its packing buffers:
// at most the small per-call descriptors are allocated (AllocsPerRun runs
// with GOMAXPROCS 1, the inline path).
func TestSgemmAllocs(t *testing.T) {
	const m, n, k = 300, 200, 500
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for _, impl := range Implementations() {
		call := func() { impl.Sgemm(kernels.NoTrans, kernels.Trans, m, n, k, 1, a, k, b, k, 0, c, n) }
		call()
		if got := testing.AllocsPerRun(5, call); got > 2 {
			t.Errorf("%s: %v allocations per warmed-up call, want <= 2", impl.Name(), got)
		}
	}
}

func TestGrid(t *testing.T) {
	v := &variant{mr: 14, nr: 32, nc: 3072}
	for _, tc := range []struct{ m, n, k, parts, pm, pn int }{
		{2048, 768, 768, 2, 2, 1},
		{64, 3072, 768, 2, 1, 2},
		{10, 10, 10, 2, 1, 1}, // one tile each way
		{2048, 2048, 2048, 4, 2, 2},
	} {
		pm, pn := grid(v, tc.m, tc.n, tc.k, (tc.m+13)/14, (tc.n+31)/32, tc.parts)
		if pm != tc.pm || pn != tc.pn {
			t.Errorf("grid(%d, %d, %d, parts %d) = %d×%d, want %d×%d", tc.m, tc.n, tc.k, tc.parts, pm, pn, tc.pm, tc.pn)
		}
	}
}
