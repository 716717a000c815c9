package gpt2

import (
	"testing"

	"github.com/humanllm/humanllm/kernels/cpu"
	ggops "github.com/humanllm/humanllm/kernels/gorgonia"
)

// BenchmarkStep is forward + backward of the peer benchmark's small model
// at batch 8 (the optimizer is not included; humanllm bench train times the
// whole step).
func BenchmarkStep(b *testing.B) {
	ggops.Use(cpu.Implementation{})
	defer ggops.UseGonum()
	const B = 8
	c := Small
	w, _ := Init(c, 1)
	gr, err := NewGraph(w, B, c.Context, cpu.Implementation{})
	if err != nil {
		b.Fatal(err)
	}
	defer gr.Close()
	ids := make([]int32, B*c.Context)
	tg := make([]int32, B*c.Context)
	for i := range ids {
		ids[i], tg[i] = int32(i*7919%c.Vocab), int32(i*104729%c.Vocab)
	}
	gr.Run(ids, tg)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := gr.Run(ids, tg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(B*c.Context)*float64(b.N)/b.Elapsed().Seconds(), "tok/s")
}
