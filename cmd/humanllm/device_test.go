package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/kernels/cuda"
)

// --device cuda fails with one clear error on every command that takes it:
// in a binary built without -tags cuda, the rebuild hint; with the tag but
// no GPU, what was not found (the driver library and the loader's message,
// or the driver's own error when the library loads but finds no device).
// `go test -tags cuda ./cmd/humanllm` checks the second (make test does,
// with and without the real libcuda of make cuda-libs).
func TestDeviceCUDAErrors(t *testing.T) {
	if cuda.Available {
		if impl, err := cuda.Open(cuda.Options{}); err == nil {
			impl.Close()
			t.Skip("a CUDA GPU is present: the error paths cannot be reached")
		}
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	writeJSONL(t, filepath.Join(data, "train.jsonl"), 8, 1)
	writeJSONL(t, filepath.Join(data, "test.jsonl"), 2, 2)
	cmds := map[string][]string{
		"train":         {"train", "--device", "cuda", "--data", data, "--out", filepath.Join(dir, "run"), "--max-steps", "1", "--quiet"},
		"bench kernels": {"bench", "kernels", "--device", "cuda", "--shapes", "64x64x64", "--min-time", "1ms"},
		"bench train":   {"bench", "train", "--device", "cuda", "--steps", "1", "--warmup", "0", "--batch", "1"},
	}
	for name, args := range cmds {
		_, err := run(t, args...)
		if err == nil {
			t.Errorf("%s --device cuda succeeded without a GPU", name)
			continue
		}
		msg := err.Error()
		t.Logf("%s: %s", name, msg)
		if !cuda.Available {
			if !strings.Contains(msg, "built without CUDA support: rebuild with -tags cuda") {
				t.Errorf("%s: error %q lacks the rebuild hint", name, msg)
			}
			continue
		}
		notLoaded := strings.Contains(msg, "cannot load the CUDA driver library") && strings.Contains(msg, "libcuda.so.1") &&
			strings.Contains(msg, "cannot open shared object file")
		noDevice := strings.Contains(msg, "cuInit") && strings.Contains(msg, "CUDA_ERROR_")
		if !notLoaded && !noDevice {
			t.Errorf("%s: error %q names neither the missing library and the loader's message nor the driver's error", name, msg)
		}
	}
}

// An unknown device, or cuda with CPU-only kernels, is refused up front.
func TestDeviceBadValues(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--device", "tpu", "--data", "x", "--out", filepath.Join(t.TempDir(), "r")}, `device: "tpu" is not cpu or cuda`},
		{[]string{"train", "--device", "cuda", "--kernels", "ref", "--data", "x", "--out", filepath.Join(t.TempDir(), "r")}, "engine.kernels, which must be left at cpu"},
		{[]string{"bench", "kernels", "--device", "tpu"}, `--device: "tpu" is not cpu or cuda`},
		{[]string{"bench", "train", "--device", "tpu"}, `--device: "tpu" is not cpu or cuda`},
		{[]string{"bench", "kernels", "--impls", "cublas"}, "--impls: cublas needs --device cuda"},
		{[]string{"train", "--gemm-precision", "bf16", "--data", "x", "--out", filepath.Join(t.TempDir(), "r")}, "gemm_precision: bf16 needs device cuda"},
		{[]string{"train", "--device", "cuda", "--gemm-precision", "fp16", "--data", "x", "--out", filepath.Join(t.TempDir(), "r")}, `gemm_precision: "fp16" is not fp32, tf32 or bf16`},
		{[]string{"bench", "train", "--gemm-precision", "bf16"}, "--gemm-precision: bf16 needs --device cuda"},
		{[]string{"bench", "train", "--model", "124m", "--peers"}, "--peers: the PyTorch peer benchmark has the small and medium models only"},
	} {
		_, err := run(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error containing %q", c.args, err, c.want)
		}
	}
}
