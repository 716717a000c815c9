package main

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/kernels/cuda"
)

// needGPU skips the test, saying why, when no CUDA GPU can be used (a
// binary built without -tags cuda, no driver, no device), and fails it
// instead under HUMANLLM_REQUIRE_GPU=1.
func needGPU(t *testing.T) {
	t.Helper()
	why := ""
	if !cuda.Available {
		why = "built without -tags cuda"
	} else if impl, err := cuda.Open(cuda.Options{}); err != nil {
		why = err.Error()
	} else {
		impl.Close()
		return
	}
	if os.Getenv("HUMANLLM_REQUIRE_GPU") == "1" {
		t.Fatalf("HUMANLLM_REQUIRE_GPU=1 but no CUDA GPU can be used: %s", why)
	}
	t.Skipf("no CUDA GPU: %s (HUMANLLM_REQUIRE_GPU=1 makes this a failure)", why)
}

// stepLosses reads the per-step training losses of a run's metrics.jsonl.
func stepLosses(t *testing.T, runDir string) map[int]float64 {
	t.Helper()
	f, err := os.Open(filepath.Join(runDir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[int]float64{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			Type string   `json:"type"`
			Step int      `json:"step"`
			Loss *float64 `json:"loss"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Type == "step" && r.Loss != nil {
			out[r.Step] = *r.Loss
		}
	}
	return out
}

// TestCUDATrainingParity: on a GPU, 100 training steps with --device cuda
// (the device-resident step of model/llama/resident: weights, activations,
// gradients and AdamW state on the GPU) give the CPU path's losses (step 1 within 1e-4, every step within 1e-2:
// fp32 on both, cuBLAS without TF32, different reduction orders), and
// checkpoints are device-independent: a run paused at step 50 on one device
// and resumed on the other ends within the same tolerance of the CPU run.
// Without a GPU it is skipped, saying why.
func TestCUDATrainingParity(t *testing.T) {
	needGPU(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "train.jsonl")
	writeJSONL(t, data, 64, 9)
	t.Setenv("HUMANLLM_MODEL_FRESH_DIM", "64")
	t.Setenv("HUMANLLM_MODEL_FRESH_HIDDEN_DIM", "128")
	t.Setenv("HUMANLLM_MODEL_FRESH_N_LAYERS", "2")
	t.Setenv("HUMANLLM_MODEL_FRESH_N_HEADS", "4")
	t.Setenv("HUMANLLM_MODEL_FRESH_N_KV_HEADS", "2")
	train := func(runDir, device string, extra ...string) {
		t.Helper()
		args := append([]string{"train", "--data", data, "--out", runDir, "--device", device, "--max-steps", "100",
			"--micro-batch", "2", "--seq-len", "128", "--eval-every", "0", "--ckpt-every", "0", "--quiet"}, extra...)
		if out, err := run(t, args...); err != nil {
			t.Fatalf("train %v: %v\n%s", args, err, out)
		}
	}
	cpuRun, gpuRun := filepath.Join(dir, "cpu"), filepath.Join(dir, "gpu")
	train(cpuRun, "cpu")
	train(gpuRun, "cuda")
	want, got := stepLosses(t, cpuRun), stepLosses(t, gpuRun)
	if len(want) != 100 || len(got) != 100 {
		t.Fatalf("%d CPU and %d GPU step losses, want 100 each", len(want), len(got))
	}
	worst := 0.0
	for s := 1; s <= 100; s++ {
		d := math.Abs(want[s] - got[s])
		worst = math.Max(worst, d)
		if s == 1 && d > 1e-4 || d > 1e-2 {
			t.Errorf("step %d: loss %.6f on the GPU, %.6f on the CPU", s, got[s], want[s])
		}
	}
	t.Logf("100 steps: largest |GPU - CPU| loss difference %.2g (step 100: %.5f vs %.5f)", worst, got[100], want[100])
	// bf16 GEMMs (operands rounded to 8-bit mantissas, fp32 accumulation
	// and state): the same run within bf16's error, step 1 within 1e-2
	// and the mean difference over the 100 steps within 2e-2.
	bfRun := filepath.Join(dir, "gpu-bf16")
	train(bfRun, "cuda", "--gemm-precision", "bf16")
	bf := stepLosses(t, bfRun)
	if len(bf) != 100 {
		t.Fatalf("%d bf16 step losses, want 100", len(bf))
	}
	mean := 0.0
	for s := 1; s <= 100; s++ {
		mean += math.Abs(bf[s]-want[s]) / 100
	}
	if d := math.Abs(bf[1] - want[1]); d > 1e-2 || mean > 2e-2 {
		t.Errorf("bf16 GEMMs: step-1 loss %.5f (CPU %.5f), mean |bf16 - CPU| over 100 steps %.3g", bf[1], want[1], mean)
	}
	t.Logf("bf16 GEMMs: mean |bf16 - CPU| loss difference %.2g (step 100: %.5f vs %.5f)", mean, bf[100], want[100])
	for _, devs := range [][2]string{{"cuda", "cpu"}, {"cpu", "cuda"}} {
		runDir := filepath.Join(dir, devs[0]+"-then-"+devs[1])
		train(runDir, devs[0], "--stop-after", "50")
		train(runDir, devs[1], "--resume", "auto")
		l := stepLosses(t, runDir)
		if d := math.Abs(l[100] - want[100]); d > 1e-2 {
			t.Errorf("%s then %s: step-100 loss %.5f, CPU run %.5f", devs[0], devs[1], l[100], want[100])
		}
	}
}

// TestBenchTrainCUDA: on a GPU, bench train --device cuda times both rows
// — our graph step on kernels/cuda and the device-resident step — with
// bf16 GEMMs, reporting tokens/s and model GFLOP/s, and an MFU against the
// bf16 peak whenever the device has one in cuda.Peak's table. Without a GPU
// it is skipped, saying why.
func TestBenchTrainCUDA(t *testing.T) {
	needGPU(t)
	out, err := run(t, "bench", "train", "--device", "cuda", "--gemm-precision", "bf16", "--batch", "1", "--steps", "1", "--warmup", "0", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	i := strings.Index(out, "\n[")
	if i < 0 {
		t.Fatalf("no JSON rows in:\n%s", out)
	}
	var rows []trainRow
	if err := json.Unmarshal([]byte(out[i+1:]), &rows); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	impl, err := cuda.Open(cuda.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, noPeak := cuda.Peak(impl.Info(), cuda.BF16)
	impl.Close()
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.Impl] = true
		if r.TokensPerS <= 0 || r.GFLOPS <= 0 {
			t.Errorf("%s: %.1f tokens/s, %.1f GFLOP/s", r.Impl, r.TokensPerS, r.GFLOPS)
		}
		switch {
		case noPeak == nil && (r.MFU <= 0 || r.MFUPrecision != "bf16"):
			t.Errorf("%s: MFU %g in %q, want a bf16 MFU", r.Impl, r.MFU, r.MFUPrecision)
		case noPeak != nil && r.MFU != 0:
			t.Errorf("%s: MFU %g quoted for a device without a peak (%v)", r.Impl, r.MFU, noPeak)
		}
	}
	if !seen["ours"] || !seen["ours-resident"] {
		t.Errorf("rows %v, want ours and ours-resident", seen)
	}
}
