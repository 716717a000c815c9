package main

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/humanllm/humanllm/model/gpt2"
)

// TestLlamaFLOPsPerToken checks the count against the matrices of the
// small benchmark's Llama counterpart written out: per layer q, k, v, o
// (4·C²) and gate, up, down (3·C·4C), the tied embedding once, the norms,
// times 6, plus attention's 12·L·T·C.
func TestLlamaFLOPsPerToken(t *testing.T) {
	cfg := residentBenchConfig(gpt2.Small)
	L, C, V, T := 4.0, 256.0, 8192.0, 256.0
	params := L*(4*C*C+3*C*4*C+2*C) + V*C + C
	want := 6*params + 12*L*T*C
	if got := llamaFLOPsPerToken(cfg, 256); got != want {
		t.Fatalf("llamaFLOPsPerToken = %g, want %g", got, want)
	}
}

// TestBenchTrainResident: --resident adds the ours-resident row (the
// device-resident step on the host device) with a positive throughput and
// model GFLOP/s = FLOPs per token × tokens/s.
func TestBenchTrainResident(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	out, err := run(t, "bench", "train", "--model", "small", "--batch", "1", "--warmup", "0", "--steps", "1", "--threads", "1", "--json", "--resident")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var rows []trainRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got *trainRow
	for i := range rows {
		if rows[i].Impl == "ours-resident" {
			got = &rows[i]
		}
	}
	if got == nil || got.Model != "llama-small" || !(got.TokensPerS > 0) {
		t.Fatalf("no ours-resident row for llama-small with a throughput: %+v", rows)
	}
	want := llamaFLOPsPerToken(residentBenchConfig(gpt2.Small), 256) * got.TokensPerS / 1e9
	if math.Abs(got.GFLOPS-want) > 1e-9*want {
		t.Errorf("model GFLOP/s %g, want %g from %g tokens/s", got.GFLOPS, want, got.TokensPerS)
	}
}
