package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/model/gguf"
	"github.com/humanllm/humanllm/model/safetensors"
	"github.com/humanllm/humanllm/trainer"
)

// The demo's path at toy scale with the real chat template and tokenizer:
// prepare, train a tiny model, export GGUF and HF, re-import both and
// compare with the checkpoint, and generate an answer.
func TestTrainExportGenerateEndToEnd(t *testing.T) {
	dir := t.TempDir()
	prep := filepath.Join(dir, "prep")
	if out, err := run(t, "prepare", "--config", "../../configs/demo.yaml", "--demo", "--out", prep, "-q"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	runDir := filepath.Join(dir, "run")
	t.Setenv("HUMANLLM_MODEL_FRESH_DIM", "32")
	t.Setenv("HUMANLLM_MODEL_FRESH_HIDDEN_DIM", "64")
	t.Setenv("HUMANLLM_MODEL_FRESH_N_LAYERS", "1")
	t.Setenv("HUMANLLM_MODEL_FRESH_N_HEADS", "2")
	t.Setenv("HUMANLLM_MODEL_FRESH_N_KV_HEADS", "2")
	if out, err := run(t, "train", "--config", "../../configs/sft-demo.yaml", "--data", prep, "--out", runDir,
		"--max-steps", "2", "--micro-batch", "2", "--seq-len", "128", "--eval-every", "0", "--quiet"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	latest, err := trainer.Latest(runDir)
	if err != nil || latest == "" {
		t.Fatalf("no checkpoint: %v", err)
	}
	ck, err := trainer.LoadCheckpoint(latest)
	if err != nil {
		t.Fatal(err)
	}
	g := filepath.Join(dir, "m.gguf")
	if out, err := run(t, "export", "--checkpoint", runDir, "--format", "gguf", "--out", g); err != nil || !strings.Contains(out, "GGUF") {
		t.Fatalf("%v\n%s", err, out)
	}
	w, vocab, err := gguf.ReadLlama(g)
	if err != nil {
		t.Fatal(err)
	}
	if len(vocab.Tokens) != 512 || w.Config != ck.Weights.Config {
		t.Errorf("gguf: %d tokens, config %+v vs %+v", len(vocab.Tokens), w.Config, ck.Weights.Config)
	}
	for _, s := range ck.Weights.Config.ParamSpecs() {
		a, b := w.Get(s.Name).Data, ck.Weights.Get(s.Name).Data
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("gguf f32 %s[%d] = %v, checkpoint %v", s.Name, i, a[i], b[i])
			}
		}
	}
	hf := filepath.Join(dir, "hf")
	if out, err := run(t, "export", "--checkpoint", latest, "--format", "hf", "--dtype", "bf16", "--out", hf); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	m, err := safetensors.OpenModel(hf)
	if err != nil {
		t.Fatal(err)
	}
	if info, ok := m.Info("model.embed_tokens.weight"); !ok || info.DType != "BF16" {
		t.Errorf("hf embed_tokens: %+v", info)
	}
	if b, err := os.ReadFile(filepath.Join(hf, "config.json")); err != nil || !strings.Contains(string(b), "LlamaForCausalLM") {
		t.Errorf("config.json: %v %s", err, b)
	}
	out, err := run(t, "generate", "--checkpoint", runDir, "--data", filepath.Join(prep, "test.jsonl"), "--sample", "0", "--max-new", "8")
	if err != nil || !strings.Contains(out, "generated") || !strings.Contains(out, "real") {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	// eval: the same model as its own baseline gives the same figures.
	out, err = run(t, "eval", "--model", runDir, "--baseline", latest, "--data", prep, "--max-gen", "1", "--max-samples", "40", "--json")
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, out)
	}
	var reps []evalReport
	if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &reps); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(reps) != 2 || len(reps[0].Kinds) == 0 || reps[0].Loss != reps[1].Loss || !(reps[0].Loss > 0) {
		t.Errorf("eval reports %+v", reps)
	}
	for _, k := range reps[0].Kinds {
		if k.Kind == "style" && k.StyleSim == nil || k.Kind == "item_selection" && k.ExactMatch == nil {
			t.Errorf("kind %s lacks its generation metric: %+v", k.Kind, k)
		}
	}
	if _, err := run(t, "export", "--checkpoint", runDir, "--format", "onnx", "--out", g); err == nil || !strings.Contains(err.Error(), "onnx") {
		t.Errorf("bad format: %v", err)
	}
	if _, err := run(t, "generate", "--checkpoint", filepath.Join(dir, "nope")); err == nil {
		t.Error("missing checkpoint accepted")
	}
}
