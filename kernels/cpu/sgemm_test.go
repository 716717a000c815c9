package cpu_test

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/cpu"
	"github.com/humanllm/humanllm/kernels/kernelstest"
)

// variant returns the named implementation or skips the test when this CPU
// or build (purego) lacks it.
func variant(tb testing.TB, name string) cpu.Implementation {
	tb.Helper()
	impl, ok := cpu.Lookup(name)
	if !ok {
		tb.Skipf("cpu variant %q not supported by this CPU or build (purego)", name)
	}
	return impl
}

var names = []string{cpu.AVX512, cpu.AVX2, cpu.Generic}

func TestSgemmDefault(t *testing.T) { kernelstest.TestSgemm(t, cpu.Implementation{}) }

func TestSgemm(t *testing.T) {
	for _, name := range names {
		t.Run(name, func(t *testing.T) { kernelstest.TestSgemm(t, variant(t, name)) })
	}
}

func TestSgemmStridedBatched(t *testing.T) {
	for _, name := range names {
		t.Run(name, func(t *testing.T) { kernelstest.TestSgemmStridedBatched(t, variant(t, name)) })
	}
}

func BenchmarkSgemm(b *testing.B) {
	for _, name := range names {
		b.Run(name, func(b *testing.B) { kernelstest.BenchmarkSgemm(b, variant(b, name)) })
	}
}

func BenchmarkSgemmStridedBatched(b *testing.B) {
	for _, name := range names {
		b.Run(name, func(b *testing.B) { kernelstest.BenchmarkSgemmStridedBatched(b, variant(b, name)) })
	}
}

// TestSgemmDeterministic checks that the result does not depend on the
// thread count: every variant, under GOMAXPROCS 1 to 4, on products large
// enough to be split (several k slabs, column blocks, edge tiles, all
// transposes, beta != 0), must give bit-for-bit the GOMAXPROCS 1 result,
// for Sgemm and for SgemmStridedBatched.
func TestSgemmDeterministic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	type shape struct {
		tA, tB  kernels.Transpose
		m, n, k int
		beta    float32
		batch   int
	}
	shapes := []shape{
		{kernels.NoTrans, kernels.NoTrans, 301, 290, 1100, 0, 1},
		{kernels.Trans, kernels.NoTrans, 230, 333, 700, 0.5, 1},
		{kernels.NoTrans, kernels.Trans, 97, 515, 600, 1, 1},
		{kernels.Trans, kernels.Trans, 150, 260, 530, -2, 1},
		{kernels.NoTrans, kernels.NoTrans, 20, 3200, 600, 0.25, 1}, // two column blocks, split columns
		{kernels.NoTrans, kernels.Trans, 70, 90, 520, 0.5, 3},
	}
	if testing.Short() {
		shapes = shapes[:3]
	}
	rng := rand.New(rand.NewPCG(3, 4))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		return x
	}
	for _, impl := range cpu.Implementations() {
		for _, s := range shapes {
			lda, ldb, ldc := s.k+3, s.n+5, s.n+16
			if s.tA == kernels.Trans {
				lda = s.m + 3
			}
			if s.tB == kernels.Trans {
				ldb = s.k + 5
			}
			sA, sB, sC := lda*max(s.m, s.k), ldb*max(s.n, s.k), ldc*s.m
			a, b, c0 := fill(sA*s.batch), fill(sB*s.batch), fill(sC*s.batch)
			var want []float32
			for _, procs := range []int{1, 2, 3, 4} {
				runtime.GOMAXPROCS(procs)
				c := slices.Clone(c0)
				if s.batch == 1 {
					impl.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1.5, a, lda, b, ldb, s.beta, c, ldc)
				} else {
					impl.SgemmStridedBatched(s.tA, s.tB, s.m, s.n, s.k, 1.5, a, lda, sA, b, ldb, sB, s.beta, c, ldc, sC, s.batch)
				}
				if procs == 1 {
					want = c
					continue
				}
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s %c%c %dx%dx%d batch %d: GOMAXPROCS %d gives C[%d] = %v, GOMAXPROCS 1 gives %v",
							impl.Name(), s.tA, s.tB, s.m, s.n, s.k, s.batch, procs, i, c[i], want[i])
					}
				}
			}
		}
	}
}

func TestLinearer(t *testing.T) {
	for _, name := range names {
		t.Run(name, func(t *testing.T) { kernelstest.TestLinearer(t, variant(t, name)) })
	}
}

func TestGELULinearer(t *testing.T) {
	for _, name := range names {
		t.Run(name, func(t *testing.T) { kernelstest.TestGELULinearer(t, variant(t, name)) })
	}
}
