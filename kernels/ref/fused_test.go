package ref_test

import (
	"testing"

	"github.com/humanllm/humanllm/kernels/kernelstest"
	"github.com/humanllm/humanllm/kernels/ref"
)

func TestFused(t *testing.T)            { kernelstest.TestFused(t, ref.Implementation{}) }
func TestFusedDeterminism(t *testing.T) { kernelstest.TestFusedDeterminism(t, ref.Implementation{}) }

func BenchmarkFused(b *testing.B)     { kernelstest.BenchmarkFused(b, ref.Implementation{}) }
func BenchmarkBandwidth(b *testing.B) { kernelstest.BenchmarkBandwidth(b) }
