package cpu_test

import (
	"testing"

	"github.com/humanllm/humanllm/kernels/cpu"
	"github.com/humanllm/humanllm/kernels/kernelstest"
)

// The fused ops run on every variant this CPU and build support (under
// the race detector, on the default one).
func fusedImpls() []cpu.Implementation {
	if raceEnabled {
		return []cpu.Implementation{{}}
	}
	return cpu.Implementations()
}

func TestFused(t *testing.T) {
	for _, impl := range fusedImpls() {
		t.Run(impl.Name(), func(t *testing.T) { kernelstest.TestFused(t, impl) })
	}
}

func TestFusedDeterminism(t *testing.T) {
	for _, impl := range fusedImpls() {
		t.Run(impl.Name(), func(t *testing.T) { kernelstest.TestFusedDeterminism(t, impl) })
	}
}

func BenchmarkFused(b *testing.B) {
	for _, impl := range cpu.Implementations() {
		b.Run(impl.Name(), func(b *testing.B) { kernelstest.BenchmarkFused(b, impl) })
	}
}

func BenchmarkBandwidth(b *testing.B) { kernelstest.BenchmarkBandwidth(b) }
