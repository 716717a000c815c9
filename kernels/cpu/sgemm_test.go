package cpu_test

import (
	"testing"

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
