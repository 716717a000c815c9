package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/internal/config"
	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/model/llama2c"
	"github.com/humanllm/humanllm/trainer"
)

// TestModelPresets: every configs/model-*.yaml loads (unknown keys are
// errors), validates, and has the parameter count of the model it is
// named after: stories260K (checked against the real file's header),
// stories15M, SmolLM2-135M and Llama 3.2 1B (their published counts).
func TestModelPresets(t *testing.T) {
	want := map[string]int64{
		"model-15m.yaml":  15191712,   // llama2.c stories15M
		"model-135m.yaml": 134515008,  // HuggingFaceTB/SmolLM2-135M
		"model-1b.yaml":   1235814400, // meta-llama/Llama-3.2-1B
	}
	if bin := sharedtest.Path(t, "models/stories260K/stories260K.bin"); bin != "" {
		w, err := llama2c.Read(bin)
		if err != nil {
			t.Fatal(err)
		}
		want["model-260k.yaml"] = w.Config.ParamCount()
	}
	files, err := filepath.Glob("../../configs/model-*.yaml")
	if err != nil || len(files) != 4 {
		t.Fatalf("presets %v (%v)", files, err)
	}
	for _, f := range files {
		var fm trainer.FreshModel
		if err := config.Load(&fm, f, nil, nil); err != nil {
			t.Fatal(err)
		}
		c := fm.Config()
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if n, ok := want[filepath.Base(f)]; !ok || c.ParamCount() != n {
			t.Errorf("%s: %d parameters, want %d", f, c.ParamCount(), n)
		}
	}
}

// TestTrainFromPreset trains a few steps of a fresh model whose shape is a
// preset; the run's resolved config records that shape, so resume needs
// nothing but the run directory.
func TestTrainFromPreset(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "train.jsonl")
	writeJSONL(t, data, 12, 2)
	runDir := filepath.Join(dir, "run")
	out, err := run(t, "train", "--model", "../../configs/model-260k.yaml", "--data", data, "--out", runDir,
		"--max-steps", "2", "--micro-batch", "2", "--seq-len", "64", "--eval-every", "0", "--quiet")
	if err != nil || !strings.Contains(out, "model fresh: 260.0K parameters") {
		t.Fatalf("%v\n%s", err, out)
	}
	cfg, err := os.ReadFile(filepath.Join(runDir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"source: fresh", "dim: 64", "n_layers: 5", "n_kv_heads: 4"} {
		if !strings.Contains(string(cfg), s) {
			t.Errorf("resolved config lacks %q:\n%s", s, cfg)
		}
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("dim: 64\nlayers: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "train", "--model", bad, "--data", data, "--out", filepath.Join(dir, "r2")); err == nil || !strings.Contains(err.Error(), "layers") {
		t.Errorf("a preset with an unknown key: %v", err)
	}
}
